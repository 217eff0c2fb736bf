// Which rows of a table differ between production and staging, found from
// hashes each database computes over its own rows (the key's hash and the
// row's, supasync_private.hash_expression). Where bytes are cheap (the direct
// path) both sides stream every row's pair of hashes in order and supasync
// merges them: the key hashes that differ are ranges of one key each. Over
// REST each side sums its rows' hashes per key range instead, first coarse,
// then about one row per range inside the ranges that differ. The rows of the
// ranges that differ are then listed, key and hash, and compared one by one,
// unless most of the table differs (or staging holds none of it): it is then
// read whole. A re-sync then reads and writes those rows alone: the bytes it
// moves are what changed.
import { productionColumnTypes } from '../plan/compared-types.ts';
import type { TablePlan } from '../plan/types.ts';
import type { ChecksumTarget, RangeSums } from '../transport/checksum.ts';
import type { DatabaseReads, KeyValues, RowFlags, RowHashes } from '../transport/reads.ts';

export interface ChangedRanges {
  /** How deep the ranges are: a row's range is the first `bits` bits of its key's hash; 64, the key hash itself. */
  bits: number;
  /** The ranges at `bits` whose rows differ between the sides, as decimal text (a key hash passes 2^53). */
  ranges: string[];
  /** Ranges at `bits` found equal on both sides, whose rows are neither read nor written. */
  unchangedRanges: number;
  /** Production's rows found equal to staging's, by range or one by one: not read. */
  rowsUnchanged: number;
  /** The rows of the ranges that differ, compared one by one: keys as their columns' text. */
  rows: ChangedRows;
}

export interface ChangedRows {
  /** Production's rows that staging lacks or holds otherwise: what a mirror writes. */
  write: KeyValues[];
  /** Of those, the ones whose key staging lacks: what insert-missing writes. */
  missing: KeyValues[];
  /** Staging's rows whose key production lacks: what a mirror deletes. */
  remove: KeyValues[];
  /** Most of the table differs (or staging holds none of it): every production row is to be written, none listed one by one (`remove` still is). */
  every: boolean;
}

const NO_ROWS: ChangedRows = { write: [], missing: [], remove: [], every: false };
const EVERY_ROW: ChangedRows = { ...NO_ROWS, every: true };

/**
 * How many bits the level before the last has fewer, over REST: each
 * level's answers cross the user's link, and a first level of one range per
 * ~16 rows costs a byte or two per row while the last then answers only
 * inside the ranges that differ.
 */
const BITS_BEFORE_LAST = 4;

/**
 * Rows are compared by all their columns, hashed in binary where the plan
 * copies them so (binarySafe), else as text. `flagged`: an incremental run's
 * rows past its watermark, which production's side flags as it hashes them
 * (supasync_private.flag_expression, in place of the columns' hash) and
 * staging's does not: the rows that differ are then those past the
 * watermark and those whose keys one side lacks, found in one pass.
 */
