// A direct run's one transaction, ended by PostgreSQL for another
// session's sake rather than for anything in the run: chosen to end a
// deadlock (with autovacuum, the app, a migration), or not serializable
// with another. Nothing was changed and nothing of the run's is at fault,
// so runSync runs it once more.

/** The run's failure, as it would be told, and why it may be run again. */
export class RolledBackForAnother extends Error {
  constructor(
    readonly failure: Error,
    readonly why: string,
  ) {
    super(failure.message, { cause: failure });
  }
}

/** PostgreSQL's answers that end a transaction for another's sake, by the code it gives them. */
const FOR_ANOTHER = new Map([
  ['40P01', "Staging's transaction was chosen to end a deadlock with another session (autovacuum, the app, a migration)."],
  ['40001', "Staging's transaction could not be serialized with another session's."],
]);

/** What is said before a direct run or restore ended so is done once more: nothing of it stands. */
export function doneOnceMore(why: string, what: 'run' | 'restore'): string {
  return `${why} Staging was left exactly as it was (the ${what} is one transaction, rolled back): ${what === 'run' ? 'running it' : 'restoring'} once more.`;
}

export function endedForAnother(error: unknown): string | null {
  for (let cause = error; cause instanceof Object; cause = (cause as { cause?: unknown }).cause) {
    const code = (cause as { code?: unknown }).code;
    const why = typeof code === 'string' ? FOR_ANOTHER.get(code) : undefined;
    if (why) return why;
  }
  return null;
}
