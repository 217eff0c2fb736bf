// Puts a backup a REST replace took (backup.ts) back into staging, over REST.
// PostgREST runs each request in its own transaction, so unlike the direct
// path's restore this is not one transaction: the tables are emptied, then
// written batch by batch, each batch committing. A restore that stops part
// way says so; run again, it empties the tables first and converges.
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { SupabaseClient } from '@supabase/supabase-js';
import * as z from 'zod';
import { qualifiedName } from '../../catalog/types.ts';
import { readCatalogRest } from '../../catalog/read.ts';
import { connectSupabase } from '../../connect/supabase.ts';
import { DatabaseError } from '../../errors.ts';
import type { JsonLinesTable, RestBackupManifest } from '../../backup/manifest.ts';
import { settleEarlierWrites } from './settle-writes.ts';
import { holdStagingOverRest } from './lease.ts';
import { refuseOlderStagingFunctions, refuseReadOnlyDefault, writeChecks } from './load-method.ts';
import { describeThisRun } from '../staging-hold.ts';
import { callRpc, describeFailure, RpcFailure, type OnRetry } from './rpc.ts';
import type { Row } from './row-size.ts';
import { rangeFilterOverRest } from './backup.ts';
import { writeRows, type WrittenTable } from './rows.ts';
import { writeKeylessRows } from './keyless-writes.ts';
import { refreshViewsOverRest } from './views.ts';
import type { RetryReason, ViewRefresh } from '../session.ts';
import { commandLine } from '../../invocation.ts';
import { inParallel } from '../../in-parallel.ts';
import { onInterrupt } from '../../interrupt.ts';
import { countOf } from '../../counts.ts';
import { restoredWatermarks } from '../watermarks.ts';
import { restoredMaskedTables, type MaskedTableChanges } from '../masked-tables.ts';
import { ANSWERS } from './answers.ts';
import { RetryTally } from './retry-tally.ts';

const BATCH_BYTES = 1024 * 1024;
const BATCH_ROWS = 2_000;
const PART_RESTORED =
  'Staging is part restored: a restore over REST is not one transaction. Fix the cause and run the restore again: it empties the tables first.';
const STOPPED_PART_RESTORED = 'Staging is part restored: a restore over REST is not one transaction. Run the restore again: it empties the tables first.';

export interface RestRestoreResult {
  tables: number;
  rows: number;
  /** Requests sent again after a passing failure, by reason. */
  retries: RetryReason[];
  views: ViewRefresh[];
}

/**
 * Checks first that staging's functions may switch triggers and foreign-key
 * checks off (the replica role): rows then go back as they were saved, in
 * any order, cycles included, with no trigger rewriting them. Without it
 * the restore is refused before anything is emptied.
 */
export async function restoreOverRest(
  stagingUrl: string,
  serviceRoleKey: string,
  directory: string,
  manifest: RestBackupManifest,
  say: (line: string) => void,
): Promise<RestRestoreResult> {
  const run = randomUUID();
  const staging = connectSupabase(stagingUrl, serviceRoleKey, undefined, {}, run);
  const retried = new RetryTally();
  const onRetry = retried.add;
  const checking = (error: unknown) => {
    throw new DatabaseError(`Checking staging before the restore: ${explain(error)}\nNothing was changed.`, 1, { cause: error });
  };
  // Functions from before versions were recorded lack supasync_version(): 0.
  const version = await callRpc(staging, 'supasync_version', {}, { onRetry, answer: z.number() }).catch((error: unknown) =>
    error instanceof RpcFailure && error.code === 'PGRST202' ? 0 : checking(error),
  );
  refuseOlderStagingFunctions(version, 'Restoring');
  const replica = await callRpc(staging, 'supasync_can_disable_checks', {}, { onRetry, answer: z.boolean() }).catch(checking);
  if (!replica) {
    throw new DatabaseError(
      "Restoring over REST needs staging's supasync functions to set session_replication_role = replica (their owner, on Supabase postgres, may): " +
        'rows go back as they were saved, with no trigger rewriting them and in any order. Reinstall the functions as postgres ' +
        `(${commandLine('install-rpcs', '--staging')}): a REST backup is restored over REST only. Nothing was changed.`,
    );
  }
  refuseReadOnlyDefault(
    await writeChecks(
      staging,
      manifest.tables.map(({ schema, name }) => ({ schema, name })),
      onRetry,
    ),
  );
  // One run writes a staging at a time (staging-hold.ts).
  const hold = await holdStagingOverRest(
    connectSupabase(stagingUrl, serviceRoleKey, 1, {}, run, { sendsWhenStopped: true }),
    run,
    describeThisRun('restore'),
    say,
  );
  try {
    return await putBack(staging, stagingUrl, directory, manifest, say, onRetry, () => retried.reasons());
  } finally {
    await hold.release();
  }
}

