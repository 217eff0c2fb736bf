// --storage, --buckets, --exclude-buckets: the files step of a sync (after
// its rows) and of verify. When files are copied, storage.objects' and
// storage.buckets' rows are Storage's to write as it takes each file, so the
// row copy leaves them out.
import { ownersUnavailable, refuseStorageElsewhere, STORAGE_OWN_TABLES, syncFiles } from '../engine/storage-files.ts';
import { ownerDifferences } from '../engine/file-owners.ts';
import type { PreparedRun } from '../engine/prepare.ts';
import type { SyncMode } from '../plan/mode.ts';
import type { Selection } from '../plan/select.ts';
import { fileProgressReporter } from '../report/progress.ts';
import { ownerNotes, ownersNotComparedNote, renderFileCopy, renderFileVerdicts, unservableNotes } from '../report/storage.ts';
import { storageApiOf, StorageSelectionError } from '../storage/api.ts';
import { chooseBuckets, type BucketCopyResult } from '../storage/copy.ts';
import { verifyStorage, type BucketVerdict } from '../storage/verify.ts';
import type { ProjectConfig } from '../config/file.ts';
import { UsageError } from '../errors.ts';
import { qualifiedName } from '../catalog/types.ts';
import { commandLine } from '../invocation.ts';
import { tablesArgument } from '../sql/ident.ts';
import type { FlagValues } from './flags.ts';

type FileFlags = Pick<FlagValues, 'storage' | 'buckets' | 'excludeBuckets'>;

/** Whether a run copies or compares files, and which buckets': the flags over supasync.config.json's "storage". */
export interface FileChoice {
  files: boolean;
  buckets?: string[];
  excludeBuckets?: string[];
  /** Where the lists came from when not from flags (the config file's name), for a bucket production lacks. */
  listedIn?: string;
}

/**
 * Files in flight at once without --concurrency. A file costs two requests,
 * a download and an upload, each a round trip before its bytes move: with
 * 40 ms a trip, small files are bound by trips until about 16 overlap.
 * Storage's own connection pool, not the project's database, serves them.
 */
const FILES_AT_ONCE = 16;

/**
 * --no-storage leaves the files alone; --buckets and --exclude-buckets ask
 * for them and replace the file's lists; --storage asks for them with the
 * file's lists; without a flag the file's section decides.
 */
export function fileChoiceFrom(flags: FileFlags, config: Pick<ProjectConfig, 'storage' | 'source'>): FileChoice {
  const file = config.storage;
  if (flags.storage === false) {
    if (flags.buckets || flags.excludeBuckets) throw new UsageError('--no-storage leaves every bucket alone: drop it, or --buckets and --exclude-buckets.');
    return { files: false };
  }
  const buckets = flags.buckets ?? file?.buckets;
  const excludeBuckets = flags.excludeBuckets ?? file?.excludeBuckets;
  const files = Boolean(flags.storage || flags.buckets || flags.excludeBuckets || file?.files);
  const fromFile = (!flags.buckets && file?.buckets) || (!flags.excludeBuckets && file?.excludeBuckets.length);
  return {
    files,
    ...(buckets ? { buckets } : {}),
    ...(excludeBuckets?.length ? { excludeBuckets } : {}),
    ...(fromFile ? { listedIn: config.source } : {}),
  };
}

/** The selection with Storage's own tables left out when files are copied and the storage schema is chosen. */
export function rowsBesideFiles(selection: Selection, choice: FileChoice): Selection {
  if (!choice.files || !selection.schemas.includes('storage') || selection.tables) return selection;
  return { ...selection, exclude: [...(selection.exclude ?? []), ...STORAGE_OWN_TABLES], excludedForFiles: STORAGE_OWN_TABLES };
}

/**
 * What the question before a run adds for its files: staging's are overwritten, and in replace and mirror modes
 * its extras removed, with no backup (a backup holds rows: restore-staging.ts cannot bring a file back).
 */
export function filesQuestion(choice: FileChoice, mode: SyncMode): string {
  if (!choice.files) return '';
  const buckets = choice.buckets ? `bucket${choice.buckets.length === 1 ? '' : 's'} ${choice.buckets.join(', ')}` : 'every bucket';
  const removing = mode === 'replace' || mode === 'mirror';
  return (
    ` Then files (--storage), in ${buckets}${choice.excludeBuckets?.length ? ` but ${choice.excludeBuckets.join(', ')}` : ''}: ` +
    `staging's files that differ from production's are overwritten${removing ? ', and those production lacks removed' : ''}, with no backup (a backup holds rows only).`
  );
}

