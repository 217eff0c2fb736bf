// Every REST call supasync makes goes through here: one place decides what a
// failure means. Transient ones (HTTP 429 and 5xx, a dropped connection, a
// serialization failure, no answer in time) are retried with backoff, which
// is safe because every write is an idempotent upsert; a batch that is too
// big or too slow for the server is for the caller to split; a row's data
// error is for the caller to bisect.
import type { SupabaseClient } from '@supabase/supabase-js';
import pRetry, { AbortError } from 'p-retry';
import * as z from 'zod';
import { isRequestTimeout, SLOW_LINK_BYTES_PER_SECOND } from '../../connect/request-deadline.ts';
import { projectOf } from '../../connect/supabase.ts';
import { describeUnreachable } from '../../errors.ts';
import { commandLine } from '../../invocation.ts';
import { migrationDefining } from '../../sql/migrations.ts';

export type FailureKind = 'transient' | 'too-large' | 'data' | 'fatal';

export class RpcFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Told each failure a request is sent again after (retry-tally.ts counts them by reason). */
export type OnRetry = (failure: RpcFailure) => void;

const TRANSIENT_STATUS = new Set([0, 408, 429, 500, 502, 503, 504, 520, 522, 524]);
// PostgreSQL: serialization failure, deadlock, too many connections, admin shutdown;
// PostgREST: cannot reach or use the database right now.
const TRANSIENT_CODES = new Set(['40001', '40P01', '53300', '57P01', 'PGRST000', 'PGRST001', 'PGRST002', 'PGRST003']);

function classify(status: number, code: string): FailureKind {
  if (status === 413 || code === '57014' || code === '54000') return 'too-large'; // body too big, statement timeout, program limit
  if (TRANSIENT_STATUS.has(status) || TRANSIENT_CODES.has(code)) return 'transient';
  if (/^(22|23)/.test(code)) return 'data'; // data exception, integrity violation
  return 'fatal';
}

/**
 * A request that got no answer within its deadline (request-deadline.ts) is
 * sent again twice at most: each attempt already waited the base and its
 * bytes' time, and a third silence says the link or the project is down.
 */
const TIMEOUT_RETRIES = 2;

/**
 * A project that has never answered this process and cannot be reached
 * (nothing listening, a host name that does not resolve) is a wrong URL far
 * more often than a gateway restarting: it is tried once more, not for the
 * quarter of a minute the backoff takes. Once it has answered, a dropped
 * connection is the network's and is retried in full.
 */
const FIRST_CONTACT_RETRIES = 1;
/** Projects (by URL; a client of no known URL by itself) that answered this process: the lease's own client is one more of a project's. */
const answered = new Set<unknown>();
const TIMEOUT_HINT =
  `Check the network and that the project answers (its dashboard's API logs; right after a migration PostgREST reloads its schema cache, ` +
  `which takes a while over thousands of tables or partitions, and answers once it has). A link slower than ${SLOW_LINK_BYTES_PER_SECOND / 1_000_000} MB/s ` +
  'makes large requests time out: lower tables.<name>.batchSize in supasync.config.json, or sync over the direct path (SUPABASE_*_DB_URL, --via postgres).';

/**
 * `answer`: the shape the function answers in, checked as it arrives (a
 * function of another version says so here, not as a wrong number later).
 * Pages of rows go unchecked: they are checked by the rows' own count and
 * are too many to walk twice.
 */
export async function callRpc<T>(
  supabase: SupabaseClient,
  name: string,
  args: Record<string, unknown>,
  options: { retries?: number; onRetry?: OnRetry; answer?: z.ZodType<T> } = {},
): Promise<T> {
  let timeouts = 0;
  let unreached = 0;
  return pRetry(
    async () => {
      const { data, error, status } = await supabase.rpc(name, args);
      if (status !== 0) answered.add(projectOf(supabase) ?? supabase);
      if (!error) return options.answer ? checkAnswer(name, options.answer, data) : (data as T);
      if (status === 0 && !answered.has(projectOf(supabase) ?? supabase) && error.message.endsWith('fetch failed') && ++unreached > FIRST_CONTACT_RETRIES) {
        throw new AbortError(new RpcFailure('transient', 0, '', error.message, error.details));
      }
      if (status === 0 && isRequestTimeout(error.message)) {
        // supabase-js puts the error's stack in `details`: the message says it all.
        const failure = new RpcFailure('transient', 0, '', error.message, undefined, TIMEOUT_HINT);
        if (++timeouts > TIMEOUT_RETRIES) throw new AbortError(failure);
        throw failure;
      }
      const hint = error.hint || hintFor(error.message);
      const failure = new RpcFailure(classify(status, error.code ?? ''), status, error.code ?? '', error.message, error.details, hint);
      if (failure.kind !== 'transient') throw new AbortError(failure);
      throw failure;
    },
    {
      retries: options.retries ?? 6,
      minTimeout: 250,
      maxTimeout: 8_000,
      factor: 2,
      // Told only of failures sent again: p-retry calls this for the last failure too, and a caller that
      // retries in its own way (keyless-writes.ts: `retries: 0`) counts its retry itself.
      onFailedAttempt: ({ error, retriesLeft }) => {
        if (retriesLeft > 0 && error instanceof RpcFailure) options.onRetry?.(error);
      },
    },
  ).catch((error: unknown) => {
    throw error instanceof AbortError ? error.originalError : error;
  });
}

