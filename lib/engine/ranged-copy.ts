// The tables whose mode compares key ranges (mirror, insert-missing,
// incremental): each compared before any table is written (compareTables,
// with changed-ranges.ts), then only the rows that differ read and written
// (copyChangedRanges), and for a mirror or an incremental sync the staging
// rows production lacks deleted once every table is written.
import { bothFilters } from '../catalog/partition-keys.ts';
import { qualifiedName } from '../catalog/types.ts';
import { comparesRanges, deletesMissing } from '../plan/mode.ts';
import type { TablePlan } from '../plan/types.ts';
import { quoteIdent } from '../sql/ident.ts';
import type { SyncSession, TableCopy, TouchedRanges } from '../transport/session.ts';
import type { ProductionClock, Watermark } from '../transport/watermarks.ts';
import { findChangedRanges, rangesWhere, type ChangedRanges } from './changed-ranges.ts';
import { followsTransactions, usableTransactionWatermark, writtenSince } from './transaction-watermark.ts';
import type { PreparedRun } from './prepare.ts';

/** What comparing a table found, before any table is written. */
export interface Comparison {
  ranges: ChangedRanges;
  /**
   * Incremental: where the table's run reads changed rows from (null: whole rows compared, none kept yet), and where
   * the next will; `flagged`: the rows past it were found while comparing (directly), among the rows to write.
   */
  watermark?: { from: string | null; column: string; next: Watermark; flagged: boolean };
  /** Incremental past a watermark, for a backup: the ranges (at ranges.bits) of the differing keys and of the rows past it. */
  touched?: string[];
  /**
   * Over REST, where production is not read in one snapshot: the ranges the
   * rows past the watermark lay in when the backup's ranges were taken. The
   * copy reads those alone; a row that moved past it since, elsewhere, is
   * the next run's (its watermark is from before this run compared).
   */
  pastRanges?: string[];
}

export interface RangedCopy extends Comparison {
  copy: TableCopy;
}

/** What an incremental sync knows before it writes: staging's watermarks, and how far back the next ones are taken. */
export interface IncrementalState {
  watermarks: Watermark[];
  overlapSeconds: number;
}

const NOTHING: TableCopy = { rows: 0, changed: 0, rejected: [] };

/**
 * Compares every table whose mode compares key ranges, before any is
 * written. Where questions asked together travel together (REST), all tables
 * at once: each level of the comparison then costs a request or two for
 * every table. An incremental run reads production's clock first, once: the
 * next watermarks come from before any row is read, so nothing committed
 * from then on is behind them.
 *
 * Incremental, by a column the app moves on every change: the rows whose
 * column is at or after the table's watermark are copied, and the rows
 * whose key only one side has (added with an old stamp, or deleted) are
 * found by checksums of the keys alone. The first run of a table, or one
 * whose column changed, compares whole rows instead, as a mirror does. A
 * table without such a column follows production's transaction ids
 * (transaction-watermark.ts) the same way.
 */
export async function compareTables(run: PreparedRun, tables: TablePlan[], incremental: IncrementalState, forBackup = false): Promise<Map<string, Comparison>> {
  const compared = tables.filter((table) => comparesRanges(table.mode));
  const followed = compared.some((table) => table.mode === 'incremental' && table.changedColumn);
  const clock = followed ? await run.production.clock(incremental.overlapSeconds) : null;
  const compare = async (table: TablePlan): Promise<Comparison> => {
    const column = table.mode === 'incremental' ? table.changedColumn : null;
    if (!column || !clock || !table.key) return { ranges: await findChangedRanges(run.production, run.staging, table) };
    const { schema, name } = table.table;
    const found = incremental.watermarks.find((mark) => mark.schema === schema && mark.name === name && mark.column === column && sameProduction(mark, clock));
    const byTransactions = followsTransactions(column);
    const kept = byTransactions ? usableTransactionWatermark(found, clock) : found;
    // Directly, production's stream flags the rows past the watermark: they are found with the keys added and deleted, in one pass.
    const flagged = kept && run.production.rowHashes && run.staging.rowHashes ? changedSince(column, kept.since) : null;
    const ranges = await findChangedRanges(run.production, run.staging, table, kept ? table.key.columns : table.columns, flagged);
    const next = { schema, name, column, since: byTransactions ? clock.xmin : clock.since, system: clock.system };
    const watermark = { from: kept?.since ?? null, column, next, flagged: flagged !== null };
    // A backup of the rows this run will write: those of the differing keys, and those past the watermark, wherever they are.
    const past =
      forBackup && kept && !flagged && !ranges.rows.every ? await rangesWhere(run.production, table, changedSince(column, kept.since), ranges.bits) : null;
    if (!past) return { ranges, watermark };
    return { ranges, watermark, touched: [...new Set([...ranges.ranges, ...past])], ...(run.production.oneSnapshot ? {} : { pastRanges: past }) };
  };
  const comparisons = new Map<string, Comparison>();
  if (run.production.asksTogether && run.staging.asksTogether) {
    const found = await Promise.all(compared.map(compare));
    compared.forEach((table, i) => comparisons.set(qualifiedName(table.table), found[i] as Comparison));
  } else {
    for (const table of compared) comparisons.set(qualifiedName(table.table), await compare(table));
  }
  return comparisons;
}

