// A REST run's hold on staging: the lease row of supasync_private.run_lease
// (staging-hold.ts says why). Taken before the first write, renewed in the
// background, given up at the end or on Ctrl-C. The run's requests carry its
// id (x-supasync-run), so staging's write functions refuse those of any run
// that does not hold the lease, and a run that lost it (unrenewed for a
// minute, then taken over) stops at its next write instead of interleaving.
import type { SupabaseClient } from '@supabase/supabase-js';
import * as z from 'zod';
import { DatabaseError } from '../../errors.ts';
import { onInterrupt } from '../../interrupt.ts';
import {
  ALIVE_WITHIN_SECONDS,
  describeHoldEnded,
  describePutBack,
  HOLD_GIVEN_UP,
  LEASE_SECONDS,
  otherRunIsWriting,
  RENEW_EVERY_SECONDS,
  stoppedHere,
  stoppedOnThisMachine,
  stoppedRun,
  type HoldEnded,
  type StagingHold,
} from '../staging-hold.ts';
import { ANSWERS } from './answers.ts';
import { callRpc, describeFailure, RpcFailure } from './rpc.ts';

const TAKEN = z.union([
  // putBack: absent before version 23.
  z.object({ taken: z.literal(true), tookOverFrom: z.string().nullable(), heardSecondsAgo: z.number().nullable(), putBack: ANSWERS.putBack.optional() }),
  z.object({ taken: z.literal(false), about: z.string(), takenAt: z.string(), heardSecondsAgo: z.number(), endsInSeconds: z.number() }),
]);

/**
 * `client`: staging's, sending `run` as x-supasync-run, and outside the
 * run's cap on requests in flight, so a renewal never queues behind pages.
 * `say` is told of an older version's functions and of waiting out a run
 * that stopped without letting go.
 */
export async function holdStagingOverRest(client: SupabaseClient, run: string, about: string, say: (line: string) => void): Promise<StagingHold> {
  for (let said = false; ;) {
    let answer: z.infer<typeof TAKEN>;
    try {
      answer = await callRpc(client, 'supasync_take_lease', { run, about, seconds: LEASE_SECONDS }, { answer: TAKEN });
    } catch (error) {
      if (error instanceof RpcFailure && error.code === 'PGRST202') {
        say(
          "Staging's supasync functions are older than version 22: they keep no lease, so another run writing staging at the same time would not be kept out. Update them with install-rpcs --staging.",
        );
        return { release: async () => HOLD_GIVEN_UP };
      }
      if (error instanceof RpcFailure && error.code === 'SUPA1') throw new DatabaseError(`${error.message}. ${error.hint ?? ''}`.trim(), 1, { cause: error });
      const detail = error instanceof RpcFailure ? describeFailure(error) : (error as Error).message;
      throw new DatabaseError(`Taking hold of staging before writing: ${detail}\nNothing was changed.`, 1, { cause: error });
    }
    if (answer.taken) {
      if (answer.tookOverFrom) {
        say(
          `Took staging over from a run that stopped without letting go (${answer.tookOverFrom}, last heard from ${Math.round(answer.heardSecondsAgo ?? 0)} s ago).`,
        );
      }
      const putBack = describePutBack(answer.putBack ?? [], 'a run stopped part way had');
      if (putBack) say(putBack);
      return keepRenewing(client, run);
    }
    // A run killed outright on this machine is known stopped before its lease goes unrenewed: waited out, not refused.
    const goneHere = stoppedOnThisMachine(answer);
    if (answer.heardSecondsAgo < ALIVE_WITHIN_SECONDS && !goneHere) throw otherRunIsWriting(answer);
    if (!said) say(`${goneHere ? stoppedHere(answer) : stoppedRun(answer)} Waiting ${Math.ceil(answer.endsInSeconds)} s for its hold to lapse before writing.`);
    said = true;
    await new Promise((resolve) => setTimeout(resolve, Math.min(answer.endsInSeconds * 1000 + 250, LEASE_SECONDS * 1000)));
  }
}

function keepRenewing(client: SupabaseClient, run: string): StagingHold {
  // A renewal that fails is tried at the next tick: a run whose lease lapsed is refused at its next write, server-side.
  const renewing = setInterval(() => {
    callRpc(client, 'supasync_renew_lease', { run, seconds: LEASE_SECONDS }, { retries: 0 }).catch(() => undefined);
  }, RENEW_EVERY_SECONDS * 1000);
  renewing.unref();
  let released = false;
  const release = async (finished = false): Promise<HoldEnded> => {
    if (released) return HOLD_GIVEN_UP;
    released = true;
    clearInterval(renewing);
    stopOnInterrupt();
    const releasing = (args: Record<string, unknown>) => callRpc(client, 'supasync_release_lease', args, { retries: 2 });
    try {
      // Functions of version 22 answer nothing (nothing was kept to put back), and take no `finished` (PostgREST finds no such function).
      const answer = await releasing(finished ? { run, finished } : { run }).catch((error: unknown) => {
        if (finished && error instanceof RpcFailure && error.code === 'PGRST202') return releasing({ run });
        throw error;
      });
      const putBack = ANSWERS.putBack.safeParse(answer);
      return { putBack: putBack.success ? putBack.data : [], notGivenUp: null };
    } catch (error) {
      return { putBack: [], notGivenUp: (error as Error).message.split('\n')[0] ?? 'no answer' };
    }
  };
  // Stopped with Ctrl-C: the next run may begin at once (it waits for this run's batch still in flight, settle-writes.ts);
  // ending the lease puts back what the run cleared and had not written again.
  const stopOnInterrupt = onInterrupt(async () => {
    return describeHoldEnded(await release(), 'this run had') ?? undefined;
  });
  return { release };
}
