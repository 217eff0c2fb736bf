// Verify for a masked table: is staging exactly what the rules promise,
// production-as-masked? Its checksums cannot be computed inside the
// databases (the mask and its secret live here), so both sides' rows are
// streamed: production's masked on the way as a sync masks them, staging's
// as they are, each row hashed here, the hashes summed per bucket of keys.
// Equal sums: Perfect. Otherwise a second pass lists the rows of the
// buckets that differ. Memory: the buckets' sums, then those rows only.
import { createHash } from 'node:crypto';
import { qualifiedName } from '../catalog/types.ts';
import type { Masker } from '../mask/apply.ts';
import { parseJson, serializeJson } from '../mask/json.ts';
import type { TablePlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';
import { streamRows, type TextRow } from '../transport/row-stream.ts';
import type { KeyDifferences, TableVerdict } from './verdict.ts';

const BUCKETS = 4_096;
const MASK64 = (1n << 64n) - 1n;

interface Side {
  rows: number;
  sums: BigUint64Array;
  counts: Uint32Array;
}

export async function verifyMaskedTable(
  production: Database,
  staging: Database,
  table: TablePlan,
  masker: Masker,
  options: { maxKeys: number },
): Promise<TableVerdict> {
  const keyColumns = table.key?.columns ?? [];
  const mask = masker.forColumns(table.mask, table.columns, keyColumns);
  const keyAt = (keyColumns.length ? keyColumns : table.columns).map((column) => table.columns.indexOf(column));
  // A json value compares by its parsed content: staging prints what it stored, production's masked text is ours.
  const jsonAt = (table.mask?.columns ?? []).filter((column) => column.kind === 'json').map((column) => table.columns.indexOf(column.column));
  const canonical = (row: TextRow): TextRow =>
    jsonAt.length ? row.map((value, i) => (value !== null && jsonAt.includes(i) ? normalJson(value) : value)) : row;
  const fromProduction = (row: TextRow) => canonical(mask ? mask(row) : row);
  const keyOf = (row: TextRow) => `(${keyAt.map((i) => row[i] ?? '').join(',')})`;

  const [p, s] = await Promise.all([sumSide(production, table, fromProduction, keyOf), sumSide(staging, table, canonical, keyOf)]);
  const verdict: TableVerdict = { table: qualifiedName(table.table), keyColumns, production: p.rows, staging: s.rows, status: 'perfect', masked: true };
  const suspects: number[] = [];
  for (let bucket = 0; bucket < BUCKETS; bucket++) {
    if (p.sums[bucket] !== s.sums[bucket] || p.counts[bucket] !== s.counts[bucket]) suspects.push(bucket);
  }
  if (!suspects.length) return verdict;
  verdict.status = p.rows !== s.rows ? 'counts-differ' : 'content-differs';
  verdict.differences = await listDifferences(production, staging, table, new Set(suspects), { fromProduction, canonical, keyOf }, options.maxKeys);
  return verdict;
}

function normalJson(text: string): string {
  try {
    return serializeJson(parseJson(text));
  } catch {
    return text;
  }
}

function hashOf(text: string): { bucket: number; hash: bigint } {
  const digest = createHash('sha256').update(text).digest();
  return { bucket: digest.readUInt16BE(0) % BUCKETS, hash: digest.readBigUInt64BE(8) };
}

/** Per bucket of keys, the sum of its rows' hashes: the order rows arrive in does not matter. */
async function sumSide(database: Database, table: TablePlan, prepare: (row: TextRow) => TextRow, keyOf: (row: TextRow) => string): Promise<Side> {
  const side: Side = { rows: 0, sums: new BigUint64Array(BUCKETS), counts: new Uint32Array(BUCKETS) };
  for await (const page of streamRows(database, table)) {
    for (const raw of page) {
      const row = prepare(raw);
      const { bucket } = hashOf(keyOf(row));
      side.sums[bucket] = ((side.sums[bucket] as bigint) + hashOf(JSON.stringify(row)).hash) & MASK64;
      side.counts[bucket] = (side.counts[bucket] as number) + 1;
      side.rows++;
    }
  }
  return side;
}

/** The rows of the differing buckets, key by key; at most 10,000 per side are held, the first maxKeys of each kind listed. */
async function listDifferences(
  production: Database,
  staging: Database,
  table: TablePlan,
  buckets: Set<number>,
  how: { fromProduction: (row: TextRow) => TextRow; canonical: (row: TextRow) => TextRow; keyOf: (row: TextRow) => string },
  maxKeys: number,
): Promise<KeyDifferences> {
  const collect = async (database: Database, prepare: (row: TextRow) => TextRow) => {
    const rows = new Map<string, string>();
    let more = false;
    for await (const page of streamRows(database, table)) {
      for (const raw of page) {
        const row = prepare(raw);
        const key = how.keyOf(row);
        if (!buckets.has(hashOf(key).bucket)) continue;
        if (rows.size >= 10_000) more = true;
        else rows.set(key, JSON.stringify(row));
      }
    }
    return { rows, more };
  };
  const [p, s] = await Promise.all([collect(production, how.fromProduction), collect(staging, how.canonical)]);
  const missing = [...p.rows.keys()].filter((key) => !s.rows.has(key));
  const extra = [...s.rows.keys()].filter((key) => !p.rows.has(key));
  const changed = [...p.rows.keys()].filter((key) => s.rows.has(key) && s.rows.get(key) !== p.rows.get(key));
  const listed = (keys: string[]) => keys.sort().slice(0, maxKeys);
  return {
    missing: listed(missing),
    extra: listed(extra),
    changed: listed(changed),
    more: p.more || s.more || [missing, extra, changed].some((keys) => keys.length > maxKeys),
    // Past 10,000 rows a side the rest of the differing buckets' rows went unheld.
    ...(p.more || s.more ? { unread: true } : {}),
    found: { missing: missing.length, extra: extra.length, changed: changed.length },
  };
}
