// Without the replica role a load disables each table's user triggers, and
// only a table's owner may. On Supabase the tables of auth and storage belong
// to the services (supabase_auth_admin, supabase_storage_admin), so their
// triggers would fire during the load: an app's profile trigger on
// auth.users would create every copied profile a second time.
import type pg from 'pg';
import { DatabaseError } from '../../errors.ts';
import type { TablePlan } from '../../plan/plan.ts';
import { quoteTable } from '../../sql/ident.ts';

/** Stops before writing when a table to load has enabled user triggers staging's role cannot disable. */
export async function refuseForeignTriggers(staging: pg.ClientBase, tables: TablePlan[]): Promise<void> {
  const { rows } = await staging.query<{ name: string; owner: string; triggers: string[] }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name, pg_catalog.pg_get_userbyid(c.relowner) AS owner,
            array_agg(t.tgname::text ORDER BY t.tgname) AS triggers
     FROM pg_catalog.pg_trigger t
     JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE t.tgrelid = ANY($1::regclass[]) AND NOT t.tgisinternal AND t.tgenabled <> 'D'
       AND NOT pg_catalog.pg_has_role(c.relowner, 'USAGE')
     GROUP BY 1, 2 ORDER BY 1`,
    [tables.map((table) => quoteTable(table.table))],
  );
  if (!rows.length) return;
  throw new DatabaseError(
    `${rows.map((t) => `${t.name} (triggers ${t.triggers.join(', ')}; owned by ${t.owner})`).join(', ')}: ` +
      "staging's role may not SET session_replication_role, nor disable the triggers of tables it does not own, so they would " +
      'fire during the load (a profile trigger on auth.users would create every profile twice). Sync as a role that may set it ' +
      '(on Supabase: postgres; PostgreSQL 15+: GRANT SET ON PARAMETER session_replication_role TO <role>), or leave those tables out with --exclude. Nothing was changed.',
  );
}
