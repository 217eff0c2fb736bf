// The direct path's half of ../foreign-triggers.ts: staging's catalog, read
// in the load's own transaction, says which tables to load have triggers the
// role may not disable.
import type pg from 'pg';
import { DatabaseError } from '../../errors.ts';
import type { TableRef } from '../../catalog/types.ts';
import { runShared } from '../../sql/shared.ts';
import { describeForeignReplicaTriggers, describeForeignTriggers, type ForeignTriggers } from '../foreign-triggers.ts';

/** Stops before writing when a table to load has user triggers that would fire (with the replica role or not: `replica`) and staging's role cannot disable. */
export async function refuseForeignTriggers(staging: pg.ClientBase, tables: TableRef[], replica: boolean): Promise<void> {
  // The query supasync_write_checks asks over REST: here the role writing is the connection's.
  const rows = await runShared<ForeignTriggers[]>(staging, 'foreign_triggers', [
    JSON.stringify(tables.map((table) => ({ schema: table.schema, name: table.name }))),
    replica,
  ]);
  if (!rows.length) return;
  if (replica) throw new DatabaseError(describeForeignReplicaTriggers(rows, "staging's role"));
  throw new DatabaseError(
    `${describeForeignTriggers(rows, "staging's role")} Sync as a role that may set it ` +
      '(on Supabase: postgres; PostgreSQL 15+: GRANT SET ON PARAMETER session_replication_role TO <role>), or leave those tables out with --exclude. Nothing was changed.',
  );
}