async function putBack(
  staging: SupabaseClient,
  stagingUrl: string,
  directory: string,
  manifest: RestBackupManifest,
  say: (line: string) => void,
  onRetry: OnRetry,
  retries: () => RetryReason[],
): Promise<RestRestoreResult> {
  // A batch of the run this restore undoes may still be running if that run was stopped a moment ago: it lands first.
  await settleEarlierWrites(staging, say);
  await refuseChangedTables(staging, stagingUrl, manifest);
  // From here each request commits on its own: stopped with Ctrl-C, staging is part restored.
  const stopSaying = onInterrupt(() => STOPPED_PART_RESTORED);
  try {
    return await putBackRows(staging, directory, manifest, onRetry, retries);
  } finally {
    stopSaying();
  }
}

async function putBackRows(
  staging: SupabaseClient,
  directory: string,
  manifest: RestBackupManifest,
  onRetry: OnRetry,
  retries: () => RetryReason[],
): Promise<RestRestoreResult> {
  await markRestoredWatermarks(staging, manifest.tables, onRetry);
  const masked = restoredMaskedTables(manifest.tables);
  await setMaskedTablesOverRest(staging, { masked: masked.masked, unmasked: [] }, onRetry, 'Nothing was changed.');
  await emptyTables(
    staging,
    manifest.tables.filter((table) => !table.within),
    onRetry,
  );
  await emptyRanges(staging, manifest.tables, onRetry);
  let rows = 0;
  // Checks off, the tables go back in any order, a few at once: one after another, each waited out its round trips.
  await inParallel(
    manifest.tables.filter((table) => table.file),
    TABLES_AT_ONCE,
    async (table) => {
      const restored = await restoreTable(staging, table, join(directory, table.file!), onRetry);
      rows += restored;
    },
  );
  const sequences = [...manifest.tables.flatMap((table) => table.sequences), ...(manifest.sequences ?? [])];
  if (sequences.length) {
    await callRpc(staging, 'supasync_set_sequences', { sequences }, { onRetry }).catch((error: unknown) => {
      throw new DatabaseError(`Setting staging's sequences back: ${explain(error)}\nThe rows are back. ${PART_RESTORED}`, 1, { cause: error });
    });
  }
  // The materialized views that read these tables hold what the sync gave them: refreshed from the rows put back.
  const views = await refreshViewsOverRest(staging, manifest.tables, onRetry);
  await setMaskedTablesOverRest(staging, { masked: [], unmasked: masked.unmasked }, onRetry, `The rows are back. ${PART_RESTORED}`);
  return { tables: manifest.tables.length, rows, retries: retries(), views };
}

/** Staging's record of its masked tables, as the backup kept it (transport/masked-tables.ts). */
async function setMaskedTablesOverRest(staging: SupabaseClient, changes: MaskedTableChanges, onRetry: OnRetry, after: string): Promise<void> {
  if (!changes.masked.length && !changes.unmasked.length) return;
  await callRpc(staging, 'supasync_set_masked_tables', { marks: changes.masked, unmasked: changes.unmasked }, { onRetry }).catch((error: unknown) => {
    throw new DatabaseError(`Putting back staging's record of its masked tables: ${explain(error)}\n${after}`, 1, { cause: error });
  });
}

/**
 * Over REST the tables are emptied a request before their rows go back, and
 * stay emptied when staging then refuses the rows: a table whose columns
 * changed since the backup (a column gone, one now generated, a NOT NULL
 * one without a default the backup has no value for) is found first, from
 * staging's catalog, and the restore refused before anything is emptied.
 * (Directly the restore is one transaction, rolled back.)
 */
