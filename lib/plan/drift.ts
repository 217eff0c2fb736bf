// Differences between a table in production and the same table in staging,
// told in words the user can act on before anything is written.
import type { Column, Table, UserType } from '../catalog/types.ts';
import { silentChange } from './lossy-types.ts';
import { shownLiteral } from '../sql/ident.ts';

export type Drift =
  /** `stagingHas`: staging's relation of that name where it is not a table (a view, a partition...). */
  | { kind: 'missing-table'; stagingHas?: string }
  | { kind: 'missing-columns'; columns: string[] }
  | { kind: 'extra-columns'; columns: { name: string; required: boolean }[] }
  | { kind: 'type-changes'; columns: { name: string; production: string; staging: string }[] }
  | { kind: 'collation-changes'; columns: { name: string; production: string; staging: string }[] }
  | { kind: 'missing-partitions'; partitions: { name: string; bound: string }[] }
  | { kind: 'generated-differs'; columns: { name: string; generatedIn: 'production' | 'staging' }[] }
  | { kind: 'generation-differs'; columns: { name: string; production: string; staging: string }[] }
  | { kind: 'type-definitions'; types: TypeDefinitionDrift[] };

/**
 * A type the shared columns are of, defined otherwise in staging; `lacking`: an enum's labels staging lacks, where that
 * is the whole difference; `reordered`: an enum whose shared labels staging orders otherwise (every value copies as it
 * is, and sorts and compares otherwise there).
 */
export interface TypeDefinitionDrift {
  name: string;
  columns: string[];
  difference: string;
  lacking?: string[];
  reordered?: true;
}

/** Each side's enums and composite types by name; null where that side's catalog does not list them (REST functions before 18). */
export interface UserTypes {
  production: Map<string, UserType> | null;
  staging: Map<string, UserType> | null;
}

export function userTypesOf(types: UserType[] | undefined): Map<string, UserType> | null {
  return types ? new Map(types.map((type) => [type.name, type])) : null;
}

export function compareTables(production: Table, staging: Table | undefined, types: UserTypes = { production: null, staging: null }): Drift[] {
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
  const collated: { name: string; production: string; staging: string }[] = [];
  const generated: { name: string; generatedIn: 'production' | 'staging' }[] = [];
  const computed: { name: string; production: string; staging: string }[] = [];
  for (const column of production.columns) {
    const other = stagingColumns.get(column.name);
    if (!other) continue;
    if (other.type !== column.type) changed.push({ name: column.name, production: column.type, staging: other.type });
    // Unknown (older REST functions) on either side: not compared.
    else if (column.collation !== undefined && other.collation !== undefined && column.collation !== other.collation) {
      collated.push({ name: column.name, production: column.collation ?? 'bytes', staging: other.collation ?? 'bytes' });
    }
    if (Boolean(other.generated) !== Boolean(column.generated)) {
      generated.push({ name: column.name, generatedIn: column.generated ? 'production' : 'staging' });
    } else if (column.generationExpression !== null && other.generationExpression !== null && expression(column) !== expression(other)) {
      // Never copied, and left out of the checksums: staging computing its own values would pass unseen.
      // (Null where the table was locked as its catalog was read: not compared.)
      computed.push({ name: column.name, production: expression(column), staging: expression(other) });
    }
  }
  if (changed.length) drift.push({ kind: 'type-changes', columns: changed });
  if (collated.length) drift.push({ kind: 'collation-changes', columns: collated });
  const definitions = differingDefinitions(production, staging, types);
  if (definitions.length) drift.push({ kind: 'type-definitions', types: definitions });
  if (generated.length) drift.push({ kind: 'generated-differs', columns: generated });
  if (computed.length) drift.push({ kind: 'generation-differs', columns: computed });
  const partitions = missingPartitions(production, staging);
  if (partitions.length) drift.push({ kind: 'missing-partitions', partitions });
  return drift;
}

/**
 * Production's partitions whose place staging's tree lacks: no partition of
 * the same parent with the same bound, and no DEFAULT one there to take
 * their rows (a partition detached in staging, or one production's
 * maintenance created later). Their rows would find no partition: directly
 * the run would roll back midway, over REST each row be refused. Unknown on
 * either side (older REST functions): not compared.
 */
