// One run writes a staging at a time. Two at once interleave their writes:
// two replaces over REST both exited 0 with a keyless table holding both
// runs' rows, and the second run's backup held the first's half-written
// tables. A run holds staging from before its first write to its end: a
// direct run by an advisory lock its connection keeps (postgres/lease.ts),
// a REST run, whose requests are each their own transaction, by a lease row
// it renews (rest/lease.ts). Each path sees the other's hold.
import { hostname } from 'node:os';
import { DatabaseError } from '../errors.ts';
import { countOf } from '../counts.ts';

export interface StagingHold {
  /**
   * Ends the hold; never throws (a connection gone ends a direct run's hold by itself, an unrenewed lease expires).
   * `finished`: the run ended well, every row it cleared written again or put back at its table's end: the kept
   * rows are dropped, not looked at.
   */
  release(finished?: boolean): Promise<HoldEnded>;
}

/** What ending a hold did: over REST, what it put back of the rows the run cleared to write afresh. */
export interface HoldEnded {
  putBack: PutBack[];
  /** Why staging could not be told the run ended (REST: the lease stays until it lapses); null when it was. */
  notGivenUp: string | null;
}

export const HOLD_GIVEN_UP: HoldEnded = { putBack: [], notGivenUp: null };

/**
 * A table's rows a REST re-sync cleared to write production's version
 * afresh, put back where staging then held no version of them (refused, or
 * never written: the run stopped): supasync_private.put_back_held.
 */
export interface PutBack {
  table: string;
  /** Rows the run cleared and kept. */
  held: number;
  /** Of those, put back as staging held them. */
  putBack: number;
  /** Could not go back (another row holds one of their unique values now); `error` is the first one's reason. */
  left: number;
  error: string | null;
}

/** What putting cleared rows back did, for the person at the terminal; null: nothing to say. */
export function describePutBack(putBack: PutBack[], whose: string): string | null {
  const back = putBack.filter((table) => table.putBack);
  const left = putBack.filter((table) => table.left || (table.error && !table.held));
  const lines = [
    ...(back.length
      ? [
          `Put back ${countOf(
            back.reduce((sum, table) => sum + table.putBack, 0),
            'staging row',
          )} ${whose} cleared to write afresh and did not (${back.map((table) => `${table.table}: ${table.putBack}`).join(', ')}): as staging held them before.`,
        ]
      : []),
    ...left.map((table) =>
      table.held
        ? `${countOf(table.left, 'row')} of ${table.table} could not go back (${table.error ?? 'refused'}): the run's backup holds them (restore-staging.ts).`
        : `Putting back the rows ${whose} cleared failed (${table.error}): they are kept in staging, and the next run to write it puts them back.`,
    ),
  ];
  return lines.length ? lines.join('\n') : null;
}

/** How long a REST run's lease lasts unrenewed: a run stopped with kill -9 keeps others out this long at most. */
export const LEASE_SECONDS = 60;
/** A REST run renews its lease this often. */
export const RENEW_EVERY_SECONDS = 10;
/** A lease renewed within this long belongs to a run still going: another run is refused, not made to wait. */
export const ALIVE_WITHIN_SECONDS = 25;

/** What a run holding staging is, for the person another run refuses: command, host and process. */
export function describeThisRun(what: string): string {
  return `${what} from ${hostname()}, process ${process.pid}`;
}

/** A lease as staging keeps it (supasync_private.run_lease). */
export interface LeaseHolder {
  about: string;
  takenAt: string;
  heardSecondsAgo: number;
  endsInSeconds: number;
}

export function otherRunIsWriting(holder: LeaseHolder): DatabaseError {
  return new DatabaseError(
    `Another supasync run is writing this staging: ${holder.about}, since ${holder.takenAt}, last heard from ${Math.round(holder.heardSecondsAgo)} s ago. ` +
      'Two runs at once would interleave their writes (and their backups). Run this again once it has ended; in CI, give every job that writes ' +
      'this staging one concurrency group (docs/ci.md). Nothing was changed.',
  );
}

/** A lease not renewed lately: its run stopped (kill -9, a machine gone) without giving it up. */
export function stoppedRun(holder: LeaseHolder): string {
  return `An earlier run holds staging (${holder.about}) but was last heard from ${Math.round(holder.heardSecondsAgo)} s ago: it stopped without letting go.`;
}

/**
 * Whether the run holding a lease was started on this machine (its `about`
 * names this host) and its process is gone: killed outright a moment ago, it
 * is known stopped before its lease goes unrenewed. Another machine's run,
 * or one whose process may be alive, is not.
 */
export function stoppedOnThisMachine(holder: LeaseHolder): boolean {
  const started = / from (.+), process (\d+)$/.exec(holder.about);
  if (!started || started[1] !== hostname()) return false;
  try {
    process.kill(Number(started[2]), 0);
    return false;
  } catch (error) {
    // EPERM: a process of another user's is there.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * What ending a hold did, for the person at the terminal (with describePutBack's lines); null: nothing to say.
 * A lease not given up keeps the next run waiting until it lapses, and the rows it cleared stay kept for that run.
 */
export function describeHoldEnded(ended: HoldEnded, whose: string): string | null {
  const lines = [
    describePutBack(ended.putBack, whose),
    ended.notGivenUp
      ? `Staging could not be told this run ended (${ended.notGivenUp}): its hold lapses within ${LEASE_SECONDS} s, and a run started ` +
        'before then waits for it; any rows this run cleared to write afresh are kept in staging, and that run puts them back first.'
      : null,
  ].filter(Boolean);
  return lines.length ? lines.join('\n') : null;
}

/** What a run says of a lease whose process it knows gone (stoppedOnThisMachine). */
export function stoppedHere(holder: LeaseHolder): string {
  return `An earlier run holds staging (${holder.about}), and that process is no longer running on this machine: it stopped without letting go.`;
}
