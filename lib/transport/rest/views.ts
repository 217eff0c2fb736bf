// Over REST, the materialized views that read the tables a run wrote are
// refreshed by staging's supasync_refresh_views (see transport/postgres/views.ts
// for the direct path's, and the write migration for which views, in which order).
import type { SupabaseClient } from '@supabase/supabase-js';
import type { TableRef } from '../../catalog/types.ts';
import { commandLine } from '../../invocation.ts';
import { viewsArgument } from '../reads.ts';
import type { ViewRefresh } from '../session.ts';
import { ANSWERS } from './answers.ts';
import { callRpc, describeFailure, RpcFailure, type OnRetry } from './rpc.ts';

/**
 * The rows are in by now: a refresh that cannot be asked for (functions older
 * than version 12, a request past its time limit) is said, not a failed run.
 */
export async function refreshViewsOverRest(staging: SupabaseClient, written: TableRef[], onRetry: OnRetry): Promise<ViewRefresh[]> {
  if (!written.length) return [];
  return callRpc(staging, 'supasync_refresh_views', { tables: viewsArgument(written) }, { onRetry, answer: ANSWERS.viewRefreshes }).catch((error: unknown) => {
    const reason =
      error instanceof RpcFailure && error.code === 'PGRST202'
        ? `staging's supasync functions are older than version 12, which refreshes those that read the changed tables: update them (${commandLine('install-rpcs')} --staging)`
        : `asking staging to refresh them failed: ${error instanceof RpcFailure ? describeFailure(error) : (error as Error).message}`;
    return [{ view: "staging's materialized views", refreshed: false, reason }];
  });
}
