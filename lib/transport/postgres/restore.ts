// Puts a backup taken by a replace (backup.ts) back into staging: in one
// transaction, so a failure leaves staging as it was. Only ever staging's
// connection string is used; production is never opened.
import { holdSyncTargetMarkPostgres } from './sync-target.ts';
import { whyConnectionLost } from '../../connect/postgres.ts';
import { restoreTriggers, silenceTriggers } from './silenced-triggers.ts';
import { refuseForeignTriggers } from './foreign-triggers.ts';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { qualifiedName } from '../../catalog/types.ts';
import { connectPostgres } from '../../connect/postgres.ts';
import { DatabaseError, describeError, UsageError } from '../../errors.ts';
import { copyColumns, quoteTable } from '../../sql/ident.ts';
import { ownRows, ownRowsOf } from '../../sql/shared.ts';
import type { BackupManifest } from '../../backup/manifest.ts';
import { keyRanges } from './key-ranges.ts';
import { holdStagingOverPostgres } from './lease.ts';
import { onInterrupt } from '../../interrupt.ts';
import { setSequencesPostgres } from './sequences.ts';
import { refreshViews } from './views.ts';
import type { ViewRefresh } from '../session.ts';
import { countOf } from '../../counts.ts';
import { RESTORED } from '../watermarks.ts';
import { privateTable } from './private-table.ts';
import { setMaskedTablesPostgres } from './masked-tables.ts';
import { restoredMaskedTables } from '../masked-tables.ts';

export interface RestoreResult {
  tables: number;
  rows: number;
  views: ViewRefresh[];
}

/**
 * Every table in the backup emptied (the ones that were empty too, so
 * staging ends exactly as it was; of a table saved by key range, those
 * ranges), COPY FROM each file, sequences set back,
 * COMMIT. Rows go back with `session_replication_role = replica`, and the
 * triggers it does not silence (ALWAYS, REPLICA) disabled: triggers would
 * rewrite them (updated_at) or insert more (audit rows), and foreign keys
 * between the tables would demand an order a cycle does not have.
 */
export async function restoreBackup(stagingUrl: string, directory: string, manifest: BackupManifest, say: (line: string) => void): Promise<RestoreResult> {
  const staging = await connectPostgres('staging', stagingUrl);
  // Stopped with Ctrl-C: exiting closes the connection, and PostgreSQL rolls the restore's one transaction back.
  const stopSaying = onInterrupt(
    () =>
      "Staging's rows were left as they were: the restore is one transaction, rolled back as its connection closes " +
      "(sequences it had set stand where the backup had them). Run the restore again to put the backup's rows back.",
  );
  try {
    // One run writes a staging at a time (staging-hold.ts): held until the connection ends.
    await holdStagingOverPostgres(staging, say);
    await staging.query('BEGIN');
    await holdSyncTargetMarkPostgres(staging);
    await requireReplicaRole(staging);
    await refuseForeignTriggers(staging, manifest.tables, true);
    const silenced = await silenceTriggers(staging, manifest.tables, true);
    const whole = manifest.tables.filter((table) => !table.within);
    await emptyTables(staging, whole).catch((error: unknown) => {
      throw new DatabaseError(`${describeError('Emptying the tables of the backup in staging', error)}\nNothing was changed.`, 1, { cause: error });
    });
    await emptyRanges(staging, manifest.tables).catch((error: unknown) => {
      throw new DatabaseError(`${describeError('Deleting the rows of the saved key ranges in staging', error)}\nNothing was changed.`, 1, { cause: error });
    });
    let rows = 0;
    for (const table of manifest.tables) {
      if (table.file) rows += await copyFromFile(staging, table, join(directory, table.file));
      for (const sequence of table.sequences) {
        await staging.query('SELECT pg_catalog.setval($1::regclass, $2::bigint, $3)', [quoteTable(sequence), sequence.lastValue, sequence.isCalled]);
      }
    }
    await setSequencesPostgres(staging, manifest.sequences ?? []);
    await markRestoredWatermarks(staging, manifest.tables);
    if ((await privateTable(staging, 'masked_tables')).present) await setMaskedTablesPostgres(staging, restoredMaskedTables(manifest.tables));
    // The materialized views that read these tables hold what the sync gave them: refreshed from the rows put back.
    const views = await refreshViews(staging, manifest.tables);
    await restoreTriggers(staging, silenced);
    await staging.query('COMMIT');
    return { tables: manifest.tables.length, rows, views };
  } catch (error) {
    await staging.query('ROLLBACK').catch(() => undefined);
    if (error instanceof DatabaseError || error instanceof UsageError) throw error;
    throw new DatabaseError(
      `${describeError('Restoring the backup', error)}\nStaging was left as it was: the restore is one transaction, now rolled back.`,
      1,
      {
        cause: error,
      },
    );
  } finally {
    stopSaying();
    await staging.end().catch(() => undefined);
  }
}

