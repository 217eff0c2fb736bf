// The direct path's half of ../write-privileges.ts: staging's role, asked in
// the load's own transaction, for what it lacks on the tables to load.
import type pg from 'pg';
import { qualifiedName } from '../../catalog/types.ts';
import type { TableLoad } from '../load.ts';
import { refuseMissingPrivileges, WRITE_PRIVILEGES } from '../write-privileges.ts';

export async function refuseUnwritableTables(staging: pg.ClientBase, tables: TableLoad[]): Promise<void> {
  const { rows } = await staging.query<{ schema: string; name: string; privileges: string[]; role: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, current_user AS role,
            array_agg(p.privilege ORDER BY p.privilege) FILTER (WHERE NOT pg_catalog.has_table_privilege(c.oid, p.privilege)) AS privileges
     FROM pg_catalog.jsonb_array_elements($1::jsonb) AS wanted
     JOIN pg_catalog.pg_namespace n ON n.nspname = wanted ->> 'schema'
     JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = wanted ->> 'name'
     CROSS JOIN unnest($2::text[]) AS p(privilege)
     GROUP BY 1, 2`,
    [JSON.stringify(tables.map(({ table }) => ({ schema: table.schema, name: table.name }))), WRITE_PRIVILEGES],
  );
  const missing = rows.filter((row) => row.privileges?.length).map((row) => ({ table: qualifiedName(row), privileges: row.privileges }));
  if (missing.length) refuseMissingPrivileges(missing, tables, rows[0]?.role ?? 'its role', "staging's connection logs in as");
}
