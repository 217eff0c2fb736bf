// The sync-target mark (supabase/migrations/*_supasync_target_mark.sql): the
// one thing that makes a database writable to supasync. Staging must carry it
// and production must not, on every path and for every run that names the two
// (sync, dry-run, verify, restore): swapped or mistyped variables then stop a
// run before it reads a row, instead of emptying production.
import type { SideConfig, Via } from '../config/env.ts';
import { UsageError } from '../errors.ts';
import { openDatabase } from './database.ts';
import type { SyncTargetMark } from './reads.ts';
import { commandLine } from '../invocation.ts';

/** The one command that marks staging, quoted by every refusal. */
const markCommand = () => commandLine('install-rpcs', '--staging --mark-only');

/** Refuses a staging without the mark (or whose mark cannot be read). */
export function refuseUnmarkedStaging(mark: SyncTargetMark, location: string): void {
  if (mark.kind === 'marked') return;
  const how =
    `If it really is your staging, mark it once: ${markCommand()} (or --staging alone, which also installs the REST functions). ` +
    'If it is not, check SUPABASE_STAGING_URL and SUPABASE_STAGING_DB_URL: are production and staging swapped? Nothing was changed.';
  if (mark.kind === 'unknown') {
    throw new UsageError(`Cannot tell whether staging (${location}) is marked as a supasync sync target: ${mark.why}. ${how}`);
  }
  throw new UsageError(`Staging (${location}) is not marked as a supasync sync target, and supasync writes only into databases that are. ${how}`);
}

/** Refuses a production that carries the mark: it is somebody's staging, never a source. */
export function refuseMarkedProduction(mark: SyncTargetMark, location: string): void {
  if (mark.kind !== 'marked') return;
  throw new UsageError(
    `Production (${location}) carries supasync's sync-target mark (set ${mark.markedAt}${mark.markedBy ? ` by ${mark.markedBy}` : ''}): ` +
      'it is a staging database, and supasync never reads one as production. Are SUPABASE_PROD_* and SUPABASE_STAGING_* swapped? ' +
      'If it really is production, marked by mistake, remove its mark there (SQL editor: DELETE FROM supasync_private.sync_target;). ' +
      'Nothing was read or written.',
  );
}

/** For a script that writes staging without a sync run (restore): opens it just to read its mark, which it answers. */
export async function refuseUnmarked(staging: SideConfig, via: Via): Promise<Extract<SyncTargetMark, { kind: 'marked' }>> {
  const database = await openDatabase(staging, via, 1);
  try {
    const mark = await database.readSyncTarget();
    refuseUnmarkedStaging(mark, database.location);
    return mark as Extract<SyncTargetMark, { kind: 'marked' }>;
  } finally {
    await database.close();
  }
}
