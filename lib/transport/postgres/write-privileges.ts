// The direct path's half of ../write-privileges.ts: staging's role, asked in
// the load's own transaction, for what it lacks on the tables to load (the
// query supasync_write_checks asks over REST, here for the connection's role).
import type pg from 'pg';
import { runShared } from '../../sql/shared.ts';
import type { TableLoad } from '../load.ts';
import { refuseMissingPrivileges, type MissingPrivileges } from '../write-privileges.ts';
import { refuseUnidentifiedPublished, type UnidentifiedPublished } from '../replica-identity.ts';

export async function refuseUnwritableTables(staging: pg.ClientBase, tables: TableLoad[]): Promise<void> {
  const missing = await runShared<MissingPrivileges[]>(staging, 'missing_privileges', [
    JSON.stringify(tables.map(({ table }) => ({ schema: table.schema, name: table.name }))),
  ]);
  if (missing.length) {
    const { rows } = await staging.query<{ role: string }>('SELECT current_user AS role');
    refuseMissingPrivileges(missing, tables, rows[0]!.role, "staging's connection logs in as");
  }
  const unidentified = await runShared<UnidentifiedPublished[]>(staging, 'unidentified_published', [
    JSON.stringify(tables.map(({ table }) => ({ schema: table.schema, name: table.name }))),
  ]);
  refuseUnidentifiedPublished(unidentified, tables, true);
}