/** Before any row is written or compared: files go through the projects the rows' databases are (engine/storage-files.ts). */
export async function refuseFilesElsewhere(run: PreparedRun, choice: FileChoice): Promise<void> {
  if (!choice.files) return;
  await asUsage(choice, () => refuseStorageElsewhere(run));
  // Both Storage APIs answer as such before any row is written: a URL that serves a web page there stops the run here, not after the rows.
  await asUsage(choice, () => Promise.all([storageApiOf(run.environment.production).listBuckets(), storageApiOf(run.environment.staging).listBuckets()]));
}

/**
 * A copied table whose foreign key names storage.objects by id: Storage gives a file it takes staging's own id, so
 * after a run that copies files its rows name objects staging does not have. Said before the run, with the order
 * that keeps production's ids (the rows first, their files after: Storage rewrites a row it has in place), as a
 * command of this run's tables; not said where staging already holds every object they name (that first run done).
 */
export async function objectIdReferences(run: PreparedRun, choice: FileChoice): Promise<string[]> {
  if (!choice.files) return [];
  const copied = new Set(run.plan.tables.map((table) => qualifiedName(table.table)));
  const naming = run.plan.stagingLinks.filter(
    (link) => qualifiedName(link.parent) === 'storage.objects' && link.parentColumns.includes('id') && copied.has(qualifiedName(link.child)),
  );
  const unheld = [];
  for (const link of naming) {
    const keys = Object.keys(await run.production.references(link.child, link.columns, null));
    if (keys.length && (await run.staging.missingKeys(link.parent, link.parentColumns, keys, null)).length) unheld.push(link);
  }
  if (!unheld.length) return [];
  // The run's own tables or schemas, with Storage's rows: the first run copies what this one would, less the files.
  const rowsFirst = run.plan.tablesNamed
    ? `--tables ${tablesArgument([...new Set(['storage.buckets', 'storage.objects', ...run.plan.tables.map((table) => qualifiedName(table.table))])])}`
    : `--schemas ${[...new Set([...run.plan.schemas, 'storage'])].join(',')}`;
  return [
    `${unheld.map((link) => `${qualifiedName(link.child)}.${link.columns.join(',')}`).join(', ')} ${unheld.length === 1 ? 'names' : 'name'} storage.objects by id, ` +
      "and Storage gives each file it takes staging's own id: those rows would name objects staging does not have. To keep production's ids, " +
      `copy storage.objects' rows first, in a run without files (${commandLine('sync', rowsFirst)}), then the files (--storage): ` +
      'Storage writes each file into the row it has.',
  ];
}

export async function copyFiles(
  run: PreparedRun,
  choice: FileChoice,
  flags: { dryRun?: boolean; concurrency?: number; json?: boolean },
  mode: SyncMode,
): Promise<{ results: BucketCopyResult[]; output: string; notes: string[] }> {
  const onProgress = flags.json || flags.dryRun ? undefined : await fileProgressReporter();
  const { buckets: results, ownersLeft } = await asUsage(choice, () =>
    syncFiles(run, {
      buckets: choice.buckets,
      excludeBuckets: choice.excludeBuckets,
      mode,
      concurrency: flags.concurrency ?? FILES_AT_ONCE,
      dryRun: flags.dryRun,
      onProgress,
      warn: (line) => process.stderr.write(`warning: ${line}\n`),
    }),
  );
  return {
    results,
    output: renderFileCopy(results, Boolean(flags.dryRun), ownersLeft),
    notes: [...ownerNotes(results, ownersLeft), ...unservableNotes(results)],
  };
}

export async function verifyFiles(
  run: PreparedRun,
  choice: FileChoice,
): Promise<{ verdicts: BucketVerdict[]; output: string; equal: boolean; notes: string[] }> {
  const ownersLeft = await ownersUnavailable(run);
  const verdicts = await asUsage(choice, async () => {
    const production = storageApiOf(run.environment.production);
    const buckets = chooseBuckets(await production.listBuckets(), choice.buckets, choice.excludeBuckets).map((bucket) => bucket.id);
    const ownersDiffer = ownersLeft ? undefined : (bucket: string) => ownerDifferences(run.production, run.staging, bucket);
    return verifyStorage(production, storageApiOf(run.environment.staging), buckets, ownersDiffer);
  });
  const notes = ownersNotComparedNote(ownersLeft);
  return { verdicts, output: [renderFileVerdicts(verdicts), ...notes].join('\n'), equal: verdicts.every((verdict) => verdict.status === 'equal'), notes };
}

/** A bucket production lacks is the user's to fix (exit 2), in the flag or in the file that named it. */
async function asUsage<T>(choice: FileChoice, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof StorageSelectionError)) throw error;
    throw new UsageError(choice.listedIn ? `${choice.listedIn}, "storage": ${error.message}` : error.message);
  }
}
