// A table other tables INHERIT from (the inheritance of old, not declarative
// partitions) shows their rows in every query of it, and a DELETE or
// TRUNCATE of it empties them. supasync reads, compares, deletes and empties
// its own rows alone, `ONLY` it: each side's SQL asks that side's catalog
// (supasync_private.own_rows and the builders' `own`), and the plan's row
// filters follow the catalogs (TablePlan.inherited). The tables that inherit
// are copied as any other. Two cases remain refused by name, before anything
// is read or written: functions installed over REST before version 17,
// which would read the other tables' rows into it and empty them with it,
// and a table partitioned on one side and inherited from on the other.
import { findTable, qualifiedName, type Catalog } from '../catalog/types.ts';
import { DatabaseError, UsageError } from '../errors.ts';
import { commandLine } from '../invocation.ts';
import { tablesArgument } from '../sql/ident.ts';
import type { SyncPlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';

/** The functions' version that reads and writes such a table's own rows. */
export const OWN_ROWS_SINCE = 17;

export async function refuseInheritedTables(
  sides: { production: Database; staging: Database },
  catalogs: { production: Catalog; staging: Catalog },
  plan: SyncPlan,
): Promise<void> {
  const inherited = plan.tables.filter((table) => table.inherited);
  if (!inherited.length) return;
  const names = inherited.map((table) => qualifiedName(table.table));
  const partitioned = inherited.filter((table) =>
    [catalogs.production, catalogs.staging].some((catalog) => findTable(catalog, table.table)?.kind === 'partitioned'),
  );
  if (partitioned.length) {
    throw new DatabaseError(
      `${partitioned.map((table) => qualifiedName(table.table)).join(', ')}: partitioned on one side, and other tables INHERIT from it on the other. ` +
        "Its rows are not the same thing on both sides. Make staging's table like production's (or leave it out with --exclude). Nothing was changed.",
    );
  }
  for (const side of [sides.production, sides.staging]) {
    if (!side.functionsVersion) continue;
    const version = await side.functionsVersion();
    if (version >= OWN_ROWS_SINCE) continue;
    throw new UsageError(
      `${names.join(', ')}: other tables INHERIT from ${names.length === 1 ? 'it' : 'them'}, and ${side.side}'s supasync functions are version ${version}, ` +
        `which would read those tables' rows as its own and empty them with it. Version ${OWN_ROWS_SINCE} reads and writes its own rows alone. ` +
        `Update them: ${commandLine('install-rpcs')} --${side.side}, or leave ${names.length === 1 ? 'it' : 'them'} out with --exclude ${tablesArgument(inherited.map((table) => table.table))}. Nothing was changed.`,
    );
  }
}
