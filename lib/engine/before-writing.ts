// What a run checks before it opens staging for writing, and a dry run
// with it: drift, keys, production's rows against what staging holds rows
// to, sequences, parents and children staging would be left without, room
// in each server's lock table.
import { qualifiedName, type TableRef } from '../catalog/types.ts';
import { DatabaseError } from '../errors.ts';
import type { FoundOrphans } from '../plan/links.ts';
import type { SequencePlan } from '../plan/sequences.ts';
import { emptiedAlongside } from '../plan/supabase.ts';
import type { TablePlan } from '../plan/types.ts';
import { openSyncSession } from '../transport/open-session.ts';
import { tablesToCopy } from './drift-refusals.ts';
import { describeOrphans, ORPHAN_WAYS_OUT, orphansOfReplace } from './orphans.ts';
import { describeMissingParents, findMissingParents } from './parents.ts';
import type { PreparedRun } from './prepare.ts';
import { refuseSequencesStagingCannotHold } from './sequences.ts';
import { warnOfLargeObjects } from './large-objects.ts';
import { refuseLockTableOverflow } from './lock-room.ts';
import { orphansAlongStagingOnlyKeys, stagingOnlyKeysRefusal } from './staging-only-keys.ts';
import { refuseStricterStaging } from './stricter-staging.ts';

/**
 * What a run checks before it opens staging for writing: drift, keys for an
 * upsert, parents staging lacks. A dry-run makes the same checks, so it
 * stops, and exits, where the run would.
 */
export async function checkBeforeWriting(
  run: PreparedRun,
  options: { allowDrift: boolean; allowOrphans: boolean; warn?: (line: string) => void },
): Promise<{ tables: TablePlan[]; skipped: { table: string; reason: string }[]; sequences: SequencePlan[] }> {
  const chosen = tablesToCopy(run.plan, options);
  for (const difference of run.plan.textDifferences) options.warn?.(difference);
  await refuseLockTableOverflow(run.production, run.staging, chosen.tables);
  await refuseStricterStaging(run.production, chosen.tables, options.warn ?? (() => undefined));
  await refuseSequencesStagingCannotHold(run.production, run.staging, chosen.sequences, chosen.tables, run.plan.mode);
  await warnOfLargeObjects(run.production, chosen.tables, options.warn ?? (() => undefined));
  if (!options.allowOrphans) {
    const missing = await findMissingParents(run.production, run.staging, run.plan, run.masker);
    if (missing.length) throw new DatabaseError(describeMissingParents(missing, run.plan.schemas));
    const stagingOnly = await orphansAlongStagingOnlyKeys(run.production, run.staging, run.plan.stagingLinks, chosen.tables);
    if (stagingOnly.length) throw stagingOnlyKeysRefusal(stagingOnly);
    const emptied = emptiedAlongside(run.plan);
    const orphaned = await orphansOfReplace(run.production, run.staging, run.plan.stagingLinks, chosen.tables, emptied, run.masker);
    if (orphaned.length) {
      throw new DatabaseError(
        [
          `${emptyingVerb(orphaned, chosen.tables)} these tables would leave staging's rows that reference them pointing nowhere; nothing was written:`,
          ...describeOrphans(orphaned),
          ...ORPHAN_WAYS_OUT,
        ].join('\n'),
      );
    }
  }
  return chosen;
}

/**
 * --allow-orphans keeps staging's rows whose parents the run deletes, pointing nowhere, as foreign-key checks are off
 * for the load. Where staging's role may not turn them off (SET session_replication_role: a self-hosted project's
 * role without the grant), deleting a parent fires staging's keys: one with ON DELETE CASCADE, SET NULL or SET
 * DEFAULT deletes or rewrites the rows of a table outside the run, which its backup does not hold. Refused.
 */
export async function refuseActingKeysWithChecksOn(run: PreparedRun, tables: TablePlan[], emptied: TableRef[]): Promise<void> {
  const acting = run.plan.stagingLinks.filter((link) => link.rewritesChildOnDelete);
  if (!acting.length) return;
  const found = await orphansOfReplace(run.production, run.staging, acting, tables, emptied, run.masker);
  if (!found.length) return;
  throw new DatabaseError(
    [
      `--allow-orphans cannot keep staging's rows that reference the rows this run deletes: staging's role may not SET session_replication_role, ` +
        "so the deletes fire staging's foreign keys, and these act on the rows at once (ON DELETE CASCADE, SET NULL or SET DEFAULT), " +
        'in tables this run does not copy nor back up; nothing was written:',
      ...describeOrphans(found),
      'Ways out:',
      `  add ${[...new Set(found.map(({ link }) => qualifiedName(link.child)))].join(', ')} to the run (--tables, or --schemas)`,
      "  keep staging's rows with --mode upsert",
      '  grant the parameter (PostgreSQL 15+: GRANT SET ON PARAMETER session_replication_role TO <role>)',
    ].join('\n'),
  );
}

/** What the run would do to the parents of rows it would orphan: a replace empties them, a mirror deletes the rows production lacks. */
function emptyingVerb(orphaned: FoundOrphans[], tables: TablePlan[]): string {
  const modes = new Set(orphaned.map(({ link }) => tables.find((table) => qualifiedName(table.table) === qualifiedName(link.parent))?.mode));
  if (!modes.has('replace')) return 'Mirroring';
  return modes.size > 1 ? 'Replacing or mirroring' : 'Replacing';
}

/**
 * For a dry-run: what staging's role would refuse of the load, found as the
 * run finds it, by opening the write session (on the direct path a
 * transaction, rolled back here) and asking for its refusals. Nothing is
 * written.
 */
export async function checkStagingAccepts(run: PreparedRun, tables: TablePlan[]): Promise<void> {
  const session = await openSyncSession(run, { strict: false, backup: null });
  try {
    await session.refusals(tables);
  } finally {
    await session.abort();
  }
}