export function missingPartitions(production: Table, staging: Table): { name: string; bound: string }[] {
  if (!production.partitions || !staging.partitions) return [];
  const places = new Set(staging.partitions.map((partition) => `${partition.parent} ${partition.bound}`));
  const defaults = new Set(staging.partitions.filter((partition) => partition.bound === 'DEFAULT').map((partition) => partition.parent));
  return production.partitions
    .filter((partition) => !places.has(`${partition.parent} ${partition.bound}`) && !defaults.has(partition.parent))
    .map(({ name, bound }) => ({ name, bound }));
}

/**
 * The enums, composite types and domains the shared columns are of (or
 * arrays of), named alike on both sides but defined otherwise: a label
 * production uses and staging lacks is refused, an attribute narrower,
 * elsewhere or of another type is refused or read into the wrong place, a
 * domain over a narrower type rounds, once rows are being written.
 * Staging's extra labels are harmless.
 */
function differingDefinitions(production: Table, staging: Table, types: UserTypes): TypeDefinitionDrift[] {
  if (!types.production || !types.staging) return [];
  const stagingType = new Map(staging.columns.map((column) => [column.name, column.type]));
  const columnsOf = new Map<string, string[]>();
  for (const column of production.columns) {
    if (stagingType.get(column.name) !== column.type) continue;
    const name = column.type.replace(/(\[\])+$/, '');
    columnsOf.set(name, [...(columnsOf.get(name) ?? []), column.name]);
  }
  return [...columnsOf].flatMap(([name, columns]) => {
    const [ours, theirs] = [types.production?.get(name), types.staging?.get(name)];
    const difference = ours && theirs ? definitionDifference(ours, theirs) : null;
    const lacking = ours && theirs ? labelsLacking(ours, theirs) : [];
    const reordered = ours && theirs && !lacking.length && labelsReordered(ours, theirs);
    return difference ? [{ name, columns, difference, ...(lacking.length ? { lacking } : {}), ...(reordered ? { reordered: true as const } : {}) }] : [];
  });
}

/** An enum's labels production has and staging's enum of that name lacks (none for other types). */
export function labelsLacking(production: UserType, staging: UserType): string[] {
  return production.labels && staging.labels ? production.labels.filter((label) => !staging.labels?.includes(label)) : [];
}

/** The labels both sides' enums have, each side's in its own order. */
function sharedLabels(production: UserType, staging: UserType): [string[], string[]] {
  const [ours, theirs] = [production.labels ?? [], staging.labels ?? []];
  return [ours.filter((label) => theirs.includes(label)), theirs.filter((label) => ours.includes(label))];
}

/** Staging's enum orders labels both have otherwise (ALTER TYPE ... ADD VALUE ... BEFORE run on one side only). */
function labelsReordered(production: UserType, staging: UserType): boolean {
  if (!production.labels || !staging.labels) return false;
  const [ours, theirs] = sharedLabels(production, staging);
  return ours.some((label, index) => theirs[index] !== label);
}

function definitionDifference(production: UserType, staging: UserType): string | null {
  if (production.labels && staging.labels) {
    const lacking = labelsLacking(production, staging);
    if (lacking.length) return `staging's enum lacks ${lacking.map(shownLiteral).join(', ')}`;
    if (!labelsReordered(production, staging)) return null;
    const order = (labels: string[]) => labels.map(shownLiteral).join(' < ');
    const [ours, theirs] = sharedLabels(production, staging);
    return (
      `staging's enum orders its labels otherwise: ${order(ours)} in production, ${order(theirs)} in staging; ` +
      'every value copies as it is, and ORDER BY, < and > and the indexes over it sort them otherwise there'
    );
  }
  if (production.attributes && staging.attributes) {
    const describe = (attributes: { name: string; type: string }[]) => `(${attributes.map((a) => `${a.name} ${a.type}`).join(', ')})`;
    const [ours, theirs] = [describe(production.attributes), describe(staging.attributes)];
    return ours === theirs ? null : `attributes ${ours} -> ${theirs}`;
  }
  if (production.base && staging.base) {
    // numeric(12,4) written into numeric(12,2) is rounded, a timestamptz(6) into timestamptz(0) loses its fraction: silently.
    return production.base === staging.base ? null : `a domain over ${production.base} in production, over ${staging.base} in staging`;
  }
  const kind = (type: UserType) => (type.labels ? 'an enum' : type.attributes ? 'a composite type' : type.base ? 'a domain' : null);
  const [ours, theirs] = [kind(production), kind(staging)];
  return ours && theirs && ours !== theirs ? `${ours} in production, ${theirs} in staging` : null;
}

