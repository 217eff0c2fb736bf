// The backup a sync takes of staging before it empties (replace) or
// overwrites (upsert) its tables, as it lies on disk: a directory per run
// under .supasync/backups/, private to the user (files.ts), one file
// per table that held rows, and manifest.json, written last, saying what each file holds and
// which database it came from. Both transports write it (postgres/backup.ts:
// COPY files, binary where the types allow, text otherwise; rest/backup.ts:
// JSON lines of text values) and scripts/restore-staging.ts reads it.
import { existsSync, readFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { qualifiedName } from '../catalog/types.ts';
import { UsageError } from '../errors.ts';
import { writePrivateFile } from './files.ts';

/** Under the directory the scripts run from, like supasync.config.json; gitignored. */
export const BACKUP_ROOT = join('.supasync', 'backups');
export const MANIFEST_FILE = 'manifest.json';

// The manifest's shape is declared once, as the zod schema that checks it
// when read (manifest-schema.ts, loaded only then: zod costs a sync's start
// more than the whole of its flags and config).
export type { BackedUpSequence, BackedUpTable, BackupManifest, BackupOrigin, JsonLinesTable, RestBackupManifest, RestBackupOrigin } from './manifest-schema.ts';
import type { BackupManifest, RestBackupManifest } from './manifest-schema.ts';
import { commandLine } from '../invocation.ts';

export type AnyBackupManifest = BackupManifest | RestBackupManifest;

/** The format a manifest of these tables is written in: 2 when one was saved by key range (manifest-schema.ts says why). */
export const manifestVersion = (tables: { within?: unknown }[]): 1 | 2 => (tables.some((table) => table.within) ? 2 : 1);

/** The manifest of a backup directory, refused (exit 2) when missing, unreadable or naming files that are not there. */
export async function readBackup(directory: string): Promise<AnyBackupManifest> {
  const inspected = await inspectBackup(directory);
  if (!inspected.manifest) throw new UsageError(inspected.problem);
  return inspected.manifest;
}

/**
 * A backup directory's manifest, or what is wrong with it (a listing shows it;
 * a restore refuses it). The manifest is outside input (a file anyone may have
 * edited, or an older version written): parsed here, whole, before any of it
 * reaches a COPY statement or a table name.
 */
export async function inspectBackup(directory: string): Promise<{ manifest: AnyBackupManifest; problem?: undefined } | { manifest: null; problem: string }> {
  const path = join(directory, MANIFEST_FILE);
  const refuse = (problem: string) => ({ manifest: null, problem });
  if (!existsSync(directory)) return refuse(`${directory}: no such directory (${commandLine('restore', '--list')} lists the backups).`);
  if (!existsSync(path)) {
    return refuse(
      `${directory} has no ${MANIFEST_FILE}: it is not a supasync backup, or its writing did not finish. ` +
        `Backups are the directories under .supasync/backups/ named in the sync's "Backup of ..." line (${commandLine('restore', '--list')}).`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return refuse(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const { parseManifest } = await import('./manifest-schema.ts');
  const parsed = parseManifest(json);
  if (!parsed.success) return refuse(`${path} is not a supasync backup manifest of this version's (${parsed.problem}).`);
  const manifest = parsed.manifest;
  for (const table of manifest.tables) {
    if (table.file && !existsSync(join(directory, table.file))) {
      return refuse(`${join(directory, table.file)} is missing: the backup of ${qualifiedName(table)} cannot be restored. Nothing was changed.`);
    }
  }
  return { manifest };
}

/** A backup's path as the user should paste it: relative to where the scripts run, when it lies below. */
export function printablePath(path: string): string {
  const here = relative(process.cwd(), path);
  return here && !here.startsWith('..') && !isAbsolute(here) ? here : path;
}

/**
 * The name of a run's own directory under BACKUP_ROOT: its time, then
 * staging's project ref or database name (or host, over REST).
 */
export function backupName(createdAt: Date, label: string): string {
  return fileSafe(`${createdAt.toISOString().replace(/:/g, '-')}-${label}`);
}

/** The name of a table's file: numbered in the backup's order. */
export function tableFile(index: number, table: { schema: string; name: string }, extension: string): string {
  return fileSafe(`${String(index + 1).padStart(3, '0')}-${table.schema}.${table.name}.${extension}`);
}

/** Written then renamed: a manifest is never half there, and a directory with one is complete. */
export async function writeManifest(directory: string, manifest: AnyBackupManifest): Promise<void> {
  await writePrivateFile(join(directory, `${MANIFEST_FILE}.partial`), `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(join(directory, `${MANIFEST_FILE}.partial`), join(directory, MANIFEST_FILE));
}

/**
 * Names come from the database and the environment (a host's port follows a
 * colon): nothing in them may reach outside the backup's directory, and the
 * directory must copy to any file system, Windows' included, which refuses
 * control characters, : * ? " < > | and a name ending in a dot or a space.
 */
function fileSafe(name: string): string {
  return name.replace(/[\x00-\x1f/\\:*?"<>|]/g, '_').replace(/[. ]+$/, (end) => '_'.repeat(end.length));
}
