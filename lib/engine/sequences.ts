// Staging's sequences, set once every row is in. plan/sequences.ts says
// which; this says where to: production's value and is_called, as
// pg_dump --data-only sets them, except where staging keeps rows production
// does not have (an upsert, or tables the run does not copy drawing from the
// same sequence): there staging's sequence never moves backwards, so it
// cannot hand out a number its own rows already hold.
import { qualifiedName, type SequenceFloor, type SequenceState } from '../catalog/types.ts';
import { commandLine } from '../invocation.ts';
import { DatabaseError } from '../errors.ts';
import { quoteTable } from '../sql/ident.ts';
import { isFurther } from '../plan/sequences.ts';
import type { TablePlan } from '../plan/types.ts';
import type { SequencePlan } from '../plan/sequences.ts';
import type { Database } from '../transport/database.ts';
import type { SyncMode } from '../plan/mode.ts';

/**
 * Whether staging's sequence becomes production's whatever it was: only when
 * staging keeps no rows of its own that drew from it. A replace empties the
 * table; a mirror, and an incremental run (a mirror of what changed), leave
 * it holding production's rows alone, unless a `where` leaves rows outside
 * what they compare.
 */
export function setToProductionExactly(plan: SequencePlan, tables: TablePlan[], runMode: SyncMode): boolean {
  if (plan.alsoUsedOutside) return false;
  if (!plan.usedBy.length) return runMode === 'replace';
  const byName = new Map(tables.map((table) => [qualifiedName(table.table), table]));
  return plan.usedBy.every((name) => {
    const table = byName.get(name);
    return table?.mode === 'replace' || ((table?.mode === 'mirror' || table?.mode === 'incremental') && !table.rowFilter);
  });
}

/**
 * Read after the rows: a sequence is not transactional, so production's,
 * read now, is at least as far along as any row the run copied.
 */
export async function sequencesToSet(
  production: Database,
  staging: Database,
  plans: SequencePlan[],
  tables: TablePlan[],
  runMode: SyncMode,
): Promise<SequenceState[]> {
  if (!plans.length) return [];
  const forwardOnly = plans.filter((plan) => !setToProductionExactly(plan, tables, runMode));
  const [fromProduction, fromStaging] = await Promise.all([
    production.sequenceValues(plans.map((plan) => plan.sequence)),
    staging.sequenceValues(forwardOnly.map((plan) => plan.sequence)),
  ]);
  const productionState = new Map(fromProduction.map((state) => [qualifiedName(state), state]));
  const stagingState = new Map(fromStaging.map((state) => [qualifiedName(state), state]));
  const toSet: SequenceState[] = [];
  for (const plan of plans) {
    const name = qualifiedName(plan.sequence);
    const wanted = productionState.get(name);
    if (!wanted) throw new DatabaseError(`Production's sequence ${name} is gone: it was dropped during the run. Run the sync again.`);
    const current = stagingState.get(name);
    if (current && forwardOnly.includes(plan) && isFurther(current, wanted, plan.increment)) continue;
    toSet.push(plan.create && !current ? { ...wanted, create: plan.create } : wanted);
  }
  return toSet;
}

/**
 * Before writing: a value production's sequence stands at that staging's
 * cannot take (`AS integer` against production's bigint numbers, a lower
 * MAXVALUE) fails setval() once every row is in: directly the whole run
 * rolls back, over REST the rows are written and the run ends failed. Asked
 * up front instead, with the ALTER SEQUENCE that widens staging's; only of
 * the sequences staging holds to narrower bounds than production does (no
 * query at all where the sides agree).
 */
export async function refuseSequencesStagingCannotHold(
  production: Database,
  staging: Database,
  plans: SequencePlan[],
  tables: TablePlan[],
  runMode: SyncMode,
): Promise<void> {
  const bounded = plans.filter((plan) => plan.narrowerInStaging);
  if (!bounded.length) return;
  const states = await sequencesToSet(production, staging, bounded, tables, runMode);
  const beyond = states.flatMap((state) => {
    const plan = bounded.find((candidate) => qualifiedName(candidate.sequence) === qualifiedName(state));
    const range = plan?.narrowerInStaging;
    if (!plan || !range) return [];
    const value = BigInt(state.lastValue);
    if (value <= BigInt(range.max) && value >= BigInt(range.min)) return [];
    const past = value > BigInt(range.max) ? `past its MAXVALUE ${range.max}` : `below its MINVALUE ${range.min}`;
    const widen = value > BigInt(range.max) ? 'MAXVALUE 9223372036854775807' : 'MINVALUE -9223372036854775808';
    return [
      `  ${qualifiedName(state)} (AS ${range.type}): production's stands at ${state.lastValue}, ${past}: ` +
        `ALTER SEQUENCE ${quoteTable(state)} AS bigint ${widen};`,
    ];
  });
  if (!beyond.length) return;
  throw new DatabaseError(
    [
      `Staging's sequences cannot stand where production's do, so setting them after the rows would fail; nothing was written:`,
      ...beyond,
      `Widen them in staging (the ALTER SEQUENCE above, or the migration production ran), then run the sync again.`,
    ].join('\n'),
  );
}

/** Staging's functions set floors (SequenceFloor) from this version. */
const FLOORS_SINCE = 24;

/**
 * The floors of the tables this run writes. Over REST, staging's functions
 * older than version 24 pass over them: said before writing, with what to run.
 */
export async function floorsToSet(staging: Database, floors: SequenceFloor[], tables: TablePlan[], warn: (line: string) => void): Promise<SequenceFloor[]> {
  const written = new Set(tables.map((table) => qualifiedName(table.table)));
  const wanted = floors.filter((floor) => written.has(qualifiedName({ schema: floor.beyondColumn.schema, name: floor.beyondColumn.table })));
  if (!wanted.length || !staging.functionsVersion || (await staging.functionsVersion().catch(() => FLOORS_SINCE)) >= FLOORS_SINCE) return wanted;
  warn(
    `${wanted.map(describeFloor).join(', ')}: staging's column draws from a sequence production's does not, which staging's supasync functions ` +
      `older than version ${FLOORS_SINCE} leave behind the copied numbers. Update them (${commandLine('install-rpcs')} --staging), or set it after the run: ` +
      wanted
        .map(
          (floor) =>
            `SELECT setval('${qualifiedName(floor)}', max(${floor.beyondColumn.column})) FROM ${floor.beyondColumn.schema}.${floor.beyondColumn.table};`,
        )
        .join(' '),
  );
  return [];
}

export function describeFloor(floor: SequenceFloor): string {
  return `${floor.beyondColumn.schema}.${floor.beyondColumn.table}.${floor.beyondColumn.column} (${qualifiedName(floor)})`;
}