async function refuseChangedTables(staging: SupabaseClient, stagingUrl: string, manifest: RestBackupManifest): Promise<void> {
  const catalog = await readCatalogRest('staging', staging, stagingUrl);
  const changed = manifest.tables.flatMap((entry) => {
    const name = qualifiedName(entry);
    const table = catalog.tables.find((candidate) => candidate.schema === entry.schema && candidate.name === entry.name);
    if (!table) return [`${name}: staging no longer has this table`];
    const column = (wanted: string) => table.columns.find((candidate) => candidate.name === wanted);
    const gone = entry.columns.filter((wanted) => !column(wanted));
    const generated = entry.columns.filter((wanted) => column(wanted)?.generated);
    const required = table.columns.filter(
      (candidate) =>
        !entry.columns.includes(candidate.name) && !candidate.nullable && candidate.default === null && !candidate.generated && !candidate.identity,
    );
    return [
      ...(gone.length ? [`${name}: staging's table no longer has ${gone.join(', ')}`] : []),
      ...(generated.length ? [`${name}: ${generated.join(', ')} ${generated.length === 1 ? 'is' : 'are'} generated in staging now, and take no value`] : []),
      ...(required.length
        ? [
            `${name}: ${required.map((candidate) => candidate.name).join(', ')}, NOT NULL without a default in staging, ${required.length === 1 ? 'has' : 'have'} no value in the backup`,
          ]
        : []),
    ];
  });
  if (!changed.length) return;
  throw new DatabaseError(
    [
      `Staging's tables changed since this backup was taken (${manifest.createdAt}), so its rows would be refused once the tables were emptied:`,
      ...changed.map((line) => `  ${line}`),
      "Put those tables back as they were when the backup was taken (a REST backup is restored over REST only), or leave this backup: staging's rows stay as they are. Nothing was changed.",
    ].join('\n'),
  );
}

/**
 * A table a re-sync wrote by key range was saved in those ranges alone:
 * staging's rows there now are deleted (supasync_delete_where, checks off
 * as for a mirror's deletes), the saved ones then written; the rest of the
 * table stays. Run again after a stop part way, it deletes the same ranges.
 */
async function emptyRanges(staging: SupabaseClient, entries: JsonLinesTable[], onRetry: OnRetry): Promise<void> {
  await inParallel(
    entries.filter((entry) => entry.within?.ranges.length),
    TABLES_AT_ONCE,
    async (entry) => {
      try {
        const rowFilter = await rangeFilterOverRest(staging, entry, entry.within!, onRetry);
        await callRpc(staging, 'supasync_delete_where', { table_schema: entry.schema, table_name: entry.name, row_filter: rowFilter }, { onRetry });
      } catch (error) {
        throw new DatabaseError(`Deleting the rows of ${qualifiedName(entry)}'s saved key ranges in staging: ${explain(error)}\n${PART_RESTORED}`, 1, {
          cause: error,
        });
      }
    },
  );
}

/**
 * TRUNCATE, the fast way, refuses while a table outside the list references
 * one of them (a backup taken before an upsert of a table others reference);
 * then supasync_delete_rows empties them with the replica role's checks off
 * (see its migration). Either is one request, so one transaction.
 */
async function emptyTables(staging: SupabaseClient, entries: JsonLinesTable[], onRetry: OnRetry): Promise<void> {
  if (!entries.length) return;
  const tables = entries.map(({ schema, name }) => ({ schema, name }));
  const failed = (error: unknown): never => {
    throw new DatabaseError(`Emptying the tables of the backup in staging: ${explain(error)}\nNothing was changed.`, 1, { cause: error });
  };
  try {
    await callRpc(staging, 'supasync_truncate', { tables }, { onRetry });
    return;
  } catch (error) {
    if (!(error instanceof RpcFailure && error.code === '0A000')) failed(error);
  }
  await callRpc(staging, 'supasync_delete_rows', { tables }, { onRetry }).catch((error: unknown) => {
    if (error instanceof RpcFailure && error.code === 'PGRST202') {
      throw new DatabaseError(
        'Another table of staging references the tables of this backup, so TRUNCATE may not empty them, and staging lacks supasync_delete_rows ' +
          `(supabase/migrations/*_supasync_write.sql), which empties them instead. Install it: ${commandLine('install-rpcs', '--staging')}. Nothing was changed.`,
        1,
        { cause: error },
      );
    }
    failed(error);
  });
}

