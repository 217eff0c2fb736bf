// Which supasync functions a project holds, asked once per client: the
// database's questions, the load's checks and the reads of tables older
// functions cannot read each needed it, and each asking was a request.
import type { SupabaseClient } from '@supabase/supabase-js';
import * as z from 'zod';
import { callRpc, RpcFailure } from './rpc.ts';

const asked = new WeakMap<SupabaseClient, Promise<number>>();

/**
 * supasync_version() of the client's project: 0 for functions from before
 * versions were recorded (no such function). A failed asking rejects with
 * its RpcFailure and is not kept: the next question asks again.
 */
export function functionsVersionOf(client: SupabaseClient): Promise<number> {
  let version = asked.get(client);
  if (!version) {
    version = callRpc(client, 'supasync_version', {}, { answer: z.number().int() }).catch((error: unknown) => {
      if (error instanceof RpcFailure && error.code === 'PGRST202') return 0;
      asked.delete(client);
      throw error;
    });
    asked.set(client, version);
  }
  return version;
}
