// Which sequences a run sets in staging. pg_dump --data-only sets every
// sequence of the schemas it dumps, and a copy that leaves one behind hands
// out, on staging's next insert, a key a copied row already holds. A run sets
// each sequence a copied table's column draws from, whether the column owns
// it (serial, identity) or only calls nextval() on it in its default; and, in
// a run over whole schemas, the sequences of those schemas no column uses
// (counters that functions draw from).
import {
  findTable,
  qualifiedName,
  type Catalog,
  type Sequence,
  type SequenceDefinition,
  type SequenceFloor,
  type SequenceState,
  type TableRef,
} from '../catalog/types.ts';
import type { Selection } from './select.ts';

export interface SequencePlan {
  sequence: TableRef;
  /** The copied tables whose columns draw from it, as schema.name; none: no column uses it. */
  usedBy: string[];
  /**
   * Tables the run does not copy draw from it too: their staging rows hold
   * numbers from staging's sequence, so it may only move forward.
   */
  alsoUsedOutside: boolean;
  /** As text, negative when it counts down: which way is forward. */
  increment: string;
  /** The role production is read as may read where it stands. */
  readable: boolean;
  /** Staging has a sequence of this name. */
  inStaging: boolean;
  /**
   * Staging lacks it and no column of production's uses it: a counter the
   * app made as it ran (a sequence per account, made by a trigger the load
   * silences), which no migration gives staging. The run makes it there
   * with production's options, then sets it. Null otherwise, or where
   * production's catalog does not say its options (functions before 22).
   */
  create: SequenceDefinition | null;
  /**
   * Staging's own sequence's options where its MINVALUE..MAXVALUE is
   * narrower than production's (`AS integer` against bigint), or production
   * does not say its own: setval() would refuse a value outside them, so
   * where production's stands is asked before writing (engine/sequences.ts).
   * Null: as wide as production's (nothing to ask), staging lacks it, or its
   * catalog does not say (functions before 22).
   */
  narrowerInStaging: SequenceDefinition | null;
}

export function planSequences(production: Catalog, staging: Catalog, selection: Selection, copied: TableRef[]): SequencePlan[] {
  const copiedNames = new Set(copied.map(qualifiedName));
  const schemaWide = !selection.tables?.length;
  const stagingSequences = new Map(staging.sequences.map((sequence) => [qualifiedName(sequence), sequence]));
  const inStaging = new Set(stagingSequences.keys());
  // Staging's sequence of the same name may be drawn from by other tables there (its migrations differ): it only moves forward.
  const stagingUsers = new Map(staging.sequences.map((sequence) => [qualifiedName(sequence), tablesUsing(sequence)]));
  return production.sequences
    .filter((sequence) => {
      const users = tablesUsing(sequence);
      return users.some((name) => copiedNames.has(name)) || (!users.length && schemaWide && selection.schemas.includes(sequence.schema));
    })
    .map((sequence) => {
      const users = tablesUsing(sequence);
      return {
        sequence: { schema: sequence.schema, name: sequence.name },
        usedBy: users.filter((name) => copiedNames.has(name)),
        alsoUsedOutside: [...users, ...(stagingUsers.get(qualifiedName(sequence)) ?? [])].some((name) => !copiedNames.has(name)),
        increment: sequence.increment,
        readable: sequence.readable,
        inStaging: inStaging.has(qualifiedName(sequence)),
        create: !inStaging.has(qualifiedName(sequence)) && !users.length ? (sequence.definition ?? null) : null,
        narrowerInStaging: narrower(stagingSequences.get(qualifiedName(sequence))?.definition, sequence.definition),
      };
    });
}

/** Staging's options where they hold fewer values than production's (or production's are unknown); else null. */
function narrower(staging: SequenceDefinition | undefined, production: SequenceDefinition | undefined): SequenceDefinition | null {
  if (!staging) return null;
  if (!production) return staging;
  return BigInt(staging.max) < BigInt(production.max) || BigInt(staging.min) > BigInt(production.min) ? staging : null;
}

/** Integer columns a sequence can number: a floor is set from their largest value. */
const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);

/**
 * The staging sequences copied tables' columns draw from where production's
 * same column draws from no sequence of that name: production's plan leaves
 * them where they were, behind the copied numbers (SequenceFloor).
 */
export function planSequenceFloors(production: Catalog, staging: Catalog, copied: TableRef[]): SequenceFloor[] {
  const copiedNames = new Set(copied.map(qualifiedName));
  const drawnInProduction = new Set(
    production.sequences.flatMap((sequence) => sequence.usedBy.map((use) => JSON.stringify([use.schema, use.table, use.column, qualifiedName(sequence)]))),
  );
  return staging.sequences.flatMap((sequence) =>
    sequence.usedBy
      .filter((use) => copiedNames.has(qualifiedName({ schema: use.schema, name: use.table })))
      .filter((use) => !drawnInProduction.has(JSON.stringify([use.schema, use.table, use.column, qualifiedName(sequence)])))
      .filter((use) => {
        const column = findTable(staging, { schema: use.schema, name: use.table })?.columns.find((candidate) => candidate.name === use.column);
        return column !== undefined && column.typeSchema === 'pg_catalog' && INTEGER_TYPES.has(column.typeName);
      })
      .map((use) => ({
        schema: sequence.schema,
        name: sequence.name,
        beyondColumn: { schema: use.schema, table: use.table, column: use.column },
        descending: BigInt(sequence.increment) < 0n,
      })),
  );
}

function tablesUsing(sequence: Sequence): string[] {
  return [...new Set(sequence.usedBy.map((use) => qualifiedName({ schema: use.schema, name: use.table })))].sort();
}

/** The sequences of a plan that staging lacks and the run does not make, said the way drift is. */
export function sequencesMissingInStaging(sequences: SequencePlan[]): string[] {
  return sequences.filter((plan) => !plan.inStaging && !plan.create).map((plan) => qualifiedName(plan.sequence));
}

/** The sequences staging lacks that the run makes there (SequencePlan.create). */
export function sequencesToCreate(sequences: SequencePlan[]): string[] {
  return sequences.filter((plan) => plan.create).map((plan) => qualifiedName(plan.sequence));
}

/** The value a sequence hands out next: last_value itself until it is first called. */
export function nextValue(state: Pick<SequenceState, 'lastValue' | 'isCalled'>, increment: string): bigint {
  return BigInt(state.lastValue) + (state.isCalled ? BigInt(increment) : 0n);
}

/** `a` hands out, next, a number `b` has not reached yet (counting the sequence's way). */
export function isFurther(a: SequenceState, b: SequenceState, increment: string): boolean {
  const [next, other] = [nextValue(a, increment), nextValue(b, increment)];
  return BigInt(increment) > 0n ? next > other : next < other;
}
