// What a content checksum covers and at which level. The query itself is
// supasync_private.checksum_query in *_supasync_read.sql, the same for both
// paths (lib/sql/shared.ts); each database computes its own.
import type { TableRef } from '../catalog/types.ts';

export interface ChecksumTarget {
  table: TableRef;
  columns: string[];
  keyColumns: string[];
  /** Production's estimate of its rows, where known: over REST, questions gathered into one request are kept to a few such rows. */
  rowEstimate?: number;
  /** Production's blocks, where known: over REST a table of many rows is asked about in slices of them (rest/slices.ts). */
  pages?: number | null;
  /** Beside `columns`, a type to hash each cast to (null: as it is); functions version 36 (plan/compared-types.ts). */
  columnTypes?: (string | null)[] | null;
}

export interface ChecksumLevel {
  /** Spread rows over this many buckets by their key's hash; none: the whole table at once. */
  buckets?: number;
  /** List each row's key and hash in these buckets. */
  onlyBuckets?: number[];
  rowLimit?: number;
  /** Only the rows this SQL condition picks: over REST a slice of a large table's blocks (rest/checksum-slices.ts; functions version 27). */
  rowFilter?: string | null;
}

/** A table's row count and hash, as text: a sum of 60-bit hashes passes 2^53. */
export interface TableSum {
  rows: string;
  hash: string;
}

/** The same for the rows whose key falls in one bucket. */
export interface BucketSum extends TableSum {
  bucket: number;
}

/** One row of a listed bucket: its key as ROW(...)::text and its hash. */
export interface RowHash {
  key: string;
  hash: string;
}

/** What each level answers: the table's sum, each bucket's, or the rows of the buckets listed. */
export type ChecksumAnswer = TableSum | BucketSum[] | RowHash[];

/**
 * Functions that hash columns cast (checksum_query's column_types). Older
 * ones are asked without: a column whose type staging changed is then
 * compared by its text as each side writes it, as before.
 */
export const COLUMN_TYPES_SINCE = 36;

/** supasync_private.checksum_query's arguments, on either path. */
export function checksumArgs(
  target: ChecksumTarget,
  level: ChecksumLevel,
): [string, string, string[], string[], number | null, number[] | null, number, string | null, (string | null)[] | null] {
  return [
    target.table.schema,
    target.table.name,
    target.columns,
    target.keyColumns,
    level.buckets ?? null,
    level.onlyBuckets ?? null,
    level.rowLimit ?? 1000,
    level.rowFilter ?? null,
    target.columnTypes ?? null,
  ];
}

/** Key range -> "rows:hash" of its rows; a range without rows is absent. */
export type RangeSums = Map<number, string>;

/** supasync_private.range_sums_query's compact answer, "range:rows:hash,...", read. */
export function parseRangeSums(text: string): RangeSums {
  const sums: RangeSums = new Map();
  if (!text) return sums;
  for (const entry of text.split(',')) {
    const colon = entry.indexOf(':');
    sums.set(Number(entry.slice(0, colon)), entry.slice(colon + 1));
  }
  return sums;
}

/** range_sums_query's [key, hash] pairs (its rows one by one) as key (its values as JSON) -> hash. */
export function keyedHashes(rows: [(string | null)[], string][]): Map<string, string> {
  return new Map(rows.map(([key, hash]) => [JSON.stringify(key), hash]));
}