/**
 * TRUNCATE, the fast way, refuses while a table outside the list references
 * one of the tables, however few rows either holds: a backup taken before an
 * upsert of a table others reference (guest_reservations, which
 * chat_conversations references) meets that. DELETE under the replica role
 * fires no foreign-key trigger, so the referencing rows stay as they are and
 * find their parents again once the saved rows are back.
 */
async function emptyTables(staging: pg.ClientBase, tables: BackupManifest['tables']): Promise<void> {
  if (!tables.length) return;
  await staging.query('SAVEPOINT supasync_truncate');
  try {
    await staging.query(`TRUNCATE ${(await ownRowsOf(staging, tables)).join(', ')}`);
    await staging.query('RELEASE SAVEPOINT supasync_truncate');
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '0A000') throw error;
    await staging.query('ROLLBACK TO SAVEPOINT supasync_truncate');
  }
  for (const table of await ownRowsOf(staging, tables)) await staging.query(`DELETE FROM ${table}`);
}

/**
 * A table a re-sync wrote by key range was saved in those ranges alone: its
 * rows there now (the saved ones as the run left them, and those it
 * inserted) are deleted, the saved ones then loaded; the rest of the table,
 * which the run did not touch, stays.
 */
async function emptyRanges(staging: pg.Client, tables: BackupManifest['tables']): Promise<void> {
  const ranges = keyRanges(staging);
  for (const table of tables) {
    const within = table.within;
    if (!within?.ranges.length) continue;
    const filter = await ranges.keyRangeFilter({ table, keyColumns: within.keyColumns }, within, within.binary);
    await staging.query(`DELETE FROM ${await ownRows(staging, table)} WHERE ${filter}`);
  }
}

async function requireReplicaRole(staging: pg.ClientBase): Promise<void> {
  try {
    await staging.query('SET LOCAL session_replication_role = replica');
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
    throw new DatabaseError(
      'Restoring needs SET session_replication_role on staging, which this role may not do: rows go back as they were saved, with no trigger rewriting them and in any order (cycles included). ' +
        'Run it as a role that may (on Supabase, postgres), or GRANT SET ON PARAMETER session_replication_role TO <role> (PostgreSQL 15+). Nothing was changed.',
      1,
      { cause: error },
    );
  }
}

async function copyFromFile(staging: pg.ClientBase, table: BackupManifest['tables'][number], path: string): Promise<number> {
  const writing = staging.query(copyFrom(`COPY ${quoteTable(table)}${copyColumns(table.columns)} FROM STDIN (FORMAT ${table.format})`));
  try {
    await pipeline(createReadStream(path), writing);
  } catch (error) {
    throw new DatabaseError(
      `${describeError(`Restoring ${qualifiedName(table)} from ${path}`, whyConnectionLost(error, staging))}\n` +
        "If staging's table changed since the backup (columns or types), put it back as it was first. Staging was left as it was: the restore is one transaction, now rolled back.",
      1,
      { cause: error },
    );
  }
  if (writing.rowCount !== table.rows) {
    throw new DatabaseError(
      `Restoring ${qualifiedName(table)}: ${path} held ${countOf(writing.rowCount ?? 0, 'row')}, the manifest says ${table.rows}; the file is damaged. Staging was left as it was.`,
    );
  }
  return writing.rowCount;
}

/**
 * The incremental watermarks of the tables put back, in the same transaction: their rows are the backup's now, and
 * the next incremental run compares them whole (engine/watermark-columns.ts) rather than read from a watermark the
 * undone run moved past rows the backup holds older.
 */
async function markRestoredWatermarks(staging: pg.ClientBase, tables: readonly { schema: string; name: string }[]): Promise<void> {
  if (!(await privateTable(staging, 'watermarks')).present) return;
  await staging.query(
    `UPDATE supasync_private.watermarks SET production_system = $3
     WHERE (table_schema, table_name) IN (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])))`,
    [tables.map((table) => table.schema), tables.map((table) => table.name), RESTORED],
  );
}
