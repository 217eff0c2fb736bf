// chalk's own detection (supports-color) knows nothing of NO_COLOR, and lets
// FORCE_COLOR win over --no-color: the person who says "no colour" should get
// none, at a terminal or in a log, whatever else asks for it.
import chalk from 'chalk';
import { noColorAsked } from '../config/no-color.ts';

export function honourNoColor(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): void {
  if (noColorAsked(argv, env)) chalk.level = 0;
}
