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
  /**
   * What the run that wrote it copied (engine/watermark-columns.ts): its columns, their types and masks, as a short
   * hash; `restored` where a restore put rows back since; null: not known (kept by functions before version 29).
   */
  columns?: string | null;
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

/**
 * Kept by a restore as the watermark's production and what it copied: staging's rows are a backup's, whatever the
 * watermark says (as the production, any functions version keeps it).
 */
export const RESTORED = 'restored';

/** The watermarks of the tables a restore puts back, marked so: their next incremental run compares them whole. */
export function restoredWatermarks(marks: Watermark[], tables: readonly { schema: string; name: string }[]): Watermark[] {
  const restored = new Set(tables.map((table) => JSON.stringify([table.schema, table.name])));
  return marks.filter((mark) => restored.has(JSON.stringify([mark.schema, mark.name]))).map((mark) => ({ ...mark, system: RESTORED, columns: RESTORED }));
}
