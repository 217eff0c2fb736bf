// NO_COLOR (https://no-color.org) and --no-color turn colour off whatever
// else asks for it. chalk's own detection (supports-color) knows nothing of
// NO_COLOR, and lets FORCE_COLOR win over --no-color; the person who says
// "no colour" should get none, in a terminal or a log.
import chalk from 'chalk';

export function honourNoColor(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): void {
  if ((env.NO_COLOR !== undefined && env.NO_COLOR !== '') || argv.includes('--no-color')) chalk.level = 0;
}
