// The tables whose mode compares key ranges (mirror, insert-missing,
// incremental): each compared before any table is written (compareTables,
// with changed-ranges.ts), then only the rows that differ read and written
// (copyChangedRanges), and for a mirror or an incremental sync the staging
// rows production lacks deleted: with foreign-key checks off before any row
// is written, the rows to be rewritten with them, with checks on once every
// table is (deleteMissingRows).
import { bothFilters } from '../catalog/partition-keys.ts';
import { qualifiedName } from '../catalog/types.ts';
import { comparesRanges, deletesMissing } from '../plan/mode.ts';
import { UsageError } from '../errors.ts';
import { commandLine } from '../invocation.ts';
import type { TablePlan } from '../plan/types.ts';
import type { SyncSession, TableCopy, TouchedRanges } from '../transport/session.ts';
import type { PutBack } from '../transport/staging-hold.ts';
import { askEach, type KeyValues } from '../transport/reads.ts';
import { RESTORED, type DatabaseClock, type Watermark } from '../transport/watermarks.ts';
import { findChangedRanges, type ChangedRanges, type ChangedRows } from './changed-ranges.ts';
import type { ResyncedTable } from './orphans-after-load.ts';
import { inParallel } from '../in-parallel.ts';
import { tableGroups } from './table-groups.ts';
import { followsTransactions, usableTransactionWatermark, writtenSince } from './transaction-watermark.ts';
import type { PreparedRun } from './prepare.ts';
import { changedSinceCondition } from '../plan/changed-column.ts';
import { COPIED_COLUMNS_SINCE, copiedColumns, staleWatermarkReason } from './watermark-columns.ts';

/** What comparing a table found, before any table is written. */
export interface Comparison {
  ranges: ChangedRanges;
  /** Incremental: where the table's run read changed rows from (null: whole rows compared, none kept yet), and where the next will. */
  watermark?: { from: string | null; column: string; columnType: string | null; next: Watermark; wholeBecause?: string };
  /**
   * The conditions that pick the rows to write in production (by key; null: none, or the whole table) and the rows
   * to delete in staging (a mirror's or an incremental run's), built as soon as the table is compared: over REST each
   * is a round trip, made while other tables are still being compared rather than on the way to writing. `rewrite`:
   * where the run clears them first, staging's rows that production's written rows replace ('true': every row).
   */
  filters: { write: string | null; remove: string | null; rewrite: string | null };
}

export interface RangedCopy extends Comparison {
  copy: TableCopy;
  /** Over REST, of the rows cleared to be written afresh, those put back where staging refused production's version; null: none. */
  putBack: PutBack | null;
}

const NOTHING: TableCopy = { rows: 0, changed: 0, rejected: [] };

/**
 * Compares every table whose mode compares key ranges, before any is
 * written. Where questions asked together travel together (REST), all tables
 * at once: each level of the comparison then costs a request or two for
 * every table. An incremental run reads production's clock first, once: the
 * next watermarks (`overlapSeconds` before it, for the tables that follow a
 * column) come from before any row is read, so nothing committed from then
 * on is behind them.
 *
 * Incremental, by a column the app moves on every change: production flags
 * the rows whose column is at or after the table's watermark as it hashes
 * them, and the rows that differ are those and the rows whose key only one
 * side has (added with an old stamp, or deleted), found in the one
 * comparison, without hashing a row whole, and then read by key. The first
 * run of a table, or one whose column changed, compares whole rows instead,
 * as a mirror does. A table without such a column follows production's
 * transaction ids (transaction-watermark.ts) the same way.
 */
