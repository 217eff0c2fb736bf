// npm run bench -- --resync: what a re-sync costs after ~1% of production
// changed, against a full replace in the same run (shared/docs/benchmarks.md).
//
// Two productions from the same fill: `production`, and `production_after`,
// changed by bench/changes.ts. Each round, staging is made "one deploy
// behind": a fresh project synced from production (timed once per round,
// not the baseline). Then, from production_after, each contender runs into
// its own such staging and is checked: equal to production_after (or, for
// insert-missing, holding its every key). The direct path's contenders and
// the REST path's (remote profile, embeddings and the whole fixture) each
// compare with the full replace of their own path and dataset.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FixtureSize } from '../stack/fixture/generate.ts';
import { projectEnv, startStack, withClient, type Project, type Stack } from '../stack/index.ts';
import { readCatalogPostgres } from '../lib/catalog/read.ts';
import { copiedColumns } from '../lib/engine/watermark-columns.ts';
import { Link } from '../stack/link.ts';
import { applyChanges, changeScript } from './changes.ts';
import { describeDataset, readTables, type BenchTable } from './dataset.ts';
import { diffTables, missingKeys, readKeys, type Keys } from './diff.ts';
import { describeFailure, measure, type Command } from './measure.ts';
import { profileApi, type ProfiledApi } from './profiled-api.ts';
import {
  addResyncRatios,
  renderResyncReport,
  summarizeResync,
  writeReport,
  type ChangedWire,
  type ResyncChanges,
  type ResyncReport,
  type ResyncRunResult,
} from './report.ts';
import { EMBEDDINGS_TABLE, restEnv, type RestDataset } from './rest-contenders.ts';
import { choosePostgresBin, findTools, type Tools } from './tools.ts';
import { compareDigests, describeDifference, digestTables, type Digests } from './verify.ts';

export interface ResyncOptions {
  size: FixtureSize;
  repeat: number;
  /** Those --only chose (by id or group: direct, rest), in this order. */
  contenders: ResyncContender[];
}

export interface ResyncContext {
  schemas: string[];
  /** The repository, where scripts/sync.ts runs and writes .supasync/backups/. */
  repoDir: string;
  progress(text: string): void;
}

/** A mirror refuses a table without a key: left out of every re-sync, and of the full replace, so all copy the same tables. */
const UNKEYED = 'public.event_log';

export interface ResyncContender {
  id: string;
  group: 'direct' | 'rest';
  label: string;
  /** REST: which tables. */
  dataset?: RestDataset;
  args(schemas: string[]): string[];
  check: 'equal' | 'keys';
  /** Writes a backup to .supasync/backups/ (its size recorded, then removed). */
  backup?: boolean;
  /** Staging's incremental watermarks set to just before the deploy's changes, as the last incremental run would have left them. */
  watermarks?: boolean;
  /** The full replace of the same path and dataset. */
  baseline: string;
  /** Run from this checkout instead of the repository's (--against). */
  repoDir?: string;
  targetVsReplace?: number;
  targetVsChangedWire?: number;
}

/** The sync that leaves staging one deploy behind, as the brief of issue 16 has it. */
const initialArgs = (schemas: string[]) => ['--yes', '--no-backup', '--schemas', schemas.join(',')];
const allTables = (schemas: string[]) => ['--schemas', schemas.join(','), '--exclude', UNKEYED];
const restTables = (dataset: RestDataset, schemas: string[]) => (dataset === 'embeddings' ? ['--tables', EMBEDDINGS_TABLE] : allTables(schemas));

function restPair(dataset: RestDataset): ResyncContender[] {
  const baseline = `rest_replace_${dataset}`;
  return [
    {
      id: baseline,
      group: 'rest',
      label: 'REST full replace',
      dataset,
      args: (s) => ['--via', 'rest', '--mode', 'replace', '--yes', '--no-backup', ...restTables(dataset, s)],
      check: 'equal',
      baseline,
    },
    {
      id: `rest_mirror_${dataset}`,
      group: 'rest',
      label: 'REST mirror',
      dataset,
      args: (s) => ['--via', 'rest', '--mode', 'mirror', '--yes', '--no-backup', ...restTables(dataset, s)],
      check: 'equal',
      baseline,
      targetVsReplace: 0.05,
      targetVsChangedWire: 1.2,
    },
    {
      id: `rest_incremental_${dataset}`,
      group: 'rest',
      label: 'REST incremental',
      dataset,
      args: (s) => ['--via', 'rest', '--mode', 'incremental', '--yes', '--no-backup', ...restTables(dataset, s)],
      check: 'equal',
      watermarks: true,
      baseline,
      targetVsReplace: 0.05,
    },
  ];
}

