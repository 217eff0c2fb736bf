// One run writes a staging at a time. Two at once interleave their writes:
// two replaces over REST both exited 0 with a keyless table holding both
// runs' rows, and the second run's backup held the first's half-written
// tables. A run holds staging from before its first write to its end: a
// direct run by an advisory lock its connection keeps (postgres/lease.ts),
// a REST run, whose requests are each their own transaction, by a lease row
// it renews (rest/lease.ts). Each path sees the other's hold.
import { hostname } from 'node:os';
import { DatabaseError } from '../errors.ts';

export interface StagingHold {
  /** Ends the hold; never throws (a connection gone ends a direct run's hold by itself, an unrenewed lease expires). */
  release(): Promise<void>;
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
