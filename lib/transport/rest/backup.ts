// Staging's rows saved to local files before a REST replace empties them or
// an upsert overwrites them (of a table a re-sync writes by key range, those
// ranges alone), read page by page with supasync_read_rows (text
// values: nothing passes through a JS number) and written as JSON lines.
// PostgREST gives no transaction spanning requests: the backup is read right
// before the first write, but a row written to staging in between is not in
// it. restore.ts puts it back.
import { join } from 'node:path';
import type { SupabaseClient } from '@supabase/supabase-js';
import * as z from 'zod';
import { ANSWERS } from './answers.ts';
import { ownedWithValues, runSequenceValues, sequencesToRead, type StagingTableState } from '../backup-tables.ts';
import { qualifiedName, type TableRef } from '../../catalog/types.ts';
import { DatabaseError } from '../../errors.ts';
import { openPrivateFile } from '../../backup/files.ts';
import { backupName, manifestVersion, tableFile, writeManifest, type JsonLinesTable } from '../../backup/manifest.ts';
import { restOrigin } from '../../backup/origin.ts';
import type { RunBackup } from '../../backup/run-backup.ts';
import { maskedRecord, type MaskedTables } from '../masked-tables.ts';
import type { TouchedRanges, WrittenBackup } from '../session.ts';
import { callRpc, describeFailure, RpcFailure, type OnRetry } from './rpc.ts';
import { readPages, refuseOlderReads, type PagedTable } from './rows.ts';
import { commandLine } from '../../invocation.ts';
import { inParallel } from '../../in-parallel.ts';

/** What supasync_backup_tables says of one staging table. */
const STAGING_TABLES: z.ZodType<StagingTableState[]> = z.array(
  z.object({
    schema: z.string(),
    name: z.string(),
    partitioned: z.boolean(),
    // Absent from functions before version 17, which refuse such a table (inherited-tables.ts).
    inherited: z.boolean().default(false),
    columns: z.array(z.string()),
    key: z.array(z.string()).nullable(),
    hasRows: z.boolean(),
    sequences: z.array(z.object({ schema: z.string(), name: z.string(), column: z.string() })),
  }),
);

/** Staging's record of its masked tables; none kept by functions before version 39, which lack the function. */
export async function readMaskedTablesOverRest(staging: SupabaseClient, onRetry: OnRetry): Promise<MaskedTables> {
  return callRpc(staging, 'supasync_masked_tables', {}, { onRetry, answer: ANSWERS.maskedTables }).then(
    (tables) => ({ kept: true, tables }),
    (error: unknown) => {
      if (error instanceof RpcFailure && error.code === 'PGRST202') return { kept: false, tables: [] };
      throw error;
    },
  );
}

export function describeStagingTables(staging: SupabaseClient, tables: TableRef[], onRetry: OnRetry): Promise<StagingTableState[]> {
  return callRpc(staging, 'supasync_backup_tables', { tables: tables.map(({ schema, name }) => ({ schema, name })) }, { onRetry, answer: STAGING_TABLES });
}

/**
 * Every table in `tables` is listed in the manifest (the empty ones too, so
 * a restore empties them as well); each that holds rows gets a file. Tables
 * are read TABLES_AT_ONCE at a time: one after another, a re-sync of a
 * schema of small tables waited a round trip per table before its first
 * write. Memory stays at a page or two a table: each page is on disk before
 * the next is asked for (readPages reads one ahead). On failure the partial
 * directory is removed and the error names the table or the path, and
 * --no-backup; nothing was emptied yet.
 */