export async function findChangedRanges(
  production: DatabaseReads,
  staging: DatabaseReads,
  table: TablePlan,
  flagged: RowFlags | null = null,
): Promise<ChangedRanges> {
  const keyColumns = table.key?.columns;
  if (!keyColumns) throw new Error(`${table.table.name}: key ranges need a key`);
  const target = { table: table.table, columns: table.columns, keyColumns, rowEstimate: table.rowEstimate, pages: table.pages ?? null };
  // A column whose type staging changed is hashed on production's side as staging writes it (plan/compared-types.ts).
  const columnTypes = productionColumnTypes(table);
  const targets = { production: columnTypes ? { ...target, columnTypes } : target, staging: target };
  const binary = table.binarySafe;
  const unflagged = stagingFlags(flagged);
  const { stagingRows, stagingOnly, ...found } =
    production.rowHashes && staging.rowHashes
      ? await mergeRowHashes(
          ...(await Promise.all([
            production.rowHashes(targets.production, table.rowFilter, binary, flagged),
            staging.rowHashes(targets.staging, null, binary, unflagged),
          ])),
        )
      : await narrowRanges(production, staging, table, targets, binary, flagged);
  const productionRows = found.rowsUnchanged;
  if (!found.ranges.length) return { ...found, rows: NO_ROWS };
  // A table new to staging: listing its every row, to write them all by key, would cost more than writing them.
  if (stagingRows === 0) return { ...found, rowsUnchanged: 0, rows: EVERY_ROW };
  // Directly, the merge knows which key hashes staging alone has: if most of the table is to be written, only those are listed, to delete.
  const mostDiffer = (written: number) => written > WHOLE_TABLE_SHARE * productionRows;
  const listed = stagingOnly && mostDiffer(found.ranges.length - stagingOnly.length) ? stagingOnly : found.ranges;
  if (!listed.length) return { ...found, rowsUnchanged: 0, rows: EVERY_ROW };
  // About one row per range: listing the rows of those ranges, key and hash, is about listing the rows that changed.
  const within = { bits: found.bits, ranges: listed };
  const [productionRowsIn, stagingRowsIn] = await Promise.all([
    production.rangeRows(targets.production, table.rowFilter, binary, within, flagged),
    staging.rangeRows(targets.staging, null, binary, within, unflagged),
  ]);
  const changed = compareRows(productionRowsIn, stagingRowsIn);
  // Past half the table, one read of all of it costs less than a filter naming each key (and the upsert leaves equal rows equal).
  if (listed !== found.ranges || mostDiffer(changed.write.length)) return { ...found, rowsUnchanged: 0, rows: { ...EVERY_ROW, remove: changed.remove } };
  return { ...found, rowsUnchanged: productionRows - changed.write.length, rows: changed };
}

/** Staging's side of an incremental run's flags: no row past the watermark, the others hashed as production's are. */
function stagingFlags(flagged: RowFlags | null): RowFlags | null {
  return flagged ? { ...flagged, rows: 'false' } : null;
}

/** What comparing found before rows are listed; `stagingOnly`: directly, the key hashes only staging has. */
type Found = Omit<ChangedRanges, 'rows'> & { stagingRows: number; stagingOnly?: string[] };

/** The share of a table's rows past which it is read whole rather than row by row by key. */
const WHOLE_TABLE_SHARE = 0.5;

/**
 * Over REST: per key range, both sides' row counts and hashes, the first
 * level 16 times coarser than the last, which is asked only inside the
 * ranges that differ. The table's size sizes the ranges, about one row each
 * at the last level: production's estimate from its catalog where it has
 * one, else both sides' counts.
 */
async function narrowRanges(
  production: DatabaseReads,
  staging: DatabaseReads,
  table: TablePlan,
  targets: { production: ChecksumTarget; staging: ChecksumTarget },
  binary: boolean,
  flagged: RowFlags | null,
): Promise<Found> {
  const rows =
    table.rowEstimate > 0 ? table.rowEstimate : Math.max(...(await Promise.all([production.countRows(table.table), staging.countRows(table.table)])));
  const leafBits = Math.min(32, Math.max(1, Math.ceil(Math.log2(rows + 1))));
  const levels = leafBits - BITS_BEFORE_LAST >= 1 ? [leafBits - BITS_BEFORE_LAST, leafBits] : [leafBits];
  let differing: string[] = [];
  let productionRows = 0;
  let stagingRows = 0;
  let bits = 0;
  for (const next of levels) {
    const within = bits === 0 ? null : { bits, ranges: differing };
    const [theirs, ours] = await Promise.all([
      production.rangeSums(targets.production, next, table.rowFilter, binary, within, flagged),
      staging.rangeSums(targets.staging, next, null, binary, within, stagingFlags(flagged)),
    ]);
    if (bits === 0) [productionRows, stagingRows] = [rowsIn(theirs), rowsIn(ours)];
    differing = differingRanges(theirs, ours);
    bits = next;
    if (!differing.length) break;
  }
  // Rows of the ranges that differ are counted unchanged here; findChangedRanges takes off those it writes.
  return { bits, ranges: differing, unchangedRanges: 2 ** bits - differing.length, rowsUnchanged: productionRows, stagingRows };
}

