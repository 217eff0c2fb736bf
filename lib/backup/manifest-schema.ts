// What a backup's manifest.json holds, as the zod schema that checks one
// read from disk: outside input (a file anyone may have edited, or an older
// version wrote), parsed whole before any of it reaches a COPY statement or
// a table name. The types of manifest.ts are inferred from it.
import * as z from 'zod';

/**
 * Staging's sync-target mark as the backup was taken: another database at the
 * same address (re-created, another local project on 127.0.0.1:54322) carries
 * another. Absent from backups of versions before it was kept.
 */
const markSchema = z.object({ markedAt: z.string(), markedBy: z.string().nullable() }).optional();

/** Which database a direct-path backup came from: a restore goes back there and nowhere else. */
const backupOriginSchema = z.object({
  /** The connection string without its password, for people. */
  location: z.string(),
  host: z.string(),
  port: z.number().int(),
  database: z.string(),
  /** Supabase's project ref, when the connection string names one. */
  projectRef: z.string().nullable(),
  mark: markSchema,
});
export type BackupOrigin = z.infer<typeof backupOriginSchema>;

/** Which project a REST backup came from: SUPABASE_STAGING_URL as the sync had it (no key in it). */
const restBackupOriginSchema = z.object({ location: z.string(), projectRef: z.string().nullable(), mark: markSchema });
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
  /** In the backup's directory (a name, never a path that could lead out of it); null when the table was empty. */
  file: z
    .string()
    .regex(/^(?!\.\.?$)[^/\\]+$/, 'a file name inside the backup directory')
    .nullable(),
  columns: z.array(z.string()),
  rows: z.number().int().nonnegative(),
  sequences: z.array(backedUpSequenceSchema),
  /**
   * Staging's record of the table as the backup was taken (transport/masked-tables.ts): its masked columns, each
   * with its rule, or null when it held none masked; a restore puts the record back with the rows. Absent where
   * staging kept no record (functions before version 39), and from older backups: the restore leaves it as it is.
   */
  masked: z.record(z.string(), z.string()).nullable().optional(),
};

/**
 * A table a re-sync wrote into by key range: the file holds staging's rows in
 * these ranges alone (the rows the run could write or delete), and a restore
 * deletes staging's rows in them before loading it, instead of emptying the
 * table. Built into SQL again by the read migration's builders, never taken as SQL.
 */
const touchedRangesSchema = z.object({
  keyColumns: z.array(z.string()).min(1),
  binary: z.boolean(),
  bits: z.number().int().min(1).max(64),
  ranges: z.array(z.string().regex(/^-?\d{1,20}$/, 'a key range as a decimal number')),
});

// The format goes into the restore's COPY statement: only the ones supasync writes.
const backedUpTableSchema = z.object({
  ...tableFields,
  /** COPY's format: binary only where every column's type reads back exactly what it wrote (the catalog's binaryPortable). */
  format: z.enum(['binary', 'text']),
  /** Only these key ranges of the table were saved (a re-sync's); absent: the whole table. */
  within: touchedRangesSchema.optional(),
});
export type BackedUpTable = z.infer<typeof backedUpTableSchema>;

/** One JSON array of text values (null for NULL) per line, in `columns` order. */
const jsonLinesTableSchema = z.object({
  ...tableFields,
  format: z.literal('jsonl'),
  within: touchedRangesSchema.optional(),
  /** Staging's primary key, which the restore upserts on (a retried batch is then harmless); null: none. */
  key: z.array(z.string()).nullable(),
});
export type JsonLinesTable = z.infer<typeof jsonLinesTableSchema>;

/**
 * 1; 2 when a table was saved by key range (`within`). A supasync that knew
 * only 1 would restore such a table by emptying it whole and loading the few
 * rows saved: the 2 makes it refuse the manifest instead.
 */
const formatVersion = z.union([z.literal(1), z.literal(2)]);

/** Taken over the direct path; manifests written before REST backups existed have no `via`. */
const backupManifestSchema = z.object({
  supasyncBackup: formatVersion,
  via: z.literal('postgres').optional(),
  createdAt: z.string(),
  staging: backupOriginSchema,
  tables: z.array(backedUpTableSchema),
  /** Every sequence the run went on to set (those only defaults or functions use too), as staging had them; older backups have none. */
  sequences: z.array(sequenceStateSchema).optional(),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

const restBackupManifestSchema = z.object({
  supasyncBackup: formatVersion,
  via: z.literal('rest'),
  createdAt: z.string(),
  staging: restBackupOriginSchema,
  tables: z.array(jsonLinesTableSchema),
  sequences: z.array(sequenceStateSchema).optional(),
});
export type RestBackupManifest = z.infer<typeof restBackupManifestSchema>;

/** The manifest, or the first field that is not what supasync writes (its path, e.g. tables.0.format, and why). */
export function parseManifest(json: unknown): { success: true; manifest: BackupManifest | RestBackupManifest } | { success: false; problem: string } {
  const via = (json as { via?: unknown } | null)?.via;
  const schema = via === 'rest' ? restBackupManifestSchema : backupManifestSchema;
  const parsed = schema.safeParse(json);
  if (parsed.success) return { success: true, manifest: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'the top level';
  return { success: false, problem: `${where}: ${issue?.message ?? 'not what supasync writes'}` };
}