export async function backUpTablesOverRest(
  staging: SupabaseClient,
  stagingUrl: string,
  tables: TableRef[],
  backup: RunBackup,
  onRetry: OnRetry,
  sequences: TableRef[],
  touched: ReadonlyMap<string, TouchedRanges> = new Map(),
): Promise<WrittenBackup> {
  const retry = 'Nothing was changed. To sync without a backup, run again with --no-backup.';
  const states = await describeStagingTables(staging, tables, onRetry).catch((error: unknown) => {
    if (error instanceof RpcFailure && error.code === 'PGRST202') {
      throw new DatabaseError(
        "Staging lacks supasync_backup_tables (supabase/migrations/*_supasync_backup.sql), which a sync over REST backs staging's rows up with before it replaces or upserts. " +
          `Install it: ${commandLine('install-rpcs', '--staging')}; or sync without a backup: --no-backup. Nothing was changed.`,
        1,
        { cause: error },
      );
    }
    throw new DatabaseError(`Reading which of staging's tables hold rows, for the backup: ${explain(error)}\n${retry}`, 1, { cause: error });
  });
  if (!states.some((state) => state.hasRows)) return { directory: null, tables: tables.length, rows: 0 };
  await refuseOlderReads(
    staging,
    'staging',
    states
      .filter((state) => state.hasRows)
      .map((state) => ({ table: state, columns: state.columns, keyed: Boolean(state.key), partitioned: state.partitioned })),
  );
  const createdAt = new Date();
  const wanted = sequencesToRead(states, sequences);
  const [mark, values, masked] = await Promise.all([
    callRpc<unknown>(staging, 'supasync_sync_target', {}, { onRetry }).then((answer) => ANSWERS.mark.parse(answer)),
    wanted.length
      ? callRpc(
          staging,
          'supasync_sequence_values',
          { sequences: wanted.map(({ schema, name }) => ({ schema, name })) },
          { onRetry, answer: ANSWERS.sequenceValues },
        )
      : [],
    readMaskedTablesOverRest(staging, onRetry),
  ]).catch((error: unknown) => {
    throw new DatabaseError(`Reading staging's sync-target mark, sequences and masked tables, for the backup: ${explain(error)}\n${retry}`, 1, {
      cause: error,
    });
  });
  const origin = { ...restOrigin(stagingUrl), ...(mark ? { mark: { markedAt: mark.markedAt, markedBy: mark.markedBy } } : {}) };
  const name = backupName(createdAt, origin.projectRef ?? new URL(stagingUrl).host);
  let directory = join(backup.root, name);
  const entries: JsonLinesTable[] = states.map((state) => {
    const within = touched.get(qualifiedName(state));
    return {
      schema: state.schema,
      name: state.name,
      file: null,
      columns: state.columns,
      format: 'jsonl',
      key: state.key,
      rows: 0,
      sequences: ownedWithValues(state, values),
      ...maskedRecord(masked, state),
      ...(within ? { within } : {}),
    };
  });
  try {
    directory = await backup.makeDirectory(name);
    const saved = entries.map((entry, index) => ({ entry, index, state: states[index]! }));
    await inParallel(
      saved.filter(({ entry, state }) => state.hasRows && (!entry.within || entry.within.ranges.length)),
      TABLES_AT_ONCE,
      async ({ entry, index, state }) => {
        try {
          const filter = entry.within ? await rangeFilterOverRest(staging, state, entry.within, onRetry) : null;
          entry.file = tableFile(index, state, 'jsonl');
          entry.rows = await pagesToFile(staging, state, join(directory, entry.file), onRetry, filter);
        } catch (error) {
          // A file system error carries the call that failed; anything else came from staging.
          throw (error as NodeJS.ErrnoException).syscall ? error : new TableFailure(state, error);
        }
      },
    );
    await writeManifest(directory, {
      supasyncBackup: manifestVersion(entries),
      via: 'rest',
      createdAt: createdAt.toISOString(),
      staging: origin,
      tables: entries,
      sequences: runSequenceValues(sequences, values),
    });
  } catch (error) {
    await backup.discard().catch(() => undefined);
    if (error instanceof TableFailure) {
      throw new DatabaseError(`Backing up staging's ${qualifiedName(error.table)}: ${explain(error.cause)}\n${retry}`, 1, { cause: error.cause });
    }
    throw new DatabaseError(
      `Cannot write the backup of staging's tables to ${directory}: ${(error as Error).message}\n` +
        `Free disk space or fix the directory's permissions. ${retry}`,
      1,
      { cause: error },
    );
  }
  return { directory, tables: entries.length, rows: entries.reduce((sum, entry) => sum + entry.rows, 0) };
}

/** The condition that picks a table's rows in these key ranges, built by staging (supasync_range_filter) as the comparison hashed them. */
export function rangeFilterOverRest(staging: SupabaseClient, table: TableRef, within: TouchedRanges, onRetry: OnRetry): Promise<string> {
  const args = {
    table_schema: table.schema,
    table_name: table.name,
    key_columns: within.keyColumns,
    use_binary: within.binary,
    bits: within.bits,
    ranges: within.ranges,
  };
  return callRpc(staging, 'supasync_range_filter', args, { onRetry, answer: z.string() });
}

/** `rowFilter`: only the rows of some key ranges; null: all. */
async function pagesToFile(staging: SupabaseClient, state: StagingTableState, path: string, onRetry: OnRetry, rowFilter: string | null): Promise<number> {
  const table: PagedTable = {
    table: { schema: state.schema, name: state.name },
    columns: state.columns,
    key: state.key ? { columns: state.key } : null,
    rowFilter,
    options: {},
  };
  const file = await openPrivateFile(path);
  let rows = 0;
  try {
    for await (const page of readPages(staging, table, onRetry)) {
      // JSON strings carry PostgreSQL's text form unchanged, whatever the type.
      await file.write(page.map((row) => `${JSON.stringify(row)}\n`).join(''));
      rows += page.length;
    }
    // On disk before the first write is sent: the backup is what survives it.
    await file.sync();
  } finally {
    await file.close().catch(() => undefined);
  }
  return rows;
}

/** Tables whose pages are read at once: each holds a request, within --concurrency's cap on the project. */
const TABLES_AT_ONCE = 4;

/** A table's rows could not be read from staging. */
class TableFailure extends Error {
  constructor(
    readonly table: TableRef,
    override readonly cause: unknown,
  ) {
    super(`Backing up ${qualifiedName(table)}`);
  }
}

function explain(error: unknown): string {
  return error instanceof RpcFailure ? describeFailure(error) : (error as Error).message;
}
