// A replace load into emptied tables builds secondary indexes faster from
// scratch (one sort) than by maintaining them row by row. Indexes that back a
// constraint (primary keys, unique constraints, those a foreign key relies
// on) stay: dropping them would mean dropping the constraints too. So do
// those carrying something a CREATE INDEX does not say: the replica
// identity (built again, a table publishing its updates would refuse
// them), the CLUSTER mark, a comment, a column's statistics target.
//
// A partitioned table's index is built again as it was, partition by
// partition: each partition's index under its own name (pg_dump's way, ON
// ONLY the parent, then ATTACH), where a plain CREATE INDEX on the parent
// would name them anew.
//
// Every statement here covers all tables at once: to a remote project each
// statement is a round trip, and a few per table add up to seconds.
import type pg from 'pg';
import { qualifiedName, type TableRef } from '../../catalog/types.ts';
import { quoteTable } from '../../sql/ident.ts';

export interface SecondaryIndex {
  name: string;
  definition: string;
  /** A partition's index: the partitioned index it is attached to. */
  attachedTo: string | null;
}

/**
 * Drops the secondary indexes of these tables that staging's role may drop
 * (an index belongs to its table's owner: on Supabase not auth's or
 * storage's), and returns them by table (qualifiedName), to be built again after the load.
 */
export async function dropSecondaryIndexes(staging: pg.ClientBase, tables: TableRef[]): Promise<Map<string, SecondaryIndex[]>> {
  const { rows } = await staging.query<SecondaryIndex & { schema: string; table: string; root: boolean }>(
    `WITH RECURSIVE tree AS (
       SELECT i.indexrelid AS oid, i.indexrelid AS root, NULL::oid AS parent, i.indrelid AS table_oid
       FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
       WHERE i.indrelid = ANY ($1::regclass[]) AND pg_catalog.pg_has_role(t.relowner, 'USAGE')
       UNION ALL
       SELECT inh.inhrelid, tree.root, inh.inhparent, tree.table_oid
       FROM pg_catalog.pg_inherits inh JOIN tree ON inh.inhparent = tree.oid
     ), kept AS (
       -- A root stays whole where any index of its tree carries what CREATE INDEX would not give back.
       SELECT DISTINCT tree.root FROM tree
       JOIN pg_catalog.pg_index i ON i.indexrelid = tree.oid
       JOIN pg_catalog.pg_class ic ON ic.oid = tree.oid
       WHERE EXISTS (SELECT FROM pg_catalog.pg_constraint c WHERE c.conindid = tree.oid)
          OR i.indisreplident OR i.indisclustered OR ic.reltablespace <> 0
          OR pg_catalog.obj_description(tree.oid, 'pg_class') IS NOT NULL
          OR EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = tree.oid AND a.attstattarget >= 0)
     )
     SELECT tn.nspname AS schema, t.relname AS table, tree.parent IS NULL AS root,
            format('%I.%I', n.nspname, ic.relname) AS name,
            pg_catalog.pg_get_indexdef(tree.oid) AS definition,
            (SELECT format('%I.%I', pn.nspname, pc.relname) FROM pg_catalog.pg_class pc JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
             WHERE pc.oid = tree.parent) AS "attachedTo"
     FROM tree
     JOIN pg_catalog.pg_class ic ON ic.oid = tree.oid
     JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
     JOIN pg_catalog.pg_class t ON t.oid = tree.table_oid
     JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
     WHERE tree.root NOT IN (SELECT root FROM kept)
     ORDER BY 1, 2, tree.root, tree.parent NULLS FIRST, ic.relname`,
    [tables.map((table) => quoteTable(table))],
  );
  const byTable = new Map<string, SecondaryIndex[]>();
  for (const { schema, table, name, definition, attachedTo } of rows) {
    const key = qualifiedName({ schema, name: table });
    byTable.set(key, [...(byTable.get(key) ?? []), { name, definition, attachedTo }]);
  }
  // Dropping a partitioned index drops the partitions' indexes attached to it.
  const roots = rows.filter((row) => row.root).map((row) => row.name);
  if (roots.length) await staging.query(`DROP INDEX ${roots.join(', ')}`);
  return byTable;
}

/** One round trip for all of a table's indexes: each built, then each partition's attached to its parent's. */
export async function createIndexes(staging: pg.ClientBase, indexes: SecondaryIndex[]): Promise<void> {
  if (!indexes.length) return;
  const attached = indexes.filter((index) => index.attachedTo).map((index) => `ALTER INDEX ${index.attachedTo} ATTACH PARTITION ${index.name};`);
  await staging.query([...indexes.map((index) => `${index.definition};`), ...attached].join('\n'));
}
