// Runs a plan: checks what must hold before staging is touched, then copies
// table by table in the plan's order inside one staging session, and either
// commits all of it or none.
import { qualifiedName, type TableRef } from '../catalog/types.ts';
import { UsageError } from '../errors.ts';
import { countOf } from '../counts.ts';
import { describeDrift } from '../plan/drift.ts';
import type { TablePlan } from '../plan/types.ts';
import { emptiedAlongside, supabaseNotes, type LeftOutTable } from '../plan/supabase.ts';
import { untriggeredNotes } from '../plan/untriggered-rows.ts';
import { printablePath } from '../backup/manifest.ts';
import { pruneBackups, type PrunedBackups } from '../backup/store.ts';
import { openSyncSession } from '../transport/open-session.ts';
import { RunBackup } from '../backup/run-backup.ts';
import { writtenSince } from './transaction-watermark.ts';
import { orphansAfterLoad } from './orphans-after-load.ts';
import { describeOrphans } from './orphans.ts';
import { floorsToSet, sequencesToSet } from './sequences.ts';
import { snapshotNotes } from '../transport/database.ts';
import { onInterrupt } from '../interrupt.ts';
import { commandLine } from '../invocation.ts';
import { describeHoldEnded, describeThisRun, type PutBack } from '../transport/staging-hold.ts';
import { doneOnceMore, endedForAnother, RolledBackForAnother } from './rolled-back.ts';
import { comparesRanges, deletesMissing, type SyncMode } from '../plan/mode.ts';
import { checkBeforeWriting, refuseActingKeysWithChecksOn } from './before-writing.ts';
import { failureMessage } from './run-failure.ts';
import type { ChangedRanges } from './changed-ranges.ts';
import { addCopies, compareChildrenOfRemovedKeys, copyCascadedChildren } from './cascaded-children.ts';
import { orphansLeft } from './orphans-left.ts';
import { compareTables, copyChangedRanges, deleteMissingRows, resyncedTables, touchedRanges, type RangedCopy } from './ranged-copy.ts';
import type { LoadMethod, RejectedRow, RetryReason, SessionOptions, StagingBackup, ViewRefresh } from '../transport/session.ts';
import type { PreparedRun } from './prepare.ts';
import { testPasswordWarning } from '../plan/mask.ts';
import { personalColumnsWarning } from '../plan/personal-columns.ts';
import { inParallel } from '../in-parallel.ts';
import { tableGroups } from './table-groups.ts';

/** The session's options (strict, concurrency) and the run's own; the session's backup is made from backupRoot. */
export interface SyncOptions extends Omit<SessionOptions, 'backup'> {
  /** Copy the common columns of tables whose schema differs between the sides. */
  allowDrift: boolean;
  /** Write rows whose parents staging lacks (where staging lets us). */
  allowOrphans: boolean;
  /** Write production's raw values into columns staging holds masked (engine/masked-staging.ts). */
  unmask: boolean;
  /** Where staging's rows are saved before a replace empties or an upsert overwrites them; null: no backup (--no-backup). */
  backupRoot: string | null;
  /** Backups of this staging left after a successful run that took one (the newest, its own included). */
  backupsKept: number;
  /** --mode incremental: how far before production's clock the next run reads from (supasync.config.json's incremental.overlapSeconds). */
  overlapSeconds: number;
  /** Ask before a destructive run; resolves false when the user declines. */
  confirm: (question: string) => Promise<boolean>;
}

export interface SyncEvents {
  warning(message: string): void;
  tableStarted(table: TablePlan): void;
  tableProgress(table: TablePlan, rowsSoFar: number): void;
  tableFinished(table: TablePlan, result: TableResult): void;
}

