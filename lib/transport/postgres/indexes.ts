// A replace load into emptied tables builds secondary indexes faster from
// scratch (one sort) than by maintaining them row by row. Indexes that back a
// constraint (primary keys, unique constraints, those a foreign key relies
// on) stay: dropping them would mean dropping the constraints too.
//
// Every statement here covers all tables at once: to a remote project each
// statement is a round trip, and a few per table add up to seconds.
import type pg from 'pg';
import { qualifiedName, type TableRef } from '../../catalog/types.ts';
import { quoteTable } from '../../sql/ident.ts';

export interface SecondaryIndex {
  name: string;
  definition: string;
}

/**
 * Drops the secondary indexes of these tables that staging's role may drop
 * (an index belongs to its table's owner: on Supabase not auth's or
 * storage's), and returns them by table (qualifiedName), to be built again after the load.
 */
export async function dropSecondaryIndexes(staging: pg.ClientBase, tables: TableRef[]): Promise<Map<string, SecondaryIndex[]>> {
  const { rows } = await staging.query<SecondaryIndex & { schema: string; table: string; partitioned: boolean }>(
    `SELECT tn.nspname AS schema, t.relname AS table,
            format('%I.%I', n.nspname, ic.relname) AS name,
            pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
            ic.relkind = 'I' AS partitioned
     FROM pg_catalog.pg_index i
     JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
     JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
     JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
     JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
     WHERE i.indrelid = ANY ($1::regclass[])
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid)
       AND pg_catalog.pg_has_role(t.relowner, 'USAGE')
     ORDER BY 1, ic.relname`,
    [tables.map((table) => quoteTable(table))],
  );
  const byTable = new Map<string, SecondaryIndex[]>();
  for (const { schema, table, name, definition, partitioned } of rows) {
    // A partitioned table's index prints as `ON ONLY parent`, which would
    // build nothing on the partitions; plain `ON parent` builds it on all.
    const index = { name, definition: partitioned ? definition.replace(/ ON ONLY /, ' ON ') : definition };
    const key = qualifiedName({ schema, name: table });
    byTable.set(key, [...(byTable.get(key) ?? []), index]);
  }
  if (rows.length) await staging.query(`DROP INDEX ${rows.map((row) => row.name).join(', ')}`);
  return byTable;
}

/** One round trip for all of a table's indexes. */
export async function createIndexes(staging: pg.ClientBase, indexes: SecondaryIndex[]): Promise<void> {
  if (indexes.length) await staging.query(indexes.map((index) => `${index.definition};`).join('\n'));
}
