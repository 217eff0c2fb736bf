// Is staging equal to production? Row counts and content checksums per
// table, computed in each database; where they differ, the rows are narrowed
// down by key buckets to the keys that are missing, extra or changed.
import { qualifiedName } from '../catalog/types.ts';
import { productionColumnTypes } from '../plan/compared-types.ts';
import { allowDriftRefusal, describeDrift, driftAskedOfRows } from '../plan/drift.ts';
import type { TablePlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';
import type { BucketSum, ChecksumTarget, RowHash, TableSum } from '../transport/checksum.ts';
import type { Masker } from '../mask/apply.ts';
import { inParallel } from '../in-parallel.ts';
import { verifyMaskedTable } from './masked.ts';
import type { KeyDifferences, TableVerdict } from './verdict.ts';

export type { KeyDifferences, TableVerdict, VerifyStatus } from './verdict.ts';
export { foundEqual } from './verdict.ts';

export interface VerifyOptions {
  countsOnly: boolean;
  /** How many differing keys to list per table. */
  maxKeys: number;
  /** About how many rows each bucket holds when a difference is narrowed down. */
  rowsPerBucket?: number;
  /**
   * The differences a table's sync mode leaves by design (an upsert's
   * staging-only rows, insert-missing's staging versions too): every
   * differing bucket is then read, not only until maxKeys are listed, unless
   * a difference of another kind settles it.
   */
  leftByMode?: (table: TablePlan) => readonly DifferenceKind[];
  /** Told each table's comparison as it ends, with its time (a report's timing chart). */
  onVerdict?: (verdict: TableVerdict, seconds: number) => void;
}

const ROW_LIMIT = 10_000;

export type DifferenceKind = 'extra' | 'changed';

/** `masker`: a masked table (TablePlan.mask) is compared as production-as-masked against staging (masked.ts). */
export async function verifyTables(
  production: Database,
  staging: Database,
  tables: TablePlan[],
  options: VerifyOptions,
  masker: Masker | null = null,
): Promise<TableVerdict[]> {
  const verdicts: TableVerdict[] = [];
  // Over REST the tables' sizes are read first, all in one request, and the small ones' checksums several tables a request.
  // A table's generated columns are compared once its copied ones are equal: asked together too, as they mostly are.
  const checksummed = options.countsOnly ? [] : tables.filter((table) => !missingTable(table) && !(table.mask && masker)).flatMap(checksumTargets);
  for (const side of ['production', 'staging'] as const) {
    const database = side === 'production' ? production : staging;
    database.readSizes?.(tables.map(({ table }) => table));
    database.readChecksums?.(checksummed.map((targets) => targets[side]));
  }
  const verify = async (index: number) => {
    const table = tables[index]!;
    const started = performance.now();
    const verdict = await verifyTable(production, staging, table, options, masker);
    options.onVerdict?.(verdict, (performance.now() - started) / 1000);
    verdicts[index] = verdict;
  };
  const indexes = tables.map((_, index) => index);
  // Directly each side answers one query at a time: table after table.
  if (!production.asksTogether || !staging.asksTogether) {
    for (const index of indexes) await verify(index);
    return verdicts;
  }
  // Over REST a table is a round trip or two: a schema of small tables waited them out one after another.
  // Large ones still go alone, each hashing on the projects' CPU.
  const small = (index: number) => tables[index]!.rowEstimate < ROWS_VERIFIED_BESIDE_OTHERS;
  await inParallel(indexes.filter(small), TABLES_AT_ONCE, verify);
  for (const index of indexes.filter((index) => !small(index))) await verify(index);
  return verdicts;
}

/** Tables compared at once over REST, of those production estimates at fewer than ROWS_VERIFIED_BESIDE_OTHERS rows. */
const TABLES_AT_ONCE = 4;
const ROWS_VERIFIED_BESIDE_OTHERS = 50_000;

async function verifyTable(production: Database, staging: Database, table: TablePlan, options: VerifyOptions, masker: Masker | null): Promise<TableVerdict> {
  const verdict = await compareTable(production, staging, table, options, masker);
  const drifts = table.drift.filter((d) => d.kind !== 'missing-table');
  const refused = drifts.map(allowDriftRefusal).filter((why) => why !== null);
  if (!drifts.length) return verdict;
  return {
    ...verdict,
    drift: drifts.map(describeDrift),
    ...(refused.length ? { driftRefused: refused.join('; ') } : {}),
    ...(drifts.some(driftAskedOfRows) ? { driftAskedOfRows: true } : {}),
  };
}

async function compareTable(production: Database, staging: Database, table: TablePlan, options: VerifyOptions, masker: Masker | null): Promise<TableVerdict> {
  const name = qualifiedName(table.table);
  const keyColumns = table.key?.columns ?? [];
  if (missingTable(table)) {
    return { table: name, keyColumns, production: await production.countRows(table.table), staging: null, status: 'missing-table' };
  }
  const columnsDiffer = table.drift.length > 0;
  if (options.countsOnly) {
    const [p, s] = await Promise.all([production.countRows(table.table), staging.countRows(table.table)]);
    return { table: name, keyColumns, production: p, staging: s, status: p !== s ? 'counts-differ' : columnsDiffer ? 'columns-differ' : 'counts-equal' };
  }
  if (table.mask && masker) {
    const verdict = await verifyMaskedTable(production, staging, table, masker, options);
    return verdict.status === 'perfect' && columnsDiffer ? { ...verdict, status: 'columns-differ' } : verdict;
  }
  const target = contentTargets(table);
  const [p, s] = (await Promise.all([production.checksum(target.production, {}), staging.checksum(target.staging, {})])) as TableSum[];
  const verdict: TableVerdict = { table: name, keyColumns, production: Number(p?.rows), staging: Number(s?.rows), status: 'perfect' };
  if (p?.rows !== s?.rows || p?.hash !== s?.hash) {
    verdict.status = p?.rows !== s?.rows ? 'counts-differ' : 'content-differs';
    const rows = Math.max(verdict.production, verdict.staging ?? 0);
    const buckets = Math.min(65_536, Math.max(1, Math.ceil(rows / (options.rowsPerBucket ?? 500))));
    verdict.differences = await findDifferences(production, staging, target, buckets, options.maxKeys, options.leftByMode?.(table) ?? []);
  } else if (columnsDiffer) {
    verdict.status = 'columns-differ';
  } else {
    return compareGenerated(production, staging, table, verdict, options);
  }
  return verdict;
}

/** What each side hashes of a table: the same columns, production's cast where staging writes their values otherwise. */
interface SideTargets {
  production: ChecksumTarget;
  staging: ChecksumTarget;
}

const missingTable = (table: TablePlan) => table.drift.some((drift) => drift.kind === 'missing-table');

/**
 * The copied columns' checksum of a table. Production's statistics: over REST a large table is checksummed in slices,
 * cut by each side's own size where its functions tell, else by these (rest/slices.ts).
 */
function contentTargets(table: TablePlan): SideTargets {
  const staging = {
    table: table.table,
    columns: table.columns,
    keyColumns: table.key?.columns ?? [],
    rowEstimate: table.rowEstimate,
    pages: table.pages ?? null,
  };
  // A column whose type staging changed is hashed on production's side as staging writes it (plan/compared-types.ts).
  const columnTypes = productionColumnTypes(table);
  return { production: columnTypes ? { ...staging, columnTypes } : staging, staging };
}

/** The generated columns' checksum of a table, compared by key: none without either. */
function generatedTargets(table: TablePlan): SideTargets | null {
  const { staging: copied } = contentTargets(table);
  if (!table.generatedColumns.length || !copied.keyColumns.length) return null;
  const generated = { ...copied, columns: table.generatedColumns };
  return { production: generated, staging: generated };
}

/** A table's checksums compareTable asks for: its copied columns', then, once they are equal, its generated ones'. */
function checksumTargets(table: TablePlan): SideTargets[] {
  const generated = generatedTargets(table);
  return generated ? [contentTargets(table), generated] : [contentTargets(table)];
}

/**
 * A generated column is not copied: staging computes it, with the same expression (else drift), but through its own
 * functions and settings (a function staging defines otherwise, an IMMUTABLE one that reads the time zone). Its
 * values are compared once the copied ones are equal, by key; a sync cannot put them right, which is said.
 */
async function compareGenerated(
  production: Database,
  staging: Database,
  table: TablePlan,
  verdict: TableVerdict,
  options: VerifyOptions,
): Promise<TableVerdict> {
  const target = generatedTargets(table);
  if (!target) return verdict;
  const [p, s] = (await Promise.all([production.checksum(target.production, {}), staging.checksum(target.staging, {})])) as TableSum[];
  if (p?.hash === s?.hash) return verdict;
  const buckets = Math.min(65_536, Math.max(1, Math.ceil(verdict.production / (options.rowsPerBucket ?? 500))));
  return {
    ...verdict,
    status: 'content-differs',
    generatedDiffer: table.generatedColumns,
    differences: await findDifferences(production, staging, target, buckets, options.maxKeys, []),
  };
}

/**
 * The keys in the buckets whose sums differ, several buckets to a request
 * (at most ROW_LIMIT rows by both sides' bucket counts). Listing stops at
 * maxKeys, unless every difference so far is of a kind in `leftByMode`:
 * then whether another kind hides in the rest is what matters.
 */
async function findDifferences(
  production: Database,
  staging: Database,
  target: SideTargets,
  buckets: number,
  maxKeys: number,
  leftByMode: readonly DifferenceKind[],
): Promise<KeyDifferences> {
  let suspects: { bucket: number; rows: number }[];
  if (buckets === 1) {
    suspects = [{ bucket: 0, rows: 0 }];
  } else {
    const [p, s] = (await Promise.all([production.checksum(target.production, { buckets }), staging.checksum(target.staging, { buckets })])) as BucketSum[][];
    const summary = (list: BucketSum[]) => new Map(list.map((b) => [b.bucket, b]));
    const [pm, sm] = [summary(p ?? []), summary(s ?? [])];
    const differs = (b: number) => pm.get(b)?.rows !== sm.get(b)?.rows || pm.get(b)?.hash !== sm.get(b)?.hash;
    suspects = [...new Set([...pm.keys(), ...sm.keys()])]
      .filter(differs)
      .sort((a, b) => a - b)
      .map((bucket) => ({ bucket, rows: Math.max(Number(pm.get(bucket)?.rows ?? 0), Number(sm.get(bucket)?.rows ?? 0)) }));
  }
  const missing: string[] = [];
  const extra: string[] = [];
  const changed: string[] = [];
  const settled = () =>
    missing.length + extra.length + changed.length >= maxKeys &&
    (missing.length > 0 || (extra.length > 0 && !leftByMode.includes('extra')) || (changed.length > 0 && !leftByMode.includes('changed')));
  let unread = false;
  for (let next = 0; next < suspects.length;) {
    const batch = [suspects[next++] as { bucket: number; rows: number }];
    let rows = batch[0]?.rows ?? 0;
    while (next < suspects.length && rows + (suspects[next]?.rows ?? 0) <= ROW_LIMIT) {
      rows += suspects[next]?.rows ?? 0;
      batch.push(suspects[next++] as { bucket: number; rows: number });
    }
    const level = { buckets, onlyBuckets: batch.map((b) => b.bucket), rowLimit: ROW_LIMIT };
    const [p, s] = (await Promise.all([production.checksum(target.production, level), staging.checksum(target.staging, level)])) as RowHash[][];
    const inStaging = rowsByKey(s ?? []);
    const inProduction = rowsByKey(p ?? []);
    for (const [key, { hash, count }] of inProduction) {
      const theirs = inStaging.get(key);
      // A table without a key is a bag of rows: a row held twice on one side and once on the other is one missing or extra.
      for (let i = theirs?.count ?? 0; i < count; i++) missing.push(key);
      if (theirs && theirs.hash !== hash) changed.push(key);
    }
    for (const [key, { count }] of inStaging) for (let i = inProduction.get(key)?.count ?? 0; i < count; i++) extra.push(key);
    const enough = missing.length + extra.length + changed.length >= maxKeys;
    if (next < suspects.length && (settled() || (enough && !leftByMode.length))) {
      unread = true;
      break;
    }
  }
  const listed = (keys: string[]) => keys.sort().slice(0, maxKeys);
  return {
    missing: listed(missing),
    extra: listed(extra),
    changed: listed(changed),
    more: unread || [missing, extra, changed].some((keys) => keys.length > maxKeys),
    ...(unread ? { unread } : {}),
    found: { missing: missing.length, extra: extra.length, changed: changed.length },
  };
}

/** Each key's hash and how many rows hold it: one, where the table has a key; any number where the key is the whole row. */
function rowsByKey(rows: RowHash[]): Map<string, { hash: string; count: number }> {
  const found = new Map<string, { hash: string; count: number }>();
  for (const row of rows) {
    const seen = found.get(row.key);
    if (seen) seen.count++;
    else found.set(row.key, { hash: row.hash, count: 1 });
  }
  return found;
}
