// Errors are written for the person at the terminal: what failed, where,
// and what to do next. Exit codes: 1 a sync or verify failed, 2 usage or
// configuration is wrong.

export class SupasyncError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
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

interface PgLikeError {
  message?: string;
  code?: string;
  detail?: string;
  hint?: string;
  where?: string;
  address?: string;
  port?: number;
}

/**
 * One readable line (plus detail and hint) for a low-level error from pg,
 * Node's network stack or PostgREST, prefixed with where it happened.
 */
export function describeError(where: string, error: unknown): string {
  const e = (error ?? {}) as PgLikeError;
  const network: Record<string, string> = {
    ECONNREFUSED: `nothing is listening at ${e.address ?? 'the host'}${e.port ? `:${e.port}` : ''}`,
    ENOTFOUND: 'the host name does not resolve',
    ETIMEDOUT: 'the connection timed out',
    ECONNRESET: 'the connection was reset',
    ...Object.fromEntries(
      ['ENETUNREACH', 'EHOSTUNREACH'].map((code) => [
        code,
        e.address?.includes(':')
          ? `this machine cannot reach ${e.address} over IPv6. Supabase's direct host (db.<ref>.supabase.co) is IPv6-only ` +
            'unless the project has the IPv4 add-on: use the Session pooler string instead (Dashboard > Connect > Session pooler, ' +
            'postgresql://postgres.<ref>:<password>@aws-0-<region>.pooler.supabase.com:5432/postgres)'
          : `no route to ${e.address ?? 'the host'}`,
      ]),
    ),
  };
  const auth: Record<string, string> = {
    '28P01': 'password authentication failed: check the password in the connection string (URL-encode special characters)',
    '28000': 'the server refused this role or host',
    '3D000': 'the database does not exist',
  };
  const main = (e.code && (network[e.code] ?? auth[e.code])) || e.message || String(error);
  const lines = [`${where}: ${main}`];
  if (e.detail) lines.push(`  detail: ${e.detail}`);
  if (e.where) lines.push(`  at: ${e.where}`);
  if (e.hint) lines.push(`  hint: ${e.hint}`);
  return lines.join('\n');
}