export interface TableResult {
  table: string;
  /** How the run wrote the table: its own mode (supasync.config.json, --with-parents' upsert) or the run's. */
  mode?: SyncMode;
  /** Rows read from production. */
  rows: number;
  /** Rows staging now holds from this run: read, less those it rejected. */
  copied: number;
  /** Rows inserted or updated in staging (equal to rows in replace mode). */
  changed: number;
  /** Staging rows a mirror deleted: production no longer has their key. */
  deleted: number;
  /** For a mode that compares key ranges first: what the comparison found. */
  ranges: ChangedRanges | null;
  /** Incremental: where this run read changed rows from (null: whole rows compared), and where the next will. */
  watermark: RangedCopy['watermark'] | null;
  /** The table's watermark was left where it was: staging rejected some of its rows, which the next run must see again. */
  watermarkHeld?: boolean;
  rejected: RejectedRow[];
  /** Over REST, staging's own rows a re-sync cleared, then put back where staging refused production's version. */
  putBack: PutBack | null;
  /** A re-sync cleared staging's rows it rewrote before writing them (comparison.filters.rewrite); an upsert, as where staging has columns of its own, does not. */
  cleared: boolean;
  seconds: number;
}

export interface SyncResult {
  via: PreparedRun['via'];
  mode: SyncMode;
  method: LoadMethod['kind'];
  tables: TableResult[];
  skipped: { table: string; reason: string }[];
  /** What the run did not do that a person might expect (Storage files, sign-in state emptied). */
  notes: string[];
  /** Tables of the selected schemas a schema-wide run leaves out (plan/supabase.ts): named after the run. */
  leftOut: LeftOutTable[];
  /** The tables whose columns were masked on the way, with those columns (docs/masking.md). */
  masked: { table: string; columns: string[] }[];
  /** Requests retried after a passing failure (HTTP 429/5xx, a dropped connection, a deadlock), by reason (REST). */
  retries: readonly RetryReason[];
  /** What the run saved of staging before changing it; null: none taken (--no-backup). */
  backup: StagingBackup | null;
  /** Older backups of this staging removed after the run (supasync.config.json's backups.keep); null: none looked at. */
  pruned: PrunedBackups | null;
  /** The materialized views of staging that read the tables the run changed: refreshed, or why not. */
  views: ViewRefresh[];
  /** Of `seconds`, comparing tables' key ranges before any was written (ranged modes). */
  compareSeconds: number;
  seconds: number;
}

/**
 * A direct run whose one transaction PostgreSQL ended for another session's
 * sake (chosen to end a deadlock with autovacuum or the app, a serialization
 * failure) changed nothing and met nothing of its own: it is run once more,
 * saying why. Any other failure, and a second one of these, is the run's.
 */
export async function runSync(run: PreparedRun, options: SyncOptions, events: SyncEvents): Promise<SyncResult> {
  try {
    return await syncOnce(run, options, events);
  } catch (error) {
    if (!(error instanceof RolledBackForAnother)) throw error;
    events.warning(doneOnceMore(error.why, 'run'));
    // Asked once: the person already said yes.
    return syncOnce(run, { ...options, confirm: () => Promise.resolve(true) }, events).catch((again: unknown) => {
      throw again instanceof RolledBackForAnother ? again.failure : again;
    });
  }
}

