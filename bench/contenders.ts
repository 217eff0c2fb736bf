// Who is timed: supasync itself and the baselines of docs/benchmarks.md, each
// a whole command as a user would type it. The REST path's contenders are in
// rest-contenders.ts.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { GatewayProfile } from '../stack/gateway.ts';
import { projectEnv, withClient, type Project } from '../stack/index.ts';
import { copyOut, type BenchTable } from './dataset.ts';
import type { Command } from './measure.ts';
import { REST_CONTENDERS, type RestDataset } from './rest-contenders.ts';
import type { Tools } from './tools.ts';

export interface RunContext {
  production: Project;
  /** Freshly reset before every run: same schema, indexes and FKs, no rows. */
  staging: Project;
  /** The tables this contender copies, and the only ones verified (all of them unless it says otherwise). */
  tables: BenchTable[];
  /** Tables of those schemas that no contender copies (Auth's migrations and sign-in state), as a sync leaves them out. */
  leftOut: BenchTable[];
  schemas: string[];
  /** An empty directory of this run's own. */
  workDir: string;
  /** What setUp() left for this contender's runs. */
  setUpDir: string;
  /** The repository, where `scripts/sync.ts` lives. */
  repoDir: string;
  tools: Tools;
}

/** What a contender copies when it does not copy every table. */
export interface Copies {
  tables: BenchTable[];
  /** Shown under the table, e.g. which tables it leaves out and why. */
  note?: string;
}

export interface Contender {
  id: string;
  /** `--only` takes a group for all its contenders, e.g. first_version for its four rows. */
  group?: string;
  label: string;
  /** A REST contender: both projects' gateways are switched to this profile for its runs, and their bytes counted. */
  rest?: { profile: GatewayProfile; dataset: RestDataset };
  /** Why it cannot run on this machine, shown in place of its figures. */
  unavailable(tools: Tools): string | undefined;
  /** The tables it copies, out of production's; all of them when absent. */
  copies?(production: Project, tables: BenchTable[]): Promise<Copies>;
  /**
   * Staging made ready for this tool before each of its runs, untimed, as its user would have to
   * (prepareForBaseline): production holds rows from before its checks added NOT VALID, which a load refuses
   * whatever the replica role, and the triggers and rules enabled ALWAYS or REPLICA fire under that role.
   * supasync does both inside its transaction, in its time.
   */
  preparesStaging?: boolean;
  /** Run once before its first run, untimed, with a directory its runs share (RunContext.setUpDir). */
  setUp?(production: Project, tables: BenchTable[], dir: string, tools: Tools): Promise<void>;
  command(context: RunContext): Command;
}

const run = promisify(execFile);

/** Single-quoted for bash. */
const sh = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

// -X: no ~/.psqlrc; ON_ERROR_STOP: a failed COPY fails the command.
const psql = (tools: Tools): string => `${sh(tools.psql ?? 'psql')} -X -q -v ON_ERROR_STOP=1`;

/** URLs go to bash through the environment, never spliced into the script. */
const urls = (production: string, staging: string) => ({ BENCH_PRODUCTION_URL: production, BENCH_STAGING_URL: staging });

const bash = (script: string, env: Record<string, string>): Command => ({
  file: 'bash',
  args: ['-c', `set -euo pipefail\n${script}`],
  env,
});

const needs = (tools: Tools, what: 'pg_dump' | 'psql'): string | undefined =>
  (what === 'pg_dump' ? tools.pgDump : tools.psql) ? undefined : 'not installed (apt-get install postgresql-client)';

export const ours: Contender = {
  id: 'ours',
  label: 'supasync (ours)',
  unavailable: () => undefined,
  command: ({ production, staging, schemas, repoDir }) => ({
    file: 'npx',
    args: ['tsx', 'scripts/sync.ts', '--via', 'postgres', '--mode', 'replace', '--yes', '--schemas', schemas.join(',')],
    cwd: repoDir,
    env: projectEnv(production, staging),
  }),
};

