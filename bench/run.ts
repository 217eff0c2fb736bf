// npm run bench: boot the test stack, fill production, then time each
// contender copying it into a freshly reset staging, verify every copy, and
// print the table of docs/benchmarks.md. Everything started is stopped, also
// on an error or Ctrl-C.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startStack, withClient, type Project, type Stack } from '../stack/index.ts';
import { CONTENDERS, ours, oursBin, verifyCommand, type Contender, type Copies, type RunContext, prepareForBaseline } from './contenders.ts';
import { copiedFigures, describeDataset, readTables } from './dataset.ts';
import { describeFailure, measure } from './measure.ts';
import { profileApi, type ProfiledApi } from './profiled-api.ts';
import { RESYNC_CONTENDERS, runResync, type ResyncContender } from './resync.ts';
import { runStorageBench } from './storage.ts';
import { addRatios, addRestRatios, renderReport, restFigures, summarize, unavailable, writeReport, type BenchReport, type RunResult } from './report.ts';
import { choosePostgresBin, findTools, type Tools } from './tools.ts';
import { compareDigests, describeDifference, digestTables, type Digests } from './verify.ts';

const HELP = `Usage: npm run bench -- [options]

Times supasync and the baselines copying a filled production into an empty
staging (same schema, indexes and FKs), verifies each copy, prints a table and
writes bench/results/<timestamp>.json. See docs/benchmarks.md.

  --size tiny|seed|bench|lean  production's size (default bench: about 1,060,000 rows over 38 tables
                           and 72 indexes; lean: seed's tables and one of 1,050,000 rows with one
                           secondary index, the shape of the user's app)
  --only a,b               contenders to run, by id or group: ${[...new Set(CONTENDERS.map((c) => c.group ?? c.id))].join(', ')}
                           (the groups ours_rest and first_version are one row per profile and
                           dataset, e.g. first_version_remote_embeddings)
  --repeat N               run each contender N times, report the median (default 1)
  --resync                 the re-sync benchmark instead: production and production_after (the same
                           fill, ~1% of its rows then changed by bench/changes.ts); per round a staging
                           synced from production, then from production_after a full replace, mirror,
                           insert-missing and mirror with its backup (direct), and full replace and
                           mirror over REST (remote profile, embeddings and fixture), each into its own
                           such staging, each checked. --only then takes: direct, rest, ${RESYNC_CONTENDERS.map((c) => c.id).join(', ')}
  --against DIR            with --resync: each re-sync also run from the checkout in DIR (another
                           commit, npm ci done there), alternating, for a change measured side by side
  --storage                the files benchmark instead (bench/storage.ts): many small files and one large
                           one copied through the Storage API under the remote profile, against the wire limit
  -h, --help               this text

Exit codes: 0 done, 1 supasync (direct or REST) failed or its copy differs (or the harness failed), 2 usage error.`;

const SIZES = ['tiny', 'seed', 'bench', 'lean'] as const;
type Size = (typeof SIZES)[number];
const SCHEMAS = ['public', 'analytics', 'auth', 'storage'];
/** Whose rows decide the exit code, and whom the first version is compared with. */
const OURS_REST = 'ours_rest';
const FIRST_VERSION = 'first_version';
const REPO_DIR = fileURLToPath(new URL('..', import.meta.url));

interface Options {
  size: Size;
  contenders: Contender[];
  repeat: number;
  /** --resync: the re-sync benchmark (bench/resync.ts), with these of its contenders. */
  resync?: ResyncContender[];
  /** --storage: the files benchmark (bench/storage.ts). */
  storage?: boolean;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      size: { type: 'string', default: 'bench' },
      only: { type: 'string' },
      repeat: { type: 'string', default: '1' },
      resync: { type: 'boolean' },
      against: { type: 'string' },
      storage: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const size = SIZES.find((s) => s === values.size);
  if (!size) throw new UsageError(`--size ${values.size}: use tiny, seed, bench or lean`);
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new UsageError(`--repeat ${values.repeat}: use a whole number of at least 1`);
  const ids = values.only
    ?.split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  if (values.against && !values.resync) throw new UsageError('--against: only with --resync');
  if (values.resync) return { size, repeat, contenders: [], resync: withOtherCheckout(choose(RESYNC_CONTENDERS, ids), values.against) };
  if (values.storage) return { size, repeat, contenders: [], storage: true };
  return { size, contenders: choose(CONTENDERS, ids), repeat };
}

/**
 * --against <dir>: each re-sync contender but the full replaces run again,
 * right after it in each round, from another checkout (another commit, its
 * node_modules installed): a change measured side by side in one run, on
 * the same databases, where two runs apart differ by up to a third.
 */
