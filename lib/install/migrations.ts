// Putting supasync's SQL functions into a project: the read-only catalog
// functions anywhere, the write functions in staging only, marked as a sync
// target. The SQL is the migration files themselves.
import type pg from 'pg';
import { readMigration } from '../sql/migrations.ts';
import { parseConnectionString } from '../config/connection-string.ts';
import { connectPostgres } from '../connect/postgres.ts';
import { DatabaseError, describeError, UsageError } from '../errors.ts';
import { functionsVersion, installedVersion, type InstalledVersion } from './version.ts';

export const MARK_SYNC_TARGET = `INSERT INTO supasync_private.sync_target (marked_by) VALUES (current_user) ON CONFLICT (only_row) DO NOTHING;`;

/** What an install puts where: `mark` is staging's sync-target mark alone, no functions. */
export type InstallKind = 'production' | 'staging' | 'mark';

// In file order, as the Supabase CLI would apply them.
const MIGRATIONS: Record<InstallKind, string[]> = {
  production: ['_supasync_read'],
  staging: ['_supasync_read', '_supasync_target_mark', '_supasync_write', '_supasync_backup'],
  mark: ['_supasync_target_mark'],
};

export function installSql(kind: InstallKind): string {
  const body = MIGRATIONS[kind]
    .map((suffix) => readMigration(suffix))
    .map(({ file, sql }) => `-- supabase/migrations/${file}\n${sql}`)
    .join('\n');
  return kind === 'production' ? body : `${body}\n-- mark this database as a sync target\n${MARK_SYNC_TARGET}\n`;
}

/** What an install found and left: the functions' version before (none, or 0 for unversioned ones) and after. */
export interface Installed {
  before: InstalledVersion;
  version: number;
}

export async function installMigrations(client: pg.ClientBase, kind: InstallKind, side: 'production' | 'staging'): Promise<Installed> {
  await client.query('BEGIN');
  try {
    const before = await installedVersion(client);
    const version = functionsVersion();
    if (kind !== 'mark' && before.kind === 'installed' && before.version > version) {
      throw new UsageError(
        `${side} holds supasync's functions version ${before.version}, newer than this checkout's ${version}: ` +
          'update supasync (git pull, or a newer package) rather than put older functions over them. Nothing was changed.',
      );
    }
    await client.query(installSql(kind));
    // PostgREST learns about new functions when told to reload its schema cache.
    await client.query(`NOTIFY pgrst, 'reload schema'`);
    await client.query('COMMIT');
    return { before, version };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Every supasync function in `public` and the private schema (in staging
 * with the sync-target mark; in production it holds only the query
 * builders): the database as it was before supasync, data untouched. One
 * transaction.
 */
export async function uninstallMigrations(client: pg.ClientBase): Promise<number> {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ signature: string }>(
      `SELECT p.oid::regprocedure::text AS signature FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = 'public' AND p.proname LIKE 'supasync\\_%' ORDER BY 1`,
    );
    for (const { signature } of rows) await client.query(`DROP FUNCTION ${signature}`);
    await client.query('DROP SCHEMA IF EXISTS supasync_private CASCADE');
    await client.query(`NOTIFY pgrst, 'reload schema'`);
    await client.query('COMMIT');
    return rows.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Connects as the string's role, the way every script does (not read-only), and installs, all or nothing. */
export async function installInto(dbUrl: string, kind: InstallKind, side: 'production' | 'staging'): Promise<Installed> {
  return withInstallConnection(dbUrl, side, 'Installing', (client) => installMigrations(client, kind, side));
}

/** The same connection, for --uninstall. */
export async function uninstallFrom(dbUrl: string, side: 'production' | 'staging'): Promise<number> {
  return withInstallConnection(dbUrl, side, 'Uninstalling', (client) => uninstallMigrations(client));
}

async function withInstallConnection<T>(dbUrl: string, side: 'production' | 'staging', doing: string, work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  const client = await connectPostgres(side, dbUrl, 'install');
  try {
    const { rows } = await client.query<{ replica: boolean; read_only: string }>(
      "SELECT pg_catalog.pg_is_in_recovery() AS replica, pg_catalog.current_setting('transaction_read_only') AS read_only",
    );
    const variable = side === 'production' ? 'SUPABASE_PROD_DB_URL' : 'SUPABASE_STAGING_DB_URL';
    if (rows[0]?.replica) {
      throw new UsageError(
        `${variable} leads to a read replica, where nothing can be installed (its primary's functions reach it): use the primary database's connection string (Dashboard > Connect). Nothing was changed.`,
      );
    }
    if (rows[0]?.read_only === 'on') {
      throw new UsageError(
        `${variable} leads to a database whose transactions default to read-only (default_transaction_read_only, for the database, the role or in the string's options): ` +
          'nothing can be installed until it is turned off. Nothing was changed.',
      );
    }
    return await work(client);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new DatabaseError(describeError(`${doing} in ${side}`, error), 1, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What an install did, in words: "version 1 (new)", "version 2 (upgraded from 1)". */
export function describeInstalled({ before, version }: Installed): string {
  if (before.kind === 'none') return `version ${version} (new)`;
  if (before.version === version) return `version ${version} (reinstalled)`;
  return `version ${version} (upgraded from ${before.version === 0 ? 'functions from before versions were recorded' : `version ${before.version}`})`;
}

/** Which project or database a connection string reaches, in words a person checks before saying yes. */
export function describeInstallTarget(variable: string, dbUrl: string): string {
  const { config, projectRef } = parseConnectionString(variable, dbUrl);
  const database = `database ${String(config.database)} on ${String(config.host)}:${String(config.port)}`;
  return projectRef ? `Supabase project ${projectRef} (${database})` : database;
}
