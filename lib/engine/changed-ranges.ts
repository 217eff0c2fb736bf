// Which key ranges of a table differ between production and staging, found
// from checksums each database computes over its own rows
// (supasync_private.range_sums_query): a whole table first, then level by
// level only inside the ranges that differ, down to ranges of about one row.
// A re-sync then reads and writes those ranges alone, so it costs what
// changed, not what the table holds.
import type { Via } from '../config/env.ts';
import type { TablePlan } from '../plan/types.ts';
import type { RangeSums } from '../transport/checksum.ts';
import type { DatabaseReads } from '../transport/reads.ts';

export interface ChangedRanges {
  /** How deep the ranges are: a row's range is the first `bits` bits of its key's hash. */
  bits: number;
  /** The ranges at `bits` whose rows differ between the sides. */
  ranges: number[];
  /** Ranges at `bits` found equal on both sides, whose rows are neither read nor written. */
  unchangedRanges: number;
  /** Production's rows (of those the table's filter copies) in the ranges that differ: what the copy reads. */
  rowsToRead: number;
  /** Production's rows in the ranges found equal. */
  rowsUnchanged: number;
}

/**
 * Bits added per level. Over REST each level's answers cross the user's
 * link: 64 ranges per range that differs keeps them a fraction of the rows
 * they spare. Directly bytes are cheap and each level is a scan of both
 * tables: the whole table, then straight to the last level.
 */
const BITS_PER_LEVEL: Record<Via, number> = { rest: 6, postgres: 32 };

/** The rows of a table that `filter` picks and that `more` (another condition, or none) also does. */
export function bothFilters(filter: string | null, more: string | null): string | null {
  if (!filter) return more;
  return more ? `(${filter}) AND (${more})` : filter;
}

/** `columns`: what is compared of each row; the key's alone finds rows added and deleted, not rows changed. */
export async function findChangedRanges(
  production: DatabaseReads,
  staging: DatabaseReads,
  table: TablePlan,
  via: Via,
  columns: string[] = table.columns,
): Promise<ChangedRanges> {
  const keyColumns = table.key?.columns;
  if (!keyColumns) throw new Error(`${table.table.name}: key ranges need a key`);
  const target = { table: table.table, columns, keyColumns };
  let [theirs, ours] = await Promise.all([production.rangeSums(target, 0, table.rowFilter), staging.rangeSums(target, 0, null)]);
  const productionRows = rowsIn(theirs);
  let differing = differingRanges(theirs, ours);
  if (!differing.length) return { bits: 0, ranges: [], unchangedRanges: 1, rowsToRead: 0, rowsUnchanged: productionRows };
  // About one row per range at the last level: a range that differs is then mostly one changed row.
  const rows = Math.max(productionRows, rowsIn(ours));
  const leafBits = Math.min(32, Math.max(1, Math.ceil(Math.log2(rows + 1))));
  let bits = 0;
  for (const next of levels(leafBits, BITS_PER_LEVEL[via])) {
    const within = await production.keyRangeFilter(keyColumns, bits, differing);
    [theirs, ours] = await Promise.all([production.rangeSums(target, next, bothFilters(table.rowFilter, within)), staging.rangeSums(target, next, within)]);
    differing = differingRanges(theirs, ours);
    bits = next;
  }
  const rowsToRead = differing.reduce((sum, range) => sum + rowsOf(theirs.get(range)), 0);
  return { bits, ranges: differing, unchangedRanges: 2 ** bits - differing.length, rowsToRead, rowsUnchanged: productionRows - rowsToRead };
}

/** The bits of each level after the whole table's, ending at `leafBits`, `step` apart (the first maybe less). */
function levels(leafBits: number, step: number): number[] {
  const found: number[] = [];
  for (let bits = leafBits; bits > 0; bits -= step) found.unshift(bits);
  return found;
}

function differingRanges(theirs: RangeSums, ours: RangeSums): number[] {
  const ranges = new Set([...theirs.keys(), ...ours.keys()]);
  return [...ranges].filter((range) => theirs.get(range) !== ours.get(range)).sort((a, b) => a - b);
}

function rowsOf(sum: string | undefined): number {
  return sum ? Number(sum.slice(0, sum.indexOf(':'))) : 0;
}

function rowsIn(sums: RangeSums): number {
  let rows = 0;
  for (const sum of sums.values()) rows += rowsOf(sum);
  return rows;
}
