// How every script ends: its exit code, and errors printed for a person.
// A stack trace appears only with --debug.
import { SupasyncError } from '../errors.ts';
import { secretValues, withoutSecrets } from '../report/document/secrets.ts';
import { honourNoColor } from './color.ts';

export async function runScript(main: () => Promise<number | void>): Promise<void> {
  const debug = process.argv.includes('--debug');
  redactOutput();
  // Output piped into a reader that stops early (`--help | head`): the reader has what it wanted.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
  await honourNoColor();
  try {
    process.exitCode = (await main()) ?? 0;
  } catch (error) {
    // A machine reading --json output gets an object whatever happened, on stdout as on success.
    if (process.argv.includes('--json')) {
      const known = error instanceof SupasyncError;
      const message = known ? error.message : `Unexpected error: ${(error as Error)?.message ?? String(error)}`;
      console.log(JSON.stringify({ ok: false, exitCode: known ? error.exitCode : 1, error: message }, null, 2));
    }
    // Loaded here, not up front: a run that succeeds starts sooner without it.
    const { default: chalk } = await import('chalk');
    if (error instanceof SupasyncError) {
      console.error(chalk.red(error.message));
      if (debug && error.cause instanceof Error) console.error(error.cause.stack);
      process.exitCode = error.exitCode;
    } else {
      console.error(chalk.red(`Unexpected error: ${(error as Error)?.message ?? String(error)}`));
      console.error(debug ? (error as Error)?.stack : 'Run again with --debug for the stack trace, and report it.');
      process.exitCode = 1;
    }
  }
}

/**
 * Keys and passwords kept out of all a script prints: a server's answer may quote them back (a proxy or gateway
 * echoing the request's headers into an error body), and what the run says of it is printed as received. Read
 * from the environment at each write: .env.local is loaded once the script has started.
 */
function redactOutput(): void {
  // A short password (`postgres`, a local project's) would garble every line naming the role; keys are long.
  // Worked out again only when the environment gained or lost a variable (.env.local loaded), not at every write.
  let known: { variables: number; secrets: string[] } | null = null;
  const secrets = () => {
    const variables = Object.keys(process.env).length;
    if (known?.variables !== variables) known = { variables, secrets: secretValues(process.env).filter((secret) => secret.length >= 12) };
    return known.secrets;
  };
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = (chunk: unknown, ...rest: unknown[]) => write(typeof chunk === 'string' ? withoutSecrets(chunk, secrets()) : chunk, ...rest);
  }
}
