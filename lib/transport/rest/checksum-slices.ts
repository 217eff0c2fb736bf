// Verify's checksums over REST, of a table of many rows: one statement
// hashing every row (md5 of its text) outlasted the role's statement timeout
// (8 s on Supabase; 5,000,000 rows took 7 s here). Such a table (by this
// side's size: table-sizes.ts) is asked about in the slices of its blocks a
// re-sync's key ranges use (slices.ts), a request each, and the answers add up: a
// table's or a bucket's rows and hash by sum, listed rows together.
// Functions before version 27 take no row filter: they are asked whole.
import type { ChecksumAnswer, ChecksumLevel, ChecksumTarget, BucketSum, RowHash, TableSum } from '../checksum.ts';
import type { TableRef } from '../../catalog/types.ts';
import type { Limited } from '../../connect/request-limit.ts';
import { slicesOf } from './slices.ts';
import type { TableSize } from './table-sizes.ts';

/** Functions that take supasync_checksum's row_filter. */
export const CHECKSUM_SLICES_SINCE = 27;

type AskChecksum = (target: ChecksumTarget, level: ChecksumLevel) => Promise<ChecksumAnswer>;

export function slicedChecksum(
  askWhole: AskChecksum,
  functionsVersion: () => Promise<number>,
  sizeOf: (table: TableRef) => Promise<TableSize | null>,
  slots: Limited,
): AskChecksum {
  return async (target, level) => {
    const slices = slicesOf(target, level.rowFilter ?? null, await sizeOf(target.table));
    if (slices.length === 1) return askWhole(target, level);
    if ((await functionsVersion().catch(() => 0)) < CHECKSUM_SLICES_SINCE) return askWhole(target, level);
    const answers = await Promise.all(slices.map((slice) => slots(() => askWhole(target, { ...level, rowFilter: slice.rowFilter }))));
    if (level.buckets === undefined) return addTableSums(answers as TableSum[]);
    if (!level.onlyBuckets) return addBucketSums(answers as BucketSum[][]);
    return (answers as RowHash[][]).flat().slice(0, level.rowLimit ?? 1000);
  };
}

function addTableSums(parts: TableSum[]): TableSum {
  const rows = parts.reduce((sum, part) => sum + BigInt(part.rows), 0n);
  const hash = parts.reduce((sum, part) => sum + BigInt(part.hash), 0n);
  return { rows: rows.toString(), hash: hash.toString() };
}

function addBucketSums(parts: BucketSum[][]): BucketSum[] {
  const total = new Map<number, { rows: bigint; hash: bigint }>();
  for (const { bucket, rows, hash } of parts.flat()) {
    const sum = total.get(bucket) ?? { rows: 0n, hash: 0n };
    total.set(bucket, { rows: sum.rows + BigInt(rows), hash: sum.hash + BigInt(hash) });
  }
  return [...total].sort(([a], [b]) => a - b).map(([bucket, sum]) => ({ bucket, rows: sum.rows.toString(), hash: sum.hash.toString() }));
}