/**
 * Per table whose re-sync writes and deletes only inside the key ranges
 * comparing found different, those ranges (a backup then saves them alone);
 * for one read past a watermark, with the ranges of those rows too. Not a
 * table read whole.
 */
export function touchedRanges(tables: TablePlan[], comparisons: ReadonlyMap<string, Comparison>): Map<string, TouchedRanges> {
  const touched = new Map<string, TouchedRanges>();
  for (const table of tables) {
    const name = qualifiedName(table.table);
    const comparison = comparisons.get(name);
    if (!comparison || !table.key || comparison.ranges.rows.every) continue;
    const watermark = comparison.watermark;
    const ranges = watermark?.from && !watermark.flagged ? comparison.touched : comparison.ranges.ranges;
    if (ranges) touched.set(name, { keyColumns: table.key.columns, binary: table.binarySafe, bits: comparison.ranges.bits, ranges });
  }
  return touched;
}

/** Copies what comparing the table found: the rows that differ (insert-missing: those staging lacks), or past the watermark. */
export async function copyChangedRanges(
  run: PreparedRun,
  session: SyncSession,
  table: TablePlan,
  comparison: Comparison,
  onRows: (rows: number) => void,
): Promise<RangedCopy> {
  const { rows } = comparison.ranges;
  if (rows.every) return { ...comparison, copy: await session.copyTable(table, onRows) };
  // Past a watermark not flagged while comparing (over REST), the rows whose key staging lacks, and those the watermark reads.
  const readPast = comparison.watermark?.from && !comparison.watermark.flagged ? comparison.watermark : null;
  const keys = table.mode === 'insert-missing' || readPast ? rows.missing : rows.write;
  let changed = readPast?.from ? changedSince(readPast.column, readPast.from) : null;
  if (changed && comparison.pastRanges && table.key) {
    const saved = { bits: comparison.ranges.bits, ranges: comparison.pastRanges };
    changed = `(${changed}) AND (${await run.production.rangeFilter({ table: table.table, keyColumns: table.key.columns }, saved, table.binarySafe)})`;
  }
  return { ...comparison, copy: await copyRowsWithKeys(run, session, table, keys, changed, onRows) };
}

/**
 * A watermark read from another production (another cluster: not its
 * replica nor a point-in-time restore of it) bounds nothing here. One kept
 * without the production's identity, or read where it cannot be seen, is
 * taken as before.
 */
function sameProduction(mark: Watermark, clock: ProductionClock): boolean {
  return !mark.system || !clock.system || mark.system === clock.system;
}

/** The rows changed since a watermark: by the column the app moves, or by the transaction ids (xmin). */
function changedSince(column: string, since: string): string {
  return followsTransactions(column) ? writtenSince(since) : `${quoteIdent(column)} >= '${since}'::timestamptz`;
}

/** Production's rows with these keys, or (`orWhere`) matching that condition, written to staging as the table's mode writes. */
async function copyRowsWithKeys(
  run: PreparedRun,
  session: SyncSession,
  table: TablePlan,
  keys: string[][],
  orWhere: string | null,
  onRows: (rows: number) => void,
): Promise<TableCopy> {
  const byKey = keys.length && table.key ? await run.production.keyFilter(table.table, table.key.columns, keys) : null;
  const rows = [orWhere, byKey].filter((part): part is string => part !== null);
  if (!rows.length) return NOTHING;
  return session.copyTable({ ...table, rowFilter: bothFilters(table.rowFilter, rows.map((part) => `(${part})`).join(' OR ')) }, onRows);
}

/**
 * The deletes of a mirror or an incremental sync, table by table in reverse
 * load order (children's rows before their parents'): the staging rows whose
 * key production lacks. Per table, how many.
 */
export async function deleteMissingRows(
  run: PreparedRun,
  session: SyncSession,
  tables: TablePlan[],
  copies: Map<string, RangedCopy>,
): Promise<Map<string, number>> {
  const deleted = new Map<string, number>();
  for (const table of [...tables].reverse()) {
    const name = qualifiedName(table.table);
    const remove = copies.get(name)?.ranges.rows.remove ?? [];
    if (!deletesMissing(table.mode) || !remove.length || !table.key) continue;
    deleted.set(name, await session.deleteWhere(table, await run.staging.keyFilter(table.table, table.key.columns, remove)));
  }
  return deleted;
}
