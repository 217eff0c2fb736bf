// Ctrl-C (SIGINT) or a CI runner's SIGTERM in the middle of a run: what is
// running registers how to leave things and what to say, the first signal
// runs those in reverse order of registration, prints what they said and
// exits 130. A second signal exits at once.
type Handler = () => Promise<string | undefined> | string | undefined;

const handlers: Handler[] = [];
let listening = false;

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
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(130));
  const said: string[] = [];
  for (const handler of handlers.splice(0).reverse()) {
    try {
      const message = await handler();
      if (message) said.push(message);
    } catch (error) {
      said.push(`(while stopping: ${(error as Error).message})`);
    }
  }
  // Run innermost first (a backup before the run that took it), told outermost first.
  const message = [`Interrupted (${signal}).`, ...said.reverse()].join('\n');
  process.stderr.write(`${message}\n`);
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ ok: false, interrupted: true, exitCode: 130, error: message }, null, 2)}\n`);
  process.exit(130);
}