async function restoreTable(staging: SupabaseClient, entry: JsonLinesTable, path: string, onRetry: OnRetry): Promise<number> {
  const table: WrittenTable = {
    table: { schema: entry.schema, name: entry.name },
    columns: entry.columns,
    key: entry.key ? { columns: entry.key } : null,
  };
  const fail = (what: string, error?: unknown): never => {
    throw new DatabaseError(
      `Restoring ${qualifiedName(entry)} from ${path}: ${what}\n` +
        "If staging's table changed since the backup (columns or types), put it back as it was first. " +
        PART_RESTORED,
      1,
      error === undefined ? undefined : { cause: error },
    );
  };
  const send = async (batch: Row[]) => {
    // Without a key, each request is counted before it is sent again (keyless-writes.ts): a lost answer never repeats its rows.
    const write = table.key ? writeRows : writeKeylessRows;
    const outcome = await write(staging, table, batch, { strict: false, onRetry }).catch((error: unknown) => fail(explain(error), error));
    const [rejected] = outcome.rejected;
    if (rejected) fail(`staging rejected the row ${rejected.key}:\n${rejected.message}`);
  };
  let lines = 0;
  let batch: Row[] = [];
  let bytes = 0;
  const input = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of input) {
      if (!line) continue;
      let row: Row;
      try {
        row = JSON.parse(line) as Row;
      } catch (error) {
        return fail(`line ${lines + 1} is not JSON (${(error as Error).message}); the file is damaged.`);
      }
      if (!Array.isArray(row) || row.length !== entry.columns.length)
        return fail(`line ${lines + 1} does not hold ${entry.columns.length} values; the file is damaged.`);
      lines++;
      batch.push(row);
      bytes += line.length;
      if (batch.length >= BATCH_ROWS || bytes >= BATCH_BYTES) {
        await send(batch);
        batch = [];
        bytes = 0;
      }
    }
  } finally {
    input.close();
  }
  if (batch.length) await send(batch);
  if (lines !== entry.rows) fail(`the file held ${countOf(lines, 'row')}, the manifest says ${entry.rows}; the file is damaged.`);
  // What else wrote to the table meanwhile shows in its count. A table saved by key range keeps its other rows: nothing to count.
  if (entry.within) return lines;
  const count = Number(
    await callRpc(staging, 'supasync_count_rows', { table_schema: entry.schema, table_name: entry.name }, { onRetry }).catch((error: unknown) =>
      fail(`counting its rows afterwards: ${explain(error)}`, error),
    ),
  );
  if (count !== entry.rows) {
    fail(
      `staging holds ${countOf(count, 'row')} after the restore, the backup ${entry.rows}: a batch landed twice, or something wrote to the table meanwhile.`,
    );
  }
  return lines;
}

/** Tables emptied in their saved ranges, and written back, at once: each holds a request at a time. */
const TABLES_AT_ONCE = 4;

function explain(error: unknown): string {
  if (error instanceof DatabaseError) return error.message;
  return error instanceof RpcFailure ? describeFailure(error) : (error as Error).message;
}

/**
 * The incremental watermarks of the tables to put back, marked before any row is: their rows will be the backup's,
 * and the next incremental run compares them whole (engine/watermark-columns.ts) rather than read from a watermark
 * the undone run moved past rows the backup holds older. A restore stopped part way leaves them marked too.
 */
async function markRestoredWatermarks(staging: SupabaseClient, tables: readonly { schema: string; name: string }[], onRetry: OnRetry): Promise<void> {
  const failed = (error: unknown) => {
    throw new DatabaseError(`Marking staging's incremental watermarks as restored: ${explain(error)}\nNothing was changed.`, 1, { cause: error });
  };
  // A staging marked before watermarks were kept has none to mark.
  const kept = await callRpc(staging, 'supasync_watermarks', {}, { onRetry, answer: ANSWERS.watermarks }).catch((error: unknown) =>
    error instanceof RpcFailure && error.code === '42P01' ? [] : failed(error),
  );
  const marks = restoredWatermarks(kept, tables);
  if (marks.length) await callRpc(staging, 'supasync_set_watermarks', { marks }, { onRetry }).catch(failed);
}
