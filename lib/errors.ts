// Errors are written for the person at the terminal: what failed, where,
// and what to do next. Exit codes: 1 a sync or verify failed, 2 usage or
// configuration is wrong.

export class SupasyncError extends Error {
  readonly exitCode: number;
  /** Running the same command again would meet the same failure (a row too large, not a dropped connection). */
  readonly sameOnRerun: boolean;
  constructor(message: string, exitCode = 1, options?: { cause?: unknown; sameOnRerun?: boolean }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.sameOnRerun = options?.sameOnRerun ?? false;
  }
}

/** Bad flags, bad config, missing environment: exit code 2. */
export class UsageError extends SupasyncError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** A database or API answered with an error while we read or wrote. */
export class DatabaseError extends SupasyncError {}

/** A server ended supasync's connection (connect/postgres.ts): what the run was doing, and what it left, are for the caller to add. */
export class ConnectionLostError extends DatabaseError {}

/** SQLSTATEs of a unique and of an exclusion constraint refusing a row: a value another row holds. */
export const CONFLICT_CODES: ReadonlySet<string> = new Set(['23505', '23P01']);

/**
 * Without the replica role, why a re-sync by key meets a unique value
 * production moved to another row, and the two ways out: both paths say it.
 */
export function movedValueAdvice(tables: string[]): string {
  return (
    `Without the replica role staging's rows are written by key with every unique index live, and a value production moved to another row ` +
    `(two rows that swapped a username or a slug) meets the row still holding it. Sync as a role allowed the replica role ` +
    `(on Supabase: postgres; PostgreSQL 15+: GRANT SET ON PARAMETER session_replication_role TO <role>), or replace ${tables.join(', ')} ` +
    `(--mode replace, or "mode": "replace" for it in supasync.config.json).`
  );
}

interface PgLikeError {
  message?: string;
  code?: string;
  detail?: string;
  /** PostgREST's and supabase-js's spelling of detail. */
  details?: string;
  hint?: string;
  where?: string;
  address?: string;
  port?: number;
  /** The rows a unique value was refused between, where the run could ask (transport/postgres/clashing-rows.ts). */
  clashingRows?: string;
}

/** Node's words for a connection that never got an answer, in a person's. */
function networkReason(code: string | undefined, address?: string, port?: number): string | undefined {
  switch (code) {
    case 'ECONNREFUSED':
      return `nothing is listening at ${address ?? 'the host'}${port ? `:${port}` : ''}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'ETIMEDOUT':
      return 'the connection timed out';
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return address?.includes(':')
        ? `this machine cannot reach ${address} over IPv6. Supabase's direct host (db.<ref>.supabase.co) is IPv6-only ` +
            'unless the project has the IPv4 add-on: use the Session pooler string instead (Dashboard > Connect > Session pooler, ' +
            'postgresql://postgres.<ref>:<password>@aws-0-<region>.pooler.supabase.com:5432/postgres)'
        : `no route to ${address ?? 'the host'}`;
    default:
      return undefined;
  }
}

/** Node's TLS verification failures (the cause's code), said with what to do; undefined for any other code. */
function tlsReason(code: string, message: string): string | undefined {
  if (
    [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'UNABLE_TO_GET_ISSUER_CERT',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    ].includes(code)
  ) {
    return (
      `this machine does not trust its TLS certificate (${message}, ${code}). ` +
      'Behind a proxy or antivirus that inspects TLS, give Node its certificate authority: NODE_EXTRA_CA_CERTS=/path/to/its-ca.pem before the command.'
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `its TLS certificate is for another name (${message}): check the URL's host (https://<project-ref>.supabase.co).`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `its TLS certificate is not valid now (${message}): check this machine's clock.`;
  return undefined;
}

/**
 * supabase-js reports a request that reached no server as "TypeError: fetch
 * failed", with the reason only in its details ("Caused by: ..."): the
 * sentence for it, or undefined for any other failure.
 */
export function describeUnreachable(failure: { message?: string; details?: string }, url: string): string | undefined {
  const cause = fetchFailureCause(failure);
  return cause && unreachable(url, cause.message, cause.code);
}

/** Why such a request reached no server, in a few words ("the connection was reset"); undefined for any other failure. */
export function fetchFailureReason(failure: { message?: string; details?: string }): string | undefined {
  const cause = fetchFailureCause(failure);
  return cause && (networkReason(cause.code) ?? cause.message ?? 'no answer');
}

function fetchFailureCause(failure: { message?: string; details?: string }): { message?: string; code?: string } | undefined {
  if (!failure.message?.endsWith('fetch failed')) return undefined;
  const cause = /Caused by: (?:\w*Error: )?([^\n]*)/.exec(failure.details ?? '')?.[1]?.trim();
  const coded = /^(.*) \(([A-Z_]+)\)$/.exec(cause ?? '');
  return { message: coded?.[1] ?? cause, code: coded?.[2] ?? /\b(E[A-Z]+)\b/.exec(cause ?? '')?.[1] };
}

/** The same sentence for a fetch that threw (TypeError "fetch failed", the reason its cause), as Storage's requests do; undefined for any other error. */
export function describeFetchFailure(error: unknown, url: string): string | undefined {
  if (!(error instanceof TypeError) || error.message !== 'fetch failed') return undefined;
  const cause = error.cause as { message?: string; code?: string } | undefined;
  return unreachable(url, cause?.message, cause?.code);
}

function unreachable(url: string, cause: string | undefined, code: string | undefined): string {
  const certificate = code && cause !== undefined ? tlsReason(code, cause) : undefined;
  if (certificate) return `cannot reach ${url}: ${certificate}`;
  const reason = networkReason(code) ?? cause ?? 'no answer';
  return `cannot reach ${url}: ${reason}. Check the URL (https://<project-ref>.supabase.co) and that this machine is online.`;
}

/**
 * One readable line (plus detail and hint) for a low-level error from pg,
 * Node's network stack or PostgREST, prefixed with where it happened.
 */
export function describeError(where: string, error: unknown): string {
  const e = (error ?? {}) as PgLikeError;
  const auth: Record<string, string> = {
    '28P01': 'password authentication failed: check the password in the connection string (URL-encode special characters)',
    '28000': 'the server refused this role or host',
    '3D000': 'the database does not exist',
  };
  const main = (e.code && (networkReason(e.code, e.address, e.port) ?? auth[e.code])) || e.message || String(error);
  const lines = [`${where}: ${main}`];
  // node-postgres' own words when sslmode asks for TLS of a server that offers none.
  if (/does not support SSL connections/.test(e.message ?? '')) {
    lines.push('  fix: the connection string asks for TLS (sslmode=require or stricter) and this server offers none: remove sslmode from it');
  }
  if (e.detail) lines.push(`  detail: ${e.detail}`);
  if (e.clashingRows) lines.push(`  rows: ${e.clashingRows}`);
  if (e.where) lines.push(`  at: ${e.where}`);
  if (e.hint) lines.push(`  hint: ${e.hint}`);
  if (e.code === '55P03') {
    lines.push(
      "  cause: another session held a lock on a table this needs past lock_timeout (a minute unless the connection string sets another: a migration, a long transaction, an app's LOCK TABLE: " +
        "pg_stat_activity names it, wait_event_type 'Lock'): end it, or run again once it has ended",
    );
  }
  return lines.join('\n');
}
