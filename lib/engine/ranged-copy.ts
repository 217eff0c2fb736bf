// A table whose mode compares key ranges (mirror, insert-missing): only the
// ranges that differ are read and written, and for a mirror the staging rows
// production lacks in those ranges are deleted once every table is written.
import { qualifiedName } from '../catalog/types.ts';
import type { TablePlan } from '../plan/types.ts';
import type { SyncSession, TableCopy } from '../transport/session.ts';
import { bothFilters, findChangedRanges, type ChangedRanges } from './changed-ranges.ts';
import type { PreparedRun } from './prepare.ts';

export interface RangedCopy {
  copy: TableCopy;
  ranges: ChangedRanges;
  /** The condition picking the rows of the ranges that differ; null: none differs. */
  filter: string | null;
}

export async function copyChangedRanges(run: PreparedRun, session: SyncSession, table: TablePlan, onRows: (rows: number) => void): Promise<RangedCopy> {
  const ranges = await findChangedRanges(run.production, run.staging, table, run.via);
  if (!ranges.ranges.length || !table.key) return { copy: { rows: 0, changed: 0, rejected: [] }, ranges, filter: null };
  const filter = await run.production.keyRangeFilter(table.key.columns, ranges.bits, ranges.ranges);
  const copy = await session.copyTable({ ...table, rowFilter: bothFilters(table.rowFilter, filter) }, onRows);
  return { copy, ranges, filter };
}

/**
 * The mirror's deletes, table by table in reverse load order (children's
 * rows before their parents'): in each range that differs, the staging rows
 * whose key production does not have there. Per table, how many.
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
    if (table.mode !== 'mirror' || !filter || !table.key) continue;
    const kept = Object.keys(await run.production.references(table.table, table.key.columns, bothFilters(table.rowFilter, filter)));
    deleted.set(name, await session.deleteMissing(table, filter, kept));
  }
  return deleted;
}
