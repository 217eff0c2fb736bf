// What a run checks before it opens staging for writing, and a dry run
// with it: drift, keys, production's rows against what staging holds rows
// to, sequences, parents and children staging would be left without, room
// in each server's lock table.
import { qualifiedName, type TableRef } from '../catalog/types.ts';
import { DatabaseError } from '../errors.ts';
import type { FoundOrphans } from '../plan/links.ts';
import type { SequencePlan } from '../plan/sequences.ts';
import { emptiedAlongside } from '../plan/supabase.ts';
import { deletesMissing } from '../plan/mode.ts';
import type { TablePlan } from '../plan/types.ts';
import { openSyncSession } from '../transport/open-session.ts';
import { tablesToCopy } from './drift-refusals.ts';
import { describeOrphans, orphanWaysOut, orphansOfReplace, stagingRowsNamingGoneKeys } from './orphans.ts';
import { describeMissingParents, findMissingParents } from './parents.ts';
import type { PreparedRun } from './prepare.ts';
import { refuseSequencesStagingCannotHold } from './sequences.ts';
import { warnOfLargeObjects } from './large-objects.ts';
import { refuseLockTableOverflow } from './lock-room.ts';
import { orphansAlongStagingOnlyKeys, stagingOnlyKeysRefusal } from './staging-only-keys.ts';
import { refuseStricterStaging } from './stricter-staging.ts';
import { refuseRawOverMasked } from './masked-staging.ts';
import { compareExtensionTables, describeExtensionTable } from '../verify/extension-tables.ts';
import type { MaskedTableChanges } from '../transport/masked-tables.ts';

/**
 * What a run checks before it opens staging for writing: drift, keys for an
 * upsert, parents staging lacks, raw values over masked ones (and the app's
 * rows in extension tables, which it never writes, said where they differ).
 * A dry-run makes the same checks, so it stops, and exits, where the run
 * would. Returns the tables to write, and what staging keeps of their
 * masking (null: it cannot).
 */
export async function checkBeforeWriting(
  run: PreparedRun,
  options: { allowDrift: boolean; allowOrphans: boolean; unmask?: boolean; warn?: (line: string) => void },
): Promise<{ tables: TablePlan[]; skipped: { table: string; reason: string }[]; sequences: SequencePlan[]; maskedTables: MaskedTableChanges | null }> {
  const chosen = tablesToCopy(run.plan, options);
  const warn = options.warn ?? (() => undefined);
  for (const difference of run.plan.textDifferences) warn(difference);
  let maskedTables: MaskedTableChanges | null = null;
  const checks: Check[] = [
    async (say) => {
      maskedTables = await refuseRawOverMasked(run.staging, chosen.tables, options.unmask ?? false, say);
    },
    async (say) => {
      for (const verdict of await compareExtensionTables(run.production, run.staging, run.plan.extensionConfigTables, say)) {
        if (!verdict.equal) say(describeExtensionTable(verdict));
      }
    },
    () => refuseLockTableOverflow(run.production, run.staging, chosen.tables),
    (say) => refuseStricterStaging(run.production, chosen.tables, say),
    () => refuseSequencesStagingCannotHold(run.production, run.staging, chosen.sequences, chosen.tables, run.plan.mode),
    (say) => warnOfLargeObjects(run.production, chosen.tables, say),
  ];
  if (!options.allowOrphans) {
    checks.push(
      async () => {
        const missing = await findMissingParents(run.production, run.staging, run.plan, run.masker);
        if (missing.length) throw new DatabaseError(describeMissingParents(missing, run.plan.schemas, run.plan.tablesNamed));
      },
      async () => {
        const stagingOnly = await orphansAlongStagingOnlyKeys(run.production, run.staging, run.plan.stagingLinks, chosen.tables);
        if (stagingOnly.length) throw stagingOnlyKeysRefusal(stagingOnly);
      },
      async () => {
        const found = await orphansOfReplace(run.production, run.staging, run.plan.stagingLinks, chosen.tables, emptiedAlongside(run.plan), run.masker);
        // Staging's own sign-ins (uploads in progress) of users (buckets) a mirror deletes: emptied, as a replace empties
        // them. The plan keeps them (emptiedAlongside), so the question, the session's backup and emptying, the check
        // after the load and the notes all take them, as they take a replace's.
        const state = new Set(run.plan.projectState.map(({ table }) => qualifiedName(table)));
        const ended = found.filter(({ link }) => state.has(qualifiedName(link.child)));
        run.plan.projectStateOrphaned = [...new Map(ended.map(({ link }) => [qualifiedName(link.child), link.child])).values()];
        const orphaned = found.filter(({ link }) => !state.has(qualifiedName(link.child)));
        if (orphaned.length) {
          throw new DatabaseError(
            [
              `${emptyingVerb(orphaned, chosen.tables)} these tables would leave staging's rows that reference them pointing nowhere; nothing was written:`,
              ...describeOrphans(orphaned),
              ...orphanWaysOut(orphaned, chosen.tables),
            ].join('\n'),
          );
        }
      },
    );
  }
  await runChecks(checks, run.production.asksTogether && run.staging.asksTogether, warn);
  return { ...chosen, maskedTables };
}

