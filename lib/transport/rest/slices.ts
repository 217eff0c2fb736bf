// A large table's questions over REST, cut into slices of its blocks (ctid
// ranges, a TID range scan each), a request per slice: one statement hashing
// every row of millions outlasted the role's statement timeout. Disjoint
// rows' answers add up (key-ranges.ts, checksum-slices.ts). Cut by the
// side's own size where its functions tell (table-sizes.ts), and asked a few
// at a time: hashing is the project's CPU.
import type { ChecksumTarget } from '../checksum.ts';
import type { TableSize } from './table-sizes.ts';

const ROWS_PER_SLICE = 500_000;
/** 64 MB of heap: wide rows make a slice of fewer rows. */
const BLOCKS_PER_SLICE = 8_192;

/**
 * Slices of large tables hashed at once on a side. Hashing is the project's
 * CPU: eight slices at a time (--concurrency's default) on two cores made
 * each take four times as long, past the statement timeout (six million rows
 * verified with both sides on one machine), where two at a time finish well
 * inside it. Shared by a side's re-sync questions and verify's checksums.
 */
export const SLICES_AT_ONCE = 2;

/**
 * The table's rows as slices of its blocks where it holds many (by rows or by blocks, this side's own where its
 * functions tell: table-sizes.ts; else production's statistics), each with its own filter and share of the rows;
 * else whole. A partitioned table's slices are ranges of every leaf's blocks, cut by its largest leaf.
 */
export function slicesOf(target: ChecksumTarget, rowFilter: string | null, size: TableSize | null): { target: ChecksumTarget; rowFilter: string | null }[] {
  const rows = size ? size.liveRows : Math.max(target.rowEstimate ?? 0, 0);
  const blocks = size ? size.blocks : (target.pages ?? 0);
  const widest = size ? size.widestLeaf : (target.pages ?? 0);
  const count = Math.max(Math.ceil(rows / ROWS_PER_SLICE), Math.ceil(blocks / BLOCKS_PER_SLICE));
  if (count <= 1 || widest <= 0) return [{ target: { ...target, rowEstimate: rows }, rowFilter }];
  const step = Math.ceil(widest / count);
  // The last slice has no end: a table grown since its size was read is read whole all the same.
  return Array.from({ length: count }, (_, i) => {
    const from = `ctid >= '(${i * step},0)'::pg_catalog.tid`;
    const to = i < count - 1 ? ` AND ctid < '(${(i + 1) * step},0)'::pg_catalog.tid` : '';
    return { target: { ...target, rowEstimate: Math.ceil(rows / count) }, rowFilter: `${rowFilter ? `(${rowFilter}) AND ` : ''}${from}${to}` };
  });
}