async function syncOnce(run: PreparedRun, options: SyncOptions, events: SyncEvents): Promise<SyncResult> {
  const started = performance.now();
  // A run's time is the work's, not the time a person took to answer.
  let waited = 0;
  const confirm = async (question: string) => {
    const asked = performance.now();
    try {
      return await options.confirm(question);
    } finally {
      waited += performance.now() - asked;
    }
  };
  // One run writes a staging at a time, from before it looks at staging's rows to its end: taking hold puts back,
  // first, the rows a REST run stopped outright had cleared (whose children the checks would find pointing nowhere).
  const hold = await run.staging.holdStaging(describeThisRun(`sync --mode ${run.plan.mode}`), (line) => events.warning(line));
  const { tables, skipped, sequences, maskedTables } = await checkBeforeWriting(run, { ...options, warn: (line) => events.warning(line) }).catch(
    async (error: unknown) => {
      await hold.release();
      throw error;
    },
  );
  const emptied = emptiedAlongside(run.plan);
  for (const { table, reason } of skipped) events.warning(`${table} is not copied: ${reason}`);
  // --allow-drift: what of each drifted table is not copied as production has it, said as the run begins, not only by a dry run.
  for (const table of tables) {
    const drift = table.drift.filter((d) => d.kind !== 'missing-table').map(describeDrift);
    if (drift.length) events.warning(`${qualifiedName(table.table)}: --allow-drift copies the columns both sides have: ${drift.join('; ')}`);
  }
  const floors = await floorsToSet(run.staging, run.plan.sequenceFloors, tables, (line) => events.warning(line));
  const password = testPasswordWarning(tables);
  if (password) events.warning(password);
  const personal = personalColumnsWarning(run.plan.personalColumnsRaw?.filter(({ table }) => tables.some((t) => qualifiedName(t.table) === table)));
  if (personal) events.warning(personal);

  const runBackup = options.backupRoot ? new RunBackup(options.backupRoot) : null;
  const session = await openSyncSession(run, {
    strict: options.strict,
    concurrency: options.concurrency,
    backup: runBackup,
    masker: run.masker,
    settleEarlierWrites: (line) => events.warning(line),
  }).catch(async (error: unknown) => {
    await hold.release();
    throw error;
  });
  runBackup?.followStaging(() => session.stagingMayHaveChanged);
  const results: TableResult[] = [];
  const rangedCopies = new Map<string, RangedCopy>();
  const running = new Set<TablePlan>();
  let comparing: TablePlan[] = [];
  let backup: StagingBackup | null = null;
  let views: ViewRefresh[] = [];
  let compareSeconds = 0;
  // No abort() here: a ROLLBACK would queue behind a running COPY. Exiting
  // closes staging's connection, and PostgreSQL rolls its transaction back.
  // Once staging holds the run's rows (its transaction committed), a signal while the run lets go of staging
  // and removes older backups says so: until the caller's own handler takes over, not a bare "Interrupted".
  let finished = false;
  let failed = false;
  // Worded once staging is let go of: the tables whose last batch landed meanwhile count as complete.
  const stopOnInterrupt = onInterrupt(
    () => () =>
      finished
        ? `The sync had finished writing staging${backup?.directory ? ` (its backup: ${printablePath(backup.directory)})` : ''}, ` +
          `and was stopped as it let go of staging: ${commandLine('verify')} checks staging.`
        : failureMessage(null, session, [...running], results, tables, null).message,
  );
  try {
    for (const warning of session.method.warnings) events.warning(warning);
    if (session.method.kind !== 'replica') await refuseActingKeysWithChecksOn(run, tables, emptied);
    // The dry run's plan says it per table; a run that goes ahead says it once, or a missed SQL edit passes unseen.
    const unstamped = tables.filter((table) => table.mode === 'incremental' && table.changedColumnUnstamped);
    if (unstamped.length) {
      events.warning(
        `no trigger stamps the changed column on UPDATE in ${unstamped.map((table) => `${qualifiedName(table.table)} (${table.changedColumn})`).join(', ')}: ` +
          'an incremental run does not see a change that leaves it alone (an SQL edit, or a trigger of another table keeping a count or total in it); ' +
          '"changedColumn": "xmin" in supasync.config.json\'s tables sees every write.',
      );
    }
    const question = confirmation(run, tables, emptied, options);
    if (question && !(await confirm(question))) throw new UsageError('Nothing was changed: the sync was not confirmed.');
    // Compared first (reading only): a backup then saves, of a table written by key range, those ranges alone.
    // What staging's role would refuse is said before that work, not after it (prepare() asks again, cheaply).
    const ranged = tables.some((table) => comparesRanges(table.mode));
    if (ranged) await session.refusals(tables);
    const comparingSince = performance.now();
    comparing = tables.filter((table) => comparesRanges(table.mode));
    // Staging's transactions as the run begins: every row it writes from here on carries a later xmin (the check after the load).
    const clearsFirst = session.method.kind === 'replica';
    const [comparisons, stagingClock] = await Promise.all([
      compareTables(run, tables, options.overlapSeconds, clearsFirst),
      ranged ? run.staging.clock(0) : null,
    ]);
    await compareChildrenOfRemovedKeys(run, tables, comparisons, options.overlapSeconds, clearsFirst);
    compareSeconds = (performance.now() - comparingSince) / 1000;
    comparing = [];
    const prepared = await session.prepare(
      tables,
      emptied,
      sequences.filter((plan) => plan.inStaging).map((plan) => plan.sequence),
      touchedRanges(tables, comparisons),
    );
    for (const warning of prepared.warnings) events.warning(warning);
    backup = prepared.backup;
    // Marked before a row is written: over REST a run stopped part way leaves staging's masked rows marked so.
    if (maskedTables) await session.setMaskedTables({ masked: maskedTables.masked, unmasked: [] });
    // With checks off, staging rows production lacks go first, and those it rewrites, out of the way of the rows written (deleteMissingRows).
    const deletedFirst = clearsFirst ? await deleteMissingRows(session, tables, comparisons, null) : null;
    for (const group of tableGroups(tables, session, 'parents first')) {
      await inParallel(group, session.parallelTables, async (table) => {
        running.add(table);
        events.tableStarted(table);
        const tableStarted = performance.now();
        const onRows = (rows: number) => events.tableProgress(table, rows);
        const comparison = comparisons.get(qualifiedName(table.table));
        const ranged = comparison ? await copyChangedRanges(run, session, table, comparison, onRows) : null;
        if (ranged) rangedCopies.set(qualifiedName(table.table), ranged);
        const copied = ranged?.copy ?? (await session.copyTable(table, onRows));
        const result: TableResult = {
          table: qualifiedName(table.table),
          mode: table.mode,
          ...copied,
          copied: copied.rows - copied.rejected.length,
          deleted: 0,
          ranges: ranged?.ranges ?? null,
          watermark: ranged?.watermark ?? null,
          putBack: ranged?.putBack ?? null,
          cleared: Boolean(ranged?.filters.rewrite),
          seconds: (performance.now() - tableStarted) / 1000,
        };
        running.delete(table);
        results.push(result);
        events.tableFinished(table, result);
      });
    }
    if (ranged && !clearsFirst) {
      const written = results.filter((result) => result.changed).map((result) => result.table);
      const cascaded = await copyCascadedChildren(run, session, tables, comparisons, written, options.overlapSeconds, (table, rows) =>
        events.tableProgress(table, rows),
      );
      for (const [name, again] of cascaded) {
        const result = results.find((done) => done.table === name);
        const first = rangedCopies.get(name);
        if (!result || !first) continue;
        const copy = addCopies(first.copy, again.copy);
        rangedCopies.set(name, { ...again, copy });
        Object.assign(result, { ...copy, copied: copy.rows - copy.rejected.length });
      }
    }
    const rowsWritten = stagingClock && writtenSince(stagingClock.xmin);
    const deleted = deletedFirst ?? (rowsWritten ? await deleteMissingRows(session, tables, comparisons, rowsWritten) : new Map<string, number>());
    for (const result of results) result.deleted = deleted.get(result.table) ?? 0;
    // A table staging rejected rows of keeps its watermark: moved on, the next run would not read those rows again
    // (their stamps are behind it), and staging would keep its own version of them once it takes production's.
    const held = new Set(results.filter((result) => result.rejected.length && result.watermark).map((result) => result.table));
    for (const result of results) if (held.has(result.table)) result.watermarkHeld = true;
    await session.setWatermarks([...rangedCopies].flatMap(([name, copy]) => (copy.watermark && !held.has(name) ? [copy.watermark.next] : [])));
    if (maskedTables) await session.setMaskedTables({ masked: [], unmasked: maskedTables.unmasked });
    const resynced = rowsWritten ? { tables: resyncedTables(tables, rangedCopies), rowsWritten } : null;
    // Over REST where the sequences stand is asked while staging's keys are checked, a round trip saved; directly each
    // side answers one query at a time anyway.
    const settingSequences = () => sequencesToSet(run.production, run.staging, sequences, tables, run.plan.mode);
    const sequencesAsked = run.production.asksTogether && run.staging.asksTogether ? settingSequences() : null;
    sequencesAsked?.catch(() => undefined);
    const orphans = await orphansAfterLoad(
      run.staging,
      run.plan.stagingLinks,
      tables,
      emptied,
      run.production.oneSnapshot,
      resynced,
      emptyAfterLoad(tables, results),
    );
    // Over REST the rows staging rejected fail the run anyway, each named by its key: the rows that named them are said, not made the failure.
    const rejectedSome = results.some((result) => result.rejected.length);
    if (orphans.length && !options.allowOrphans && !rejectedSome) throw orphansLeft(tables, orphans, run.production.oneSnapshot);
    const because = options.allowOrphans ? '--allow-orphans' : 'left by the rows staging rejected';
    for (const line of describeOrphans(orphans)) events.warning(`${because}: ${line.trim()}`);
    views = await session.finish(await (sequencesAsked ?? settingSequences()), writtenTables(tables, results), floors);
    finished = true;
    for (const view of views) if (!view.refreshed) events.warning(`${view.view} not refreshed: ${view.reason}. It holds what it held before this run.`);
    // Every row the run cleared to write afresh is written again, or was put back at its table's end.
    const ended = describeHoldEnded(await hold.release(true), 'this run had');
    if (ended) events.warning(ended);
  } catch (error) {
    failed = true;
    await session.abort();
    // Ending the hold puts back the rows the run cleared to write afresh and did not (REST): said with the failure.
    const putBack = describeHoldEnded(await hold.release(), 'this run had');
    const backupFate = (await runBackup?.afterFailure()) ?? null;
    const fate = [putBack, backupFate].filter(Boolean).join('\n') || null;
    const failure = failureMessage(error, session, [...running], results, tables, fate, comparing, run.plan.mode);
    const forAnother = session.atomic && !session.stagingMayHaveChanged ? endedForAnother(error) : null;
    throw forAnother ? new RolledBackForAnother(failure, forAnother) : failure;
  } finally {
    if (failed || !finished) stopOnInterrupt();
    const ended = describeHoldEnded(await hold.release(), 'this run had');
    if (ended) events.warning(ended);
  }
  runBackup?.settle();
  // A run that changed no row restores nothing: kept, it would count among the newest and prune a backup that does.
  if (runBackup && backup?.directory && !changedAnyRow(tables, results)) {
    await runBackup.discard().then(
      () => (backup = { ...(backup as StagingBackup), directory: null, unchanged: true }),
      (error: unknown) => events.warning(`Could not remove this run's backup, which restores nothing (no row changed): ${(error as Error).message}`),
    );
  }
  const pruned = runBackup && backup?.directory ? await pruneOlderBackups(runBackup.root, backup.directory, options.backupsKept, events) : null;
  stopOnInterrupt();
  const order = new Map(tables.map((table, index) => [qualifiedName(table.table), index]));
  results.sort((a, b) => (order.get(a.table) ?? 0) - (order.get(b.table) ?? 0));
  return {
    via: run.via,
    mode: run.plan.mode,
    method: session.method.kind,
    tables: results,
    skipped,
    notes: [...supabaseNotes(run.plan), ...untriggeredNotes(run.plan.untriggered), ...snapshotNotes(run.production, tables.length)],
    leftOut: run.plan.leftOut,
    masked: tables.flatMap((table) => (table.mask ? [{ table: qualifiedName(table.table), columns: table.mask.columns.map((column) => column.column) }] : [])),
    retries: session.retries,
    backup,
    pruned,
    views,
    compareSeconds,
    seconds: (performance.now() - started - waited) / 1000,
  };
}

