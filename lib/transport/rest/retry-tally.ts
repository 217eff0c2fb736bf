// What a REST run's retries were for. A request that failed in passing (a
// 503 while PostgREST restarts, a connection reset, a deadlock) is sent again
// and the run goes on; the summary says how many and why, so a run that
// retried a lot says whether the network, the project or a lock was to blame.
import { isRequestTimeout } from '../../connect/request-deadline.ts';
import { fetchFailureReason } from '../../errors.ts';
import { countOf } from '../../counts.ts';
import type { RetryReason } from '../session.ts';
import type { OnRetry, RpcFailure } from './rpc.ts';

export class RetryTally {
  private readonly counts = new Map<string, number>();

  /** An OnRetry: pass it where a request may be retried. */
  readonly add: OnRetry = (failure) => {
    const reason = retryReason(failure);
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  };

  /** The most frequent first. */
  reasons(): RetryReason[] {
    return [...this.counts].map(([reason, requests]) => ({ reason, requests })).sort((a, b) => b.requests - a.requests || a.reason.localeCompare(b.reason));
  }
}

export const retriedRequests = (reasons: readonly RetryReason[]): number => reasons.reduce((sum, retry) => sum + retry.requests, 0);

/** "the connection was reset (6 requests), HTTP 503 (1 request)" */
export const describeRetries = (reasons: readonly RetryReason[]): string =>
  reasons.map((retry) => `${retry.reason} (${countOf(retry.requests, 'request')})`).join(', ');

/** The transient failures' codes (rpc.ts), in words: PostgREST's own messages run long. */
const CODE_WORDS: Record<string, string> = {
  '40001': 'serialization failure',
  '40P01': 'deadlock',
  '53300': 'too many connections',
  '57P01': 'the server ended the session',
  PGRST000: 'PostgREST could not connect to the database',
  PGRST001: 'PostgREST lost its database connection',
  PGRST002: 'PostgREST could not load its schema cache',
  PGRST003: 'PostgREST had no free database connection in time',
};

export function retryReason(failure: RpcFailure): string {
  if (failure.status === 0) return isRequestTimeout(failure.message) ? 'no answer in time' : (fetchFailureReason(failure) ?? failure.message);
  if (!failure.code) return `HTTP ${failure.status}`;
  return `HTTP ${failure.status} ${failure.code}: ${CODE_WORDS[failure.code] ?? failure.message.split('\n')[0]?.slice(0, 80)}`;
}
