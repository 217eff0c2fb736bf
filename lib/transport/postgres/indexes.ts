// A replace load into emptied tables builds secondary indexes faster from
// scratch (one sort) than by maintaining them row by row. Indexes that back a
// constraint (primary keys, unique constraints, those a foreign key relies
// on) stay: dropping them would mean dropping the constraints too.
import type pg from 'pg';
import type { TableRef } from '../../catalog/types.ts';
import { quoteTable } from '../../sql/ident.ts';

export interface SecondaryIndex {
  name: string;
  definition: string;
}

export async function secondaryIndexes(staging: pg.ClientBase, table: TableRef): Promise<SecondaryIndex[]> {
  const { rows } = await staging.query<SecondaryIndex & { partitioned: boolean }>(
    `SELECT format('%I.%I', n.nspname, ic.relname) AS name,
            pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
            ic.relkind = 'I' AS partitioned
     FROM pg_catalog.pg_index i
     JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
     JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
     WHERE i.indrelid = $1::regclass
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid)
     ORDER BY ic.relname`,
    [quoteTable(table)],
  );
  // A partitioned table's index prints as `ON ONLY parent`, which would
  // build nothing on the partitions; plain `ON parent` builds it on all.
  return rows.map(({ name, definition, partitioned }) => ({
    name,
    definition: partitioned ? definition.replace(/ ON ONLY /, ' ON ') : definition,
  }));
}

/** Drops the indexes, or returns [] when this role may not (then they stay live). */
export async function dropIndexes(staging: pg.ClientBase, indexes: SecondaryIndex[]): Promise<SecondaryIndex[]> {
  if (!indexes.length) return [];
  await staging.query('SAVEPOINT supasync_indexes');
  try {
    for (const index of indexes) await staging.query(`DROP INDEX ${index.name}`);
    await staging.query('RELEASE SAVEPOINT supasync_indexes');
    return indexes;
  } catch (error) {
    await staging.query('ROLLBACK TO SAVEPOINT supasync_indexes');
    if ((error as { code?: string }).code === '42501') return [];
    throw error;
  }
}

export async function createIndexes(staging: pg.ClientBase, indexes: SecondaryIndex[]): Promise<void> {
  for (const index of indexes) await staging.query(index.definition);
}
