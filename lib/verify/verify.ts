// Is staging equal to production? Row counts and content checksums per
// table, computed in each database; where they differ, the rows are narrowed
// down by key buckets to the keys that are missing, extra or changed.
import { qualifiedName } from '../catalog/types.ts';
import { describeDrift } from '../plan/drift.ts';
import type { TablePlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';
import type { BucketSum, ChecksumTarget, RowHash, TableSum } from '../transport/checksum.ts';
import type { Masker } from '../mask/apply.ts';
import { verifyMaskedTable } from './masked.ts';
import type { KeyDifferences, TableVerdict } from './verdict.ts';

export type { KeyDifferences, TableVerdict, VerifyStatus } from './verdict.ts';

export interface VerifyOptions {
  countsOnly: boolean;
  /** How many differing keys to list per table. */
  maxKeys: number;
  /** About how many rows each bucket holds when a difference is narrowed down. */
  rowsPerBucket?: number;
  /** Told each table's comparison as it ends, with its time (a report's timing chart). */
  onVerdict?: (verdict: TableVerdict, seconds: number) => void;
}

const ROW_LIMIT = 10_000;

/** `masker`: a masked table (TablePlan.mask) is compared as production-as-masked against staging (masked.ts). */
export async function verifyTables(
  production: Database,
  staging: Database,
  tables: TablePlan[],
  options: VerifyOptions,
  masker: Masker | null = null,
): Promise<TableVerdict[]> {
  const verdicts: TableVerdict[] = [];
  for (const table of tables) {
    const started = performance.now();
    const verdict = await verifyTable(production, staging, table, options, masker);
    options.onVerdict?.(verdict, (performance.now() - started) / 1000);
    verdicts.push(verdict);
  }
  return verdicts;
}

async function verifyTable(production: Database, staging: Database, table: TablePlan, options: VerifyOptions, masker: Masker | null): Promise<TableVerdict> {
  const verdict = await compareTable(production, staging, table, options, masker);
  const drift = table.drift.filter((d) => d.kind !== 'missing-table').map(describeDrift);
  return drift.length ? { ...verdict, drift } : verdict;
}

async function compareTable(production: Database, staging: Database, table: TablePlan, options: VerifyOptions, masker: Masker | null): Promise<TableVerdict> {
  const name = qualifiedName(table.table);
  const keyColumns = table.key?.columns ?? [];
  if (table.drift.some((drift) => drift.kind === 'missing-table')) {
    return { table: name, keyColumns, production: await production.countRows(table.table), staging: null, status: 'missing-table' };
  }
  const columnsDiffer = table.drift.length > 0;
  if (options.countsOnly) {
    const [p, s] = await Promise.all([production.countRows(table.table), staging.countRows(table.table)]);
    return { table: name, keyColumns, production: p, staging: s, status: p !== s ? 'counts-differ' : columnsDiffer ? 'columns-differ' : 'perfect' };
  }
  if (table.mask && masker) {
    const verdict = await verifyMaskedTable(production, staging, table, masker, options);
    return verdict.status === 'perfect' && columnsDiffer ? { ...verdict, status: 'columns-differ' } : verdict;
  }
  const target: ChecksumTarget = { table: table.table, columns: table.columns, keyColumns };
  const [p, s] = (await Promise.all([production.checksum(target, {}), staging.checksum(target, {})])) as TableSum[];
  const verdict: TableVerdict = { table: name, keyColumns, production: Number(p?.rows), staging: Number(s?.rows), status: 'perfect' };
  if (p?.rows !== s?.rows || p?.hash !== s?.hash) {
    verdict.status = p?.rows !== s?.rows ? 'counts-differ' : 'content-differs';
    const rows = Math.max(verdict.production, verdict.staging ?? 0);
    const buckets = Math.min(65_536, Math.max(1, Math.ceil(rows / (options.rowsPerBucket ?? 500))));
    verdict.differences = await findDifferences(production, staging, target, buckets, options.maxKeys);
  } else if (columnsDiffer) {
    verdict.status = 'columns-differ';
  }
  return verdict;
}

async function findDifferences(production: Database, staging: Database, target: ChecksumTarget, buckets: number, maxKeys: number): Promise<KeyDifferences> {
  let suspects: number[];
  if (buckets === 1) {
    suspects = [0];
  } else {
    const [p, s] = (await Promise.all([production.checksum(target, { buckets }), staging.checksum(target, { buckets })])) as BucketSum[][];
    const summary = (list: BucketSum[]) => new Map(list.map((b) => [b.bucket, `${b.rows}:${b.hash}`]));
    const [pm, sm] = [summary(p ?? []), summary(s ?? [])];
    suspects = [...new Set([...pm.keys(), ...sm.keys()])].filter((b) => pm.get(b) !== sm.get(b)).sort((a, b) => a - b);
  }
  const missing: string[] = [];
  const extra: string[] = [];
  const changed: string[] = [];
  let stoppedEarly = false;
  for (const [index, bucket] of suspects.entries()) {
    const level = { buckets, onlyBuckets: [bucket], rowLimit: ROW_LIMIT };
    const [p, s] = (await Promise.all([production.checksum(target, level), staging.checksum(target, level)])) as RowHash[][];
    const inStaging = new Map((s ?? []).map((row) => [row.key, row.hash]));
    const inProduction = new Map((p ?? []).map((row) => [row.key, row.hash]));
    for (const [key, hash] of inProduction) {
      if (!inStaging.has(key)) missing.push(key);
      else if (inStaging.get(key) !== hash) changed.push(key);
    }
    for (const key of inStaging.keys()) if (!inProduction.has(key)) extra.push(key);
    if (missing.length + extra.length + changed.length >= maxKeys && index < suspects.length - 1) {
      stoppedEarly = true;
      break;
    }
  }
  const listed = (keys: string[]) => keys.sort().slice(0, maxKeys);
  return {
    missing: listed(missing),
    extra: listed(extra),
    changed: listed(changed),
    more: stoppedEarly || [missing, extra, changed].some((keys) => keys.length > maxKeys),
  };
}
