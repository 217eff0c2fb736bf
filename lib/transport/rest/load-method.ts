// How a REST load can run, decided before anything is written. The write
// functions are SECURITY DEFINER, so they act with their owner's rights: on
// Supabase `postgres`, which may SET session_replication_role (supautils) and
// so loads with triggers and foreign-key checks off. Owned by a role that may
// not, the load keeps checks on: tables in foreign-key order, user triggers
// disabled by their owner around each batch, self-references in two passes,
// cycles in one request each.
// What that cannot load is refused here, all of it in one message.
import type { SupabaseClient } from '@supabase/supabase-js';
import * as z from 'zod';
import { qualifiedName, type TableRef } from '../../catalog/types.ts';
import { refuseUnidentifiedPublished } from '../replica-identity.ts';
import { alwaysEventTriggerWarnings } from '../event-triggers.ts';
import { refuseMissingPrivileges } from '../write-privileges.ts';
import { DatabaseError } from '../../errors.ts';
import { deletesMissingRows, type LoadPlan, type TableLoad } from '../load.ts';
import { describeForeignReplicaTriggers, describeForeignTriggers } from '../foreign-triggers.ts';
import type { LoadMethod } from '../session.ts';
import { callRpc, describeFailure, RpcFailure, type OnRetry } from './rpc.ts';
import { functionsVersionOf } from './functions-version.ts';
import { cycleTables, whyNotTogether } from './cycles.ts';
import { describeSecondPasses, planSecondPasses } from './self-references.ts';
import { commandLine } from '../../invocation.ts';

export interface RestLoad {
  method: LoadMethod;
  /** Per qualified table name: the self-referencing columns set in a second pass. */
  secondPasses: Map<string, string[]>;
  /** Tables that reference each other, each cycle written in one request (cycles.ts). */
  cycles: TableLoad[][];
  /** Whether the rows a re-sync clears to write afresh are kept, to put back: under the replica role. */
  keepsCleared: boolean;
}

const WRITE_CHECKS = z.object({
  /** The role the write functions run as. */
  owner: z.string(),
  foreign_triggers: z.array(z.object({ table: z.string(), owner: z.string(), triggers: z.array(z.string()) })),
  /** With the replica role: triggers enabled ALWAYS or REPLICA on tables the functions' owner does not own (absent before version 8). */
  foreign_replica_triggers: z.array(z.object({ table: z.string(), owner: z.string(), triggers: z.array(z.string()) })).optional(),
  /** Absent from functions installed before this check existed. */
  missing_privileges: z.array(z.object({ schema: z.string(), name: z.string(), privileges: z.array(z.string()), sequence: z.boolean().optional() })).optional(),
  /** Absent before version 20. */
  always_event_triggers: z.array(z.string()).optional(),
  /** default_transaction_read_only in staging (absent before version 23). */
  read_only_default: z.boolean().optional(),
  /** Absent before version 20. */
  unidentified_published: z.array(z.object({ of: z.string(), table: z.string(), publication: z.string(), index: z.string().nullable() })).optional(),
});

/**
 * A staging database whose transactions default to read-only: PostgREST's
 * writes would go through (it opens read-write transactions), but supasync
 * does not override the default, as its direct path cannot. A run and a
 * restore alike.
 */
export function refuseReadOnlyDefault(checks: { read_only_default?: boolean | undefined }): void {
  if (!checks.read_only_default) return;
  throw new DatabaseError(
    "Staging's database defaults to read-only transactions (default_transaction_read_only = on: Supabase's read-only mode for a full disk, or a deliberate freeze). " +
      "PostgREST's writes would go through anyway, but supasync does not override it, as its direct path cannot: free disk space (Dashboard > Database) " +
      'or, if staging is meant to be written, turn it off (on Supabase: ALTER DATABASE postgres SET default_transaction_read_only = off). Nothing was changed.',
  );
}

/** What staging's functions say of writing the planned tables (privileges, triggers, the read-only default). */
type WriteChecks = z.infer<typeof WRITE_CHECKS>;

/**
 * Tables per supasync_write_checks request: each costs its checks a few
 * milliseconds, and one request for a schema of 2,000 tables outlasted the
 * role's statement timeout. Asked side by side, as --concurrency allows.
 */
const WRITE_CHECK_TABLES = 100;

export async function writeChecks(staging: SupabaseClient, tables: TableRef[], onRetry?: OnRetry): Promise<WriteChecks> {
  const chunks: TableRef[][] = [];
  for (let start = 0; start < tables.length; start += WRITE_CHECK_TABLES) chunks.push(tables.slice(start, start + WRITE_CHECK_TABLES));
  const answers = await Promise.all(
    (chunks.length ? chunks : [[]]).map((chunk) =>
      callRpc(staging, 'supasync_write_checks', { tables: chunk }, { ...(onRetry ? { onRetry } : {}), answer: WRITE_CHECKS }).catch((error: unknown) => {
        throw explainSetupFailure(error, '_supasync_write');
      }),
    ),
  );
  return answers.length === 1 ? (answers[0] as WriteChecks) : mergeWriteChecks(answers);
}

/** Several requests' answers as one: lists joined (what is database-wide, such as an event trigger, said once), a list absent where every answer lacks it. */
function mergeWriteChecks(answers: WriteChecks[]): WriteChecks {
  const joined = <T>(list: (answer: WriteChecks) => T[] | undefined): T[] | undefined => {
    if (answers.every((answer) => list(answer) === undefined)) return undefined;
    const seen = new Map<string, T>();
    for (const item of answers.flatMap((answer) => list(answer) ?? [])) seen.set(JSON.stringify(item), item);
    return [...seen.values()];
  };
  const optional = {
    foreign_replica_triggers: joined((answer) => answer.foreign_replica_triggers),
    missing_privileges: joined((answer) => answer.missing_privileges),
    always_event_triggers: joined((answer) => answer.always_event_triggers),
    unidentified_published: joined((answer) => answer.unidentified_published),
    read_only_default: answers.some((answer) => answer.read_only_default === undefined) ? undefined : answers.some((answer) => answer.read_only_default),
  };
  return {
    owner: (answers[0] as WriteChecks).owner,
    foreign_triggers: joined((answer) => answer.foreign_triggers) ?? [],
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
  };
}

