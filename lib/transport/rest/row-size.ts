// How much one REST request carries, and what happens to a row that does
// not fit. Pages are cut by bytes inside PostgreSQL (supasync_read_rows'
// max_bytes), so even a table's first page is bounded; a row is never split
// across requests, so a row larger than one request may carry is refused by
// its key and size, with the direct path as the way to copy it.
import { DatabaseError } from '../../errors.ts';
import { formatBytes } from '../../connect/request-deadline.ts';

/** A row as it travels over REST: each value's text, NULL as null. */
export type Row = (string | null)[];

/** A page's bytes: big enough to amortise a request's latency, small enough to cross a slow link in seconds. */
export const PAGE_BYTES = 2 * 1024 * 1024;
/** The first page of a table is smaller, so its first write starts while the next page is read. */
export const FIRST_PAGE_BYTES = 256 * 1024;
/** Rows per page at most: a second pass's UPDATE by key of this many rows stays far inside the 8 s statement timeout. */
export const MAX_PAGE_ROWS = 5_000;

/**
 * The largest row REST carries, in bytes of its values' text. Such a row
 * travels alone, as one answer from production and one request to staging:
 * at 1 MB/s it takes 32 s each way, inside the Supabase gateway's 60 s
 * with room for the server's work, which for such a row is 1-2 s of
 * service_role's 8 s (detoasting it and writing it as JSON). Far below PostgreSQL's own
 * limits too (256 MB for a jsonb value, 1 GB for any value).
 */
export const MAX_ROW_BYTES = 32_000_000;

/**
 * About what a row weighs as JSON, and as supasync_read_rows counts it: each value's text and a few bytes.
 * Characters, not bytes: cheap enough for every row written. Where being under the function's count would
 * be wrong (is a page the table's last?), pageBytesCounted counts as it does.
 */
export function rowBytes(row: Row): number {
  let bytes = 8;
  for (const value of row) bytes += 4 + (value?.length ?? 0);
  return bytes;
}

/**
 * At least the bytes supasync_read_rows counted for a page before it stopped,
 * `limit` at most (counting stops there). It counts each row's jsonb array:
 * 8 bytes, 4 a value, each value's UTF-8; or, where that could be a sixth of
 * a bound, the larger of it and the jsonb's text, the values JSON-quoted with
 * ", " between them. The larger of the two counts here, for every row.
 */
export function pageBytesCounted(rows: Row[], limit: number): number {
  let bytes = 0;
  for (const row of rows) {
    let binary = 8;
    for (const value of row) binary += 4 + (value === null ? 0 : Buffer.byteLength(value));
    const text = Buffer.byteLength(JSON.stringify(row)) + Math.max(0, row.length - 1);
    bytes += Math.max(binary, text);
    if (bytes >= limit) return limit;
  }
  return bytes;
}

/** The error for a row too large for one request: which row, how big, and the way out. */
export function rowTooLarge(table: string, key: string, bytes: number): DatabaseError {
  return new DatabaseError(
    `${table}: the row ${key} holds ${formatBytes(bytes)}, more than the ${formatBytes(MAX_ROW_BYTES)} supasync sends in one REST request ` +
      "(a row is never split, and one request must finish well inside Supabase's 60 s gateway limit). " +
      `Copy ${table} over the direct path, which streams rows of any size: set SUPABASE_PROD_DB_URL and SUPABASE_STAGING_DB_URL and run with --via postgres. ` +
      'Or leave the table out of this run with --exclude.',
    1,
    { sameOnRerun: true },
  );
}

/**
 * A page's rows as requests: a row of a page's size or more alone, the rest
 * together. A page read ends with the row that crossed its budget, so a
 * large row comes after up to a page of others.
 */
export function requestsOf(rows: Row[]): Row[][] {
  const requests: Row[][] = [];
  let together: Row[] = [];
  for (const row of rows) {
    if (rowBytes(row) < PAGE_BYTES) {
      together.push(row);
      continue;
    }
    if (together.length) requests.push(together);
    requests.push([row]);
    together = [];
  }
  if (together.length) requests.push(together);
  return requests;
}
