// What --mode incremental keeps and reads: staging's watermark per table
// (supasync_private.watermarks) and production's clock, from which the next
// watermark is taken (supasync_private.clock_query).

/**
 * Where a table's incremental sync stands: the next run reads the rows whose
 * `column` is at or after `since` (ISO 8601, UTC); for the column `xmin`,
 * the rows written by production's transactions from
 * `since` on (a 64-bit transaction id, as decimal text).
 */
export interface Watermark {
  schema: string;
  name: string;
  column: string;
  since: string;
  /** The production it was read from (its cluster's system identifier); null: not known (unreadable, or kept by an older supasync). */
  system?: string | null;
}

/**
 * A database's clock and transactions (supasync_private.clock_query): production's for an incremental run's next
 * watermark; staging's `xmin` for the rows a re-sync writes (its other fields then unused).
 */
export interface DatabaseClock {
  /** Where the next run may read from: the earlier of now() and the oldest open transaction's start, less the overlap. */
  since: string;
  now: string;
  /** The start of the oldest transaction open in the database that the reading role can see; null: none seen. */
  oldestTransaction: string | null;
  /** The oldest transaction still running at the read's snapshot (64-bit id, decimal): where the next run reads xmin from. */
  xmin: string;
  /** The cluster's system identifier, kept with each watermark; null where the reading role may not see it. */
  system: string | null;
}
