// chalk's own detection (supports-color) knows nothing of NO_COLOR, and lets
// FORCE_COLOR win over --no-color: the person who says "no colour" should get
// none, at a terminal or in a log, whatever else asks for it.
import { noColorAsked } from '../config/no-color.ts';

export async function honourNoColor(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // chalk is loaded only then, as runScript loads it only for an error: one instance, which every module that prints shares.
  if (noColorAsked(argv, env)) (await import('chalk')).default.level = 0;
}