export const RESYNC_CONTENDERS: ResyncContender[] = [
  {
    id: 'replace',
    group: 'direct',
    label: 'full replace',
    args: (s) => ['--mode', 'replace', '--yes', '--no-backup', ...allTables(s)],
    check: 'equal',
    baseline: 'replace',
  },
  {
    id: 'mirror',
    group: 'direct',
    label: 'mirror',
    args: (s) => ['--mode', 'mirror', '--yes', '--no-backup', ...allTables(s)],
    check: 'equal',
    baseline: 'replace',
    targetVsReplace: 0.1,
  },
  {
    id: 'insert_missing',
    group: 'direct',
    label: 'insert-missing',
    args: (s) => ['--mode', 'insert-missing', '--no-backup', ...allTables(s)],
    check: 'keys',
    baseline: 'replace',
    targetVsReplace: 0.1,
  },
  {
    id: 'incremental',
    group: 'direct',
    label: 'incremental (watermarks from before the changes)',
    args: (s) => ['--mode', 'incremental', '--yes', '--no-backup', ...allTables(s)],
    check: 'equal',
    watermarks: true,
    baseline: 'replace',
    targetVsReplace: 0.1,
  },
  {
    id: 'mirror_backup',
    group: 'direct',
    label: 'mirror, with its backup',
    args: (s) => ['--mode', 'mirror', '--yes', ...allTables(s)],
    check: 'equal',
    backup: true,
    baseline: 'replace',
  },
  {
    id: 'incremental_backup',
    group: 'direct',
    label: 'incremental, with its backup',
    args: (s) => ['--mode', 'incremental', '--yes', ...allTables(s)],
    check: 'equal',
    watermarks: true,
    backup: true,
    baseline: 'replace',
  },
  ...restPair('embeddings'),
  ...restPair('fixture'),
];