/**
 * Directly: both sides' (key hash, row hash) pairs, each stream sorted,
 * merged as they arrive. A key hash one side lacks, or whose row hashes
 * differ, is a range of its own (at 64 bits) to list row by row; a key hash
 * two keys share lands there as well, where keys themselves are compared.
 */
async function mergeRowHashes(theirs: RowHashes, ours: RowHashes): Promise<Found> {
  const differing = new Set<string>();
  const stagingOnly = new Set<string>();
  let productionRows = 0;
  let stagingRows = 0;
  let keys = 0;
  const a = new Cursor(theirs);
  const b = new Cursor(ours);
  try {
    let moreA = await a.ready();
    let moreB = await b.ready();
    while (moreA || moreB) {
      const order = !moreA ? 1 : !moreB ? -1 : a.compareKey(b);
      keys++;
      if (order === 0) {
        if (!a.sameRow(b)) differing.add(a.keyHash());
      } else if (order < 0) differing.add(a.keyHash());
      else {
        differing.add(b.keyHash());
        stagingOnly.add(b.keyHash());
      }
      if (order <= 0) {
        productionRows++;
        // Awaits only at the end of a chunk: an await per row would cost more than the comparison.
        if (!a.step()) moreA = await a.ready();
      }
      if (order >= 0) {
        stagingRows++;
        if (!b.step()) moreB = await b.ready();
      }
    }
  } finally {
    await Promise.all([theirs.close(), ours.close()]);
  }
  const ranges = [...differing];
  return { bits: 64, ranges, unchangedRanges: keys - ranges.length, rowsUnchanged: productionRows, stagingRows, stagingOnly: [...stagingOnly] };
}

/** Reads a RowHashes stream row by row; awaits only between its chunks. */
class Cursor {
  private words: Int32Array = new Int32Array(0);
  private at = 0;
  constructor(private readonly source: RowHashes) {}

  /** Whether a row is there to read. */
  async ready(): Promise<boolean> {
    while (this.at >= this.words.length) {
      const next = await this.source.next();
      if (!next) return false;
      this.words = next;
      this.at = 0;
    }
    return true;
  }

  /** This row's key hash against the other's, as PostgreSQL orders bigints: the high words signed, the low unsigned. */
  compareKey(other: Cursor): number {
    const high = (this.words[this.at] ?? 0) - (other.words[other.at] ?? 0);
    if (high !== 0) return high;
    return ((this.words[this.at + 1] ?? 0) >>> 0) - ((other.words[other.at + 1] ?? 0) >>> 0);
  }

  sameRow(other: Cursor): boolean {
    return this.words[this.at + 2] === other.words[other.at + 2] && this.words[this.at + 3] === other.words[other.at + 3];
  }

  /** This row's key hash as decimal text, as key_range_filter takes it. */
  keyHash(): string {
    const high = BigInt(this.words[this.at] ?? 0);
    const low = BigInt((this.words[this.at + 1] ?? 0) >>> 0);
    return ((high << 32n) | low).toString();
  }

  /** Moves to the next row; false when this chunk has no more (then ready() tells). */
  step(): boolean {
    this.at += 4;
    return this.at < this.words.length;
  }
}

function compareRows(theirs: Map<string, string>, ours: Map<string, string>): ChangedRows {
  const rows: ChangedRows = { write: [], missing: [], remove: [], every: false };
  for (const [key, hash] of theirs) {
    const held = ours.get(key);
    if (held === hash) continue;
    const values = JSON.parse(key) as KeyValues;
    rows.write.push(values);
    if (held === undefined) rows.missing.push(values);
  }
  for (const key of ours.keys()) if (!theirs.has(key)) rows.remove.push(JSON.parse(key) as KeyValues);
  return rows;
}

function differingRanges(theirs: RangeSums, ours: RangeSums): string[] {
  const ranges = new Set([...theirs.keys(), ...ours.keys()]);
  return [...ranges]
    .filter((range) => theirs.get(range) !== ours.get(range))
    .sort((a, b) => a - b)
    .map(String);
}

function rowsIn(sums: RangeSums): number {
  let rows = 0;
  for (const sum of sums.values()) rows += Number(sum.slice(0, sum.indexOf(':')));
  return rows;
}
