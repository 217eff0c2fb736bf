// The direct path's half of ../foreign-triggers.ts: staging's catalog, read
// in the load's own transaction, says which tables to load have triggers the
// role may not disable.
import type pg from 'pg';
import { DatabaseError } from '../../errors.ts';
import type { TableLoad } from '../load.ts';
import { runShared } from '../../sql/shared.ts';
import { describeForeignTriggers, type ForeignTriggers } from '../foreign-triggers.ts';

/** Stops before writing when a table to load has enabled user triggers staging's role cannot disable. */
export async function refuseForeignTriggers(staging: pg.ClientBase, tables: TableLoad[]): Promise<void> {
  // The query supasync_write_checks asks over REST: here the role writing is the connection's.
  const rows = await runShared<ForeignTriggers[]>(staging, 'foreign_triggers', [
    JSON.stringify(tables.map(({ table }) => ({ schema: table.schema, name: table.name }))),
  ]);
  if (!rows.length) return;
  throw new DatabaseError(
    `${describeForeignTriggers(rows, "staging's role")} Sync as a role that may set it ` +
      '(on Supabase: postgres; PostgreSQL 15+: GRANT SET ON PARAMETER session_replication_role TO <role>), or leave those tables out with --exclude. Nothing was changed.',
  );
}