/**
 * Issue 18's: the package as a user installs it. setUp packs this checkout
 * (prepack bundles dist/) and installs the tarball into an empty directory,
 * untimed; each run is then the installed bin, started directly as CI would
 * (node_modules/.bin/supasync: no npx, no tsx).
 */
export const oursBin: Contender = {
  id: 'ours_bin',
  label: 'supasync, installed bin',
  unavailable: () => undefined,
  setUp: async (_production, _tables, dir) => {
    const repo = fileURLToPath(new URL('..', import.meta.url));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: repo, maxBuffer: 16 << 20 });
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'bench-app', private: true }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed!.filename)], { cwd: app });
  },
  command: ({ production, staging, schemas, setUpDir }) => ({
    file: join(setUpDir, 'app', 'node_modules', '.bin', 'supasync'),
    args: ['sync', '--via', 'postgres', '--mode', 'replace', '--yes', '--schemas', schemas.join(',')],
    cwd: join(setUpDir, 'app'),
    env: projectEnv(production, staging),
  }),
};

/**
 * Issue 17's comparison: the same direct sync with the Supabase preset and
 * rules on the app's personal columns (guests, staff, profiles). The masked
 * tables hold masked values by design, so the harness's digests compare the
 * others; the e2e tests (tests/masking-*.test.ts) and verify-sync-status.ts
 * check the masked ones against production-as-masked.
 */
export const MASK_RULES = {
  maskPreset: 'supabase',
  mask: {
    'guest_reservations.guest_name': 'name',
    'guest_reservations.guest_email': 'email',
    'staff_users.email': 'email',
    'profiles.full_name': 'name',
    'profiles.username': 'hash',
  },
};
const MASKED_TABLES = ['auth.users', 'auth.identities', 'public.guest_reservations', 'public.staff_users', 'public.profiles'];

export const oursMasked: Contender = {
  id: 'ours_masked',
  label: 'supasync masked (preset + app rules)',
  unavailable: () => undefined,
  copies: async (_production, tables) => ({
    tables: tables.filter((table) => !MASKED_TABLES.includes(table.key)),
    note: `ours_masked: ${MASKED_TABLES.join(', ')} masked, so compared by scripts/verify-sync-status.ts rather than by digest`,
  }),
  setUp: async (_production, _tables, dir) => {
    writeFileSync(join(dir, 'supasync.config.json'), JSON.stringify(MASK_RULES));
  },
  command: ({ production, staging, schemas, repoDir, setUpDir }) => ({
    // Run from the directory holding its config: tsx from the repository, not npx's lookup from there.
    file: join(repoDir, 'node_modules', '.bin', 'tsx'),
    args: [join(repoDir, 'scripts', 'sync.ts'), '--via', 'postgres', '--mode', 'replace', '--yes', '--schemas', schemas.join(',')],
    cwd: setUpDir,
    env: { ...projectEnv(production, staging), SUPASYNC_MASK_SECRET: 'bench-mask-secret-0123456789abcdef' },
  }),
};

/** Our verification, timed after our direct sync while staging holds its copy. */
export function verifyCommand({ production, staging, schemas, repoDir }: RunContext): Command {
  return {
    file: 'npx',
    args: ['tsx', 'scripts/verify-sync-status.ts', '--via', 'postgres', '--schemas', schemas.join(',')],
    cwd: repoDir,
    env: projectEnv(production, staging),
  };
}

// --disable-triggers wraps each table's COPY in ALTER TABLE ... DISABLE TRIGGER
// ALL, which needs a superuser: hence the admin connections. pg_dump writes the
// partitions' rows per partition and leaves generated columns out by itself.
export const pgDumpPsql: Contender = {
  id: 'pg_dump',
  label: 'pg_dump | psql',
  preparesStaging: true,
  unavailable: (tools) => needs(tools, 'pg_dump') ?? needs(tools, 'psql'),
  command: ({ production, staging, schemas, leftOut, tools }) =>
    bash(
      `${sh(tools.pgDump?.path ?? 'pg_dump')} --data-only --disable-triggers ${schemas.map((s) => sh(`--schema=${s}`)).join(' ')}` +
        ` ${leftOut.map((table) => sh(`--exclude-table-data=${table.sql}`)).join(' ')}` +
        ` "$BENCH_PRODUCTION_URL" | ${psql(tools)} "$BENCH_STAGING_URL"`,
      urls(production.adminUrl, staging.adminUrl),
    ),
};