export async function chooseRestLoad(staging: SupabaseClient, plan: LoadPlan): Promise<RestLoad> {
  const [replica, checks, version] = await Promise.all([
    callRpc(staging, 'supasync_can_disable_checks', {}, { answer: z.boolean() }).catch((error: unknown) => {
      throw explainSetupFailure(error, '_supasync_write');
    }),
    writeChecks(
      staging,
      plan.tables.map((t) => t.table),
    ),
    // Functions from before versions were recorded lack it: 0.
    functionsVersionOf(staging).catch((error: unknown) => {
      throw explainSetupFailure(error, '_supasync_read');
    }),
  ]);
  refuseOlderStagingFunctions(version, 'Writing');
  refuseReadOnlyDefault(checks);
  // Over REST each batch commits on its own: a table refused after its TRUNCATE would stay empty.
  refuseMissingPrivileges(checks.missing_privileges ?? [], plan.tables, checks.owner, "staging's supasync functions run as");
  refuseUnidentifiedPublished(checks.unidentified_published ?? [], plan.tables, false);
  const older = alwaysEventTriggerWarnings(checks.always_event_triggers ?? []);
  if (replica) {
    const foreign = checks.foreign_replica_triggers ?? [];
    if (foreign.length) throw new DatabaseError(describeForeignReplicaTriggers(foreign, `staging's supasync functions run as ${checks.owner}, which`));
    return { method: { kind: 'replica', warnings: older }, secondPasses: new Map(), cycles: [], keepsCleared: true };
  }

  const cycles = cycleTables(plan);
  const passes = planSecondPasses(plan, new Set(cycles.flat().map((table) => qualifiedName(table.table))));
  const deleting = plan.tables.filter((table) => deletesMissingRows(table.mode));
  const refused = [
    ...(checks.foreign_triggers.length ? [describeForeignTriggers(checks.foreign_triggers, `staging's supasync functions run as ${checks.owner}, which`)] : []),
    // Found before writing: over REST each batch commits on its own, and a refusal at the deletes would leave the upserts done.
    ...(deleting.length
      ? [
          `${deleting.map((table) => qualifiedName(table.table)).join(', ')}: --mode ${[...new Set(deleting.map((table) => table.mode))].join('/')} deletes the staging rows ` +
            `production lacks with foreign-key checks off, and staging's supasync functions run as ${checks.owner}, which may not SET session_replication_role ` +
            '(--mode upsert or insert-missing keep those rows and need no such right).',
        ]
      : []),
    ...cycles.flatMap((tables) => whyNotTogether(tables) ?? []),
    ...passes.refused,
  ];
  if (refused.length) {
    throw new DatabaseError(
      [
        ...refused,
        'Install the functions as a role that may set it (on Supabase: postgres; PostgreSQL 15+: ' +
          `GRANT SET ON PARAMETER session_replication_role TO ${checks.owner}), or leave those tables out with --exclude. Nothing was changed.`,
      ].join('\n'),
    );
  }
  return {
    method: {
      kind: 'foreign-key order',
      warnings: [
        ...older,
        "staging's supasync functions may not SET session_replication_role: loading in foreign-key order, with user triggers disabled around each batch.",
        ...describeSecondPasses(passes),
        ...cycles.map(
          (tables) =>
            `${tables.map((t) => qualifiedName(t.table)).join(' <-> ')} reference each other: they are written together in one request, their foreign keys checked at its end.`,
        ),
      ],
    },
    secondPasses: passes.columns,
    cycles,
    // Rows are cleared to be written afresh only under the replica role.
    keepsCleared: false,
  };
}

/**
 * Staging's functions a REST run or restore writes with: older ones lack what
 * the checks before writing read in staging (its rules, version 20; its
 * sequences' bounds, 22; its own CHECKs, 24; triggers' kinds and schema
 * privileges, 26), and a replace emptied staging, then failed on the first
 * table with a rule (an upsert into it is refused), the rerun the same. They
 * are one command away, and staging is supasync's to write.
 */
export const STAGING_WRITES_SINCE = 26;

export function refuseOlderStagingFunctions(version: number, doing: 'Writing' | 'Restoring'): void {
  if (version >= STAGING_WRITES_SINCE) return;
  throw new DatabaseError(
    `Staging's supasync functions are version ${version}; ${doing.toLowerCase()} staging over REST needs version ${STAGING_WRITES_SINCE} or later, ` +
      `whose catalog tells the checks made before writing of staging's rules, CHECKs, sequences and privileges. ` +
      `Update them: ${commandLine('install-rpcs')} --staging (production's may stay as they are). Nothing was changed.`,
    2,
  );
}

function explainSetupFailure(error: unknown, migration: string): Error {
  if (!(error instanceof RpcFailure)) return error as Error;
  if (error.code === 'PGRST202') {
    return new DatabaseError(
      `staging lacks supasync's write functions: install supabase/migrations/*${migration}.sql there (${commandLine('install-rpcs', '--staging')}), or sync over the direct path.`,
    );
  }
  return new DatabaseError(`Asking staging's supasync functions what they may do before writing: ${describeFailure(error)}\nNothing was changed.`);
}