function checkAnswer<T>(name: string, answer: z.ZodType<T>, data: unknown): T {
  const parsed = answer.safeParse(data);
  if (parsed.success) return parsed.data;
  const shape = z.prettifyError(parsed.error).replace(/\n/g, '; ');
  throw new AbortError(
    new RpcFailure(
      'fatal',
      200,
      '',
      `${name} answered in a shape supasync does not know (${shape})`,
      undefined,
      `Update supasync's functions: ${commandLine('install-rpcs')}`,
    ),
  );
}

/**
 * What to do about a failure an older project's functions cause: before
 * version 8 every write was an ON CONFLICT on the key, which PostgreSQL
 * refuses where the key is DEFERRABLE.
 */
function hintFor(message: string): string | undefined {
  if (message.includes('does not support deferrable unique constraints')) {
    return `the table's key is DEFERRABLE; supasync's functions of version 8 or later write it without ON CONFLICT. Update them: ${commandLine('install-rpcs')} --staging`;
  }
  return undefined;
}

/** PostgREST's or PostgreSQL's words for a failure, one line plus detail. */
export function describeFailure(failure: RpcFailure, url = 'the project'): string {
  const unreachable = describeUnreachable(failure, url);
  if (unreachable) return unreachable;
  const status = failure.status === 0 ? 'no response' : `HTTP ${failure.status}`;
  return [
    `${failure.message} (${[status, failure.code].filter(Boolean).join(', ')})`,
    failure.details ? `  detail: ${failure.details}` : '',
    failure.hint ? `  hint: ${failure.hint}` : '',
    knownCause(failure),
  ]
    .filter(Boolean)
    .join('\n');
}

/** What PostgreSQL's error means for supasync's functions, where its own words do not say. */
function knownCause(failure: RpcFailure): string {
  if (failure.code === '42883' && failure.message.includes('supasync_private.')) {
    return `  cause: the project's supasync functions are incomplete (supasync_private dropped, or a migration half applied): install them again, ${commandLine('install-rpcs')} --production or --staging`;
  }
  const missing = failure.code === 'PGRST202' ? /function (?:public\.)?(supasync_\w+)\(/.exec(failure.message)?.[1] : undefined;
  if (missing) {
    // Read by version where it matters (functionsVersion); this one is missing whatever supasync_version() says: a file not applied, or applied in part.
    const file = migrationDefining(missing);
    return (
      `  cause: the project lacks ${missing}(), ${file ? `which supabase/migrations/${file} installs` : "one of supasync's functions"} ` +
      `(not applied there, applied in part, or of another version than the other files): install them again, ${commandLine('install-rpcs')} --production or --staging`
    );
  }
  if (failure.code === 'PGRST002') {
    // PostgREST's own words end "Retrying.": it retries its schema cache, supasync has stopped retrying the request.
    return "  cause: the project's API could not reach its database (PostgREST's schema cache); supasync retried the request and stopped: check the project is up (Dashboard), then run again";
  }
  if (failure.code === '57014') {
    return (
      "  cause: the request ran past the statement timeout of the role PostgREST runs it as (a large schema's catalog, a large table's checksums, " +
      'a partitioned table of thousands of partitions, which each statement over it plans whole, ' +
      "or a lock another session holds on a table it reads: a migration, a long transaction, an app's LOCK TABLE, which pg_stat_activity names): " +
      "the direct path (SUPABASE_*_DB_URL) has none; or raise it, ALTER ROLE service_role SET statement_timeout = '2min'; NOTIFY pgrst, 'reload config'"
    );
  }
  return '';
}
