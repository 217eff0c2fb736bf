// Staging's rows, saved to local files before a replace empties them or an
// upsert overwrites them. Read inside the sync's own transaction, before it
// writes anything, so the backup is exactly what the run then changes; of a
// table a re-sync writes by key range, the rows of those ranges alone.
// scripts/restore-staging.ts brings it back (restore.ts).
import { whyConnectionLost } from '../../connect/postgres.ts';
import { type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { queryCatalog } from '../../catalog/read.ts';
import { findTable, qualifiedName, type Catalog, type TableRef } from '../../catalog/types.ts';
import { DatabaseError, describeError } from '../../errors.ts';
import { columnList, quoteOwnRows, quoteTable } from '../../sql/ident.ts';
import { openPrivateFile } from '../../backup/files.ts';
import { maskedRecord } from '../masked-tables.ts';
import { readMaskedTablesPostgres } from './masked-tables.ts';
import { backupName, manifestVersion, tableFile, writeManifest, type BackedUpTable, type BackupManifest } from '../../backup/manifest.ts';
import { backupOrigin } from '../../backup/origin.ts';
import type { RunBackup } from '../../backup/run-backup.ts';
import type { TouchedRanges, WrittenBackup } from '../session.ts';
import { runBuilt } from '../../sql/shared.ts';
import { ownedWithValues, runSequenceValues, sequencesToRead, type StagingTableState } from '../backup-tables.ts';
import { copyOut } from './copy-out.ts';
import { keyRanges } from './key-ranges.ts';
import { sequenceValuesPostgres } from './sequences.ts';
import { readSyncTargetPostgres } from './sync-target.ts';

/**
 * Writes every table's rows (every column staging stores; generated ones it
 * computes again) with COPY TO, streamed to a file so memory stays at a few
 * chunks: in binary format where each column's type reads back what it wrote
 * (the catalog's binaryPortable), in text otherwise, so the restore can read
 * every file it is given. The manifest is written last: a directory with one
 * is complete. On failure the partial directory is removed and the error names
 * the path and --no-backup; the caller rolls back, so nothing was changed.
 */
export async function backUpTables(
  staging: pg.Client,
  stagingUrl: string,
  tables: TableRef[],
  backup: RunBackup,
  sequences: TableRef[],
  touched: ReadonlyMap<string, TouchedRanges> = new Map(),
): Promise<WrittenBackup> {
  // What supasync_backup_tables answers over REST, from the same query.
  const states = await runBuilt<StagingTableState[]>(staging, 'backup_tables_query', [JSON.stringify(tables.map(({ schema, name }) => ({ schema, name })))]);
  if (!states.some((state) => state.hasRows)) return { directory: null, tables: tables.length, rows: 0 };
  const createdAt = new Date();
  const mark = await readSyncTargetPostgres(staging);
  const origin = { ...backupOrigin(stagingUrl), ...(mark.kind === 'marked' ? { mark: { markedAt: mark.markedAt, markedBy: mark.markedBy } } : {}) };
  const name = backupName(createdAt, origin.projectRef ?? origin.database);
  let directory = join(backup.root, name);
  const entries: BackedUpTable[] = [];
  let current: TableRef | undefined;
  try {
    directory = await backup.makeDirectory(name);
    const values = await sequenceValuesPostgres(staging, sequencesToRead(states, sequences));
    const masked = await readMaskedTablesPostgres(staging);
    // In this transaction, as the columns below: the formats fit the rows saved.
    const catalog = await queryCatalog('staging', staging, [...new Set(tables.map((table) => table.schema))]);
    const ranges = keyRanges(staging);
    for (const [index, state] of states.entries()) {
      const table = { schema: state.schema, name: state.name };
      current = table;
      const format = backupFormat(catalog, table, state.columns);
      const within = touched.get(qualifiedName(table));
      const entry: BackedUpTable = {
        ...table,
        file: null,
        columns: state.columns,
        format,
        rows: 0,
        sequences: ownedWithValues(state, values),
        ...maskedRecord(masked, table),
        ...(within ? { within } : {}),
      };
      if (state.hasRows && (!within || within.ranges.length)) {
        const filter = within ? await ranges.keyRangeFilter({ table, keyColumns: within.keyColumns }, within, within.binary) : null;
        entry.file = tableFile(index, table, format === 'binary' ? 'bin' : 'txt');
        entry.rows = await copyToFile(staging, state, format, join(directory, entry.file), filter);
      }
      entries.push(entry);
    }
    current = undefined;
    const manifest: BackupManifest = {
      supasyncBackup: manifestVersion(entries),
      via: 'postgres',
      createdAt: createdAt.toISOString(),
      staging: origin,
      tables: entries,
      sequences: runSequenceValues(sequences, values),
    };
    await writeManifest(directory, manifest);
  } catch (error) {
    await backup.discard().catch(() => undefined);
    const retry = 'Nothing was changed. To sync without a backup, run again with --no-backup.';
    // A file system error carries the call that failed; anything else came from staging.
    if ((error as NodeJS.ErrnoException).syscall) {
      throw new DatabaseError(
        `Cannot write the backup of staging's tables to ${directory}: ${(error as Error).message}\n` +
          `Free disk space or fix the directory's permissions. ${retry}`,
        1,
        { cause: error },
      );
    }
    const doing = current ? `Backing up staging's ${qualifiedName(current)}` : "Reading staging's tables to back up";
    throw new DatabaseError(`${describeError(doing, error)}\n${retry}`, 1, { cause: error });
  }
  return { directory, tables: entries.length, rows: entries.reduce((sum, entry) => sum + entry.rows, 0) };
}

/** Binary only when every saved column's type is binaryPortable in staging's catalog; text is always read back. */
function backupFormat(catalog: Catalog, table: TableRef, columns: string[]): BackedUpTable['format'] {
  const described = findTable(catalog, table)?.columns;
  const portable = columns.every((name) => described?.find((column) => column.name === name)?.binaryPortable);
  return portable ? 'binary' : 'text';
}

/** `filter`: only the rows of some key ranges (keyRangeFilter's condition); null: all of them. */
async function copyToFile(
  staging: pg.ClientBase,
  state: StagingTableState,
  format: BackedUpTable['format'],
  path: string,
  filter: string | null,
): Promise<number> {
  const [table, columns] = [quoteTable(state), columnList(state.columns)];
  // COPY cannot read a partitioned table directly, nor some of its rows, nor name no column; a query over it can.
  const source =
    state.partitioned || filter || !state.columns.length
      ? `COPY (SELECT ${columns} FROM ${quoteOwnRows(state, state.inherited)}${filter ? ` WHERE ${filter}` : ''}) TO STDOUT (FORMAT ${format})`
      : `COPY ${table} (${columns}) TO STDOUT (FORMAT ${format})`;
  const file = await openPrivateFile(path);
  try {
    const reading = staging.query(copyOut(source, { binary: format === 'binary' }));
    await pipeline(reading, new FileSink(file));
    return reading.rows;
  } catch (error) {
    // The file's own failure (a full disk) is said as such by the caller, not as staging's connection lost.
    if ((error as NodeJS.ErrnoException).syscall) throw error;
    throw whyConnectionLost(error, staging);
  } finally {
    await file.close().catch(() => undefined);
  }
}

/**
 * Writes chunks to a file one at a time (pipeline's backpressure bounds
 * memory). After a failed write (disk full) the rest of the COPY is read and
 * dropped rather than left on the wire: a COPY cut short leaves the staging
 * connection unusable, and it must still roll back cleanly.
 */
class FileSink extends Writable {
  private failure: Error | undefined;
  constructor(private readonly file: FileHandle) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.failure) return callback();
    this.writeAll(chunk).then(
      () => callback(),
      (error: Error) => {
        this.failure = error;
        callback();
      },
    );
  }
  override _final(callback: (error?: Error | null) => void): void {
    if (this.failure) return callback(this.failure);
    // On disk before the TRUNCATE commits: the backup is what survives it.
    this.file.sync().then(() => callback(), callback);
  }
  private async writeAll(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length;) at += (await this.file.write(chunk, at)).bytesWritten;
  }
}
