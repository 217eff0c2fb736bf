// Ctrl-C (SIGINT) or a CI runner's SIGTERM in the middle of a run: what is
// running registers how to leave things and what to say, the first signal
// runs those in reverse order of registration, prints what they said and
// exits 130. A second signal exits at once.
/**
 * What a handler says: a message, or a function that words it once every
 * handler has run. Letting go of staging over a slow link can take seconds,
 * and the work in flight meanwhile goes on (a table's last batch lands): a
 * message of what is done is true as it is printed, not as the signal came.
 */
type Said = string | undefined | (() => string | undefined);
type Handler = () => Promise<Said> | Said;

const handlers: Handler[] = [];
let listening = false;
let stopping = false;

/** Whether a signal has come and the run is letting go of what it holds: work not started yet is not to be started. */
export const isStopping = (): boolean => stopping;

/** Registers `handler` until the returned function is called. */
export function onInterrupt(handler: Handler): () => void {
  handlers.push(handler);
  if (!listening) {
    listening = true;
    process.once('SIGINT', () => void interrupted('SIGINT'));
    process.once('SIGTERM', () => void interrupted('SIGTERM'));
  }
  return () => {
    const index = handlers.indexOf(handler);
    if (index >= 0) handlers.splice(index, 1);
  };
}

async function interrupted(signal: string): Promise<void> {
  stopping = true;
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(130));
  const said: Said[] = [];
  for (const handler of handlers.splice(0).reverse()) {
    try {
      said.push(await handler());
    } catch (error) {
      said.push(whileStopping(error));
    }
  }
  const worded = said.map((message) => (typeof message === 'function' ? wordedLast(message) : message)).filter(Boolean);
  // Run innermost first (a backup before the run that took it), told outermost first.
  const message = [`Interrupted (${signal}).`, ...worded.reverse()].join('\n');
  process.stderr.write(`${message}\n`);
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ ok: false, interrupted: true, exitCode: 130, error: message }, null, 2)}\n`);
  process.exit(130);
}

function wordedLast(message: () => string | undefined): string | undefined {
  try {
    return message();
  } catch (error) {
    return whileStopping(error);
  }
}

const whileStopping = (error: unknown): string => `(while stopping: ${(error as Error).message})`;