export async function compareTables(run: PreparedRun, tables: TablePlan[], overlapSeconds: number, clearsFirst: boolean): Promise<Map<string, Comparison>> {
  const compared = tables.filter((table) => comparesRanges(table.mode));
  const followed = compared.some((table) => table.mode === 'incremental' && table.changedColumn);
  // Over REST, both sides' functions are asked for while comparing (which writes nothing), and refused before any write.
  const known = functionsKnown(run, compared, followed);
  known.catch(() => undefined); // awaited below; a comparison that fails first must not also report this
  // Staging's watermarks, production's clock and (over REST) both sides' functions, asked together: one round trip.
  const [clock, watermarks, keepsColumns] = followed
    ? await Promise.all([run.production.clock(overlapSeconds), run.staging.watermarks(), keepsCopiedColumns(run), known])
    : [null, [] as Watermark[], false];
  const compare = async (table: TablePlan): Promise<Comparison> => {
    const column = table.mode === 'incremental' ? table.changedColumn : null;
    if (!column || !clock || !table.key) return withFilters(run, table, { ranges: await findChangedRanges(run.production, run.staging, table) }, clearsFirst);
    const { schema, name } = table.table;
    const found = watermarks.find(
      (mark) => mark.schema === schema && mark.name === name && mark.column === column && (mark.system === RESTORED || sameProduction(mark, clock)),
    );
    const byTransactions = followsTransactions(column);
    const copied = copiedColumns(table);
    const wholeBecause = found && staleWatermarkReason(found, copied, keepsColumns);
    const kept = wholeBecause ? undefined : byTransactions ? usableTransactionWatermark(found, clock) : found;
    // By xmin every row added since is flagged; by a column the app sets, one may be added with an old stamp (RowFlags).
    const flagged = kept ? { rows: changedSince(column, table.changedColumnType, kept.since), othersByKey: !byTransactions } : null;
    const ranges = await findChangedRanges(run.production, run.staging, table, flagged);
    const next = { schema, name, column, since: byTransactions ? clock.xmin : clock.since, system: clock.system, columns: copied };
    const watermark = { from: kept?.since ?? null, column, columnType: table.changedColumnType, next, ...(wholeBecause ? { wholeBecause } : {}) };
    return withFilters(run, table, { ranges, watermark }, clearsFirst);
  };
  const found = await askEach(run.production.asksTogether && run.staging.asksTogether, compared, compare);
  const comparisons = new Map(compared.map((table, i) => [qualifiedName(table.table), found[i] as Comparison]));
  await known;
  return comparisons;
}

/**
 * Per table whose re-sync writes and deletes only inside the key ranges
 * comparing found different (an incremental table's rows past its
 * watermark among them), those ranges: a backup then saves them alone. Not
 * a table read whole.
 */
export function touchedRanges(tables: TablePlan[], comparisons: ReadonlyMap<string, Comparison>): Map<string, TouchedRanges> {
  const touched = new Map<string, TouchedRanges>();
  for (const table of tables) {
    const name = qualifiedName(table.table);
    const comparison = comparisons.get(name);
    if (!comparison || !table.key || comparison.ranges.rows.every) continue;
    touched.set(name, { keyColumns: table.key.columns, binary: table.binarySafe, bits: comparison.ranges.bits, ranges: comparison.ranges.ranges });
  }
  return touched;
}

/** Copies what comparing the table found: the rows that differ (insert-missing: those staging lacks), by key. */
export async function copyChangedRanges(
  run: PreparedRun,
  session: SyncSession,
  table: TablePlan,
  comparison: Comparison,
  onRows: (rows: number) => void,
): Promise<RangedCopy> {
  if (comparison.ranges.rows.every) return { ...comparison, copy: await session.copyTable(table, onRows), putBack: null };
  const { write, rewrite } = comparison.filters;
  const pickedByKey = keysWritten(table, comparison.ranges.rows).length;
  const copy = write ? await session.copyTable({ ...table, rowFilter: bothFilters(table.rowFilter, write), pickedByKey }, onRows) : NOTHING;
  // Staging's own version of a row it refused production's of goes back before the check of what points nowhere.
  const putBack = rewrite && copy.rejected.length && session.putBackCleared ? await session.putBackCleared(table) : null;
  return { ...comparison, copy, putBack };
}

/** Per table a re-sync copied by key ranges, what it wrote and the keys it deleted: what the check of foreign keys after the load looks at. */
export function resyncedTables(tables: TablePlan[], copies: ReadonlyMap<string, RangedCopy>): Map<string, ResyncedTable> {
  const resynced = new Map<string, ResyncedTable>();
  for (const table of tables) {
    const name = qualifiedName(table.table);
    const copy = copies.get(name);
    if (!copy || !table.key) continue;
    const { rows } = copy.ranges;
    resynced.set(name, {
      keyColumns: table.key.columns,
      written: rows.every ? 'every' : keysWritten(table, rows).length ? 'some' : 'none',
      // Rows cleared to be written afresh are gone where staging then refused production's version and they could
      // not be put back (a table read whole, functions older than 23, another row holding a value of theirs now):
      // their children are then checked as those of rows deleted.
      removed: [
        ...(deletesMissing(table.mode) ? rows.remove : []),
        ...(copy.filters.rewrite && !rows.every && copy.copy.rejected.length && !allPutBack(copy.putBack) ? keysRewritten(rows) : []),
      ],
    });
  }
  return resynced;
}

