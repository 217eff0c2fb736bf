// What a failed or interrupted run says it left in staging: nothing (one
// transaction rolled back), all or none (stopped at the sequences), or over
// REST the tables it finished, with the way to finish.
import { qualifiedName } from '../catalog/types.ts';
import { formatCount } from '../counts.ts';
import { CONFLICT_CODES, ConnectionLostError, DatabaseError, describeError, movedValueAdvice, SupasyncError } from '../errors.ts';
import { unwrittenRowAdvice, type SyncMode } from '../plan/mode.ts';
import type { TablePlan } from '../plan/types.ts';
import type { SyncSession } from '../transport/session.ts';

/**
 * What a failed (`error`) or interrupted (null) run left: on the direct path
 * nothing, its transaction rolled back; over REST nothing until its first
 * TRUNCATE or batch, and from then on the tables it finished. `backupFate`:
 * what became of the run's backup (RunBackup.afterFailure), said last.
 * `comparing`: the tables a re-sync was comparing, where it failed before
 * copying any.
 */
export function failureMessage(
  error: unknown,
  session: SyncSession,
  running: TablePlan[],
  done: { table: string }[],
  all: TablePlan[],
  backupFate: string | null,
  comparing: TablePlan[] = [],
  runMode?: SyncMode,
): Error {
  const fate = backupFate ? `\n${backupFate}` : '';
  const exitCode = error instanceof SupasyncError ? error.exitCode : 1;
  const unchanged = !session.stagingMayHaveChanged;
  // A lost connection's words are the server's: what was copied, and what staging holds, still to be said.
  const ownWords = error instanceof SupasyncError && !(error instanceof ConnectionLostError);
  if (ownWords && unchanged) return fate ? new SupasyncError(`${error.message}${fate}`, exitCode, { cause: error }) : error;
  const where = running.length
    ? `Copying ${running.map((t) => qualifiedName(t.table)).join(', ')} failed`
    : comparing.length
      ? `Comparing ${namesOf(comparing)} with staging failed`
      : 'The sync failed';
  const message = error === null ? '' : `${ownWords ? error.message : describeError(where, error)}\n${movedValueHint(error, session, running, runMode)}`;
  if (unchanged) {
    const said = session.atomic
      ? `Staging was left exactly as it was: the whole run is one transaction, ${error === null ? 'rolled back as its connection closes' : 'now rolled back'}` +
        // The tables ticked as they were written were written inside it.
        `${done.length ? `, the ${done.length === 1 ? 'table' : `${formatCount(done.length)} tables`} ticked above with it` : ''}.`
      : 'Nothing was written to staging.';
    return new DatabaseError(`${message}${said}${fate}`, exitCode, { cause: error });
  }
  if (session.atomic) {
    return new DatabaseError(
      `${message}The run stopped as it set staging's sequences, which no rollback undoes, or committed: staging holds all of this run's rows ` +
        'or none of them (verify-sync-status.ts tells which), and its sequences may stand where this run set them. ' +
        `Run the same command again to finish, or put staging back with the run's backup, if it took one.${fate}`,
      exitCode,
      { cause: error },
    );
  }
  const complete = new Set(done.map((result) => result.table));
  const incomplete = all.map((t) => qualifiedName(t.table)).filter((name) => !complete.has(name));
  return new DatabaseError(
    `${message}Over REST every batch commits on its own, so staging now holds part of this run` +
      `${error === null ? ' (batches already sent may still land)' : ''}.\n` +
      `  complete: ${[...complete].join(', ') || 'none'}\n  not complete: ${incomplete.join(', ') || 'none'}\n` +
      // Stopped after the last table: its rows are all there, what is set after them may not be.
      (incomplete.length ? '' : "Every table's rows are written; staging's sequences, incremental watermarks and materialized views may not be set yet.\n") +
      (error instanceof SupasyncError && error.sameOnRerun
        ? 'Running the same command again would stop at the same place: do what the message above says first, then run it to finish.'
        : 'Run the same command again to finish: every batch is an idempotent upsert.') +
      fate,
    exitCode,
    { cause: error },
  );
}

/** The first few tables' names, and how many more. */
function namesOf(tables: TablePlan[]): string {
  const names = tables.slice(0, 5).map((t) => qualifiedName(t.table));
  return tables.length > names.length ? `${names.join(', ')} and ${tables.length - names.length} more` : names.join(', ');
}

/** Of `tables`, the one PostgreSQL named as refusing the row (its error's schema and table), where it is one of them; else all. */
function refusedTable(error: unknown, tables: TablePlan[]): TablePlan[] {
  const { schema, table } = (error ?? {}) as { schema?: unknown; table?: unknown };
  const named = tables.filter((plan) => plan.table.schema === schema && plan.table.name === table);
  return named.length ? named : tables;
}

/**
 * Without the replica role rows are written one key at a time with every
 * unique index live: a value production moved to another row (two users who
 * swapped usernames) meets the row that still holds it. Known, with two ways
 * out, which a bare unique violation does not tell.
 */
function movedValueHint(error: unknown, session: SyncSession, running: TablePlan[], runMode: SyncMode | undefined): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !CONFLICT_CODES.has(code)) return '';
  if (session.method.kind === 'replica') {
    // Checks off, swapped values land: what still meets an old value is a row the run does not write.
    const unwritten = refusedTable(
      error,
      running.filter((table) => table.mode === 'incremental' || table.mode === 'insert-missing' || table.mode === 'upsert'),
    );
    return unwritten.length
      ? `${unwrittenRowAdvice(
          unwritten[0]?.mode,
          unwritten.map((table) => qualifiedName(table.table)),
          runMode,
          code === '23P01' ? 'exclusion' : 'unique',
        )}\n`
      : '';
  }
  const keyed = running.filter((table) => table.mode !== 'replace').map((table) => qualifiedName(table.table));
  if (!keyed.length) return '';
  return `${movedValueAdvice(keyed)}\n`;
}
