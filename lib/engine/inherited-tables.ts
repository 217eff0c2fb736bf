// A table other tables INHERIT from (the inheritance of old, not declarative
// partitions) shows their rows in every query of it, and TRUNCATE empties
// them with it. Copied as it is, its rows would be read with theirs and
// written into it (their rows twice in staging, over REST), a replace of it
// would empty them unsaved, and a re-sync would compare and delete rows
// that are theirs. So such a table is refused by name before anything is
// read or written, on either side; the tables that inherit from it are
// copied as any other.
import { findTable, qualifiedName, type Catalog } from '../catalog/types.ts';
import { DatabaseError } from '../errors.ts';
import type { SyncPlan } from '../plan/types.ts';

export function refuseInheritedTables(production: Catalog, staging: Catalog, plan: SyncPlan): void {
  const inherited = plan.tables.flatMap(({ table }) => {
    const children = [...new Set([production, staging].flatMap((catalog) => findTable(catalog, table)?.inheritedBy ?? []))].sort();
    return children.length ? [{ table: qualifiedName(table), children }] : [];
  });
  if (!inherited.length) return;
  throw new DatabaseError(
    `${inherited.map(({ table, children }) => `${table} (inherited by ${children.join(', ')})`).join(', ')}: ` +
      "other tables INHERIT from these, so every query of them reads those tables' rows too and emptying them empties those: " +
      'a copy would write their rows in twice or lose them. supasync does not copy a table others inherit from (partitioned tables it does). ' +
      `Leave ${inherited.length === 1 ? 'it' : 'them'} out with --exclude ${inherited.map(({ table }) => table).join(',')}; ` +
      'the tables that inherit are copied on their own. Nothing was changed.',
  );
}