// One pipe per table, one after another. session_replication_role = replica
// skips FK checks and user triggers, so table order does not matter; the table
// owner may set it (on Supabase through supautils), so no superuser is needed.
export const copyPipe: Contender = {
  id: 'copy_pipe',
  label: 'COPY pipe (replica role)',
  preparesStaging: true,
  unavailable: (tools) => needs(tools, 'psql'),
  command: ({ production, staging, tables, tools }) =>
    bash(
      tables
        .map(
          (table) =>
            `${psql(tools)} -d "$BENCH_PRODUCTION_URL" -c ${sh(copyOut(table))} | ${psql(tools)} -d "$BENCH_STAGING_URL"` +
            ` -c 'SET session_replication_role = replica' -c ${sh(`COPY ${table.sql} (${table.columns}) FROM STDIN`)}`,
        )
        .join('\n'),
      urls(production.dbUrl, staging.dbUrl),
    ),
};

// The sketch of shared/docs/benchmarks.md, by hand with psql: what our direct
// path does, minus everything but the load. One staging transaction with the
// replica role; TRUNCATE; the secondary indexes (those no constraint owns)
// dropped; each table a COPY from production through \copy FROM PROGRAM, in
// the format our direct path picks for it (binary where the types allow); the
// indexes created again (those of tables it owns: auth's and storage's belong
// to Supabase's services); COMMIT. The index statements are read from
// staging's catalog by the script itself, as a user's script would.
export const psqlSketch: Contender = {
  id: 'sketch',
  label: 'psql sketch (1 transaction, indexes rebuilt)',
  preparesStaging: true,
  unavailable: (tools) => needs(tools, 'psql'),
  command: (context) => {
    const client = context.tools.psql ?? 'psql';
    // Inside \copy's single-quoted PROGRAM the shell sees a double-quoted -c.
    const forShell = (sql: string) => sql.replace(/[\\"$`]/g, (c) => `\\${c}`);
    return oneTransaction(
      context,
      (table) =>
        `PROGRAM '${client} -X -q -d "$BENCH_PRODUCTION_URL" ` +
        `-c "${forShell(`COPY (SELECT ${table.columns} FROM ${table.rows}) TO STDOUT (FORMAT ${table.format})`)}"'`,
    );
  },
};

// Not a tool a user would pick: the least time one staging transaction can
// take here. The sketch's transaction, its rows read from COPY files (binary
// where the types allow) that production wrote before the clock started, so
// nothing is read from production while it runs. Beating it takes a second
// writing backend.
export const floor: Contender = {
  id: 'floor',
  label: 'floor: 1 transaction from local files',
  preparesStaging: true,
  unavailable: (tools) => needs(tools, 'psql'),
  async setUp(production, tables, dir, tools) {
    for (const [index, table] of tables.entries()) {
      const file = join(dir, `${index}.copy`);
      await run(tools.psql ?? 'psql', [
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-d',
        production.dbUrl,
        '-c',
        `\\copy (SELECT ${table.columns} FROM ${table.rows}) TO '${file}' (FORMAT ${table.format})`,
      ]);
    }
  },
  command: (context) => oneTransaction(context, (table) => `'${join(context.setUpDir, `${context.tables.indexOf(table)}.copy`)}'`),
};

/**
 * The psql script of one staging transaction: TRUNCATE, the secondary
 * indexes dropped, each table's COPY from `source` (what follows FROM in
 * \copy) in the table's format, the indexes created again, COMMIT.
 */
function oneTransaction({ production, staging, tables, schemas, tools }: RunContext, source: (table: BenchTable) => string): Command {
  const copies = tables.map((table) => `\\copy ${table.sql} (${table.columns}) FROM ${source(table)} (FORMAT ${table.format})`);
  const inSchemas = schemas.map((schema) => `'${schema.replaceAll("'", "''")}'`).join(', ');
  const secondary = `FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
    JOIN pg_class t ON t.oid = i.indrelid WHERE n.nspname IN (${inSchemas}) AND NOT t.relispartition
    AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid) AND pg_has_role(t.relowner, 'USAGE')`;
  const script = [
    `drops=$(${psql(tools)} -At -d "$BENCH_STAGING_URL" -c ${sh(`SELECT format('DROP INDEX %I.%I;', n.nspname, ic.relname) ${secondary}`)})`,
    `creates=$(${psql(tools)} -At -d "$BENCH_STAGING_URL" -c ${sh(`SELECT replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ') || ';' ${secondary}`)})`,
    `{ echo 'BEGIN; SET LOCAL session_replication_role = replica;'`,
    // CASCADE: Auth's sign-in tables reference auth.users.
    `  echo ${sh(`TRUNCATE ${tables.map((table) => table.sql).join(', ')} CASCADE;`)}`,
    `  echo "$drops"`,
    ...copies.map((line) => `  echo ${sh(line)}`),
    `  echo "$creates"`,
    `  echo 'COMMIT;'`,
    `} | ${psql(tools)} -d "$BENCH_STAGING_URL"`,
  ];
  return bash(script.join('\n'), urls(production.dbUrl, staging.dbUrl));
}

// Without the replica role pgcopydb loads children before parents, the FK
// checks fail, and it still exits 0 with those tables empty: verify catches it.
// It copies every table of the database; here only the benchmarked schemas
// hold tables. It also runs VACUUM ANALYZE on each table it loaded.
export const pgcopydb: Contender = {
  id: 'pgcopydb',
  label: 'pgcopydb --table-jobs 2',
  preparesStaging: true,
  unavailable: (tools) => (tools.pgcopydb ? undefined : 'not installed (apt-get install pgcopydb)'),
  command: ({ production, staging, workDir, leftOut }) => ({
    file: 'pgcopydb',
    args: [
      'copy',
      'table-data',
      '--table-jobs',
      '2',
      '--dir',
      `${workDir}/pgcopydb`,
      '--filters',
      pgcopydbFilters(workDir, leftOut),
      '--source',
      production.adminUrl,
      // libpq decodes %20, not '+': URLSearchParams would not do.
      '--target',
      `${staging.adminUrl}${staging.adminUrl.includes('?') ? '&' : '?'}options=-c%20session_replication_role%3Dreplica`,
    ],
  }),
};

/** What no contender copies (Auth's migrations and sign-in state), in pgcopydb's filter file. */
function pgcopydbFilters(workDir: string, leftOut: BenchTable[]): string {
  const file = join(workDir, 'pgcopydb-filters.ini');
  writeFileSync(file, `[exclude-table-data]\n${leftOut.map((table) => `${table.sql}\n`).join('')}`);
  return file;
}

/** See Contender.preparesStaging: the checks added NOT VALID dropped, the triggers and rules the replica role leaves on disabled. */
export async function prepareForBaseline(staging: Project): Promise<void> {
  await withClient(staging.adminUrl, async (client) => {
    const { rows } = await client.query<{ statement: string }>(
      `SELECT CASE WHEN conrelid <> 0 THEN format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname)
                   ELSE format('ALTER DOMAIN %s DROP CONSTRAINT %I', contypid::regtype, conname) END AS statement
       FROM pg_constraint WHERE contype = 'c' AND NOT convalidated
       UNION ALL
       SELECT format('ALTER TABLE %s DISABLE TRIGGER %I', tgrelid::regclass, tgname) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled IN ('A', 'R')
       UNION ALL
       SELECT format('ALTER TABLE %s DISABLE RULE %I', ev_class::regclass, rulename) FROM pg_rewrite WHERE rulename <> '_RETURN' AND ev_enabled IN ('A', 'R')`,
    );
    for (const { statement } of rows) await client.query(statement);
  });
}

export const CONTENDERS: Contender[] = [ours, oursBin, oursMasked, pgDumpPsql, copyPipe, psqlSketch, pgcopydb, floor, ...REST_CONTENDERS];
