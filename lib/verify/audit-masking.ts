// verify-sync-status.ts --audit-masking: does any raw production value of a
// masked column sit in that column in staging? Every value is compared, not
// a sample, through hashes: production's raw values of each masked column
// (and jsonb path) are hashed into a set, staging's values looked up in it.
// A hit is a leak unless it is exactly the value the rules give that row
// (a phone permutation may map one real number onto another's): those are
// checked against production's row, found by its masked key.
import { createHash } from 'node:crypto';
import { qualifiedName } from '../catalog/types.ts';
import type { Masker } from '../mask/apply.ts';
import { parseJson, valuesAtPath } from '../mask/json.ts';
import type { TablePlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';
import { streamRows, type TextRow } from '../transport/row-stream.ts';

export interface MaskLeak {
  /** `column` or `column.path` */
  column: string;
  /** Staging's row, by its key as it holds it (`email=..., id=...`), or its position without a key. */
  key: string;
}

export interface MaskAudit {
  table: string;
  /** The masked columns and paths compared. */
  columns: string[];
  /** Staging's rows looked at. */
  rows: number;
  leaks: MaskLeak[];
  /** More leaks than are listed. */
  more: boolean;
}

const MAX_LISTED = 100;

interface Target {
  label: string;
  index: number;
  path: string[];
}

const digestOf = (value: string) => createHash('sha256').update(value).digest('base64').slice(0, 16);

export async function auditMasking(production: Database, staging: Database, tables: TablePlan[], masker: Masker): Promise<MaskAudit[]> {
  const audits: MaskAudit[] = [];
  for (const table of tables) {
    if (table.mask) audits.push(await auditTable(production, staging, table, masker));
  }
  return audits;
}

async function auditTable(production: Database, staging: Database, table: TablePlan, masker: Masker): Promise<MaskAudit> {
  const targets: Target[] = (table.mask?.columns ?? []).flatMap((column) =>
    column.rules.map(({ path }) => ({ label: [column.column, ...path].join('.'), index: table.columns.indexOf(column.column), path })),
  );
  const keyColumns = table.key?.columns ?? [];
  const keyAt = keyColumns.map((column) => table.columns.indexOf(column));
  const keyOf = (row: TextRow, position: number) =>
    keyAt.length ? keyColumns.map((column, i) => `${column}=${row[keyAt[i] as number] ?? 'NULL'}`).join(', ') : `row ${position + 1}`;
  // An empty string holds no one and masks to itself.
  const valuesOf = (row: TextRow, target: Target): string[] => {
    const value = row[target.index];
    if (value === null || value === undefined || value === '') return [];
    if (!target.path.length) return [value];
    try {
      return valuesAtPath(parseJson(value), target.path).filter((v) => v !== '');
    } catch {
      return [];
    }
  };

  const raw = targets.map(() => new Set<string>());
  for await (const page of streamRows(production, table)) {
    for (const row of page) targets.forEach((target, t) => valuesOf(row, target).forEach((value) => raw[t]?.add(digestOf(value))));
  }
  const candidates: { target: number; key: string; value: string }[] = [];
  let rows = 0;
  for await (const page of streamRows(staging, table)) {
    for (const row of page) {
      targets.forEach((target, t) => {
        for (const value of valuesOf(row, target)) if (raw[t]?.has(digestOf(value))) candidates.push({ target: t, key: keyOf(row, rows), value });
      });
      rows++;
    }
  }
  const leaks = keyAt.length && candidates.length ? await withoutExpected(production, table, masker, candidates, targets, keyOf, valuesOf) : candidates;
  return {
    table: qualifiedName(table.table),
    columns: targets.map((target) => target.label),
    rows,
    leaks: leaks.slice(0, MAX_LISTED).map((leak) => ({ column: targets[leak.target]?.label ?? '', key: leak.key })),
    more: leaks.length > MAX_LISTED,
  };
}

/** The candidates that are not what the rules give their row: production's rows masked, matched by their masked key. */
async function withoutExpected(
  production: Database,
  table: TablePlan,
  masker: Masker,
  candidates: { target: number; key: string; value: string }[],
  targets: Target[],
  keyOf: (row: TextRow, position: number) => string,
  valuesOf: (row: TextRow, target: Target) => string[],
): Promise<{ target: number; key: string; value: string }[]> {
  const mask = masker.forColumns(table.mask, table.columns, table.key?.columns);
  const wanted = new Set(candidates.map((candidate) => candidate.key));
  const expected = new Map<string, TextRow>();
  for await (const page of streamRows(production, table)) {
    for (const row of page) {
      const masked = mask ? mask(row) : row;
      const key = keyOf(masked, 0);
      if (wanted.has(key)) expected.set(key, masked);
    }
  }
  return candidates.filter((candidate) => {
    const row = expected.get(candidate.key);
    const target = targets[candidate.target];
    return !row || !target || !valuesOf(row, target).includes(candidate.value);
  });
}
