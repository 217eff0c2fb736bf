// Differences between a table in production and the same table in staging,
// told in words the user can act on before anything is written.
import type { Column, Table } from '../catalog/types.ts';

export type Drift =
  | { kind: 'missing-table' }
  | { kind: 'missing-columns'; columns: string[] }
  | { kind: 'extra-columns'; columns: { name: string; required: boolean }[] }
  | { kind: 'type-changes'; columns: { name: string; production: string; staging: string }[] }
  | { kind: 'generated-differs'; columns: { name: string; generatedIn: 'production' | 'staging' }[] };

export function compareTables(production: Table, staging: Table | undefined): Drift[] {
  if (!staging) return [{ kind: 'missing-table' }];
  const drift: Drift[] = [];
  const stagingColumns = new Map(staging.columns.map((column) => [column.name, column]));
  const productionColumns = new Map(production.columns.map((column) => [column.name, column]));

  const missing = production.columns.filter((column) => !stagingColumns.has(column.name) && !column.generated);
  if (missing.length) drift.push({ kind: 'missing-columns', columns: missing.map((column) => column.name) });

  const extra = staging.columns.filter((column) => !productionColumns.has(column.name));
  if (extra.length) {
    drift.push({
      kind: 'extra-columns',
      columns: extra.map((column) => ({ name: column.name, required: isRequired(column) })),
    });
  }

  const changed: { name: string; production: string; staging: string }[] = [];
  const generated: { name: string; generatedIn: 'production' | 'staging' }[] = [];
  for (const column of production.columns) {
    const other = stagingColumns.get(column.name);
    if (!other) continue;
    if (other.type !== column.type) changed.push({ name: column.name, production: column.type, staging: other.type });
    if (Boolean(other.generated) !== Boolean(column.generated)) {
      generated.push({ name: column.name, generatedIn: column.generated ? 'production' : 'staging' });
    }
  }
  if (changed.length) drift.push({ kind: 'type-changes', columns: changed });
  if (generated.length) drift.push({ kind: 'generated-differs', columns: generated });
  return drift;
}

/** A staging column the copy cannot leave empty. */
function isRequired(column: Column): boolean {
  return !column.nullable && column.default === null && column.identity === null && column.generated === null;
}

export function describeDrift(drift: Drift): string {
  switch (drift.kind) {
    case 'missing-table':
      return 'Missing in staging: create the table there first (apply the same migrations to both projects)';
    case 'missing-columns':
      return `Missing columns in staging: ${drift.columns.join(', ')}`;
    case 'extra-columns':
      return `Extra columns in staging: ${drift.columns
        .map((column) => (column.required ? `${column.name} (NOT NULL without default: the copy would fail)` : column.name))
        .join(', ')}`;
    case 'type-changes':
      return `Different column types: ${drift.columns.map((column) => `${column.name} (${column.production} -> ${column.staging})`).join(', ')}`;
    case 'generated-differs':
      return `Generated on one side only: ${drift.columns.map((column) => `${column.name} (generated in ${column.generatedIn})`).join(', ')}`;
  }
}
