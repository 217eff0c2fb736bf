// Before a REST run or restore writes staging: the writes of an earlier run
// still running there are waited for (supasync_settle_writes). A run stopped
// with Ctrl-C has exited, but the request PostgREST was serving for it goes
// on and commits when it ends: after a restore started right away, its batch
// would land under the restored rows, and staging would hold neither the
// backup nor the run's result, without a word.
import type { SupabaseClient } from '@supabase/supabase-js';
import { DatabaseError } from '../../errors.ts';
import { callRpc, RpcFailure } from './rpc.ts';

/** Each request waits this long at most: well inside service_role's 8 s statement timeout. */
const WAIT_PER_REQUEST_SECONDS = 5;
/** A request lives about 60 s at most behind Supabase's API gateway: a write older than that is no batch of ours in flight. */
const WAIT_IN_ALL_SECONDS = 65;

/** `say` is told once, when a write is found still running. */
export async function settleEarlierWrites(supabase: SupabaseClient, say: (line: string) => void): Promise<void> {
  const deadline = Date.now() + WAIT_IN_ALL_SECONDS * 1000;
  // Asked first without waiting: a run that waits says so before it does.
  let said = false;
  for (let asked = 0; ; asked++) {
    try {
      // Not retried by callRpc: PostgREST answers lock_not_available with 503, which it would retry for 16 s before this loop heard.
      await callRpc(supabase, 'supasync_settle_writes', { wait_seconds: asked ? WAIT_PER_REQUEST_SECONDS : 0 }, { retries: 0 });
      return;
    } catch (error) {
      // Functions before version 21 take no lock in their writes: there is nothing to wait on.
      if (error instanceof RpcFailure && error.code === 'PGRST202') return;
      if (!(error instanceof RpcFailure) || !(error.code === '55P03' || error.kind === 'transient')) throw error;
      // Another failure that passes (a 503 of the gateway's, a connection dropped) is asked again until the deadline, as callRpc would.
      if (error.code !== '55P03') {
        if (Date.now() >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (Date.now() >= deadline) {
        throw new DatabaseError(
          `${error.message}, after ${WAIT_IN_ALL_SECONDS} s. It is a batch of a run stopped part way, or another run writing staging now. ` +
            "Wait for it to end and run this again, or end it in staging's SQL editor: SELECT pg_cancel_backend(<backend>). Nothing was changed.",
          1,
          { cause: error },
        );
      }
      if (!said) say('A write of an earlier supasync run is still running in staging: waiting for it to end before writing.');
      said = true;
    }
  }
}
