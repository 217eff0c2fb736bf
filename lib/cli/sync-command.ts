// What every sync script does, with its own defaults: read flags and
// supasync.config.json, plan, then print the plan (--dry-run) or sync, and
// for some scripts verify what was synced.
import { join } from 'node:path';
import { qualifiedName } from '../catalog/types.ts';
import { loadProjectConfig, groupTables } from '../config/file.ts';
import { prepareRun } from '../engine/prepare.ts';
import { UsageError } from '../errors.ts';
import { BACKUP_ROOT, printablePath } from '../backup/manifest.ts';
import { onInterrupt } from '../interrupt.ts';
import { keepsStagingRows, type SyncMode } from '../plan/mode.ts';
import type { FoundOrphans } from '../plan/links.ts';
import type { TablePlan } from '../plan/types.ts';
import type { SequenceVerdict } from '../verify/sequences.ts';
import type { DifferenceKind, TableVerdict } from '../verify/verify.ts';
import type { LargeObjectVerdict } from '../verify/large-objects.ts';
import { setToProductionExactly } from '../engine/sequences.ts';
import { commandLine } from '../invocation.ts';
import { parseCommand, type CommandDeclaration } from './command.ts';
import { listOf, type FlagName } from './flags.ts';
import { selectionFrom } from './selection.ts';
import { confirmer } from './confirm.ts';
import { copyFiles, fileChoiceFrom, filesQuestion, objectIdReferences, refuseFilesElsewhere, rowsBesideFiles, verifyFiles } from './files-step.ts';
import { RunRecorder } from '../report/document/record.ts';

export interface SyncCommand {
  /** The script as a user runs it: npx tsx scripts/sync.ts */
  name: string;
  description: string;
  mode: SyncMode;
  /** The tables synced when none are named: a group of the config, or every table. */
  group?: string;
  /** Verify the synced tables afterwards (and let that decide the exit code). */
  verify: boolean;
  /** Whether tables may be chosen (--tables, --group, names on the command line). */
  choosesTables: boolean;
  /** The command line after the command's name; process.argv's by default. */
  argv?: string[];
}

const SYNC_FLAGS: FlagName[] = [
  'mode',
  'tables',
  'group',
  'exclude',
  'schemas',
  'via',
  'concurrency',
  'withParents',
  'allowOrphans',
  'unmask',
  'dryRun',
  'yes',
  'backup',
  'allowDrift',
  'mask',
  'strict',
  'json',
  'report',
  'storage',
  'buckets',
  'excludeBuckets',
];

const SYNC_HELP_AFTER = `Configuration: .env.local, then .env (SUPABASE_PROD_URL, SUPABASE_PROD_SERVICE_ROLE_KEY
or SUPABASE_PROD_SECRET_KEY, SUPABASE_PROD_DB_URL and the same for STAGING; SUPASYNC_MASK_SECRET for masking), and supasync.config.json.
Exit codes: 0 done, 1 failed or staging differs, 2 usage or configuration error,
130 stopped (Ctrl-C): what was written and what was not is said.`;

function syncDeclaration(command: SyncCommand): CommandDeclaration {
  return {
    name: command.name,
    usage: command.choosesTables ? '[options] [table ...]' : '[options]',
    description: command.description,
    // A script that always verifies needs no --verify.
    flags: command.verify ? SYNC_FLAGS : [...SYNC_FLAGS, 'verify'],
    ...(command.choosesTables ? { argument: { name: '[tables...]', description: 'only these tables, as --tables' } } : { refusedFlags: ['tables', 'group'] }),
    after: SYNC_HELP_AFTER,
  };
}

