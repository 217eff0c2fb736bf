// The backups under .supasync/backups/ as a whole: listed newest first, the
// newest one of a staging found for a restore, and a staging's older ones
// pruned down to supasync.config.json's `backups.keep` after a run that took
// a new one. Only complete backups (with a manifest) are ever picked or
// pruned: a directory without one may be a run still writing it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { redactUrl } from '../config/connection-string.ts';
import { UsageError } from '../errors.ts';
import { inspectBackup, MANIFEST_FILE, type AnyBackupManifest } from './manifest.ts';
import { mayBeOfStaging, restorableWith, sameStaging, type StagingVariables } from './origin.ts';
import { commandLine } from '../invocation.ts';

export interface StoredBackup {
  directory: string;
  /** The manifest's time; for an incomplete backup, the time its name starts with (else the directory's). */
  takenAt: Date;
  /** complete: has a manifest naming files that are there; incomplete: no manifest (being written, or stopped while it was). */
  state: 'complete' | 'incomplete' | 'damaged';
  /** null unless complete. */
  manifest: AnyBackupManifest | null;
  /** What is wrong, unless complete. */
  problem: string | null;
}

/** Every directory under `root`, newest first; none when `root` does not exist. */
export async function listBackups(root: string): Promise<StoredBackup[]> {
  let names: string[];
  try {
    names = readdirSync(root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const backups = await Promise.all(
    names.map(async (name): Promise<StoredBackup> => {
      const directory = join(root, name);
      const inspected = await inspectBackup(directory);
      if (inspected.manifest)
        return { directory, takenAt: new Date(inspected.manifest.createdAt), state: 'complete', manifest: inspected.manifest, problem: null };
      const takenAt = timeInName(name) ?? statSync(directory).mtime;
      const state = existsSync(join(directory, MANIFEST_FILE)) ? 'damaged' : 'incomplete';
      return { directory, takenAt, state, manifest: null, problem: inspected.problem };
    }),
  );
  return backups.sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime() || b.directory.localeCompare(a.directory));
}

/**
 * The newest complete backup these variables restore: of the staging they
 * point at, taken the way they reach it (a direct-path backup needs the
 * connection string, a REST one the URL and key). Refused (exit 2) when none.
 */
export async function latestBackupOf(root: string, staging: StagingVariables): Promise<StoredBackup & { manifest: AnyBackupManifest }> {
  const backups = await listBackups(root);
  const index = backups.findIndex((backup) => backup.manifest && restorableWith(backup.manifest, staging));
  const latest = backups[index];
  if (latest?.manifest) {
    // Restoring past a newer backup of the same staging would undo that run too, unsaid.
    const newer = backups.slice(0, index).find((backup) => backup.manifest && mayBeOfStaging(backup.manifest, staging));
    if (newer?.manifest) throw new UsageError(newerBackupRefusal(newer as StoredBackup & { manifest: AnyBackupManifest }, latest.directory));
    return { ...latest, manifest: latest.manifest };
  }
  const where = [staging.dbUrl && redactUrl(staging.dbUrl), staging.url && staging.serviceRoleKey && staging.url].filter(Boolean).join(' or ');
  throw new UsageError(
    `No complete backup under ${root} of the staging the environment points at (${where || 'SUPABASE_STAGING_DB_URL, or SUPABASE_STAGING_URL and its key, are not set'}). ` +
      `${commandLine('restore', '--list')} shows the backups there; restore one by its directory.`,
  );
}

function newerBackupRefusal(newer: StoredBackup & { manifest: AnyBackupManifest }, older: string): string {
  const rest = newer.manifest.via === 'rest';
  const ref = newer.manifest.staging.projectRef;
  return (
    `${newer.directory}, taken ${rest ? 'over REST' : 'on the direct path'} at ${newer.manifest.createdAt}, is newer than ${older}, the newest backup the environment can restore, ` +
    `and may be of this staging too (${ref ? `the same Supabase project, ${ref}` : 'no Supabase project ref in either address tells them apart'}): ` +
    `restoring ${older} would undo that later run as well. Restore the newer one with ${rest ? 'SUPABASE_STAGING_URL and SUPABASE_STAGING_SERVICE_ROLE_KEY (or _SECRET_KEY)' : 'SUPABASE_STAGING_DB_URL'} set ` +
    `(a backup is restored the way it was taken), or name the backup you mean: ${commandLine('restore', '<directory>')}. Nothing was changed.`
  );
}

export interface PrunedBackups {
  keep: number;
  removed: string[];
  /** Directories that could not be removed, with why: reported, never a reason to fail a run that succeeded. */
  failed: { directory: string; message: string }[];
}

/**
 * After a run that succeeded and took `latest`: the complete backups of the
 * same staging beyond the newest `keep` (latest always among those kept)
 * are removed. Other stagings' backups, and incomplete ones, are left alone.
 */
export async function pruneBackups(root: string, latest: string, keep: number): Promise<PrunedBackups> {
  const backups = await listBackups(root);
  const kept = backups.find((backup) => resolve(backup.directory) === resolve(latest));
  const pruned: PrunedBackups = { keep, removed: [], failed: [] };
  if (!kept?.manifest) return pruned;
  const ofThisStaging = backups.filter((backup) => backup !== kept && backup.manifest && sameStaging(backup.manifest, kept.manifest as AnyBackupManifest));
  for (const backup of ofThisStaging.slice(Math.max(keep - 1, 0))) {
    try {
      await rm(backup.directory, { recursive: true, force: true });
      pruned.removed.push(backup.directory);
    } catch (error) {
      pruned.failed.push({ directory: backup.directory, message: (error as Error).message });
    }
  }
  return pruned;
}

/** backupName()'s time: 2025-01-31T10-00-00.000Z-... */
function timeInName(name: string): Date | undefined {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2})-(\d{2})-(\d{2}\.\d{3}Z)/.exec(name);
  if (!match) return undefined;
  const time = new Date(`${match[1]}:${match[2]}:${match[3]}`);
  return Number.isNaN(time.getTime()) ? undefined : time;
}
