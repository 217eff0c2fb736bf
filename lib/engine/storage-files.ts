// A sync's files: after the rows, the buckets the run chose, copied through
// both projects' Storage API as the run's mode says (replace and mirror
// remove staging's extra files, upsert and incremental keep them,
// insert-missing only adds), then whom each file belongs to set in staging's
// storage.objects from production's (file-owners.ts). The run's checks
// have passed by then: staging carries the sync-target mark and is no
// protected project.
import type { SideConfig } from '../config/env.ts';
import { UsageError } from '../errors.ts';
import type { SyncMode } from '../plan/mode.ts';
import { storageApiOf, type BucketSettings, type StorageApi } from '../storage/api.ts';
import { copyStorage, type BucketCopyResult, type StorageProgress } from '../storage/copy.ts';
import { carryOwners } from './file-owners.ts';
import { openDatabase } from '../transport/database.ts';
import type { SyncTargetMark } from '../transport/reads.ts';
import { describeThisRun } from '../transport/staging-hold.ts';
import type { PreparedRun } from './prepare.ts';

export interface FilesOptions {
  buckets?: string[];
  excludeBuckets?: string[];
  mode: SyncMode;
  concurrency: number;
  dryRun?: boolean;
  onProgress?(progress: StorageProgress): void;
  /** What holding staging has to say (another run's rows put back first). */
  warn(line: string): void;
}

export interface FilesOutcome {
  buckets: BucketCopyResult[];
  /** Why whom the files belong to was not carried, or null where it was. */
  ownersLeft: string | null;
}

export async function syncFiles(run: PreparedRun, options: FilesOptions): Promise<FilesOutcome> {
  const production = storageApiOf(run.environment.production);
  const staging = storageApiOf(run.environment.staging);
  const ownersLeft = await ownersUnavailable(run);
  // Setting owners writes staging's database: held as a run's rows are, which over REST its write functions require.
  const hold = options.dryRun || ownersLeft ? null : await run.staging.holdStaging(describeThisRun('sync --storage'), options.warn);
  try {
    return { buckets: await copyFiles(run, production, staging, options, ownersLeft), ownersLeft };
  } finally {
    await hold?.release();
  }
}

function copyFiles(
  run: PreparedRun,
  production: StorageApi,
  staging: StorageApi,
  options: FilesOptions,
  ownersLeft: string | null,
): Promise<BucketCopyResult[]> {
  return copyStorage(production, staging, {
    buckets: options.buckets,
    excludeBuckets: options.excludeBuckets,
    removeStagingOnly: options.mode === 'replace' || options.mode === 'mirror',
    onlyMissing: options.mode === 'insert-missing',
    concurrency: options.concurrency,
    dryRun: options.dryRun,
    onProgress: options.onProgress,
    ...(ownersLeft ? {} : { owners: (bucket, only) => carryOwners(run.production, run.staging, bucket, { only, dryRun: options.dryRun }) }),
  });
}

/** Why files' owners can be neither carried nor compared in this run (a side's functions or role), or null. */
export async function ownersUnavailable(run: Pick<PreparedRun, 'production' | 'staging'>): Promise<string | null> {
  const [production, staging] = await Promise.all([run.production.fileOwnersUnavailable(), run.staging.fileOwnersUnavailable()]);
  return production ?? staging;
}

/**
 * Files go through SUPABASE_*_URL, whichever path the rows take, and on the
 * direct path nothing else reads those URLs: a staging URL leading to
 * production would have production's files removed. Each project is asked
 * for its sync-target mark before anything is copied: staging's must be the
 * one its database carries, production's none. Over REST the run's own
 * checks read these very URLs.
 */
