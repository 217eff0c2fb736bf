// A `where` on a parent carries down to the copied tables that reference
// it: a child row is copied only when the parent row it names is copied too
// (or it names none), so a filtered copy is a consistent subset instead of
// rows pointing nowhere. In load order, so a filter carried into a table
// carries on to its own children. Tables of one cycle share a level: each
// first takes the filters of parents outside the cycle, then, in name order,
// those of its peers whose filter does not name it yet (a peer that took
// this table's filter names it: carried back, each would filter the other
// without end, and the one carried first would no longer hold). What this cannot make whole, the check
// before COMMIT names (engine/orphans.ts).
import { qualifiedName, type ForeignKey, type Table } from '../catalog/types.ts';
import { columnList, quoteIdent, quoteOwnRows, quoteTable } from '../sql/ident.ts';
import { bothFilters, rowsUnderKey } from '../catalog/partition-keys.ts';
import type { TablePlan } from './types.ts';

export function carryFiltersDown(tables: TablePlan[], production: Table[], cycleOf: (name: string) => number): TablePlan[] {
  const catalog = new Map(production.map((table) => [qualifiedName(table), table]));
  const sameCycle = (a: string, b: string) => cycleOf(a) >= 0 && cycleOf(a) === cycleOf(b);
  const byName = new Map<string, TablePlan>();
  for (const plan of tables) {
    const name = qualifiedName(plan.table);
    byName.set(
      name,
      carry(plan, catalog.get(name)?.foreignKeys ?? [], (parent) => (parent !== name && !sameCycle(name, parent) ? byName.get(parent) : undefined)),
    );
  }
  for (const plan of tables) {
    const name = qualifiedName(plan.table);
    if (cycleOf(name) < 0) continue;
    const peerFilter = (parent: string) => {
      // The peer as carried so far: one that took this table's filter names it, and gives nothing back.
      const peer = byName.get(parent);
      return parent !== name && sameCycle(name, parent) && peer && !peer.rowFilter?.includes(quoteTable(plan.table)) ? peer : undefined;
    };
    byName.set(name, carry(byName.get(name) ?? plan, catalog.get(name)?.foreignKeys ?? [], peerFilter));
  }
  return tables.map((plan) => byName.get(qualifiedName(plan.table)) ?? plan);
}

/** `plan` with the filter of every parent `parentOf` gives (a copied table whose rows are filtered) carried into it. */
function carry(plan: TablePlan, foreignKeys: ForeignKey[], parentOf: (name: string) => TablePlan | undefined): TablePlan {
  let carried = plan;
  for (const fk of foreignKeys) {
    const parentName = qualifiedName({ schema: fk.referencedSchema, name: fk.referencedTable });
    const parent = parentOf(parentName);
    // --with-parents' filters follow the children: carried back down they would say nothing.
    if (!parent?.rowFilter || parent.options.referencedRows) continue;
    // MATCH SIMPLE: a key with a NULL in it names no parent and is kept.
    const names = [
      ...fk.columns.map((column) => `${quoteIdent(column)} IS NULL`),
      `ROW(${columnList(fk.columns)}) IN (SELECT ${columnList(fk.referencedColumns)} FROM ${quoteOwnRows(parent.table, parent.inherited)} WHERE (${parent.rowFilter}))`,
    ].join(' OR ');
    const underKey = rowsUnderKey(fk);
    carried = {
      ...carried,
      rowFilter: bothFilters(carried.rowFilter, underKey ? `NOT (${underKey}) OR ${names}` : names),
      filteredBy: [...new Set([...carried.filteredBy, parentName])],
    };
  }
  return carried;
}
