// Which rows of a table differ between production and staging, found from
// checksums each database computes over its own rows: per key range
// (supasync_private.range_sums_query), down to ranges of about one row, then
// row by row inside the ranges that differ (the same query, without bits). A re-sync then
// reads and writes those rows alone: the bytes it moves are what changed.
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
  /** Production's rows found equal to staging's, by range or one by one: not read. */
  rowsUnchanged: number;
  /** The rows of the ranges that differ, compared one by one: keys as their columns' text. */
  rows: ChangedRows;
}

export interface ChangedRows {
  /** Production's rows that staging lacks or holds otherwise: what a mirror writes. */
  write: string[][];
  /** Of those, the ones whose key staging lacks: what insert-missing writes. */
  missing: string[][];
  /** Staging's rows whose key production lacks: what a mirror deletes. */
  remove: string[][];
}

const NO_ROWS: ChangedRows = { write: [], missing: [], remove: [] };

/**
 * How many bits the level before the last has fewer: over REST each level's
 * answers cross the user's link, and a first level of one range per ~16 rows
 * costs a byte or two per row while the last then answers only inside the
 * ranges that differ. Directly bytes are cheap and each level is a scan of
 * both tables: straight to the last level.
 */
const BITS_BEFORE_LAST: Record<Via, number | null> = { rest: 4, postgres: null };

/** The rows of a table that `filter` picks and that `more` (another condition, or none) also does. */
export function bothFilters(filter: string | null, more: string | null): string | null {
  if (!filter) return more;
  return more ? `(${filter}) AND (${more})` : filter;
}

/**
 * `columns`: what is compared of each row; the key's alone finds rows added
 * and deleted, not rows changed. Rows are hashed in binary where the plan
 * copies them so (binarySafe), else as text.
 */
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
  // Counting is a fraction of a hashing scan, and sizes the ranges: about one row each at the last level.
  const rows = Math.max(...(await Promise.all([production.countRows(table.table), staging.countRows(table.table)])));
  if (rows === 0) return { bits: 0, ranges: [], unchangedRanges: 1, rowsUnchanged: 0, rows: NO_ROWS };
  const leafBits = Math.min(32, Math.max(1, Math.ceil(Math.log2(rows + 1))));
  const before = BITS_BEFORE_LAST[via];
  const levels = before !== null && leafBits - before >= 1 ? [leafBits - before, leafBits] : [leafBits];
  let differing: number[] = [];
  let productionRows = 0;
  let bits = 0;
  const binary = table.binarySafe && columns === table.columns;
  for (const next of levels) {
    const within = bits === 0 ? null : await production.keyRangeFilter(keyColumns, bits, differing);
    const [theirs, ours] = await Promise.all([
      production.rangeSums(target, next, bothFilters(table.rowFilter, within), binary),
      staging.rangeSums(target, next, within, binary),
    ]);
    if (bits === 0) productionRows = rowsIn(theirs);
    differing = differingRanges(theirs, ours);
    bits = next;
    if (!differing.length) break;
  }
  const found = { bits, ranges: differing, unchangedRanges: 2 ** bits - differing.length };
  if (!differing.length) return { ...found, rowsUnchanged: productionRows, rows: NO_ROWS };
  // About one row per range: listing the rows of those ranges, key and hash, is about listing the rows that changed.
  const within = await production.keyRangeFilter(keyColumns, bits, differing);
  const [productionRowsIn, stagingRowsIn] = await Promise.all([
    production.rangeRows(target, bothFilters(table.rowFilter, within) ?? within, binary),
    staging.rangeRows(target, within, binary),
  ]);
  const changed = compareRows(productionRowsIn, stagingRowsIn);
  return { ...found, rowsUnchanged: productionRows - changed.write.length, rows: changed };
}

function compareRows(theirs: Map<string, string>, ours: Map<string, string>): ChangedRows {
  const rows: ChangedRows = { write: [], missing: [], remove: [] };
  for (const [key, hash] of theirs) {
    const held = ours.get(key);
    if (held === hash) continue;
    const values = JSON.parse(key) as string[];
    rows.write.push(values);
    if (held === undefined) rows.missing.push(values);
  }
  for (const key of ours.keys()) if (!theirs.has(key)) rows.remove.push(JSON.parse(key) as string[]);
  return rows;
}

function differingRanges(theirs: RangeSums, ours: RangeSums): number[] {
  const ranges = new Set([...theirs.keys(), ...ours.keys()]);
  return [...ranges].filter((range) => theirs.get(range) !== ours.get(range)).sort((a, b) => a - b);
}

function rowsIn(sums: RangeSums): number {
  let rows = 0;
  for (const sum of sums.values()) rows += Number(sum.slice(0, sum.indexOf(':')));
  return rows;
}
