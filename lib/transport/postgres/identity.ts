// Two connection strings can name one database (a host alias, an IP, the
// pooler). Ask the servers who they are instead of comparing strings.
import type pg from 'pg';

export interface ServerIdentity {
  systemIdentifier: string;
  databaseOid: string;
  database: string;
}

export async function serverIdentity(client: pg.ClientBase): Promise<ServerIdentity> {
  const { rows } = await client.query<ServerIdentity>(`
    SELECT (SELECT system_identifier::text FROM pg_catalog.pg_control_system()) AS "systemIdentifier",
           (SELECT oid::text FROM pg_catalog.pg_database WHERE datname = current_database()) AS "databaseOid",
           current_database() AS database`);
  return rows[0] as ServerIdentity;
}

export function sameDatabase(a: ServerIdentity, b: ServerIdentity): boolean {
  return a.systemIdentifier === b.systemIdentifier && a.databaseOid === b.databaseOid;
}