function expression(column: Column): string {
  return sameSpacing(column.generationExpression ?? '');
}

/** An expression as pg_get_expr printed it, its spacing made one: two sides' texts compared. */
export function sameSpacing(expression: string): string {
  return expression.replace(/\s+/g, ' ').trim();
}

/** A staging column the copy cannot leave empty. */
function isRequired(column: Column): boolean {
  return !column.nullable && column.default === null && column.identity === null && column.generated === null;
}

/**
 * Why --allow-drift would refuse this drift too, or null where it copies
 * past it: by copying the columns both sides have, and, for an enum's labels
 * or a partition staging lacks, by asking production's rows whether any
 * needs one before writing (stricter.ts). What it refuses before writing
 * (engine/drift-refusals.ts): a composite type or domain defined otherwise,
 * a type that would change values unsaid, a staging-only column NOT NULL
 * without a default. Said by the sync's first refusal and by verify, so
 * neither offers --allow-drift where it would only be refused next.
 */
/** Drift --allow-drift copies past once production's rows are asked whether any needs what staging lacks (stricter.ts). */
export const driftAskedOfRows = (drift: Drift): boolean =>
  drift.kind === 'missing-partitions' || (drift.kind === 'type-definitions' && drift.types.some((type) => type.lacking));

/** Said wherever --allow-drift is offered for such drift. */
export const ASKED_OF_ROWS_NOTE = " (which still stops before writing where production's rows hold an enum label, or lie in a partition, staging lacks)";

export function allowDriftRefusal(drift: Drift): string | null {
  switch (drift.kind) {
    case 'type-definitions': {
      const redefined = drift.types.filter((type) => !type.lacking && !type.reordered).map((type) => type.name);
      return redefined.length ? `${redefined.join(', ')} defined otherwise in staging (a composite type or domain)` : null;
    }
    case 'type-changes': {
      const silent = drift.columns.filter((column) => silentChange(column.production, column.staging));
      return silent.length
        ? `${silent.map((column) => `${column.name} (${column.production} -> ${column.staging})`).join(', ')} would change values unsaid`
        : null;
    }
    case 'extra-columns': {
      const required = drift.columns.filter((column) => column.required).map((column) => column.name);
      return required.length ? `${required.join(', ')}, only in staging, NOT NULL without a default` : null;
    }
    default:
      return null;
  }
}

export function describeDrift(drift: Drift): string {
  switch (drift.kind) {
    case 'missing-table':
      return drift.stagingHas
        ? `Staging's relation of this name is ${/^[aeiou]/.test(drift.stagingHas) ? 'an' : 'a'} ${drift.stagingHas}, not a table: replace it with the table there (apply the same migrations to both projects)`
        : 'Missing in staging: create the table there first (apply the same migrations to both projects)';
    case 'missing-columns':
      return `Missing columns in staging: ${drift.columns.join(', ')}`;
    case 'extra-columns':
      return `Extra columns in staging: ${drift.columns
        .map((column) => (column.required ? `${column.name} (NOT NULL without default: the copy would fail)` : column.name))
        .join(', ')}`;
    case 'type-changes':
      return `Different column types: ${drift.columns.map((column) => `${column.name} (${column.production} -> ${column.staging})`).join(', ')}`;
    case 'collation-changes':
      return (
        `Collations that compare otherwise: ${drift.columns.map((column) => `${column.name} (${column.production} -> ${column.staging})`).join(', ')}. ` +
        "Values equal under one are not under the other (a case-insensitive collation holds 'abc' and 'ABC' as one key)"
      );
    case 'missing-partitions':
      return (
        `Partitions production has and staging's tree lacks: ${drift.partitions.map((p) => `${p.name} (${p.bound})`).join(', ')}. ` +
        'Their rows would find no partition in staging: attach or create them there'
      );
    case 'generated-differs':
      return `Generated on one side only: ${drift.columns.map((column) => `${column.name} (generated in ${column.generatedIn})`).join(', ')}`;
    case 'generation-differs':
      return (
        `Generated from other expressions: ${drift.columns.map((column) => `${column.name} (${column.production} -> ${column.staging})`).join(', ')}. ` +
        "Staging computes its own values, which differ from production's"
      );
    case 'type-definitions':
      return `Types defined otherwise: ${drift.types.map((type) => `${type.name} of ${type.columns.join(', ')} (${type.difference})`).join('; ')}`;
  }
}
