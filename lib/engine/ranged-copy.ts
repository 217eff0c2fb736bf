// A table whose mode compares key ranges (mirror, insert-missing,
// incremental): only the rows that differ are read and written, found range
// by range and then row by row (changed-ranges.ts), and for a mirror or an
// incremental sync the staging rows production lacks are deleted once every
// table is written.
import { qualifiedName } from '../catalog/types.ts';
import { deletesMissing } from '../plan/mode.ts';
import type { TablePlan } from '../plan/types.ts';
import { quoteIdent } from '../sql/ident.ts';
import type { SyncSession, TableCopy } from '../transport/session.ts';
import type { Watermark } from '../transport/watermarks.ts';
import { bothFilters, findChangedRanges, type ChangedRanges } from './changed-ranges.ts';
import type { PreparedRun } from './prepare.ts';

export interface RangedCopy {
  copy: TableCopy;
  ranges: ChangedRanges;
  /** Incremental: where the table's run read changed rows from (null: whole rows compared, none kept yet), and where the next will. */
  watermark?: { from: string | null; next: Watermark };
}

/** What an incremental sync knows before it writes: staging's watermarks, and how far back the next ones are taken. */
export interface IncrementalState {
  watermarks: Watermark[];
  overlapSeconds: number;
}

const NOTHING: TableCopy = { rows: 0, changed: 0, rejected: [] };

export async function copyChangedRanges(
  run: PreparedRun,
  session: SyncSession,
  table: TablePlan,
  incremental: IncrementalState,
  onRows: (rows: number) => void,
): Promise<RangedCopy> {
  if (table.mode === 'incremental' && table.changedColumn) return copyChangedSince(run, session, table, table.changedColumn, incremental, onRows);
  const ranges = await findChangedRanges(run.production, run.staging, table);
  const keys = table.mode === 'insert-missing' ? ranges.rows.missing : ranges.rows.write;
  return { copy: await copyRowsWithKeys(run, session, table, keys, null, onRows), ranges };
}

/**
 * Incremental, by a column the app moves on every change: the rows whose
 * column is at or after the table's watermark, and the rows whose key only
 * production has (added with an old stamp), found by checksums of the keys
 * alone; deletes likewise. The next watermark is read from production's
 * clock before any row is, so nothing committed from then on is behind it.
 * The first run of a table, or one whose column changed, compares whole rows
 * instead, as a mirror does.
 */
async function copyChangedSince(
  run: PreparedRun,
  session: SyncSession,
  table: TablePlan,
  column: string,
  incremental: IncrementalState,
  onRows: (rows: number) => void,
): Promise<RangedCopy> {
  const key = table.key;
  if (!key) throw new Error(`${qualifiedName(table.table)}: an incremental sync needs a key`);
  const clock = await run.production.clock(incremental.overlapSeconds);
  const next = { schema: table.table.schema, name: table.table.name, column, since: clock.since };
  const kept = incremental.watermarks.find((mark) => mark.schema === table.table.schema && mark.name === table.table.name && mark.column === column);
  const ranges = await findChangedRanges(run.production, run.staging, table, kept ? key.columns : table.columns);
  const changed = kept ? `${quoteIdent(column)} >= '${kept.since}'::timestamptz` : null;
  const copy = await copyRowsWithKeys(run, session, table, kept ? ranges.rows.missing : ranges.rows.write, changed, onRows);
  return { copy, ranges, watermark: { from: kept?.since ?? null, next } };
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
