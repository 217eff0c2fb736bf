// --storage, --buckets, --exclude-buckets: the files step of a sync (after
// its rows) and of verify. When files are copied, storage.objects' and
// storage.buckets' rows are Storage's to write as it takes each file, so the
// row copy leaves them out.
import { STORAGE_OWN_TABLES, syncFiles } from '../engine/storage-files.ts';
import type { PreparedRun } from '../engine/prepare.ts';
import type { SyncMode } from '../plan/mode.ts';
import type { Selection } from '../plan/select.ts';
import { renderFileCopy, renderFileVerdicts } from '../report/storage.ts';
import { storageApiOf, StorageSelectionError } from '../storage/api.ts';
import { chooseBuckets, type BucketCopyResult } from '../storage/copy.ts';
import type { StorageProgress } from '../storage/copy.ts';
import { verifyStorage, type BucketVerdict } from '../storage/verify.ts';
import { UsageError } from '../errors.ts';
import type { FlagValues } from './flags.ts';

type FileFlags = Pick<FlagValues, 'storage' | 'buckets' | 'excludeBuckets'>;

/**
 * Files in flight at once without --concurrency. A file costs two requests,
 * a download and an upload, each a round trip before its bytes move: with
 * 40 ms a trip, small files are bound by trips until about 16 overlap.
 * Storage's own connection pool, not the project's database, serves them.
 */
const FILES_AT_ONCE = 16;

export const wantsFiles = (flags: FileFlags): boolean => Boolean(flags.storage || flags.buckets || flags.excludeBuckets);

/** The selection with Storage's own tables left out when files are copied and the storage schema is chosen. */
export function rowsBesideFiles(selection: Selection, flags: FileFlags): Selection {
  if (!wantsFiles(flags) || !selection.schemas.includes('storage') || selection.tables) return selection;
  return { ...selection, exclude: [...(selection.exclude ?? []), ...STORAGE_OWN_TABLES] };
}

export async function copyFiles(
  run: PreparedRun,
  flags: FileFlags & { dryRun?: boolean; concurrency?: number; json?: boolean },
  mode: SyncMode,
): Promise<{ results: BucketCopyResult[]; output: string }> {
  const results = await asUsage(() =>
    syncFiles(run, {
      buckets: flags.buckets,
      excludeBuckets: flags.excludeBuckets,
      mode,
      concurrency: flags.concurrency ?? FILES_AT_ONCE,
      dryRun: flags.dryRun,
      onProgress: flags.json ? undefined : progressLine(),
    }),
  );
  return { results, output: renderFileCopy(results, Boolean(flags.dryRun)) };
}

export async function verifyFiles(run: PreparedRun, flags: FileFlags): Promise<{ verdicts: BucketVerdict[]; output: string; equal: boolean }> {
  const verdicts = await asUsage(async () => {
    const production = storageApiOf(run.environment.production);
    const buckets = chooseBuckets(await production.listBuckets(), flags.buckets, flags.excludeBuckets).map((bucket) => bucket.id);
    return verifyStorage(production, storageApiOf(run.environment.staging), buckets);
  });
  return { verdicts, output: renderFileVerdicts(verdicts), equal: verdicts.every((verdict) => verdict.status === 'equal') };
}

async function asUsage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof StorageSelectionError ? new UsageError(error.message) : error;
  }
}

/** At most a line a second on stderr: files and bytes done, the rate, and the time left at that rate. */
function progressLine(): (progress: StorageProgress) => void {
  const started = performance.now();
  let last = 0;
  return (progress) => {
    const now = performance.now();
    if (now - last < 1000 && progress.filesDone < progress.filesTotal) return;
    last = now;
    const rate = progress.bytesDone / Math.max(0.001, (now - started) / 1000);
    const left = rate > 0 ? (progress.bytesTotal - progress.bytesDone) / rate : 0;
    const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
    process.stderr.write(
      `${progress.bucket}: ${progress.filesDone}/${progress.filesTotal} files, ${mb(progress.bytesDone)}/${mb(progress.bytesTotal)} MB, ${mb(rate)} MB/s, ${left.toFixed(0)}s left\n`,
    );
  };
}
