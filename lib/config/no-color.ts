// Whether the person asked for no colour: NO_COLOR (https://no-color.org) set
// to anything but empty, or --no-color. It is read below every layer that
// prints: cli/ turns chalk's colours off with it, report/ its redrawn progress.
export function noColorAsked(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || argv.includes('--no-color');
}
