// Which tables a session may write at once, and running them so: with
// foreign-key checks off (the replica role) every table together; with them
// on, one foreign-key level after another (loads parents first, deletes
// children first). inParallel (lib/in-parallel.ts) runs a group.
import type { TablePlan } from '../plan/types.ts';
import type { SyncSession } from '../transport/session.ts';

/** The tables in groups to write one after another; `order`: parents' level first (a load) or children's (deletes). */
export function tableGroups(tables: TablePlan[], session: SyncSession, order: 'parents first' | 'children first'): TablePlan[][] {
  if (session.method.kind === 'replica' || session.parallelTables === 1) return [order === 'parents first' ? tables : [...tables].reverse()];
  const levels = [...new Set(tables.map((table) => table.level))].sort((a, b) => (order === 'parents first' ? a - b : b - a));
  return levels.map((level) => tables.filter((table) => table.level === level));
}