/**
 * The tables a replace left without a row: a large schema's many empty ones (GitLab's: 576 of 703) have foreign keys
 * by the hundred and no row along them to check.
 */
function emptyAfterLoad(tables: TablePlan[], results: TableResult[]): Set<string> {
  const replaced = new Set(tables.filter((table) => table.mode === 'replace').map((table) => qualifiedName(table.table)));
  return new Set(results.filter((result) => result.copied === 0 && replaced.has(result.table)).map((result) => result.table));
}

/** Whether the run changed a row of staging: a replace empties its tables; a merge wrote into or deleted from one. */
function changedAnyRow(tables: TablePlan[], results: TableResult[]): boolean {
  return tables.some((table) => table.mode === 'replace') || results.some((result) => result.changed || result.deleted);
}

/** The tables whose rows the run changed in staging: every replaced one, and those a merge wrote into or deleted from. */
function writtenTables(tables: TablePlan[], results: TableResult[]): TableRef[] {
  const changed = new Set(results.filter((result) => result.changed || result.deleted).map((result) => result.table));
  return tables.filter((table) => table.mode === 'replace' || changed.has(qualifiedName(table.table))).map((table) => table.table);
}

/**
 * Only after a run that succeeded: after a failed one staging may need an
 * older backup. The sync itself is done by now, so a backup that cannot be
 * removed is a warning, not a failure.
 */
