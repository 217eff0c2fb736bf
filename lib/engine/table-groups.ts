// Which tables a session may write at once, and running them so: with
// foreign-key checks off (the replica role) every table together; with them
// on, one foreign-key level after another (loads parents first, deletes
// children first).
import type { TablePlan } from '../plan/types.ts';
import type { SyncSession } from '../transport/session.ts';

/** The tables in groups to write one after another; `order`: parents' level first (a load) or children's (deletes). */
export function tableGroups(tables: TablePlan[], session: SyncSession, order: 'parents first' | 'children first'): TablePlan[][] {
  if (session.method.kind === 'replica' || session.parallelTables === 1) return [order === 'parents first' ? tables : [...tables].reverse()];
  const levels = [...new Set(tables.map((table) => table.level))].sort((a, b) => (order === 'parents first' ? a - b : b - a));
  return levels.map((level) => tables.filter((table) => table.level === level));
}

/** Runs `work` on the items, `limit` at a time; after a failure no new item starts, and the first error is thrown once all have settled. */
export async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined && !failure; item = queue.shift()) {
      await work(item).catch((error: unknown) => {
        failure ??= { error };
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker));
  if (failure) throw failure.error;
}
