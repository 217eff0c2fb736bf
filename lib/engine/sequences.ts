// Staging's sequences, set once every row is in. plan/sequences.ts says
// which; this says where to: production's value and is_called, as
// pg_dump --data-only sets them, except where staging keeps rows production
// does not have (an upsert, or tables the run does not copy drawing from the
// same sequence): there staging's sequence never moves backwards, so it
// cannot hand out a number its own rows already hold.
import { qualifiedName, type SequenceFloor, type SequenceState } from '../catalog/types.ts';
import { commandLine } from '../invocation.ts';
import { DatabaseError } from '../errors.ts';
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
