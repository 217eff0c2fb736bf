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
import { z } from 'zod';
import { qualifiedName } from '../catalog/types.ts';
import { UsageError } from '../errors.ts';
import { writePrivateFile } from './files.ts';

/** Under the directory the scripts run from, like supasync.config.json; gitignored. */
export const BACKUP_ROOT = join('.supasync', 'backups');
export const MANIFEST_FILE = 'manifest.json';

/** Which database a direct-path backup came from: a restore goes back there and nowhere else. */
const backupOriginSchema = z.object({
  /** The connection string without its password, for people. */
  location: z.string(),
  host: z.string(),
  port: z.number().int(),
  database: z.string(),
  /** Supabase's project ref, when the connection string names one. */
  projectRef: z.string().nullable(),
});
export type BackupOrigin = z.infer<typeof backupOriginSchema>;

/** Which project a REST backup came from: SUPABASE_STAGING_URL as the sync had it (no key in it). */
const restBackupOriginSchema = z.object({ location: z.string(), projectRef: z.string().nullable() });
export type RestBackupOrigin = z.infer<typeof restBackupOriginSchema>;

const backedUpSequenceSchema = z.object({
  schema: z.string(),
  name: z.string(),
  column: z.string(),
  /** As text: a bigint sequence passes 2^53. */
  lastValue: z.string(),
  isCalled: z.boolean(),
});
export type BackedUpSequence = z.infer<typeof backedUpSequenceSchema>;

const sequenceStateSchema = z.object({ schema: z.string(), name: z.string(), lastValue: z.string(), isCalled: z.boolean() });

const tableFields = {
  schema: z.string(),
  name: z.string(),
  /** Relative to the backup's directory; null when the table was empty. */
  file: z.string().nullable(),
  columns: z.array(z.string()),
  rows: z.number().int().nonnegative(),
  sequences: z.array(backedUpSequenceSchema),
};

// The format goes into the restore's COPY statement: only the ones supasync writes.
const backedUpTableSchema = z.object({
  ...tableFields,
  /** COPY's format: binary only where every column's type reads back exactly what it wrote (the catalog's binaryPortable). */
  format: z.enum(['binary', 'text']),
});
export type BackedUpTable = z.infer<typeof backedUpTableSchema>;

/** One JSON array of text values (null for NULL) per line, in `columns` order. */
const jsonLinesTableSchema = z.object({
  ...tableFields,
  format: z.literal('jsonl'),
  /** Staging's primary key, which the restore upserts on (a retried batch is then harmless); null: none. */
  key: z.array(z.string()).nullable(),
});
export type JsonLinesTable = z.infer<typeof jsonLinesTableSchema>;

/** Taken over the direct path; manifests written before REST backups existed have no `via`. */
const backupManifestSchema = z.object({
  supasyncBackup: z.literal(1),
  via: z.literal('postgres').optional(),
  createdAt: z.string(),
  staging: backupOriginSchema,
  tables: z.array(backedUpTableSchema),
  /** Every sequence the run went on to set (those only defaults or functions use too), as staging had them; older backups have none. */
  sequences: z.array(sequenceStateSchema).optional(),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

const restBackupManifestSchema = z.object({
  supasyncBackup: z.literal(1),
  via: z.literal('rest'),
  createdAt: z.string(),
  staging: restBackupOriginSchema,
  tables: z.array(jsonLinesTableSchema),
  sequences: z.array(sequenceStateSchema).optional(),
});
export type RestBackupManifest = z.infer<typeof restBackupManifestSchema>;

export type AnyBackupManifest = BackupManifest | RestBackupManifest;

/** The manifest of a backup directory, refused (exit 2) when missing, unreadable or naming files that are not there. */
export function readBackup(directory: string): AnyBackupManifest {
  const inspected = inspectBackup(directory);
  if (!inspected.manifest) throw new UsageError(inspected.problem);
  return inspected.manifest;
}

/**
 * A backup directory's manifest, or what is wrong with it (a listing shows it;
 * a restore refuses it). The manifest is outside input (a file anyone may have
 * edited, or an older version written): parsed here, whole, before any of it
 * reaches a COPY statement or a table name.
 */
export function inspectBackup(directory: string): { manifest: AnyBackupManifest; problem?: undefined } | { manifest: null; problem: string } {
  const path = join(directory, MANIFEST_FILE);
  const refuse = (problem: string) => ({ manifest: null, problem });
  if (!existsSync(path)) {
    return refuse(
      `${directory} has no ${MANIFEST_FILE}: it is not a supasync backup, or its writing did not finish. ` +
        'Backups are the directories under .supasync/backups/ named in the sync\'s "Backup of ..." line (npx tsx scripts/restore-staging.ts --list).',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return refuse(`${path} is not valid JSON: ${(error as Error).message}`);
  }
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

function parseManifest(json: unknown): { success: true; manifest: AnyBackupManifest } | { success: false; problem: string } {
  const via = (json as { via?: unknown } | null)?.via;
  const schema = via === 'rest' ? restBackupManifestSchema : backupManifestSchema;
  const parsed = schema.safeParse(json);
  if (parsed.success) return { success: true, manifest: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'the top level';
  return { success: false, problem: `${where}: ${issue?.message ?? 'not what supasync writes'}` };
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
