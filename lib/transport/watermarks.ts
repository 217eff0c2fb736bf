// What --mode incremental keeps and reads: staging's watermark per table
// (supasync_private.watermarks) and production's clock, from which the next
// watermark is taken (supasync_private.clock_query).

/** Where a table's incremental sync stands: the next run reads the rows whose `column` is at or after `since` (ISO 8601, UTC). */
export interface Watermark {
  schema: string;
  name: string;
  column: string;
  since: string;
}

export interface ProductionClock {
  /** Where the next run may read from: the earlier of now() and the oldest open transaction's start, less the overlap. */
  since: string;
  now: string;
  /** The start of the oldest transaction open in production that the reading role can see; null: none seen. */
  oldestTransaction: string | null;
}