function withOtherCheckout(contenders: ResyncContender[], dir: string | undefined): ResyncContender[] {
  if (!dir) return contenders;
  const repoDir = resolve(dir);
  if (!existsSync(join(repoDir, 'scripts', 'sync.ts')) || !existsSync(join(repoDir, 'node_modules'))) {
    throw new UsageError(`--against ${dir}: not a supasync checkout with its node_modules installed`);
  }
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoDir, encoding: 'utf8' }).trim();
  return contenders.flatMap((c) => (c.id === c.baseline ? [c] : [c, { ...c, id: `${c.id}_against`, label: `${c.label} [${commit}]`, repoDir }]));
}

/** The contenders --only names, by id or group: all of them without it. */
function choose<T extends { id: string; group?: string }>(all: T[], ids: string[] | undefined): T[] {
  const chosen = (c: T, id: string) => c.id === id || c.group === id;
  const unknown = ids?.filter((id) => !all.some((c) => chosen(c, id))) ?? [];
  if (unknown.length) {
    const known = [...new Set(all.flatMap((c) => (c.group ? [c.group, c.id] : [c.id])))];
    throw new UsageError(`--only ${unknown.join(',')}: unknown; use ${known.join(', ')}`);
  }
  return ids ? all.filter((c) => ids.some((id) => chosen(c, id))) : all;
}

const progress = (text: string) => process.stderr.write(text);

async function run(options: Options, signal: AbortSignal): Promise<number> {
  const tools = findTools();
  const binaries = choosePostgresBin(tools);
  const workRoot = mkdtempSync(join(tmpdir(), 'supasync-bench-'));
  const interrupted = () => {
    if (signal.aborted) throw new Error('Interrupted.');
  };
  let stack: Stack | undefined;
  let production: Project | undefined;
  let staging: Project | undefined;
  let api: ProfiledApi | undefined;
  try {
    progress(`Booting PostgreSQL: ${binaries}\n`);
    stack = await startStack();
    interrupted();
    const version = await withClient(
      stack.info.adminUrl,
      async (c) => (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]?.v ?? '?',
    );
    progress(`PostgreSQL ${version}. Filling production (--size ${options.size})...\n`);
    production = await stack.createProject('bench_production', { fill: options.size });
    interrupted();
    const { copied: tables, leftOut } = await readTables(production.adminUrl, SCHEMAS);
    const expected = await digestTables(production.adminUrl, tables);
    const dataset = await describeDataset(options.size, production, tables, expected, tools, SCHEMAS);
    interrupted();
    progress(`Production: ${dataset.rows.toLocaleString('en-US')} rows in ${dataset.tables} tables.\n`);

    const runs = new Map<string, RunResult[]>();
    const verifyRuns: { seconds: number; exitCode: number }[] = [];
    const runnable = options.contenders.filter((c) => c.unavailable(tools) === undefined);
    const copies = new Map<string, Copies>();
    for (const contender of runnable) copies.set(contender.id, contender.copies ? await contender.copies(production, tables) : { tables });
    const setUpDirs = new Map<string, string>();
    for (const contender of runnable) {
      const dir = join(workRoot, `setup-${contender.id}`);
      mkdirSync(dir);
      setUpDirs.set(contender.id, dir);
      if (contender.setUp) {
        progress(`${contender.label}: setting up (not timed)...\n`);
        await contender.setUp(production, copies.get(contender.id)?.tables ?? tables, dir, tools);
      }
    }
    for (let round = 1; round <= options.repeat; round++) {
      for (const contender of runnable) {
        await staging?.stop();
        staging = undefined;
        staging = await stack.createProject('bench_staging');
        // Start every contender from the same state: no checkpoint pending from the last one.
        if (contender.preparesStaging) await prepareForBaseline(staging);
        await withClient(staging.adminUrl, (c) => c.query('CHECKPOINT'));
        if (contender.rest) api = profileApi(production, staging, contender.rest.profile);
        interrupted();
        const workDir = join(workRoot, `${round}-${contender.id}`);
        mkdirSync(workDir);
        const context: RunContext = {
          production,
          staging,
          tables: copies.get(contender.id)?.tables ?? tables,
          leftOut,
          schemas: SCHEMAS,
          workDir,
          setUpDir: setUpDirs.get(contender.id) as string,
          repoDir: REPO_DIR,
          tools,
        };
        const where = contender.rest ? ` [${contender.rest.profile}, ${contender.rest.dataset}]` : '';
        progress(`${contender.label}${where} (run ${round}/${options.repeat})... `);
        const result = await runOnce(contender, context, expected, tools, signal, api);
        api?.stop();
        api = undefined;
        interrupted();
        runs.set(contender.id, [...(runs.get(contender.id) ?? []), result]);
        progress(
          result.error ??
            (result.differences.length
              ? `${result.seconds.toFixed(2)} s, DIFFERS: ${result.differences.slice(0, 3).map(describeDifference).join(', ')}`
              : `${result.seconds.toFixed(2)} s, equal`),
        );
        progress('\n');
        if (contender.id === ours.id && result.exitCode === 0 && !result.differences.length) {
          progress('  then scripts/verify-sync-status.ts on that copy... ');
          const verify = await measure(verifyCommand(context), { logFile: join(workDir, 'verify.log'), signal });
          verifyRuns.push({ seconds: verify.seconds, exitCode: verify.exitCode ?? 1 });
          progress(`${verify.seconds.toFixed(2)} s, exit ${verify.exitCode}\n`);
        }
      }
    }

    const results = options.contenders.map((c) => {
      const reason = c.unavailable(tools);
      const scope = copies.get(c.id) ?? { tables };
      const result = reason ? unavailable(c.id, c.label, reason) : summarize(c.id, c.label, runs.get(c.id) ?? [], copiedFigures(dataset, scope.tables));
      if (c.group) result.group = c.group;
      if (c.rest) {
        const { rows } = copiedFigures(dataset, scope.tables);
        result.rest = restFigures(result, { ...c.rest, tables: scope.tables.length, rows, ...(scope.note ? { copies: scope.note } : {}) });
      }
      return result;
    });
    addRatios(results, ours.id, oursBin.id);
    addRestRatios(results, OURS_REST, FIRST_VERSION);
    const report: BenchReport = {
      date: new Date().toISOString(),
      repeat: options.repeat,
      server: { version, binaries },
      dataset,
      contenders: results,
    };
    console.log(`\n${renderReport(report)}\n`);
    if (verifyRuns.length) {
      const seconds = verifyRuns.map((v) => v.seconds).sort((a, b) => a - b)[Math.floor(verifyRuns.length / 2)] ?? 0;
      console.log(
        `Verification after our direct sync (scripts/verify-sync-status.ts: counts and checksums of every row, both sides): ` +
          `${seconds.toFixed(2)} s${verifyRuns.length > 1 ? ' (median)' : ''}, exit ${verifyRuns.map((v) => v.exitCode).join('/')}\n`,
      );
    }
    console.log(`Results: ${writeReport(report, join(REPO_DIR, 'bench', 'results'))}`);
    const oursResults = results.filter((r) => r.id === ours.id || r.group === OURS_REST);
    return oursResults.some((r) => r.status !== 'equal') ? 1 : 0;
  } finally {
    progress('Stopping the stack...\n');
    api?.stop();
    await staging?.stop().catch(() => undefined);
    await production?.stop().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
    rmSync(workRoot, { recursive: true, force: true });
  }
}

