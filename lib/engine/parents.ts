// Before a targeted sync writes: do the rows it copies reference rows that
// staging lacks, in tables the run does not copy? That is the seed's
// "violates foreign key constraint", caught before anything is written.
import { isValidated, qualifiedName, type TableRef } from '../catalog/types.ts';
import { DatabaseError, SupasyncError, describeError } from '../errors.ts';
import { countOf, formatCount } from '../counts.ts';
import { bothFilters, rowsUnderKey } from '../catalog/partition-keys.ts';
import type { SyncPlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';
import type { Masker } from '../mask/apply.ts';
import { parseRowText, rowText } from '../sql/row-text.ts';

export interface MissingParents {
  table: string;
  parent: string;
  parentSchema: string;
  columns: string[];
  /** Rows of `table` (as copied) that reference a missing parent row. */
  rows: number;
  /** The missing parent keys, as ROW(...)::text. */
  keys: string[];
  /** An insert-missing table whose rows naming them were too many to ask staging which it lacks: every one counted. */
  allCounted?: boolean;
}

/**
 * `masker`: where the referencing columns are masked (they follow their
 * masked key), production's values are masked before staging is asked for
 * them: staging holds the masked keys, and must never be sent a raw one.
 */
export async function findMissingParents(production: Database, staging: Database, plan: SyncPlan, masker: Masker | null = null): Promise<MissingParents[]> {
  const check = async ({ table, foreignKey, parent }: SyncPlan['externalParents'][number]): Promise<MissingParents | null> => {
    const tablePlan = plan.tables.find((t) => qualifiedName(t.table) === qualifiedName(table));
    try {
      const rows = bothFilters(tablePlan?.rowFilter ?? null, rowsUnderKey(foreignKey));
      const rowMask = masker?.forColumns(tablePlan?.mask, foreignKey.columns) ?? null;
      const raw = await production.references(table, foreignKey.columns, rows);
      const references = rowMask ? maskedCounts(raw, rowMask) : raw;
      const keys = Object.keys(references);
      if (!keys.length) return null;
      // A key to one partition is satisfied by that partition's rows only.
      const parentRelation = foreignKey.referencedPartition ?? parent;
      let missing = await staging.missingKeys(parentRelation, foreignKey.referencedColumns, keys, null);
      // Along a key added NOT VALID, a parent production lacks as well is production's own: its rows are copied as they are.
      if (missing.length && !rowMask && !isValidated(foreignKey)) {
        const lackedByProduction = new Set(await production.missingKeys(parentRelation, foreignKey.referencedColumns, missing, null));
        missing = missing.filter((key) => !lackedByProduction.has(key));
      }
      if (!missing.length) return null;
      // insert-missing writes only the rows staging lacks by key: a row it has names what it named before, untouched.
      let counts = references;
      let allCounted = false;
      if (tablePlan?.mode === 'insert-missing' && tablePlan.key && !rowMask) {
        // Functions too old to build a key filter over REST: every row counts, as before.
        const inserted = await referencesOfRowsToInsert(production, staging, table, tablePlan.key.columns, foreignKey.columns, rows, missing).catch(() => null);
        if (inserted) {
          counts = inserted;
          missing = missing.filter((key) => inserted[key]);
          if (!missing.length) return null;
        } else allCounted = true;
      }
      return {
        table: qualifiedName(table),
        parent: qualifiedName(parent),
        parentSchema: parent.schema,
        columns: foreignKey.columns,
        rows: missing.reduce((sum, key) => sum + (counts[key] ?? 0), 0),
        keys: missing,
        ...(allCounted ? { allCounted } : {}),
      };
    } catch (error) {
      if (error instanceof SupasyncError) throw error;
      throw new DatabaseError(describeError(`Checking the rows ${qualifiedName(table)} references in ${qualifiedName(parent)}`, error), 1, { cause: error });
    }
  };
  // Over REST every key at once, a round trip or two each (the first failure in the plan's order is the one said);
  // directly one after another on each side's one connection.
  const found: (MissingParents | null)[] = [];
  if (production.asksTogether && staging.asksTogether) {
    const settled = await Promise.allSettled(plan.externalParents.map(check));
    for (const outcome of settled) {
      if (outcome.status === 'rejected') throw outcome.reason;
      found.push(outcome.value);
    }
  } else for (const link of plan.externalParents) found.push(await check(link));
  return found.filter((one): one is MissingParents => one !== null);
}

/** At most this many rows naming a missing parent are looked up by key in staging; past it every one counts (the refusal stays). */
const ROWS_LOOKED_UP = 10_000;

/**
 * Of production's rows of `table` that name one of the `missing` parent keys, those staging lacks by the table's
 * own key, which an insert-missing run would insert: the parent keys they name, with how many rows name each.
 * Null where there are too many to look up (every row then counts).
 */
async function referencesOfRowsToInsert(
  production: Database,
  staging: Database,
  table: TableRef,
  keyColumns: string[],
  columns: string[],
  rows: string | null,
  missing: string[],
): Promise<Record<string, number> | null> {
  const naming = bothFilters(rows, await production.keyFilter(table, columns, missing.map(parseRowText)));
  const keys = Object.keys(await production.references(table, keyColumns, naming));
  if (keys.length > ROWS_LOOKED_UP) return null;
  const lacked = keys.length ? await staging.missingKeys(table, keyColumns, keys, null) : [];
  if (!lacked.length) return {};
  return production.references(table, columns, bothFilters(naming, await production.keyFilter(table, keyColumns, lacked.map(parseRowText))));
}

/** Counts per key, the keys masked as staging holds them (two raw keys never mask to one, so counts do not merge in practice). */
export function maskedCounts(counts: Record<string, number>, mask: (row: (string | null)[]) => (string | null)[]): Record<string, number> {
  const masked: Record<string, number> = {};
  for (const [key, count] of Object.entries(counts)) {
    const text = rowText(mask(parseRowText(key)));
    masked[text] = (masked[text] ?? 0) + count;
  }
  return masked;
}

/**
 * `schemas`: the ones the run copies from; a parent's schema outside them is offered as a way out, unless the run
 * names its tables (`named`: where), which a schema added adds none to: then the parents are offered by name.
 */
export function describeMissingParents(missing: MissingParents[], schemas: string[], named?: string): string {
  const lines = missing.map(
    (m) =>
      `  ${countOf(m.rows, 'row')} of ${m.table} ${m.rows === 1 ? 'references' : 'reference'} ${m.keys.length} ${m.parent} ${m.keys.length === 1 ? 'row' : 'rows'} missing from staging ` +
      `(${m.table}.${m.columns.join(',')}), e.g. ${m.keys.slice(0, 5).join(' ')}` +
      (m.allCounted
        ? `; insert-missing writes only the rows staging lacks, but more than ${formatCount(ROWS_LOOKED_UP)} rows name these parents, too many to ask staging which: every one is counted`
        : ''),
  );
  const outside = named ? [] : [...new Set(missing.map((m) => m.parentSchema))].filter((schema) => !schemas.includes(schema));
  const parents = [...new Set(missing.map((m) => m.parent))];
  const withSchemas = `--schemas ${[...schemas, ...outside].join(',')}`;
  const users = missing.some((m) => m.parent === 'auth.users');
  return [
    'Staging lacks rows that the rows to copy reference; nothing was written:',
    ...lines,
    ...(users ? ["auth.users holds Supabase Auth's users: staging has its own, not production's, until the auth schema is synced too."] : []),
    'Ways out:',
    ...(outside.length
      ? [
          `  ${withSchemas}   also copy ${outside.join(', ')}` +
            (users ? " (Supabase's users and identities; sessions are not copied, staging's users sign in again)" : ''),
        ]
      : []),
    ...(named ? [`  name ${parents.join(', ')} too (${named})   also copy ${parents.length === 1 ? 'that table' : 'those tables'} whole`] : []),
    '  --with-parents   also copy the referenced rows (and the rows they reference), only those',
    '  --allow-orphans  write anyway, where staging permits it (with foreign-key checks off it does)',
  ].join('\n');
}