export async function runSyncCommand(command: SyncCommand): Promise<number> {
  const parsed = parseCommand(syncDeclaration(command), command.argv);
  if (!parsed) return 0;
  const { flags, args } = parsed;
  const recorder = new RunRecorder('sync', command.name, flags.report);
  const config = await loadProjectConfig();
  const named = flags.tables ?? (args.length ? tablesNamedAsArguments(args) : undefined);
  const group = flags.group;
  if (!command.choosesTables && (named || group)) {
    const syncs = command.group ? `the tables of its group "${command.group}"` : 'every table';
    throw new UsageError(`This script syncs ${syncs}, and takes no --tables or --group: to choose tables use ${commandLine('sync', '--tables')} or --group.`);
  }
  if (named && group) throw new UsageError('Name tables or a --group, not both.');
  const groupName = group ?? (named ? undefined : command.group);
  const tables = named ?? (groupName ? groupTables(config, groupName) : undefined);
  const mode = flags.mode ?? command.mode;
  const concurrency = flags.concurrency;
  const fileChoice = fileChoiceFrom(flags, config);
  // Loaded while the databases answer the connections and catalog queries,
  // which to a remote project take longer than loading these does.
  const syncModules = Promise.all([import('../engine/sync.ts'), import('../report/progress.ts'), import('../report/sync.ts')]);
  syncModules.catch(() => undefined); // awaited below; a run that fails before then must not also report this
  const run = await prepareRun({
    concurrency,
    via: flags.via,
    selection: rowsBesideFiles(selectionFrom(flags, config, tables, named ? undefined : groupName), fileChoice),
    mode,
    withParents: Boolean(flags.withParents),
    protectedRefs: config.protectedRefs,
    mask: { rules: config.mask, preset: flags.mask ?? config.maskPreset, directory: config.directory },
  });
  recorder.planned(run, { dryRun: flags.dryRun });
  try {
    await refuseFilesElsewhere(run, fileChoice);
    for (const line of await objectIdReferences(run, fileChoice)) process.stderr.write(`warning: ${line}\n`);
    if (flags.dryRun) {
      if (run.stagingHeldBy)
        process.stderr.write(
          `warning: another supasync run is writing this staging now (${run.stagingHeldBy}): a run started before it ends stops before writing.\n`,
        );
      const [{ dryRunOutput }, { checkBeforeWriting, checkStagingAccepts }] = await Promise.all([
        import('../report/plan.ts'),
        import('../engine/before-writing.ts'),
      ]);
      const options = { allowDrift: Boolean(flags.allowDrift), allowOrphans: Boolean(flags.allowOrphans), unmask: Boolean(flags.unmask) };
      const stop = await checkBeforeWriting(run, { ...options, warn: (line) => process.stderr.write(`warning: ${line}\n`) })
        .then(({ tables }) => checkStagingAccepts(run, tables))
        .then(
          () => null,
          (error: unknown) => error,
        );
      // The plan, then what the run would stop on, with its exit code; --json gets one object, the failure's.
      // An incremental plan says from where each table's changed rows would be read.
      const incremental = run.plan.tables.some((table) => table.mode === 'incremental' && table.changedColumn);
      const watermarks = incremental && !stop ? await run.staging.watermarks() : [];
      const views = stop ? [] : await run.staging.dependentViews(run.plan.tables.map((table) => table.table));
      // The files a run would copy: compared, nothing written.
      const filesToCopy = !stop && fileChoice.files ? await copyFiles(run, fileChoice, { ...flags, dryRun: true }, mode) : undefined;
      if (!(flags.json && stop)) {
        const plan = dryRunOutput(run, Boolean(flags.json), watermarks, views);
        if (!filesToCopy) console.log(plan);
        else
          console.log(
            flags.json ? JSON.stringify({ ...(JSON.parse(plan) as object), files: filesToCopy.results }, null, 2) : `${plan}\n\n${filesToCopy.output}`,
          );
      }
      if (stop) throw stop;
      await recorder.ended({ exitCode: 0, ...(filesToCopy ? { files: { copied: filesToCopy.results, notes: filesToCopy.notes } } : {}) });
      return 0;
    }
    const [{ runSync }, { progressReporter, quietReporter }, { renderSyncResult, syncSummary }] = await syncModules;
    const reporter = recorder.events(flags.json ? quietReporter() : await progressReporter());
    if (concurrency && concurrency > 1 && run.via === 'postgres') {
      reporter.warning(
        `--concurrency ${concurrency}: the direct path writes staging in one transaction, which is one connection: tables go one after another.`,
      );
    }
    const result = await runSync(
      run,
      {
        concurrency,
        allowDrift: Boolean(flags.allowDrift),
        strict: Boolean(flags.strict),
        allowOrphans: Boolean(flags.allowOrphans),
        unmask: Boolean(flags.unmask),
        backupRoot: flags.backup === false ? null : join(process.cwd(), BACKUP_ROOT),
        backupsKept: config.backups.keep,
        overlapSeconds: config.incremental.overlapSeconds,
        confirm: (question) => confirmer(Boolean(flags.yes))(`${question}${filesQuestion(fileChoice, mode)}`),
      },
      reporter,
    );
    // Stopped from here on (the files, verify), the sync itself is done: said, with its backup, rather than a bare "Interrupted".
    const stopSaying = onInterrupt(
      () =>
        `The sync had finished: ${syncSummary(result)}` +
        (result.backup?.directory ? ` Its backup: ${printablePath(result.backup.directory)}.` : '') +
        `\nStopped after it, ${fileChoice.files ? 'copying files or ' : ''}verifying: ${commandLine('verify')} checks staging.`,
    );
    const copiedFiles = fileChoice.files ? await copyFiles(run, fileChoice, flags, mode) : undefined;
    const rejected = result.tables.some((table) => table.rejected.length);
    let verdicts: TableVerdict[] | undefined;
    let sequenceVerdicts: SequenceVerdict[] = [];
    let orphans: FoundOrphans[] = [];
    // Loaded only by the scripts that verify: a plain sync starts faster without.
    const [verify, report] = command.verify || flags.verify ? await Promise.all([import('../verify/staging.ts'), import('../report/verify.ts')]) : [];
    let largeObjects: LargeObjectVerdict[] = [];
    if (verify) {
      const skipped = new Set(result.skipped.map((s) => s.table));
      const synced = run.plan.tables.filter((t) => !skipped.has(qualifiedName(t.table)));
      const sequences = run.plan.sequences.filter((plan) => !skipped.has(qualifiedName(plan.sequence)));
      // Whether a table kept only what its mode keeps is known from every differing bucket, not the first ten keys.
      const leftByMode = (table: TablePlan) => differencesKeptBy(table.mode);
      ({
        tables: verdicts,
        sequences: sequenceVerdicts,
        orphans,
        largeObjects,
      } = await verify.verifyStaging(
        run.production,
        run.staging,
        { tables: synced, sequences, stagingLinks: run.plan.stagingLinks },
        { countsOnly: false, maxKeys: 10, leftByMode, onVerdict: recorder.onVerdict },
        run.masker,
      ));
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
    const fileVerdicts = copiedFiles && verify ? await verifyFiles(run, fileChoice) : undefined;
    const verified =
      (!fileVerdicts || fileVerdicts.equal) &&
      (!verdicts || verdicts.every((v) => v.status === 'perfect' || (flags.allowDrift && v.status === 'columns-differ') || kept.has(v.table))) &&
      sequenceVerdicts.every((v) => v.status === 'equal' || kept.has(v.sequence)) &&
      largeObjects.every((v) => v.status !== 'differ') &&
      !orphans.length;
    // A file production lists and cannot serve was not copied: said under the files' table, and not a success.
    const unserved = copiedFiles?.results.some((bucket) => bucket.unservable?.length) ?? false;
    const exitCode = verified && !rejected && !unserved && !result.skipped.length ? 0 : 1;
    stopSaying();
    if (flags.json) {
      console.log(
        JSON.stringify(
          {
            ok: exitCode === 0,
            exitCode,
            ...result,
            ...(copiedFiles ? { files: copiedFiles.results } : {}),
            ...(verdicts ? { verify: verdicts, verifySequences: sequenceVerdicts, verifyOrphans: orphans, verifyLargeObjects: largeObjects } : {}),
            ...(fileVerdicts ? { verifyFiles: fileVerdicts.verdicts } : {}),
          },
          null,
          2,
        ),
      );
    } else {
      const verifyReport =
        verdicts && report
          ? [
              report.renderVerdicts({
                tables: verdicts,
                sequences: sequenceVerdicts,
                orphans,
                kept,
                largeObjects,
                acceptsDrift: Boolean(flags.allowDrift),
                externalParents: run.plan.externalParents,
              }),
            ]
          : [];
      console.log(
        [renderSyncResult(result), ...(copiedFiles ? [copiedFiles.output] : []), ...verifyReport, ...(fileVerdicts ? [fileVerdicts.output] : [])].join('\n\n'),
      );
    }
    await recorder.ended({
      result,
      exitCode,
      ...(verdicts ? { verify: { tables: verdicts, sequences: sequenceVerdicts, orphans, kept, largeObjects, acceptsDrift: Boolean(flags.allowDrift) } } : {}),
      ...(copiedFiles
        ? {
            files: {
              copied: copiedFiles.results,
              notes: [...copiedFiles.notes, ...(fileVerdicts?.notes ?? [])],
              ...(fileVerdicts ? { verdicts: fileVerdicts.verdicts } : {}),
            },
          }
        : {}),
    });
    return exitCode;
  } catch (error) {
    await recorder.failed(error);
    throw error;
  } finally {
    await run.close();
  }
}

/** `sync.ts a b,c`: as --tables a --tables b,c, an empty one refused alike. */
function tablesNamedAsArguments(args: string[]): string[] {
  const add = listOf('tables');
  return args.reduce<string[]>((list, arg) => add(arg, list), []);
}

/** What a mode leaves in staging by design: an upsert its own rows, insert-missing its own versions of production's rows too. */
function differencesKeptBy(mode: SyncMode): DifferenceKind[] {
  if (mode === 'upsert') return ['extra'];
  return mode === 'insert-missing' ? ['extra', 'changed'] : [];
}

/**
 * After an upsert, rows only staging has are expected, and said so; after
 * insert-missing, staging's own versions of rows production has too. Any
 * other difference is one.
 */
function keptStagingRows(verdict: TableVerdict, mode: SyncMode): boolean {
  const d = verdict.differences;
  if (!keepsStagingRows(mode) || verdict.status === 'perfect' || verdict.status === 'missing-table' || verdict.status === 'columns-differ') return false;
  return !!d && !d.missing.length && !d.unread && (mode === 'insert-missing' || (verdict.status === 'counts-differ' && !d.changed.length));
}
