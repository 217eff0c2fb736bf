// Files between the two projects' buckets: staging's buckets made like
// production's (public, size limit, MIME types), then every object staging
// lacks or holds differently streamed from production's download into
// staging's upload, several at once, none held in memory; in replace and
// mirror modes staging's objects that production lacks are removed. Storage
// itself writes storage.objects' rows as it takes each file; supasync then
// sets only whom each belongs to (engine/file-owners.ts, through `owners`).
import pRetry from 'p-retry';
import type { BucketSettings, StorageApi, StoredObject } from './api.ts';
import { StorageApiError, StorageSelectionError, unaddressable, UnaddressableObjectError } from './api.ts';
import { compareBucket, type BucketComparison } from './compare.ts';
import { inParallel } from '../in-parallel.ts';

export interface StorageCopyOptions {
  /** Buckets to copy, by id; every bucket of production when absent. */
  buckets?: string[];
  excludeBuckets?: string[];
  /** Remove staging's objects that production lacks (replace and mirror). */
  removeStagingOnly: boolean;
  /** insert-missing: copy only the objects staging lacks, never overwrite one it has. */
  onlyMissing?: boolean;
  /** Files in flight at once. */
  concurrency: number;
  /** Compare and say what would be done, change nothing. */
  dryRun?: boolean;
  onProgress?(progress: StorageProgress): void;
  /**
   * After a bucket's files: sets (a dry run: counts) staging's owners of its files to production's, of `only` those
   * files when given (insert-missing: the ones it copied). Absent where owners cannot be carried.
   */
  owners?(bucket: string, only: string[] | null): Promise<OwnersOutcome>;
}

/** What carrying a bucket's owners did (a dry run: would do). */
export interface OwnersOutcome {
  /** Files whose owner columns were set. */
  set: number;
  /** Files whose owner is a user staging's auth.users lacks, where a foreign key ties `owner` there: left without it. */
  unmatched: number;
}

