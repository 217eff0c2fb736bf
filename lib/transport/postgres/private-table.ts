// Whether one of supasync_private's tables is there, and readable by this
// connection's role: looked up in pg_class, which every role may read, as
// to_regclass() raises instead of answering when the role may not use the
// schema. A database without it (production, or a staging marked by an older
// version) costs one round trip and leaves no error in its server log.
import type pg from 'pg';

export async function privateTable(client: pg.ClientBase, name: string): Promise<{ present: boolean; readable: boolean }> {
  const { rows } = await client.query<{ present: boolean; readable: boolean }>(
    `SELECT c.oid IS NOT NULL AS present,
            CASE WHEN c.oid IS NULL THEN false
                 ELSE pg_catalog.has_schema_privilege(n.oid, 'USAGE') AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
            END AS readable
     FROM pg_catalog.pg_namespace n
     LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = $1
     WHERE n.nspname = 'supasync_private'`,
    [name],
  );
  return rows[0] ?? { present: false, readable: false };
}