async function runOnce(
  contender: Contender,
  context: RunContext,
  expected: Digests,
  tools: Tools,
  signal: AbortSignal,
  api: ProfiledApi | undefined,
): Promise<RunResult> {
  const measured = await measure(contender.command(context), {
    logFile: join(context.workDir, 'output.log'),
    ...(tools.gnuTime ? { timeFile: join(context.workDir, 'time.txt') } : {}),
    signal,
  });
  const base = {
    seconds: measured.seconds,
    exitCode: measured.exitCode,
    ...(measured.peakKib === undefined ? {} : { peakKib: measured.peakKib }),
    ...(api ? { traffic: api.traffic() } : {}),
  };
  if (measured.exitCode !== 0) return { ...base, differences: [], error: describeFailure(measured) };
  // Only the tables this contender copies: the others are empty in staging by design.
  const keys = new Set(context.tables.map((t) => t.key));
  const wanted: Digests = new Map([...expected].filter(([key]) => keys.has(key)));
  const differences = compareDigests(wanted, await digestTables(context.staging.adminUrl, context.tables));
  return { ...base, differences };
}

let options: Options | 'help';
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  console.error(`${(error as Error).message}. See --help.`);
  process.exit(2);
}
if (options === 'help') {
  console.log(HELP);
  process.exit(0);
}
const abort = new AbortController();
// `npm run bench` runs us under tsx's CLI, which relays a Ctrl-C to us when we
// have not said within 30 ms that we got it (a busy event loop on a loaded
// machine): one keypress then arrives twice. A second signal that close to the
// first is that one, not a second Ctrl-C.
const SAME_KEYPRESS_MS = 1000;
let interruptedAt = 0;
const onSignal = () => {
  if (abort.signal.aborted) {
    if (performance.now() - interruptedAt < SAME_KEYPRESS_MS) return;
    process.exit(130); // a second Ctrl-C: leave now
  }
  interruptedAt = performance.now();
  progress('\nInterrupted: stopping what runs (Ctrl-C again to leave at once)...\n');
  abort.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
try {
  process.exitCode = options.storage
    ? await runStorageBench({ repoDir: REPO_DIR, progress }, abort.signal)
    : options.resync
      ? await runResync(
          { size: options.size, repeat: options.repeat, contenders: options.resync },
          { schemas: SCHEMAS, repoDir: REPO_DIR, progress },
          abort.signal,
        )
      : await run(options, abort.signal);
} catch (error) {
  console.error(abort.signal.aborted ? 'Interrupted.' : `Benchmark failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = abort.signal.aborted ? 130 : 1;
}
