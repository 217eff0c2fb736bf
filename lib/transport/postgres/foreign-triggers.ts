// The direct path's half of ../foreign-triggers.ts: staging's catalog, read
// in the load's own transaction, says which tables to load have triggers the
// role may not disable.
import type pg from 'pg';
import { DatabaseError } from '../../errors.ts';
import type { TablePlan } from '../../plan/plan.ts';
import { quoteTable } from '../../sql/ident.ts';
import { describeForeignTriggers, type ForeignTriggers } from '../foreign-triggers.ts';

/** Stops before writing when a table to load has enabled user triggers staging's role cannot disable. */
export async function refuseForeignTriggers(staging: pg.ClientBase, tables: TablePlan[]): Promise<void> {
  const { rows } = await staging.query<ForeignTriggers>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS "table", pg_catalog.pg_get_userbyid(c.relowner) AS owner,
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
    `${describeForeignTriggers(rows, "staging's role")} Sync as a role that may set it ` +
      '(on Supabase: postgres; PostgreSQL 15+: GRANT SET ON PARAMETER session_replication_role TO <role>), or leave those tables out with --exclude. Nothing was changed.',
  );
}