/** Every row kept was put back or stays written: none is gone. */
function allPutBack(putBack: PutBack | null): boolean {
  return Boolean(putBack && !putBack.left && !putBack.error);
}

/** The keys a table's re-sync writes by key: those staging lacks (insert-missing) or whose rows differ; none where it reads the table whole. */
function keysWritten(table: TablePlan, rows: ChangedRows): KeyValues[] {
  return rows.every ? [] : table.mode === 'insert-missing' ? rows.missing : rows.write;
}

/**
 * A comparison with the conditions its copy and its deletes will use
 * (Comparison.filters). `clearsFirst`: foreign-key checks are off, and a
 * mirror's or an incremental run's deletes go before its writes; the staging
 * rows production's replace go with them, so that a unique or exclusion
 * constraint between rows that both stay (two rows that swapped their
 * `position`, bookings moved into each other's slots) meets production's
 * rows alone, where upserting one row at a time would collide with the other
 * row's old value.
 */
async function withFilters(run: PreparedRun, table: TablePlan, comparison: Omit<Comparison, 'filters'>, clearsFirst: boolean): Promise<Comparison> {
  const { rows } = comparison.ranges;
  const keyColumns = table.key?.columns ?? [];
  const written = keysWritten(table, rows);
  const removed = deletesMissing(table.mode) ? rows.remove : [];
  // Staging's own columns (--allow-drift) would go back to their defaults on rows deleted and written afresh: those are upserted.
  const clears = clearsFirst && deletesMissing(table.mode) && !table.drift.some((drift) => drift.kind === 'extra-columns');
  const rewritten = clears && !rows.every ? keysRewritten(rows) : [];
  const [write, remove, rewrite] = await Promise.all([
    written.length ? run.production.keyFilter(table.table, keyColumns, written) : null,
    removed.length ? run.staging.keyFilter(table.table, keyColumns, removed) : null,
    clears && rows.every ? EVERY_ROW_FILTER : rewritten.length ? run.staging.keyFilter(table.table, keyColumns, rewritten) : null,
  ]);
  return { ...comparison, filters: { write, remove, rewrite } };
}

/** The filter that clears a table read whole: every staging row. */
const EVERY_ROW_FILTER = 'true';

/** The keys of the rows staging holds otherwise than production: written, not missing. */
function keysRewritten(rows: ChangedRows): KeyValues[] {
  const missing = new Set(rows.missing.map((key) => JSON.stringify(key)));
  return rows.write.filter((key) => !missing.has(JSON.stringify(key)));
}

/**
 * The version of supasync's functions whose comparison flags the rows past a watermark (flag_expression), and hashes
 * the others by their key: version 5 hashed those as 0, blind to a row inserted with an old stamp where another was
 * deleted in the same range.
 */
const FLAGS_SINCE_VERSION = 6;

/**
 * The version whose key filters pick a key holding a NULL (a unique key NULLS NOT DISTINCT), which = never matches:
 * before it, such a row was never read from production nor deleted from staging. Its upserts also set the key's
 * columns, for a key production changed only as its type holds equal (citext 'A' to 'a').
 */
const NULL_KEYS_SINCE_VERSION = 7;

/**
 * Over REST, an older project's functions would not flag the rows past a
 * watermark, and an incremental run would miss them; older ones would miss
 * the row whose key is NULL: refused, with the way to update them. The
 * direct path runs this checkout's own SQL.
 */
