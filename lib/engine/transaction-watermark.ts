// Incremental sync of a table without an updated_at: by xmin, the id of the
// transaction that wrote each row version. A row inserted or updated after a
// run's snapshot carries an xmin at or after that snapshot's oldest running
// transaction, which is the watermark kept: no clock, no overlap to guess, a
// transaction that commits late is still at or after it. Rows are compared to
// it with age(), which counts back from the current transaction modulo 2^32
// as xmin itself is stored: exact while the watermark is less than 2^31
// transactions old. Deletes are not rows: key-range checksums find them.
import { TRANSACTION_IDS } from '../plan/mode.ts';
import type { DatabaseClock, Watermark } from '../transport/watermarks.ts';

/**
 * How old a watermark may be, in transactions, and still be compared to
 * xmin: well inside age()'s 2^31, past which a row's id would read as
 * newer or older than it is.
 */
const NEWEST_SAFE_AGE = 1_000_000_000n;

export const followsTransactions = (column: string | null): boolean => column === TRANSACTION_IDS;

/**
 * The kept watermark, or null when it cannot bound this production's rows:
 * a transaction id ahead of production's own (another database: a restored
 * or a different production) or too old for age(). The table is then
 * compared whole, as on its first run.
 */
export function usableTransactionWatermark(kept: Watermark | undefined, clock: DatabaseClock): Watermark | undefined {
  if (!kept) return undefined;
  const age = BigInt(clock.xmin) - BigInt(kept.since);
  return age >= 0n && age <= NEWEST_SAFE_AGE ? kept : undefined;
}

/** The rows written by transactions from `since` (64-bit, decimal) on, as a condition over the table's rows. */
export function writtenSince(since: string): string {
  const wrapped = BigInt(since) % 2n ** 32n;
  return `pg_catalog.age(xmin) <= pg_catalog.age('${wrapped}'::xid)`;
}