async function pruneOlderBackups(root: string, latest: string, keep: number, events: SyncEvents): Promise<PrunedBackups | null> {
  try {
    const pruned = await pruneBackups(root, latest, keep);
    for (const { directory, message } of pruned.failed) events.warning(`Could not remove the older backup ${printablePath(directory)}: ${message}`);
    return pruned;
  } catch (error) {
    events.warning(`Could not look for older backups to remove in ${printablePath(root)}: ${(error as Error).message}`);
    return null;
  }
}

/**
 * A replace, a mirror or an incremental sync is confirmed (they delete
 * staging's rows); an upsert or insert-missing is not, as it deletes
 * nothing: its backup is told in the summary. Null: nothing to ask.
 */
function confirmation(run: PreparedRun, tables: TablePlan[], emptied: TableRef[], options: SyncOptions): string | null {
  const replaced = tables.filter((table) => table.mode === 'replace');
  const resynced = tables.filter((table) => deletesMissing(table.mode));
  if (!replaced.length && !resynced.length) return null;
  const merged = tables.length - replaced.length - resynced.length;
  const saved = merged ? `these tables, and in the ${countOf(merged, 'table')} merged into,` : 'these tables';
  const what = [
    ...(replaced.length ? [`replace the contents of ${countOf(replaced.length, 'table')}`] : []),
    ...(resynced.length
      ? [`bring ${countOf(resynced.length, 'table')} in line (${[...new Set(resynced.map((t) => t.mode))].join(', ')}: only what differs is written)`]
      : []),
  ].join(' and ');
  return (
    `${what.charAt(0).toUpperCase()}${what.slice(1)} in staging (${run.staging.location}) with production's? ` +
    'Staging rows not in production are deleted' +
    (emptied.length ? `, and ${emptied.map(qualifiedName).join(', ')} emptied (staging's sign-ins end).` : '.') +
    (options.backupRoot
      ? ` Staging's rows in ${saved} are saved first to ${printablePath(options.backupRoot)}, private to you ` +
        `(scripts/restore-staging.ts restores them; the newest ${countOf(options.backupsKept, 'backup')} of this staging ${options.backupsKept === 1 ? 'is' : 'are'} kept).`
      : ' No backup is taken (--no-backup).')
  );
}
