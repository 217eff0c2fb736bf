// Staging's ON UPDATE CASCADE (SET NULL, SET DEFAULT) where foreign-key
// checks are on: a mirror or incremental run compares every table before it
// writes any, then an upsert rewrites a parent's key that production changed
// only in spelling (citext 'ABC' to 'abc', numeric 1 to 1.0: equal, so the
// same row) and staging's cascade rewrites the children's copies, which were
// compared before and are not written again. Those children are compared
// again once their parents are in, and what differs is copied: round after
// round, as a child rewritten may be a parent (of itself, too).
import { qualifiedName } from '../catalog/types.ts';
import { deletesMissing } from '../plan/mode.ts';
import type { TablePlan } from '../plan/types.ts';
import type { SyncSession, TableCopy } from '../transport/session.ts';
import { compareTables, copyChangedRanges, type Comparison, type RangedCopy } from './ranged-copy.ts';
import type { PreparedRun } from './prepare.ts';

/**
 * After the load, where staging's foreign-key checks are on: the children
 * that a link rewriting its child on update points from, to a parent whose
 * rows the run wrote (`written`), compared again and copied, until a round
 * writes nothing such a link follows. Per table, what the rounds copied.
 * Only mirror and incremental tables: insert-missing touches no existing row.
 */
export async function copyCascadedChildren(
  run: PreparedRun,
  session: SyncSession,
  tables: TablePlan[],
  comparisons: Map<string, Comparison>,
  written: Iterable<string>,
  overlapSeconds: number,
  onRows: (table: TablePlan, rows: number) => void,
): Promise<Map<string, RangedCopy>> {
  const copied = new Map<string, RangedCopy>();
  let parents = new Set(written);
  // Each round writes only what still differs: a cascade's rewrites settle within as many rounds as there are tables.
  for (let round = 0; round <= tables.length && parents.size; round++) {
    const rewritten = new Set(
      run.plan.stagingLinks.filter((link) => link.rewritesChildOnUpdate && parents.has(qualifiedName(link.parent))).map((link) => qualifiedName(link.child)),
    );
    const children = tables.filter((table) => deletesMissing(table.mode) && rewritten.has(qualifiedName(table.table)));
    const copies = await recompareAndCopy(run, session, children, comparisons, overlapSeconds, onRows);
    parents = new Set();
    for (const [name, copy] of copies) {
      comparisons.set(name, copy);
      const before = copied.get(name);
      copied.set(name, before ? { ...copy, copy: addCopies(before.copy, copy.copy) } : copy);
      if (copy.copy.changed) parents.add(name);
    }
  }
  return copied;
}

/**
 * Compares `tables` again whole (an incremental table as a mirror: the rows
 * a cascade changed are staging's, past no watermark of production's) and
 * copies what differs. The first comparison's watermark stays: the next run
 * reads from where this one began.
 */
async function recompareAndCopy(
  run: PreparedRun,
  session: SyncSession,
  tables: TablePlan[],
  first: ReadonlyMap<string, Comparison>,
  overlapSeconds: number,
  onRows: (table: TablePlan, rows: number) => void,
): Promise<Map<string, RangedCopy>> {
  const mirrored = tables.map((table) => ({ ...table, mode: 'mirror' as const }));
  const again = await compareTables(run, mirrored, overlapSeconds, false);
  const copies = new Map<string, RangedCopy>();
  for (const [i, table] of mirrored.entries()) {
    const name = qualifiedName(table.table);
    const comparison = again.get(name);
    if (!comparison) continue;
    const watermark = first.get(name)?.watermark;
    const copy = await copyChangedRanges(run, session, table, comparison, (rows) => onRows(tables[i] as TablePlan, rows));
    copies.set(name, { ...copy, ...(watermark ? { watermark } : {}) });
  }
  return copies;
}

/** Two copies of one table, counted as one. */
export function addCopies(a: TableCopy, b: TableCopy): TableCopy {
  return { rows: a.rows + b.rows, changed: a.changed + b.changed, rejected: [...a.rejected, ...b.rejected] };
}
