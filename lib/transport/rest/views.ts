// Over REST, the materialized views that read the tables a run wrote are
// refreshed by staging's supasync_refresh_views (see transport/postgres/views.ts
// for the direct path's, and the write migration for which views, in which order).
import type { SupabaseClient } from '@supabase/supabase-js';
import type { TableRef } from '../../catalog/types.ts';
import { commandLine } from '../../invocation.ts';
import type { ViewRefresh } from '../session.ts';
import { ANSWERS } from './answers.ts';
import { callRpc, RpcFailure } from './rpc.ts';

export async function refreshViewsOverRest(staging: SupabaseClient, written: TableRef[], onRetry: () => void): Promise<ViewRefresh[]> {
  if (!written.length) return [];
  const tables = written.map(({ schema, name }) => ({ schema, name }));
  return callRpc(staging, 'supasync_refresh_views', { tables }, { onRetry, answer: ANSWERS.viewRefreshes }).catch((error: unknown) => {
    // Functions older than version 12 have none: the rows are in, the views stay as they were.
    if (error instanceof RpcFailure && error.code === 'PGRST202') {
      const reason = `staging's supasync functions are older than version 12, which refreshes them: update them (${commandLine('install-rpcs')} --staging)`;
      return [{ view: "staging's materialized views", refreshed: false, reason }];
    }
    throw error;
  });
}