export async function refuseStorageElsewhere(run: PreparedRun): Promise<void> {
  if (run.via === 'rest') return;
  // Each side's URL and key, or the Storage API's own words for what is missing.
  storageApiOf(run.environment.production);
  storageApiOf(run.environment.staging);
  const [production, staging] = await Promise.all([markOverRest(run.environment.production), markOverRest(run.environment.staging)]);
  const check = 'Check SUPABASE_PROD_URL and SUPABASE_STAGING_URL (swapped?) and their keys. Nothing was changed.';
  if (production.mark.kind === 'marked') {
    throw new UsageError(
      `Files are copied through SUPABASE_PROD_URL (${production.location}), and that project carries supasync's sync-target mark: ` +
        `it is a staging, not the production whose rows SUPABASE_PROD_DB_URL reads. ${check}`,
    );
  }
  // Production carries no mark, nor, without supasync's functions, answers for one: its buckets say which project it is.
  if (!(await sameBuckets(run, 'production'))) {
    throw new UsageError(
      `Files are copied through SUPABASE_PROD_URL (${production.location}), whose buckets are not those of the database SUPABASE_PROD_DB_URL reads ` +
        `(their ids or creation times differ): the two lead to different projects. ${check}`,
    );
  }
  // The mark the run read from staging's database, through the connection string.
  const rows = run.stagingMark;
  const sameMark = staging.mark.kind === 'marked' && Date.parse(staging.mark.markedAt) === Date.parse(rows.markedAt) && staging.mark.markedBy === rows.markedBy;
  if (sameMark) return;
  const why =
    staging.mark.kind === 'unknown'
      ? `cannot tell which project it is (${staging.mark.why})`
      : staging.mark.kind === 'unmarked'
        ? 'is not marked as a sync target'
        : `carries another sync-target mark (set ${staging.mark.markedAt}) than SUPABASE_STAGING_DB_URL's database`;
  throw new UsageError(
    `Files are copied through SUPABASE_STAGING_URL (${staging.location}), whose project ${why}: it may not be the staging whose rows ` +
      `SUPABASE_STAGING_DB_URL writes, and files would be written and removed there. ${check}`,
  );
}

/**
 * The buckets the side's Storage API lists are those its database holds (id
 * and creation time). Where the database's role sees none (no Storage schema,
 * no privilege, its row-level security), nothing is said either way: copying
 * from a project with no bucket removes nothing.
 */
async function sameBuckets(run: PreparedRun, side: 'production' | 'staging'): Promise<boolean> {
  const database = run[side];
  if (database.via !== 'postgres') return true;
  // Asked first, so that no failing query aborts a transaction the connection may hold.
  const readable = await database.client.query<{ ok: boolean }>(
    `SELECT CASE WHEN pg_catalog.to_regclass('storage.buckets') IS NULL THEN false
                 ELSE pg_catalog.has_table_privilege(pg_catalog.to_regclass('storage.buckets'), 'SELECT') END AS ok`,
  );
  if (!readable.rows[0]?.ok) return true;
  const held = (await database.client.query<{ id: string; created: Date }>('SELECT id, created_at AS created FROM storage.buckets')).rows;
  if (!held.length) return true;
  const listed = (await storageApiOf(run.environment[side]).listBuckets()) as (BucketSettings & { created_at?: string })[];
  const said = (rows: { id: string; at: number }[]) =>
    rows
      .map((row) => `${row.id}@${row.at}`)
      .sort()
      .join(',');
  return (
    said(held.map((row) => ({ id: row.id, at: new Date(row.created).getTime() }))) ===
    said(listed.map((bucket) => ({ id: bucket.id, at: Date.parse(bucket.created_at ?? '') })))
  );
}

async function markOverRest(side: SideConfig): Promise<{ mark: SyncTargetMark; location: string }> {
  const database = await openDatabase(side, 'rest', 1);
  try {
    return { mark: await database.readSyncTarget(), location: database.location };
  } finally {
    await database.close();
  }
}

/** The rows Storage writes itself as it takes files: left out of the row copy when files are copied. */
export const STORAGE_OWN_TABLES = ['storage.objects', 'storage.buckets'];