export interface StorageProgress {
  bucket: string;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface BucketCopyResult {
  bucket: string;
  /** What was done to the bucket itself in staging. */
  settings: 'created' | 'updated' | 'unchanged';
  objects: number;
  bytes: number;
  copied: number;
  copiedBytes: number;
  removed: number;
  unchanged: number;
  /** Whom the files belong to, carried after them; absent where it could not be. */
  owners?: OwnersOutcome;
  /**
   * Paths production lists (a storage.objects row) but serves no file for (the row written by SQL or copied in, the
   * upload never finished): not copied, the other files are; absent where there is none.
   */
  unservable?: string[];
  seconds: number;
}

/** The production buckets a selection names, each unknown name refused with the ones there are. */
export function chooseBuckets(all: BucketSettings[], buckets?: string[], exclude: string[] = []): BucketSettings[] {
  const ids = new Set(all.map((bucket) => bucket.id));
  const unknown = [...(buckets ?? []), ...exclude].filter((id) => !ids.has(id));
  if (unknown.length) {
    throw new StorageSelectionError(`No bucket ${unknown.map((id) => `"${id}"`).join(', ')} in production. Its buckets: ${[...ids].join(', ') || 'none'}.`);
  }
  return all.filter((bucket) => (!buckets || buckets.includes(bucket.id)) && !exclude.includes(bucket.id));
}

export async function copyStorage(production: StorageApi, staging: StorageApi, options: StorageCopyOptions): Promise<BucketCopyResult[]> {
  const [productionBuckets, stagingBuckets] = await Promise.all([production.listBuckets(), staging.listBuckets()]);
  const chosen = chooseBuckets(productionBuckets, options.buckets, options.excludeBuckets);
  const results: BucketCopyResult[] = [];
  for (const bucket of chosen) {
    const started = performance.now();
    const settings = await matchBucket(staging, bucket, stagingBuckets, Boolean(options.dryRun));
    const [productionObjects, stagingObjects] = await Promise.all([
      production.listObjects(bucket.id),
      settings === 'created' ? Promise.resolve([]) : staging.listObjects(bucket.id),
    ]);
    const unsafe = productionObjects.filter((object) => unaddressable(object.path)).map((object) => object.path);
    if (unsafe.length) throw new UnaddressableObjectError(bucket.id, unsafe);
    const compared = compareBucket(bucket.id, productionObjects, stagingObjects);
    const held = new Set(stagingObjects.map((object) => object.path));
    const comparison = options.onlyMissing ? { ...compared, toCopy: compared.toCopy.filter((object) => !held.has(object.path)) } : compared;
    const removing = options.removeStagingOnly ? comparison.stagingOnly : [];
    const unservable: StoredObject[] = [];
    if (!options.dryRun) {
      unservable.push(...(await copyObjects(production, staging, comparison, options)));
      for (let i = 0; i < removing.length; i += 1000) await staging.remove(bucket.id, removing.slice(i, i + 1000));
    }
    const copied = comparison.toCopy.filter((object) => !unservable.includes(object));
    const owners = await options.owners?.(bucket.id, options.onlyMissing ? comparison.toCopy.map((object) => object.path) : null);
    results.push({
      bucket: bucket.id,
      settings,
      objects: productionObjects.length,
      bytes: productionObjects.reduce((sum, object) => sum + object.size, 0),
      copied: copied.length,
      copiedBytes: copied.reduce((sum, object) => sum + object.size, 0),
      removed: removing.length,
      unchanged: comparison.unchanged,
      ...(owners ? { owners } : {}),
      ...(unservable.length ? { unservable: unservable.map((object) => object.path).sort() } : {}),
      seconds: (performance.now() - started) / 1000,
    });
  }
  return results;
}

const SETTINGS: (keyof BucketSettings)[] = ['public', 'file_size_limit', 'allowed_mime_types'];

async function matchBucket(staging: StorageApi, bucket: BucketSettings, existing: BucketSettings[], dryRun: boolean): Promise<BucketCopyResult['settings']> {
  const theirs = existing.find((candidate) => candidate.id === bucket.id);
  const wanted: BucketSettings = {
    id: bucket.id,
    name: bucket.name,
    public: bucket.public,
    file_size_limit: bucket.file_size_limit ?? null,
    allowed_mime_types: bucket.allowed_mime_types ?? null,
  };
  if (!theirs) {
    if (!dryRun) await staging.createBucket(wanted);
    return 'created';
  }
  const same = SETTINGS.every((key) => JSON.stringify(theirs[key] ?? null) === JSON.stringify(wanted[key] ?? null));
  if (same) return 'unchanged';
  if (!dryRun) await staging.updateBucket(wanted);
  return 'updated';
}

/** A download production answered 404 for: it lists the object, and has no file for it. */
const unserved = (error: unknown) => error instanceof StorageApiError && error.status === 404 && error.what.startsWith('download ');

/** Copies the bucket's files; returns those production could not serve, which stop no other. */
async function copyObjects(production: StorageApi, staging: StorageApi, comparison: BucketComparison, options: StorageCopyOptions): Promise<StoredObject[]> {
  const files = comparison.toCopy;
  const progress: StorageProgress = {
    bucket: comparison.bucket,
    filesDone: 0,
    filesTotal: files.length,
    bytesDone: 0,
    bytesTotal: files.reduce((sum, object) => sum + object.size, 0),
  };
  // Bytes are counted as they pass, so one large file shows progress too.
  const moved = (bytes: number) => {
    progress.bytesDone += bytes;
    options.onProgress?.({ ...progress });
  };
  // After a failure no other file starts: those in flight finish, then the first failure is the run's.
  // A file production cannot serve is no failure of the copy: one lost file would otherwise hold back the bucket's others.
  const unservable: StoredObject[] = [];
  await inParallel(files, Math.max(1, options.concurrency), async (object) => {
    try {
      await copyObject(production, staging, comparison.bucket, object, moved);
    } catch (error) {
      if (!unserved(error)) throw error;
      unservable.push(object);
    }
    progress.filesDone += 1;
    options.onProgress?.({ ...progress });
  });
  return unservable;
}

/**
 * One file, download into upload; a transient failure of either tries the
 * whole transfer again, its bytes taken back from the progress first.
 */
async function copyObject(production: StorageApi, staging: StorageApi, bucket: string, object: StoredObject, moved: (bytes: number) => void): Promise<void> {
  const attempt = async () => {
    let counted = 0;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        counted += chunk.byteLength;
        moved(chunk.byteLength);
        controller.enqueue(chunk);
      },
    });
    try {
      await staging.upload(bucket, object, (await production.download(bucket, object.path)).pipeThrough(counter));
    } catch (error) {
      moved(-counted);
      throw error;
    }
  };
  await pRetry(attempt, {
    retries: 5,
    minTimeout: 250,
    maxTimeout: 8_000,
    shouldRetry: ({ error }) => !(error instanceof StorageApiError) || error.transient,
  });
}
