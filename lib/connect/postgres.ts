// Direct connections. Production is opened read-only: whatever a bug might
// try, PostgreSQL itself refuses to write there.
import pg from 'pg';
import type { Side } from '../config/env.ts';
import { ConnectionLostError, DatabaseError, describeError } from '../errors.ts';
import { parseConnectionString, redactUrl } from '../config/connection-string.ts';
import { runShared } from '../sql/shared.ts';
import { oneQueryAtATime } from './one-query-at-a-time.ts';

/** How long a statement waits for another session's lock before the run stops, naming what waited (errors.ts). */
export const LOCK_WAIT_SECONDS = 60;

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
  // Production is only read, in a snapshot of the run's own choosing: a database
  // defaulting to SERIALIZABLE, which a read replica refuses, is not asked for.
  if (side === 'production' && purpose === 'sync') options.push('-c default_transaction_read_only=on', '-c default_transaction_isolation=read\\ committed');
  const variable = side === 'production' ? 'SUPABASE_PROD_DB_URL' : 'SUPABASE_STAGING_DB_URL';
  const { config } = parseConnectionString(variable, dbUrl);
  const client = new pg.Client({
    ...config,
    application_name: purpose === 'sync' ? `supasync (${side})` : `supasync install (${side})`,
    // Nor wait without end for another session's lock (a migration, a long
    // transaction, an app's LOCK TABLE): a run stopped by it says so, and a
    // backend whose client died leaves the lock queue. The string's own
    // options come next, and may set another wait; where they set one of the
    // others, supasync's holds.
    options: [`-c lock_timeout=${LOCK_WAIT_SECONDS}s`, config.options, ...options].filter(Boolean).join(' '),
    connectionTimeoutMillis: 30_000,
  });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new DatabaseError(describeError(`Cannot connect to ${side} (${redactUrl(dbUrl)})`, error), 1, { cause: error });
  }
  oneQueryAtATime(client);
  sayWhyLost(client, side);
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

/** Each client's side, and why its connection was lost once it is. */
const connections = new WeakMap<pg.ClientBase, { side: Side; lost: () => Error | undefined }>();

/**
 * The server may end a connection between two queries (a read replica
 * cancelling a read that holds back its replay, pg_terminate_backend, an
 * idle_session_timeout): pg then emits the server's reason as an 'error'
 * event, which must never crash the process, and fails every later query
 * with "Client has encountered a connection error and is not queryable".
 * That query's failure says the server's reason instead.
 */
function sayWhyLost(client: pg.Client, side: Side): void {
  let lost: Error | undefined;
  client.on('error', (error) => {
    // The server's FATAL (it has a SQLSTATE) comes first, "Connection terminated unexpectedly" after it.
    if (!(lost as { code?: unknown } | undefined)?.code) lost = error;
  });
  connections.set(client, { side, lost: () => lost });
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const result = query(...args);
    if (!(result instanceof Promise)) return result;
    return result.catch((error: unknown) => {
      if (!lost || error === lost) throw error;
      throw connectionLost(side, lost);
    });
  };
}

/**
 * A COPY fails with its stream's error: the server's FATAL where pg read it,
 * else the socket's ("write ECONNRESET"). `client`: the one whose stream
 * failed first. Where its connection is gone, the error says so, with the
 * side and what to do.
 */
export function whyConnectionLost(error: unknown, client: pg.ClientBase | null): unknown {
  const connection = client && connections.get(client);
  if (!connection || !(error instanceof Error)) return error;
  const severity = (error as { severity?: unknown }).severity;
  if (severity === 'FATAL' || severity === 'PANIC') return connectionLost(connection.side, error);
  const lost = connection.lost();
  const socketError = /^E[A-Z]+$/.test(String((error as { code?: unknown }).code));
  if (lost || socketError) return connectionLost(connection.side, lost && fromServer(lost) ? lost : error);
  return error;
}

/** An error the server sent (a SQLSTATE), not Node's socket's (ECONNRESET). */
function fromServer(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !/^E[A-Z]+$/.test(code);
}

function connectionLost(side: Side, reason: Error): ConnectionLostError {
  if (fromServer(reason)) {
    return new ConnectionLostError(`${side}'s server ended the connection: ${reason.message}${lostHint(reason.message, side)}`, 1, { cause: reason });
  }
  // No word from the server: a reset, a restart, a proxy or the network between.
  return new ConnectionLostError(
    `the connection to ${side} was lost: ${describeError('', reason).slice(2)} (its server's log says why: a restart, another session ending it, ` +
      'a time limit or the network between): run again',
    1,
    { cause: reason },
  );
}

function lostHint(reason: string, side: Side): string {
  if (/conflict with recovery/.test(reason)) {
    return (
      ` (${side} is a read replica, which ends a read that holds back its replay of the primary's changes: ` +
      'read the primary (its connection string), or set hot_standby_feedback = on or a larger max_standby_streaming_delay on the replica)'
    );
  }
  return /terminat/.test(reason) ? ' (another session or a time limit ended it: run again)' : '';
}