export async function runResync(options: ResyncOptions, context: ResyncContext, signal: AbortSignal): Promise<number> {
  const { schemas, repoDir, progress } = context;
  const { contenders } = options;
  const tools = findTools();
  const binaries = choosePostgresBin(tools);
  const workRoot = mkdtempSync(join(tmpdir(), 'supasync-bench-resync-'));
  const backupRoot = join(repoDir, '.supasync', 'backups');
  const backupsBefore = new Set(listDir(backupRoot));
  const interrupted = () => {
    if (signal.aborted) throw new Error('Interrupted.');
  };
  // Everything started, for the finally below.
  const held: { stack?: Stack; production?: Project; after?: Project; staging?: Project; api?: ProfiledApi } = {};
  try {
    progress(`Booting PostgreSQL: ${binaries}\n`);
    const stack = (held.stack = await startStack());
    interrupted();
    const version = await withClient(
      stack.info.adminUrl,
      async (c) => (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]?.v ?? '?',
    );
    progress(`PostgreSQL ${version}. Filling production and production_after (--size ${options.size})...\n`);
    const production = (held.production = await stack.createProject('bench_production', { fill: options.size }));
    interrupted();
    const after = (held.after = await stack.createProject('bench_production_after', { fill: options.size }));
    interrupted();
    const { copied: tables } = await readTables(production.adminUrl, schemas);
    const before = await digestTables(production.adminUrl, tables);
    const dataset = await describeDataset(options.size, production, tables, before, tools, schemas);
    interrupted();
    progress(`Production: ${dataset.rows.toLocaleString('en-US')} rows in ${dataset.tables} tables. Changing production_after...\n`);
    const keys = await readKeys(production.adminUrl, tables);
    const changes = await changeProductionAfter(production, after, tables, keys, before, dataset.perTable);
    const expected = await digestTables(after.adminUrl, tables);
    progress(
      `production_after: ${(changes.updated + changes.inserted + changes.deleted).toLocaleString('en-US')} rows changed (${changes.updated} updated, ` +
        `${changes.inserted} inserted, ${changes.deleted} deleted) in ${changes.perTable.length} tables.\n`,
    );
    interrupted();

    /** A new staging, synced from production: one deploy behind. */
    const oneBehind = async (workDir: string, timed: boolean): Promise<{ staging: Project; result: ResyncRunResult }> => {
      await held.staging?.stop();
      held.staging = undefined;
      const staging = (held.staging = await stack.createProject('bench_staging'));
      await withClient(staging.adminUrl, (c) => c.query('CHECKPOINT'));
      interrupted();
      const command = syncCommand(repoDir, initialArgs(schemas), projectEnv(production, staging));
      const result = await measured(command, join(workDir, timed ? 'initial.log' : 'prepare.log'), tools, signal);
      interrupted();
      if (result.error) throw new Error(`The sync into a new staging from production failed (${result.error}).`);
      if (timed) result.differences = compareDigests(before, await digestTables(staging.adminUrl, tables));
      return { staging, result };
    };

    const runs = new Map<string, ResyncRunResult[]>();
    const initialRuns: ResyncRunResult[] = [];
    for (let round = 1; round <= options.repeat; round++) {
      for (const [index, contender] of contenders.entries()) {
        const workDir = join(workRoot, `${round}-${contender.id}`);
        mkdirSync(workDir);
        progress(
          index === 0 ? `Round ${round}/${options.repeat}: new staging, sync from production (timed)... ` : '  new staging, one deploy behind (not timed)... ',
        );
        const { staging, result: prepared } = await oneBehind(workDir, index === 0);
        if (index === 0) initialRuns.push(prepared);
        progress(`${index === 0 ? describeRun(prepared, 'production') : `${prepared.seconds.toFixed(2)} s`}\n`);
        if (contender.watermarks) await setWatermarks(staging, after, changes.startedAt, changes.xidBefore);
        await withClient(staging.adminUrl, (c) => c.query('CHECKPOINT'));
        const env = contender.group === 'rest' ? restEnv({ production: after, staging }) : projectEnv(after, staging);
        const args = contender.args(schemas);
        progress(`  ${contender.label}${contender.dataset ? ` [remote, ${contender.dataset}]` : ''}: sync.ts ${args.join(' ')}... `);
        // A contender run from another checkout (--against) writes its backups there.
        const contenderBackups = contender.repoDir ? join(contender.repoDir, '.supasync', 'backups') : backupRoot;
        const contenderBackupsBefore = contender.repoDir ? new Set(listDir(contenderBackups)) : backupsBefore;
        if (contender.group === 'rest') held.api = profileApi(after, staging, 'remote');
        const result = await measured(syncCommand(contender.repoDir ?? repoDir, args, env), join(workDir, 'output.log'), tools, signal);
        if (held.api) {
          result.traffic = held.api.traffic();
          result.requests = held.api.requests();
        }
        held.api?.stop();
        held.api = undefined;
        interrupted();
        if (contender.backup) result.backupBytes = removeNewBackups(contenderBackups, contenderBackupsBefore);
        if (!result.error) await checkRun(result, contender, after, staging, tables, keys, expected);
        runs.set(contender.id, [...(runs.get(contender.id) ?? []), result]);
        progress(`${describeRun(result, 'production_after')}\n`);
      }
    }

    const changedWire = changedWireOf(changes, tables, contenders);
    const initialSync = summarizeResync(
      { id: 'initial', label: 'sync from production (one deploy behind; not the baseline)', args: initialArgs(schemas), path: 'direct', check: 'equal' },
      initialRuns,
    );
    const results = contenders.map((c) =>
      summarizeResync(
        {
          id: c.id,
          label: c.label,
          args: c.args(schemas),
          path: c.group,
          check: c.check,
          ...(c.dataset ? { dataset: c.dataset } : {}),
          ...(c.targetVsReplace === undefined ? {} : { targetVsReplace: c.targetVsReplace }),
          ...(c.targetVsChangedWire === undefined ? {} : { targetVsChangedWire: c.targetVsChangedWire }),
        },
        runs.get(c.id) ?? [],
      ),
    );
    addResyncRatios(results, Object.fromEntries(contenders.map((c) => [c.id, c.baseline])), changedWire);
    const report: ResyncReport = {
      kind: 'resync',
      date: new Date().toISOString(),
      repeat: options.repeat,
      server: { version, binaries },
      dataset,
      changes,
      initialSync,
      contenders: results,
      changedWire,
    };
    console.log(`\n${renderResyncReport(report)}\n`);
    console.log(`Results: ${writeReport(report, join(repoDir, 'bench', 'results'))}`);
    return [initialSync, ...results].some((r) => r.status !== 'equal') ? 1 : 0;
  } finally {
    progress('Stopping the stack...\n');
    held.api?.stop();
    removeNewBackups(backupRoot, backupsBefore);
    await held.staging?.stop().catch(() => undefined);
    await held.after?.stop().catch(() => undefined);
    await held.production?.stop().catch(() => undefined);
    await held.stack?.stop().catch(() => undefined);
    rmSync(workRoot, { recursive: true, force: true });
  }
}

