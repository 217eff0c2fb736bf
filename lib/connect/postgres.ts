// Direct connections. Production is opened read-only: whatever a bug might
// try, PostgreSQL itself refuses to write there.
import pg from 'pg';
import type { Side } from '../config/env.ts';
import { DatabaseError, describeError } from '../errors.ts';
import { parseConnectionString } from '../config/connection-string.ts';
import { runShared } from '../sql/shared.ts';

/**
 * Every script connects here, so a connection string means the same to all
 * of them (sslmode as libpq reads it, session settings, errors in words).
 * `purpose`: `install` writes supasync's functions, in production too, so it
 * is not read-only; `sync` opens production read-only.
 */
export async function connectPostgres(side: Side, dbUrl: string, purpose: 'sync' | 'install' = 'sync'): Promise<pg.Client> {
  const options = [
    // A long COPY or index build must not meet a role's time limits (Supabase
    // sets them per role), nor production's snapshot, idle while staging
    // builds indexes, an idle-session limit.
    '-c statement_timeout=0',
    '-c idle_in_transaction_session_timeout=0',
  ];
  if (side === 'production' && purpose === 'sync') options.push('-c default_transaction_read_only=on');
  const variable = side === 'production' ? 'SUPABASE_PROD_DB_URL' : 'SUPABASE_STAGING_DB_URL';
  const client = new pg.Client({
    ...parseConnectionString(variable, dbUrl).config,
    application_name: purpose === 'sync' ? `supasync (${side})` : `supasync install (${side})`,
    options: options.join(' '),
    connectionTimeoutMillis: 30_000,
  });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new DatabaseError(describeError(`Cannot connect to ${side} (${redactUrl(dbUrl)})`, error), 1, { cause: error });
  }
  // An idle connection can be dropped by the server; report it, never crash the process.
  client.on('error', () => undefined);
  try {
    // Text values mean the same on both sides whatever the servers' defaults: the settings the REST path's functions pin.
    await runShared(client, 'pin_text_settings', [false]);
    // Keys compare as their types compare them, an extension's type too (citext, ltree in Supabase's `extensions`): its operators' schemas searched.
    const operatorSchemas = await runShared<string | null>(client, 'operator_schemas', [null]);
    if (operatorSchemas) {
      await client.query(
        `SELECT pg_catalog.set_config('search_path', pg_catalog.concat_ws(', ', NULLIF(pg_catalog.current_setting('search_path'), ''), $1::text), false)`,
        [operatorSchemas],
      );
    }
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new DatabaseError(describeError(`Setting up the connection to ${side} (${redactUrl(dbUrl)})`, error), 1, { cause: error });
  }
  return client;
}

/** The connection string with its password replaced, safe to print. */
export function redactUrl(dbUrl: string): string {
  try {
    const url = new URL(dbUrl);
    if (url.password) url.password = '***';
    return `${url.protocol}//${url.username ? `${url.username}@` : ''}${url.host}${url.pathname}`;
  } catch {
    return '<unparseable connection string>';
  }
}
