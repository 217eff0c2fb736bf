// A sync's files: after the rows, the buckets the run chose, copied through
// both projects' Storage API as the run's mode says (replace and mirror
// remove staging's extra files, upsert and incremental keep them,
// insert-missing only adds). The run's checks have passed by then: staging
// carries the sync-target mark and is no protected project.
import type { SyncMode } from '../plan/mode.ts';
import { storageApiOf } from '../storage/api.ts';
import { copyStorage, type BucketCopyResult, type StorageProgress } from '../storage/copy.ts';
import type { PreparedRun } from './prepare.ts';

export interface FilesOptions {
  buckets?: string[];
  excludeBuckets?: string[];
  mode: SyncMode;
  concurrency: number;
  dryRun?: boolean;
  onProgress?(progress: StorageProgress): void;
}

export async function syncFiles(run: PreparedRun, options: FilesOptions): Promise<BucketCopyResult[]> {
  const production = storageApiOf(run.environment.production);
  const staging = storageApiOf(run.environment.staging);
  return copyStorage(production, staging, {
    buckets: options.buckets,
    excludeBuckets: options.excludeBuckets,
    removeStagingOnly: options.mode === 'replace' || options.mode === 'mirror',
    onlyMissing: options.mode === 'insert-missing',
    concurrency: options.concurrency,
    dryRun: options.dryRun,
    onProgress: options.onProgress,
  });
}

/** The rows Storage writes itself as it takes files: left out of the row copy when files are copied. */
export const STORAGE_OWN_TABLES = ['storage.objects', 'storage.buckets'];
