// A table whose mode compares key ranges (mirror, insert-missing,
// incremental): only the ranges that differ are read and written, and for a
// mirror or an incremental sync the staging rows production lacks in those
// ranges are deleted once every table is written.
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
  /** The condition picking the rows of the ranges that differ, where deletes are looked for; null: none differs. */
  filter: string | null;
  /** Incremental: where the table's run read changed rows from (null: all compared, none kept yet), and where the next will. */
  watermark?: { from: string | null; next: Watermark };
}

/** What an incremental sync knows before it writes: staging's watermarks, and how far back the next ones are taken. */
export interface IncrementalState {
  watermarks: Watermark[];
  overlapSeconds: number;
}

export async function copyChangedRanges(
  run: PreparedRun,
  session: SyncSession,
  table: TablePlan,
  incremental: IncrementalState,
  onRows: (rows: number) => void,
): Promise<RangedCopy> {
  if (table.mode === 'incremental' && table.changedColumn) return copyChangedSince(run, session, table, table.changedColumn, incremental, onRows);
  const ranges = await findChangedRanges(run.production, run.staging, table, run.via);
  if (!ranges.ranges.length || !table.key) return { copy: { rows: 0, changed: 0, rejected: [] }, ranges, filter: null };
  const filter = await run.production.keyRangeFilter(table.key.columns, ranges.bits, ranges.ranges);
  const copy = await session.copyTable({ ...table, rowFilter: bothFilters(table.rowFilter, filter) }, onRows);
  return { copy, ranges, filter };
}

/**
 * Incremental, by a column the app moves on every change: the rows whose
 * column is at or after the table's watermark, and the rows of the key ranges
 * whose keys differ (rows added with an old timestamp, rows deleted), found
 * by checksums of the keys alone. The next watermark is read from
 * production's clock before any row is, so nothing committed from then on
 * is behind it. The first run of a table, or one whose column changed,
 * compares whole rows instead, as a mirror does.
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
  const ranges = await findChangedRanges(run.production, run.staging, table, run.via, kept ? key.columns : table.columns);
  const filter = ranges.ranges.length ? await run.production.keyRangeFilter(key.columns, ranges.bits, ranges.ranges) : null;
  const changed = kept ? `${quoteIdent(column)} >= '${kept.since}'::timestamptz` : null;
  const rows = [changed, filter].filter((part): part is string => part !== null);
  const copy = rows.length
    ? await session.copyTable({ ...table, rowFilter: bothFilters(table.rowFilter, rows.map((part) => `(${part})`).join(' OR ')) }, onRows)
    : { rows: 0, changed: 0, rejected: [] };
  return { copy, ranges, filter, watermark: { from: kept?.since ?? null, next } };
}

/**
 * The deletes of a mirror or an incremental sync, table by table in reverse
 * load order (children's rows before their parents'): in each range that
 * differs, the staging rows whose key production does not have there. Per
 * table, how many.
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
    const filter = copies.get(name)?.filter;
    if (!deletesMissing(table.mode) || !filter || !table.key) continue;
    const kept = Object.keys(await run.production.references(table.table, table.key.columns, bothFilters(table.rowFilter, filter)));
    deleted.set(name, await session.deleteMissing(table, filter, kept));
  }
  return deleted;
}
