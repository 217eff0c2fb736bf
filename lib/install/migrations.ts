// Putting supasync's SQL functions into a project: the read-only catalog
// functions anywhere, the write functions in staging only, marked as a sync
// target. The SQL is the migration files themselves.
import type pg from 'pg';
import { readMigration } from '../catalog/query.ts';
import { parseConnectionString } from '../config/connection-string.ts';
import { connectPostgres } from '../connect/postgres.ts';
import { DatabaseError, describeError } from '../errors.ts';

export const MARK_SYNC_TARGET = `INSERT INTO supasync_private.sync_target (marked_by) VALUES (current_user) ON CONFLICT (only_row) DO NOTHING;`;

/** What an install puts where: `mark` is staging's sync-target mark alone, no functions. */
export type InstallKind = 'production' | 'staging' | 'mark';

// In file order, as the Supabase CLI would apply them.
const MIGRATIONS: Record<InstallKind, string[]> = {
  production: ['_supasync_catalog', '_supasync_read_pages'],
  staging: [
    '_supasync_catalog',
    '_supasync_target_mark',
    '_supasync_write',
    '_supasync_write_checks',
    '_supasync_write_cycle',
    '_supasync_backup',
    '_supasync_restore',
    '_supasync_read_pages',
  ],
  mark: ['_supasync_target_mark'],
};

export function installSql(kind: InstallKind): string {
  const body = MIGRATIONS[kind]
    .map((suffix) => readMigration(suffix))
    .map(({ file, sql }) => `-- supabase/migrations/${file}\n${sql}`)
    .join('\n');
  return kind === 'production' ? body : `${body}\n-- mark this database as a sync target\n${MARK_SYNC_TARGET}\n`;
}

export async function installMigrations(client: pg.ClientBase, kind: InstallKind): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(installSql(kind));
    // PostgREST learns about new functions when told to reload its schema cache.
    await client.query(`NOTIFY pgrst, 'reload schema'`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Connects as the string's role, the way every script does (not read-only), and installs, all or nothing. */
export async function installInto(dbUrl: string, kind: InstallKind, side: 'production' | 'staging'): Promise<void> {
  const client = await connectPostgres(side, dbUrl, 'install');
  try {
    await installMigrations(client, kind);
  } catch (error) {
    throw new DatabaseError(describeError(`Installing in ${side}`, error), 1, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Which project or database a connection string reaches, in words a person checks before saying yes. */
export function describeInstallTarget(variable: string, dbUrl: string): string {
  const { config, projectRef } = parseConnectionString(variable, dbUrl);
  const database = `database ${String(config.database)} on ${String(config.host)}:${String(config.port)}`;
  return projectRef ? `Supabase project ${projectRef} (${database})` : database;
}