const syncCommand = (repoDir: string, args: string[], env: Record<string, string>): Command => ({
  file: 'npx',
  args: ['tsx', 'scripts/sync.ts', ...args],
  cwd: repoDir,
  env,
});

/** Runs the command, timed; its seconds, peak memory, exit, and what its summary said of itself. */
async function measured(command: Command, logFile: string, tools: Tools, signal: AbortSignal): Promise<ResyncRunResult> {
  const result = await measure(command, { logFile, ...(tools.gnuTime ? { timeFile: `${logFile}.time` } : {}), signal });
  const summary = existsSync(logFile)
    ? readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((line) => /^(Synced |Compared key ranges)/.test(line))
    : [];
  const own = summary.map((line) => line.match(/ in ([\d.]+)s \(/)?.[1]).find(Boolean);
  return {
    seconds: result.seconds,
    exitCode: result.exitCode,
    differences: [],
    ...(result.peakKib === undefined ? {} : { peakKib: result.peakKib }),
    ...(result.exitCode === 0 ? {} : { error: describeFailure(result) }),
    ...(summary.length ? { summary } : {}),
    ...(own ? { ownSeconds: Number(own) } : {}),
  };
}

/** Is staging what the contender promises? Equal to production_after in the tables it copies, or holding every key of it. */
async function checkRun(
  result: ResyncRunResult,
  contender: ResyncContender,
  after: Project,
  staging: Project,
  tables: BenchTable[],
  keys: Keys,
  expected: Digests,
): Promise<void> {
  if (contender.check === 'keys') {
    result.missingKeys = Object.fromEntries(await missingKeys(after.adminUrl, staging.adminUrl, tables, keys));
    return;
  }
  // The embeddings dataset copies one table; the rest of staging stays one deploy behind.
  const checked = contender.dataset === 'embeddings' ? tables.filter((t) => t.key === EMBEDDINGS_TABLE) : tables;
  const wanted: Digests = new Map([...expected].filter(([key]) => checked.some((t) => t.key === key)));
  result.differences = compareDigests(wanted, await digestTables(staging.adminUrl, checked));
}

function describeRun(result: ResyncRunResult, source: string): string {
  if (result.error) return `FAILED: ${result.error}`;
  const seconds = `${result.seconds.toFixed(2)} s${result.ownSeconds === undefined ? '' : ` (its own ${result.ownSeconds.toFixed(2)} s)`}`;
  if (result.differences.length) return `${seconds}, DIFFERS from ${source}: ${result.differences.map(describeDifference).join(', ')}`;
  const lacking = Object.entries(result.missingKeys ?? {}).filter(([, n]) => n > 0);
  if (lacking.length) return `${seconds}, LACKS keys of ${source}: ${lacking.map(([t, n]) => `${t} (${n})`).join(', ')}`;
  return `${seconds}, ${result.missingKeys ? 'every key present' : 'equal'}`;
}

/**
 * Applies bench/changes.ts to production_after and says, from the rows
 * themselves, what changed: per keyed table updated, inserted and deleted
 * rows and their bytes; the unkeyed tables must not have changed.
 */
async function changeProductionAfter(
  production: Project,
  after: Project,
  tables: BenchTable[],
  keys: Keys,
  before: Digests,
  perTable: { table: string; rows: number }[],
): Promise<ResyncChanges> {
  const script = await changeScript(after.adminUrl, new Map(perTable.map((t) => [t.table, t.rows])));
  // Production's clock before the deploy: where an incremental sync that ran then would have left its watermarks.
  // And its oldest running transaction then, for the tables without an updated_at (followed by xmin).
  const { startedAt, xidBefore } = await withClient(after.adminUrl, async (c) => {
    const { rows } = await c.query<{ now: string; xmin: string }>(`SELECT now()::text AS now, pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`);
    return { startedAt: rows[0]?.now ?? '', xidBefore: rows[0]?.xmin ?? '' };
  });
  const counts = await applyChanges(after.adminUrl, script);
  const unkeyed = tables.filter((t) => !keys.has(t.key));
  const unkeyedNow = await digestTables(after.adminUrl, unkeyed);
  const moved = unkeyed.filter((t) => unkeyedNow.get(t.key)?.hash !== before.get(t.key)?.hash);
  if (moved.length) throw new Error(`bench/changes.ts changed tables without a key, which a re-sync cannot compare: ${moved.map((t) => t.key).join(', ')}`);
  const perTableChanges = (await diffTables(production.adminUrl, after.adminUrl, tables, keys)).filter((t) => t.updated + t.inserted + t.deleted > 0);
  const sum = (field: 'updated' | 'inserted' | 'deleted' | 'changedBytes' | 'deletedKeyBytes') => perTableChanges.reduce((total, t) => total + t[field], 0);
  return {
    startedAt,
    xidBefore,
    rows: perTable.reduce((total, t) => total + t.rows, 0),
    updated: sum('updated'),
    inserted: sum('inserted'),
    deleted: sum('deleted'),
    changedBytes: sum('changedBytes'),
    deletedKeyBytes: sum('deletedKeyBytes'),
    perTable: perTableChanges,
    unkeyed: unkeyed.map((t) => t.key),
    statements: script.statements.map((sql, n) => ({ sql: sql.replace(/\s+/g, ' '), rows: counts[n] ?? 0 })),
  };
}

/** Per REST dataset run: the bytes that changed in its tables, and their time on the remote profile's link. */
function changedWireOf(changes: ResyncChanges, tables: BenchTable[], contenders: ResyncContender[]): ChangedWire[] {
  const datasets = [...new Set(contenders.flatMap((c) => (c.dataset ? [c.dataset] : [])))];
  return datasets.map((dataset) => {
    const inDataset = dataset === 'embeddings' ? [EMBEDDINGS_TABLE] : tables.map((t) => t.key).filter((key) => key !== UNKEYED);
    const chosen = changes.perTable.filter((t) => inDataset.includes(t.table));
    const down = chosen.reduce((sum, t) => sum + t.changedBytes, 0);
    const up = down + chosen.reduce((sum, t) => sum + t.deletedKeyBytes, 0);
    return { dataset, tables: inDataset.length, bytesUp: up, bytesDown: down, wireSeconds: Link.wireSeconds({ up, down }) };
  });
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** Removes the backups this benchmark wrote (those not there when it started); returns their bytes on disk. */
function removeNewBackups(root: string, existing: Set<string>): number {
  let bytes = 0;
  for (const name of listDir(root).filter((n) => !existing.has(n))) {
    const dir = join(root, name);
    bytes += directoryBytes(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  return bytes;
}

function directoryBytes(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + directoryBytes(join(path, name)), 0);
}

/**
 * The watermarks an incremental run just before the deploy would have left:
 * every table with an updated_at (what --mode incremental follows by
 * default) at production's clock then, every other table at production's
 * oldest running transaction then (xmin).
 */
async function setWatermarks(staging: Project, production: Project, since: string, xid: string): Promise<void> {
  // With what that run copied of each table (engine/watermark-columns.ts): its every column not generated, unmasked.
  const catalog = await withClient(production.dbUrl, (c) => readCatalogPostgres('production', c));
  const copied = catalog.tables.map((table) => {
    const columns = table.columns.filter((column) => !column.generated);
    return [table.schema, table.name, copiedColumns({ columns: columns.map((c) => c.name), columnTypes: columns.map((c) => c.type), mask: null })];
  });
  await withClient(staging.adminUrl, async (c) => {
    await c.query(
      `INSERT INTO supasync_private.watermarks (table_schema, table_name, changed_column, since, since_xid)
       SELECT t.table_schema, t.table_name, CASE WHEN stamped THEN 'updated_at' ELSE 'xmin' END,
              CASE WHEN stamped THEN $1::timestamptz END, CASE WHEN NOT stamped THEN $2::bigint END
       FROM information_schema.tables t
       CROSS JOIN LATERAL (SELECT EXISTS (SELECT FROM information_schema.columns c WHERE (c.table_schema, c.table_name) = (t.table_schema, t.table_name)
                             AND c.column_name = 'updated_at' AND (c.data_type LIKE 'timestamp%' OR c.data_type = 'date')) AS stamped) s
       WHERE t.table_type = 'BASE TABLE' AND t.table_schema IN ('public', 'analytics', 'auth', 'storage')
       ON CONFLICT (table_schema, table_name) DO UPDATE SET changed_column = EXCLUDED.changed_column, since = EXCLUDED.since, since_xid = EXCLUDED.since_xid`,
      [since, xid],
    );
    await c.query(
      `UPDATE supasync_private.watermarks w SET copied_columns = d.columns
       FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[])) AS d(schema_name, table_name, columns)
       WHERE (w.table_schema, w.table_name) = (d.schema_name, d.table_name)`,
      [copied.map((row) => row[0]), copied.map((row) => row[1]), copied.map((row) => row[2])],
    );
  });
}
