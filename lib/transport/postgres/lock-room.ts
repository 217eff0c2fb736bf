// How many of the server's lock slots a run's one transaction would take, and
// how many there are. PostgreSQL keeps every lock a transaction holds in one
// shared table, sized max_locks_per_transaction x (max_connections +
// max_prepared_transactions); a transaction that fills it fails with "out of
// shared memory", and so do the other sessions that then ask for one.
import type pg from 'pg';
import type { TableRef } from '../../catalog/types.ts';
import type { LockRoom } from '../reads.ts';

// Per relation of each table's tree (the table, each partition at every level):
// writing it takes itself, its indexes, its TOAST table and that table's index
// (a TRUNCATE locks each; an upsert fewer); reading it, itself and its indexes
// (the planner's).
const LOCK_ROOM_QUERY = `
WITH RECURSIVE asked AS (
  SELECT u.position, u.schema_name, u.table_name, pg_catalog.to_regclass(pg_catalog.format('%I.%I', u.schema_name, u.table_name))::oid AS root
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(schema_name, table_name, position)
),
-- Each table's tree walked through pg_inherits, which takes no lock (pg_partition_tree() takes every partition's).
tree(position, relid) AS (
  SELECT a.position, a.root FROM asked a WHERE a.root IS NOT NULL
  UNION ALL
  SELECT t.position, i.inhrelid FROM tree t JOIN pg_catalog.pg_inherits i ON i.inhparent = t.relid
)
SELECT (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(a.schema_name, a.table_name, sized.relations, sized.writes, sized.reads) ORDER BY a.position), '[]')
          FROM asked a
          CROSS JOIN LATERAL (
            SELECT count(*) AS relations,
                   sum(1 + CASE WHEN c.reltoastrelid <> 0 THEN 1 ELSE 0 END
                         + (SELECT count(*) FROM pg_catalog.pg_index i WHERE i.indrelid IN (c.oid, c.reltoastrelid))) AS writes,
                   sum(1 + (SELECT count(*) FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid)) AS reads
              FROM tree t JOIN pg_catalog.pg_class c ON c.oid = t.relid
             WHERE t.position = a.position) AS sized
         WHERE sized.relations > 0) AS tables,
       pg_catalog.current_setting('max_locks_per_transaction')::bigint AS per_transaction,
       (pg_catalog.current_setting('max_connections')::bigint + pg_catalog.current_setting('max_prepared_transactions')::bigint) AS backends,
       -- Other sessions' locks: this connection's own are the run's to take.
       (SELECT count(*) FROM pg_catalog.pg_locks WHERE NOT fastpath AND pid IS DISTINCT FROM pg_catalog.pg_backend_pid())::bigint AS held`;

export async function lockRoom(client: pg.ClientBase, tables: TableRef[]): Promise<LockRoom> {
  const { rows } = await client.query<{ tables: [string, string, number, number, number][]; per_transaction: string; backends: string; held: string }>(
    LOCK_ROOM_QUERY,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  const row = rows[0];
  if (!row) throw new Error('the lock count returned no row');
  return {
    tables: row.tables.map(([schema, name, relations, writes, reads]) => ({
      schema,
      name,
      relations: Number(relations),
      writes: Number(writes),
      reads: Number(reads),
    })),
    perTransaction: Number(row.per_transaction),
    backends: Number(row.backends),
    held: Number(row.held),
  };
}
