// A direct run's hold on staging (staging-hold.ts says why): advisory lock
// (1937076321, 2), taken for the connection's session, so a run killed
// outright lets go as its connection closes. Every REST write of
// supasync's needs that lock shared, so none lands while a direct run
// holds it; and a REST run's lease (supasync_private.run_lease), which a
// staging marked with supasync's functions before version 22 lacks, is
// read before and after taking it.
import type pg from 'pg';
import { DatabaseError } from '../../errors.ts';
import { runShared } from '../../sql/shared.ts';
import { privateTable } from './private-table.ts';
import { refuseReadOnly } from './read-only.ts';
import {
  ALIVE_WITHIN_SECONDS,
  describePutBack,
  HOLD_GIVEN_UP,
  otherRunIsWriting,
  stoppedHere,
  stoppedOnThisMachine,
  stoppedRun,
  type HoldEnded,
  type LeaseHolder,
  type PutBack,
  type StagingHold,
} from '../staging-hold.ts';

/** As long as settle-writes.ts waits for a REST batch still in flight: a request lives about 60 s behind Supabase's gateway. */
const WAIT_FOR_WRITES_SECONDS = 65;

export async function holdStagingOverPostgres(client: pg.ClientBase, say: (line: string) => void): Promise<StagingHold> {
  await refuseReadOnly(client);
  await refuseLiveLease(client, say);
  const deadline = Date.now() + WAIT_FOR_WRITES_SECONDS * 1000;
  for (let said = false; ;) {
    const { rows } = await client.query<{ held: boolean }>('SELECT pg_catalog.pg_try_advisory_lock(1937076321, 2) AS held');
    if (rows[0]?.held) break;
    const direct = await runShared<string | null>(client, 'direct_runs', []);
    if (direct) {
      throw new DatabaseError(
        `Another direct supasync run is writing this staging (${direct}). Two runs at once would interleave their writes (and their backups). ` +
          'Run this again once it has ended; in CI, give every job that writes this staging one concurrency group (docs/ci.md). Nothing was changed.',
      );
    }
    // Not a direct run: a REST write holds the lock shared for its transaction, a batch of a run stopped a moment ago.
    if (Date.now() >= deadline) {
      throw new DatabaseError(
        `A write of another supasync run over REST is still running in staging after ${WAIT_FOR_WRITES_SECONDS} s. ` +
          "Wait for it to end and run this again, or end it in staging's SQL editor (pg_stat_activity names it). Nothing was changed.",
      );
    }
    if (!said) say('A write of an earlier supasync run is still running in staging: waiting for it to end before writing.');
    said = true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // A direct run clears nothing outside its one transaction: nothing of its own to put back.
  const release = async (): Promise<HoldEnded> => {
    // A lock not unlocked ends with its connection, which the run closes next.
    await client.query('SELECT pg_catalog.pg_advisory_unlock(1937076321, 2)').catch(() => undefined);
    return HOLD_GIVEN_UP;
  };
  try {
    // A REST run may have taken its lease while this one waited: from now on its writes are refused, so it is told here.
    await refuseLiveLease(client, () => undefined);
    const putBack = describePutBack(await putBackStoppedRuns(client), 'a run stopped part way had');
    if (putBack) say(putBack);
  } catch (error) {
    await release();
    throw error;
  }
  return { release };
}

/**
 * A live REST lease: refused when its run was heard from lately; a run
 * stopped without letting go is said and then passed over, its writes
 * refused once this run holds the lock.
 */
async function refuseLiveLease(client: pg.ClientBase, say: (line: string) => void): Promise<void> {
  const holder = await readLease(client);
  if (!holder) return;
  const goneHere = stoppedOnThisMachine(holder);
  if (holder.heardSecondsAgo < ALIVE_WITHIN_SECONDS && !goneHere) throw otherRunIsWriting(holder);
  say(`${goneHere ? stoppedHere(holder) : stoppedRun(holder)} Its writes are refused while this run holds staging, so this run goes ahead.`);
}

/**
 * The rows REST runs stopped outright had cleared to write afresh (kept in
 * supasync_private.cleared_rows, functions version 23), put back before this
 * run reads staging, as the next REST run to take staging puts them back.
 * Only where staging's functions keep such rows and this role may run them
 * (their owner); elsewhere none are kept, or a REST run puts them back.
 */
async function putBackStoppedRuns(client: pg.ClientBase): Promise<PutBack[]> {
  // A staging marked alone (install-rpcs --mark-only) has the table and none of the functions.
  if (!(await privateTable(client, 'cleared_rows')).readable) return [];
  const { rows: may } = await client.query<{ may: boolean }>(
    `SELECT COALESCE(pg_catalog.bool_or(pg_catalog.has_function_privilege(p.oid, 'EXECUTE')), false) AS may
     FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'supasync_private' AND p.proname = 'put_back_once'`,
  );
  if (!may[0]?.may) return [];
  const { rows } = await client.query<{ put_back: PutBack[] }>(
    `SELECT supasync_private.put_back_once(kept.run) AS put_back FROM (SELECT DISTINCT run FROM supasync_private.cleared_rows) kept`,
  );
  return rows.flatMap((row) => row.put_back);
}

async function readLease(client: pg.ClientBase): Promise<LeaseHolder | null> {
  // A staging marked before version 22 has no lease table.
  if (!(await privateTable(client, 'run_lease')).readable) return null;
  return runShared<LeaseHolder | null>(client, 'live_lease', []);
}

/** The run holding staging now, as a person tells it (a dry run and verify say so); null: none. */
export async function heldByPostgres(client: pg.ClientBase): Promise<string | null> {
  const direct = await runShared<string | null>(client, 'direct_runs', []);
  if (direct) return `a direct run (${direct})`;
  const lease = await readLease(client);
  return lease ? `${lease.about}, since ${lease.takenAt}, last heard from ${Math.round(lease.heardSecondsAgo)} s ago` : null;
}
