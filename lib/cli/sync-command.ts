// What every sync script does, with its own defaults: read flags and
// supasync.config.json, plan, then print the plan (--dry-run) or sync, and
// for some scripts verify what was synced.
import { join } from 'node:path';
import { qualifiedName } from '../catalog/types.ts';
import { DEFAULT_BACKUPS_KEPT, loadProjectConfig, groupTables } from '../config/file.ts';
import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY } from '../connect/request-limit.ts';
import { prepareRun } from '../engine/prepare.ts';
import { UsageError } from '../errors.ts';
import { BACKUP_ROOT } from '../backup/manifest.ts';
import type { SyncMode } from '../plan/mode.ts';
import type { FoundOrphans } from '../plan/links.ts';
import type { SequenceVerdict } from '../verify/sequences.ts';
import type { TableVerdict } from '../verify/verify.ts';
import { setToProductionExactly } from '../engine/sequences.ts';
import { concurrencyFlag, listFlag, modeFlag, nameFlag, parseFlags, selectionFrom, SYNC_OPTIONS, viaFlag } from './args.ts';
import { confirmer } from './confirm.ts';

export interface SyncCommand {
  usage: string;
  description: string;
  mode: SyncMode;
  /** The tables synced when none are named: a group of the config, or every table. */
  group?: string;
  /** Verify the synced tables afterwards (and let that decide the exit code). */
  verify: boolean;
  /** Whether tables may be chosen (--tables, --group, names on the command line). */
  choosesTables: boolean;
}

export const SYNC_FLAGS_HELP = `  --mode replace|upsert  replace: staging's tables become production's (emptied first);
                         upsert: insert new rows, update changed ones, keep staging-only rows
  --tables a,b           only these tables (name or schema.name); also as plain arguments
  --group NAME           a group of tables from supasync.config.json (chat, missing, ...)
  --exclude a,b          leave these tables out
  --schemas public,x     schemas to copy (default: public, or the config's)
  --via rest|postgres    how to reach the databases (default: postgres when both
                         SUPABASE_*_DB_URL are set, else REST)
  --concurrency N        at most N requests at once to each project over REST, so at most
                         N connections (1-${MAX_CONCURRENCY}, default ${DEFAULT_CONCURRENCY}: three tables at a time); the
                         direct path always holds one connection to each side
  --with-parents         also copy the rows the chosen rows reference, and only those
  --allow-orphans        copy even when staging lacks referenced rows
  --dry-run              print the plan (tables, order, keys, drift, sequences), make the checks
                         the run makes before writing (parents, orphans a replace would leave,
                         what staging's role may do), exit as it would, and change nothing
  --yes, -y              do not ask before replacing (needed when not at a terminal)
  --no-backup            do not first save the staging tables a replace empties or an
                         upsert overwrites to .supasync/backups/ (private to you; the
                         newest ${DEFAULT_BACKUPS_KEPT} of a staging kept, supasync.config.json backups.keep;
                         restore with scripts/restore-staging.ts, --list shows them)
  --allow-drift          copy the columns both sides share when their schemas differ
  --strict               stop at the first row staging rejects (REST); without it
                         such rows are reported by key and the rest is written
  --json                 machine-readable output on stdout
  --debug                stack traces on errors
  -h, --help             this text

Configuration: .env.local, then .env (SUPABASE_PROD_URL, SUPABASE_PROD_SERVICE_ROLE_KEY,
SUPABASE_PROD_DB_URL and the same for STAGING), and supasync.config.json.
Exit codes: 0 done, 1 failed or staging differs, 2 usage or configuration error.`;