/** One check before writing: it throws the refusal, and says its warnings through `say`. */
type Check = (say: (line: string) => void) => Promise<void>;

/**
 * Over REST the checks are asked at once (each is round trips of its own), and what they found is said in their
 * order: each one's warnings, up to the first refusal, as if they had run one after another, which they do directly
 * (each side answers one query at a time).
 */
async function runChecks(checks: Check[], together: boolean, warn: (line: string) => void): Promise<void> {
  if (!together) {
    for (const check of checks) await check(warn);
    return;
  }
  const said = checks.map((): string[] => []);
  const outcomes = await Promise.allSettled(checks.map((check, i) => check((line) => said[i]?.push(line))));
  for (const [i, outcome] of outcomes.entries()) {
    for (const line of said[i] ?? []) warn(line);
    if (outcome.status === 'rejected') throw outcome.reason;
  }
}

/**
 * Where staging's role may not turn foreign-key checks off (SET session_replication_role: a self-hosted project's
 * role without the grant), the run's writes fire staging's keys: a row it deletes fires ON DELETE CASCADE, SET NULL
 * or SET DEFAULT, a key value it rewrites ON UPDATE ones, on the rows of a table the run neither copies nor backs
 * up. Those rows would be deleted or rewritten beyond a restore, even with --allow-orphans, which means to keep
 * them as they are: refused, naming them. (A replace refuses such keys before emptying anything: deferred-keys.ts.)
 */
export async function refuseActingKeysWithChecksOn(run: PreparedRun, tables: TablePlan[], emptied: TableRef[]): Promise<void> {
  const written = new Map(tables.map((table) => [qualifiedName(table.table), table]));
  const left = new Set(emptied.map(qualifiedName));
  const acting = run.plan.stagingLinks.filter((link) => {
    const parent = written.get(qualifiedName(link.parent));
    if (!parent || parent.mode === 'replace' || written.has(qualifiedName(link.child)) || left.has(qualifiedName(link.child))) return false;
    // Rows are matched on their key, whose value a write leaves as it is: a key over other columns is what it rewrites.
    const rewritesReferenced = parent.mode !== 'insert-missing' && !sameColumns(link.parentColumns, parent.key?.columns ?? []);
    return (link.rewritesChildOnDelete && deletesMissing(parent.mode)) || (link.rewritesChildOnUpdate && rewritesReferenced);
  });
  if (!acting.length) return;
  const found = await stagingRowsNamingGoneKeys(run.production, run.staging, acting, tables, run.masker);
  if (!found.length) return;
  throw new DatabaseError(
    [
      "Staging's role may not SET session_replication_role, so this run's writes fire staging's foreign keys, and these would delete or rewrite " +
        'rows of tables the run neither copies nor backs up (ON DELETE or ON UPDATE CASCADE, SET NULL, SET DEFAULT), where they name a key the run removes; nothing was written:',
      ...describeOrphans(found),
      'Ways out:',
      `  add ${[...new Set(found.map(({ link }) => qualifiedName(link.child)))].join(', ')} to the run (--tables, or --schemas)`,
      '  grant the parameter (PostgreSQL 15+: GRANT SET ON PARAMETER session_replication_role TO <role>), or sync as a role that has it',
    ].join('\n'),
  );
}

/** What the run would do to the parents of rows it would orphan: a replace empties them, a mirror deletes the rows production lacks. */
function emptyingVerb(orphaned: FoundOrphans[], tables: TablePlan[]): string {
  const modes = new Set(orphaned.map(({ link }) => tables.find((table) => qualifiedName(table.table) === qualifiedName(link.parent))?.mode));
  // The verbs of the modes that delete staging's rows, as the run was asked for.
  const verbs = (['replace', 'mirror', 'incremental'] as const)
    .filter((mode) => modes.has(mode))
    .map((mode) => ({ replace: 'replacing', mirror: 'mirroring', incremental: 'syncing incrementally' })[mode]);
  const said = (verbs.length ? verbs : ['mirroring']).join(' or ');
  return said.charAt(0).toUpperCase() + said.slice(1);
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
    if (session.method.kind !== 'replica') await refuseActingKeysWithChecksOn(run, tables, emptiedAlongside(run.plan));
  } finally {
    await session.abort();
  }
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((column) => b.includes(column));
}