async function functionsKnown(run: PreparedRun, compared: TablePlan[], followed: boolean): Promise<void> {
  const nullKeys = compared.filter((table) => table.key?.holdsNull).map((table) => qualifiedName(table.table));
  const needs = [
    ...(followed ? [{ version: FLAGS_SINCE_VERSION, why: 'whose comparison finds the rows changed since the last run and every key added or deleted' }] : []),
    ...(nullKeys.length ? [{ version: NULL_KEYS_SINCE_VERSION, why: `whose key filters pick a key holding a NULL (${nullKeys.join(', ')})` }] : []),
  ];
  const sides = needs.length ? [run.production, run.staging].filter((side) => side.functionsVersion) : [];
  const versions = await Promise.all(sides.map((side) => side.functionsVersion?.()));
  sides.forEach((side, i) => {
    const version = versions[i] ?? 0;
    const unmet = needs.filter((need) => version < need.version);
    if (!unmet.length) return;
    const needed = Math.max(...unmet.map((need) => need.version));
    throw new UsageError(
      `${side.side}'s supasync functions are version ${version}; ${followed ? 'an incremental sync' : 're-syncing by key ranges'} over REST needs ` +
        `version ${needed} or later there, ${unmet.map((need) => need.why).join(', and ')}. Update them: ${commandLine('install-rpcs')} --${side.side}. Nothing was changed.`,
    );
  });
}

/** Staging keeps what each run copies with its watermarks: directly always, over REST from functions version 29. */
async function keepsCopiedColumns(run: PreparedRun): Promise<boolean> {
  return !run.staging.functionsVersion || (await run.staging.functionsVersion()) >= COPIED_COLUMNS_SINCE;
}

/**
 * A watermark read from another production (another cluster: not its
 * replica nor a point-in-time restore of it) bounds nothing here. One kept
 * without the production's identity, or read where it cannot be seen, is
 * taken as before.
 */
function sameProduction(mark: Watermark, clock: DatabaseClock): boolean {
  return !mark.system || !clock.system || mark.system === clock.system;
}

/** The rows changed since a watermark: by the column the app moves, or by the transaction ids (xmin). */
function changedSince(column: string, type: string | null, since: string): string {
  return followsTransactions(column) ? writtenSince(since) : changedSinceCondition(column, type, since);
}

/**
 * The deletes of a mirror or an incremental sync: the staging rows whose key
 * production lacks, children's rows before their parents' where foreign keys
 * are checked (with checks off, every table at once), as many tables at a
 * time as the session writes. Per table, how many.
 *
 * With checks off they go before any row is written (`rowsWritten` null),
 * with the rows the run writes again (filters.rewrite): a unique value
 * production moved to a new row (an email signed up again after its account
 * was deleted) or between two rows finds its old row gone, not in the way. With
 * checks on they go after, once children point elsewhere, and spare the rows
 * the run wrote (`rowsWritten`: by xmin, past staging's transactions as it
 * began): keys are compared by their bytes but matched by their type's
 * equality, so a key production changed only as its type holds equal (citext
 * 'Dark-Mode' to 'dark-mode', numeric 1.0 to 1.00) is one staging alone has
 * and the row the upsert of production's just wrote.
 */
export async function deleteMissingRows(
  session: SyncSession,
  tables: TablePlan[],
  comparisons: ReadonlyMap<string, Comparison>,
  rowsWritten: string | null,
): Promise<Map<string, number>> {
  const deleted = new Map<string, number>();
  const removing = tables.filter((table) => {
    const filters = comparisons.get(qualifiedName(table.table))?.filters;
    return filters?.remove || filters?.rewrite;
  });
  for (const group of tableGroups(removing, session, 'children first')) {
    await inParallel(group, session.parallelTables, async (table) => {
      const { remove, rewrite } = comparisons.get(qualifiedName(table.table))?.filters ?? {};
      const deleteMissing = async () => {
        if (remove) deleted.set(qualifiedName(table.table), await session.deleteWhere(table, rowsWritten ? `(${remove}) AND NOT (${rowsWritten})` : remove));
      };
      // Rows about to be written again: not counted as deleted (Comparison.filters.rewrite, set only where checks are off).
      // Staging keeps them to put back where it refuses production's version (not a table cleared whole: its every row).
      const clearRewritten = async () => {
        if (rewrite) await session.clearForRewrite(table, rewrite, rewrite !== EVERY_ROW_FILTER);
      };
      // Over REST two requests at once where they name keys no row shares (not a table cleared whole, whose
      // rows the first delete must count); directly one after the other, on the one connection.
      if (session.parallelTables > 1 && rewrite !== EVERY_ROW_FILTER) await Promise.all([deleteMissing(), clearRewritten()]);
      else for (const step of [deleteMissing, clearRewritten]) await step();
    });
  }
  return deleted;
}