export async function runSyncCommand(command: SyncCommand): Promise<number> {
  const { values, positionals } = parseFlags(SYNC_OPTIONS);
  if (values.help) {
    console.log(`Usage: ${command.usage}\n\n${command.description}\n\n${SYNC_FLAGS_HELP}`);
    return 0;
  }
  const config = await loadProjectConfig();
  const named = listFlag('tables', values.tables) ?? (positionals.length ? listFlag('tables', positionals) : undefined);
  const group = nameFlag('group', values.group);
  if (!command.choosesTables && (named || group)) {
    throw new UsageError('This script syncs every table: to choose tables use scripts/sync.ts --tables or --group.');
  }
  if (named && group) throw new UsageError('Name tables or a --group, not both.');
  const groupName = group ?? (named ? undefined : command.group);
  const tables = named ?? (groupName ? groupTables(config, groupName) : undefined);
  const mode = modeFlag(values.mode, command.mode);
  const concurrency = concurrencyFlag(values.concurrency);
  // Loaded while the databases answer the connections and catalog queries,
  // which to a remote project take longer than loading these does.
  const syncModules = Promise.all([import('../engine/sync.ts'), import('../report/progress.ts'), import('../report/sync.ts')]);
  syncModules.catch(() => undefined); // awaited below; a run that fails before then must not also report this
  const run = await prepareRun({
    concurrency,
    via: viaFlag(values.via),
    selection: selectionFrom(values, config, tables),
    mode,
    withParents: Boolean(values['with-parents']),
    protectedRefs: config.protectedRefs,
  });
  try {
    if (values['dry-run']) {
      const [{ dryRunOutput }, { checkBeforeWriting, checkStagingAccepts }] = await Promise.all([
        import('../report/plan.ts'),
        syncModules.then(([engine]) => engine),
      ]);
      const options = { allowDrift: Boolean(values['allow-drift']), allowOrphans: Boolean(values['allow-orphans']) };
      const stop = await checkBeforeWriting(run, options)
        .then(({ tables }) => checkStagingAccepts(run, tables))
        .then(() => null, (error: unknown) => error);
      // The plan, then what the run would stop on, with its exit code; --json gets one object, the failure's.
      if (!(values.json && stop)) console.log(dryRunOutput(run, Boolean(values.json)));
      if (stop) throw stop;
      return 0;
    }
    const [{ runSync }, { progressReporter, quietReporter }, { renderSyncResult }] = await syncModules;
    const reporter = values.json ? quietReporter() : progressReporter();
    if (concurrency && concurrency > 1 && run.via === 'postgres') {
      reporter.warning(
        `--concurrency ${concurrency}: the direct path writes staging in one transaction, which is one connection: tables go one after another.`,
      );
    }
    const result = await runSync(
      run,
      {
        concurrency,
        allowDrift: Boolean(values['allow-drift']),
        strict: Boolean(values.strict),
        allowOrphans: Boolean(values['allow-orphans']),
        backupRoot: values['no-backup'] ? null : join(process.cwd(), BACKUP_ROOT),
        backupsKept: config.backups.keep,
        confirm: confirmer(Boolean(values.yes)),
      },
      reporter,
    );
    const rejected = result.tables.some((table) => table.rejected.length);
    let verdicts: TableVerdict[] | undefined;
    let sequenceVerdicts: SequenceVerdict[] = [];
    let orphans: FoundOrphans[] = [];
    // Loaded only by the scripts that verify: a plain sync starts faster without.
    const [verify, verifiedSequences, foreignKeys, report] = command.verify
      ? await Promise.all([import('../verify/verify.ts'), import('../verify/sequences.ts'), import('../verify/foreign-keys.ts'), import('../report/verify.ts')])
      : [];
    if (verify && verifiedSequences && foreignKeys) {
      const skipped = new Set(result.skipped.map((s) => s.table));
      const synced = run.plan.tables.filter((t) => !skipped.has(qualifiedName(t.table)));
      verdicts = await verify.verifyTables(run.production, run.staging, synced, { countsOnly: false, maxKeys: 10 });
      const sequences = run.plan.sequences.filter((plan) => !skipped.has(qualifiedName(plan.sequence)));
      sequenceVerdicts = await verifiedSequences.verifySequences(run.production, run.staging, sequences);
      ({ orphans } = await foreignKeys.verifyForeignKeys(run.staging, run.plan.stagingLinks, verdicts.map((verdict) => verdict.table)));
    }
    // A table's own mode (supasync.config.json) is the one that decided whether its staging-only rows stay.
    const tableMode = new Map(run.plan.tables.map((table) => [qualifiedName(table.table), table.mode]));
    const forwardOnly = new Set(
      run.plan.sequences.filter((plan) => !setToProductionExactly(plan, run.plan.tables, mode)).map((plan) => qualifiedName(plan.sequence)),
    );
    const kept = new Set([
      ...(verdicts ?? []).filter((v) => keptStagingRows(v, tableMode.get(v.table) ?? mode)).map((v) => v.table),
      ...sequenceVerdicts.filter((v) => v.status === 'ahead' && forwardOnly.has(v.sequence)).map((v) => v.sequence),
    ]);
    const verified =
      (!verdicts || verdicts.every((v) => v.status === 'perfect' || kept.has(v.table))) &&
      sequenceVerdicts.every((v) => v.status === 'equal' || kept.has(v.sequence)) &&
      !orphans.length;
    const exitCode = verified && !rejected && !result.skipped.length ? 0 : 1;
    if (values.json) {
      console.log(JSON.stringify({ ok: exitCode === 0, exitCode, ...result, ...(verdicts ? { verify: verdicts, verifySequences: sequenceVerdicts, verifyOrphans: orphans } : {}) }, null, 2));
    } else {
      const verifyReport = verdicts && report ? [report.renderVerdicts({ tables: verdicts, sequences: sequenceVerdicts, orphans, kept })] : [];
      console.log([renderSyncResult(result), ...verifyReport].join('\n\n'));
    }
    return exitCode;
  } finally {
    await run.close();
  }
}

/** After an upsert, rows only staging has are expected, and said so; anything else is a difference. */
function keptStagingRows(verdict: TableVerdict, mode: SyncMode): boolean {
  const d = verdict.differences;
  return mode === 'upsert' && verdict.status === 'counts-differ' && !!d && !d.missing.length && !d.changed.length && !d.more;
}
