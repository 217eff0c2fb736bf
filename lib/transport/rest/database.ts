// One side over Supabase's REST API: every question is one of the
// supasync_* functions of supabase/migrations/, called as the service role.
import { randomUUID } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { readCatalogRest } from '../../catalog/read.ts';
import { qualifiedName, type TableRef } from '../../catalog/types.ts';
import { refusedKeyMessage, type Connection } from '../../config/env.ts';
import { limitConcurrency } from '../../connect/request-limit.ts';
import { connectSupabase } from '../../connect/supabase.ts';
import { DatabaseError } from '../../errors.ts';
import { privilegeFix } from '../privilege-fix.ts';
import { checksumArgs, COLUMN_TYPES_SINCE } from '../checksum.ts';
import { slicedChecksum } from './checksum-slices.ts';
import { restTableSizes } from './table-sizes.ts';
import { restTableChecksums } from './table-checksums.ts';
import { orphanLinkArgument, orphansInChunks, viewsArgument, type DatabaseReads, type SyncTargetMark } from '../reads.ts';
import { ANSWERS, parseAnswer } from './answers.ts';
import { restKeyRanges } from './key-ranges.ts';
import { SLICES_AT_ONCE } from './slices.ts';
import { holdStagingOverRest } from './lease.ts';
import type { StagingHold } from '../staging-hold.ts';
import { callRpc, describeFailure, RpcFailure } from './rpc.ts';
import { functionsVersionOf } from './functions-version.ts';
import type * as z from 'zod';
import { commandLine } from '../../invocation.ts';
import { parseRowText } from '../../sql/row-text.ts';
import { FILE_OWNERS_SINCE, type FileOwnerAccess } from '../file-owners.ts';
import { MASKED_TABLES_SINCE } from '../masked-tables.ts';

/** The functions version from which a project answers supasync_extension_rows(). */
const EXTENSION_ROWS_SINCE = 40;
/** supasync_json_keys (a masked run's keys of a column masked by keys). */
const JSON_KEYS_SINCE = 43;

/** The version whose supasync_missing_keys takes each key's values and compares them by their types; before it, by their text. */
const KEYS_AS_VALUES_SINCE = 14;

export interface RestDatabase extends DatabaseReads, FileOwnerAccess {
  via: 'rest';
  /** Shared with the write session: one limit on requests in flight per project (--concurrency). */
  supabase: SupabaseClient;
  url: string;
  /** Holds staging for a run that writes it, until released (staging-hold.ts). */
  holdStaging(about: string, say: (line: string) => void): Promise<StagingHold>;
}

/** `concurrency`: at most this many requests at once to the project. */
export function openRestDatabase(connection: Extract<Connection, { via: 'rest' }>, concurrency?: number): RestDatabase {
  const { side, url } = connection;
  // The run's id, which staging's write functions know the holder of its lease by.
  const run = randomUUID();
  const supabase = connectSupabase(url, connection.serviceRoleKey, concurrency, {}, run);
  // The role a refused privilege is to be granted to: the functions' owner, as the catalog (read first by every run) says.
  let role: string | undefined;
  const failed =
    (what: string, args: Record<string, unknown> = {}) =>
    (error: unknown) => {
      const detail =
        error instanceof RpcFailure
          ? error.message === 'Invalid API key'
            ? refusedKeyMessage(side, url, connection.keyVariable)
            : describeFailure(error, url)
          : (error as Error).message;
      const fix = error instanceof RpcFailure ? privilegeFix(error.code, error.message, { role, tables: tablesAsked(args) }) : null;
      throw new DatabaseError(`${what} in ${side} over REST: ${detail}${fix ? `\n  ${fix}` : ''}`, 1, { cause: error });
    };
  const ask = async <T>(what: string, name: string, args: Record<string, unknown>, answer: z.ZodType<T>): Promise<T> =>
    parseAnswer(answer, await callRpc<unknown>(supabase, name, args).catch(failed(what, args)), what, side);
  const sizeOf = restTableSizes(ask);
  const slots = limitConcurrency(SLICES_AT_ONCE);
  const keyRanges = restKeyRanges(ask, side, sizeOf, slots);
  // Read once a run, by whichever question needs it first (slices, sizes, an older function's refusal, the load's checks).
  const functionsVersion = (): Promise<number> => functionsVersionOf(supabase).catch(failed("Reading supasync's functions' version"));
  const tableChecksums = restTableChecksums(ask, functionsVersion, sizeOf);
  const checksumAlone = slicedChecksum(
    async (target, level) => {
      const [table_schema, table_name, columns, key_columns, buckets, only_buckets, row_limit, row_filter, column_types] = checksumArgs(target, level);
      // Functions before version 27 know no row_filter, before 36 no column_types: each is sent only where there is one.
      const typed = column_types && (await functionsVersion().catch(() => 0)) >= COLUMN_TYPES_SINCE;
      const args = {
        table_schema,
        table_name,
        columns,
        key_columns,
        buckets,
        only_buckets,
        row_limit,
        ...(row_filter ? { row_filter } : {}),
        ...(typed ? { column_types } : {}),
      };
      return ask(`Checksumming ${qualifiedName(target.table)}`, 'supasync_checksum', args, ANSWERS.checksum);
    },
    functionsVersion,
    sizeOf,
    slots,
  );
  /** After a request failed: the error to show if this side's functions are older than `since` (what the request needs), else undefined. */
  const olderFunctions = async (since: number, what: string): Promise<DatabaseError | undefined> => {
    const version = await functionsVersion().catch(() => undefined);
    if (version === undefined || version >= since) return undefined;
    return new DatabaseError(
      `${side}'s supasync functions are version ${version}; ${what} needs version ${since} or later. ` +
        `Update them: ${commandLine('install-rpcs')} --${side}. Nothing was changed.`,
    );
  };
  return {
    side,
    via: 'rest',
    supabase,
    url,
    // Renewals go outside --concurrency's cap on requests in flight: a lease must never queue behind pages of rows.
    holdStaging: (about, say) => holdStagingOverRest(connectSupabase(url, connection.serviceRoleKey, 1, {}, run, { sendsWhenStopped: true }), run, about, say),
    location: url,
    // PostgREST runs each request in its own transaction: each page of rows is read at its own moment.
    oneSnapshot: false,
    readCatalog: async (scope) => {
      const catalog = await readCatalogRest(side, supabase, url, scope, connection.keyVariable);
      role = catalog.role;
      return catalog;
    },
    readSyncTarget: async (): Promise<SyncTargetMark> => {
      const what = 'Reading the sync-target mark';
      try {
        const mark = parseAnswer(ANSWERS.mark, await callRpc<unknown>(supabase, 'supasync_sync_target', {}), what, side);
        return mark ? { kind: 'marked', ...mark } : { kind: 'unmarked' };
      } catch (error) {
        if (error instanceof RpcFailure && error.code === 'PGRST202') {
          return {
            kind: 'unknown',
            why: `it lacks supasync_sync_target(), which supasync's functions have had since this version: update them (${commandLine('install-rpcs')} --${side})`,
          };
        }
        if (error instanceof DatabaseError) throw error;
        return failed(what)(error);
      }
    },
    countRows: (table) => ask(`Counting ${qualifiedName(table)}`, 'supasync_count_rows', { table_schema: table.schema, table_name: table.name }, ANSWERS.count),
    references: (table, columns, rowFilter) =>
      ask(
        `Reading the references of ${qualifiedName(table)}`,
        'supasync_references',
        { table_schema: table.schema, table_name: table.name, columns, row_filter: rowFilter },
        ANSWERS.references,
      ),
    missingKeys: async (table, columns, keys, rowFilter) => {
      const args = { table_schema: table.schema, table_name: table.name, columns, keys: keys.map(parseRowText), row_filter: rowFilter };
      const missing = await ask(`Looking up keys in ${qualifiedName(table)}`, 'supasync_missing_keys', args, ANSWERS.missingKeys).catch(
        async (error: unknown) => {
          throw (await olderFunctions(KEYS_AS_VALUES_SINCE, `looking up keys in ${qualifiedName(table)} by their types`)) ?? error;
        },
      );
      return missing.map((position) => keys[position] as string);
    },
    orphans: (links) =>
      orphansInChunks(
        links,
        (chunk) => ask('Looking for rows whose foreign key finds no parent', 'supasync_orphans', { links: chunk.map(orphanLinkArgument) }, ANSWERS.orphans),
        true,
      ),
    sequenceValues: async (sequences) =>
      sequences.length
        ? ask(
            'Reading where sequences stand',
            'supasync_sequence_values',
            { sequences: sequences.map(({ schema, name }) => ({ schema, name })) },
            ANSWERS.sequenceValues,
          )
        : [],
    checksum: async (target, level) => {
      const whole = level.buckets === undefined && !level.onlyBuckets && !level.rowFilter;
      return (whole && (await tableChecksums.take(target))) || checksumAlone(target, level);
    },
    readChecksums: (targets) => tableChecksums.read(targets),
    asksTogether: true,
    readSizes: (tables) => {
      // Failures are the questions' to report, as they ask.
      for (const table of tables) sizeOf(table).catch(() => undefined);
    },
    rangeSums: keyRanges.rangeSums,
    rangeRows: keyRanges.rangeRows,
    keyFilter: (table, keyColumns, keys) =>
      ask(
        `Building the filter of ${qualifiedName(table)}'s rows that differ`,
        'supasync_key_filter',
        { table_schema: table.schema, table_name: table.name, key_columns: keyColumns, keys },
        ANSWERS.rangeFilter,
      ),
    functionsVersion,
    clock: (overlapSeconds) => ask('Reading the clock and its transactions', 'supasync_clock', { overlap_seconds: overlapSeconds }, ANSWERS.clock),
    watermarks: () => ask('Reading where incremental syncs stand', 'supasync_watermarks', {}, ANSWERS.watermarks),
    extensionRows: async (tables) => {
      if ((await functionsVersion().catch(() => 0)) < EXTENSION_ROWS_SINCE) return null;
      const asked = tables.map(({ schema, name }) => ({ schema, name }));
      return ask("Reading the app's rows in extension tables", 'supasync_extension_rows', { tables: asked }, ANSWERS.extensionRows);
    },
    jsonKeys: async (table, column) => {
      if ((await functionsVersion().catch(() => 0)) < JSON_KEYS_SINCE) return null;
      const args = { table_schema: table.schema, table_name: table.name, column_name: column };
      return ask(`Reading the keys of ${qualifiedName(table)}.${column}`, 'supasync_json_keys', args, ANSWERS.jsonKeys);
    },
    maskedTables: async () => {
      // Functions before version 39 keep no such list.
      if ((await functionsVersion().catch(() => 0)) < MASKED_TABLES_SINCE) return { kept: false, tables: [] };
      return { kept: true, tables: await ask('Reading which tables staging holds masked', 'supasync_masked_tables', {}, ANSWERS.maskedTables) };
    },
    dependentViews: async (tables) => {
      const what = 'Listing the materialized views that read the tables';
      try {
        return await ask(what, 'supasync_dependent_views', { tables: viewsArgument(tables) }, ANSWERS.dependentViews);
      } catch (error) {
        if (error instanceof DatabaseError && error.cause instanceof RpcFailure && error.cause.code === 'PGRST202') return null;
        throw error;
      }
    },
    fileOwnersUnavailable: async () => {
      const version = await functionsVersion();
      return version >= FILE_OWNERS_SINCE
        ? null
        : `${side}'s supasync functions are version ${version}, and reading and setting files' owners needs version ${FILE_OWNERS_SINCE}: ` +
            `${commandLine('install-rpcs')} --${side}`;
    },
    fileOwners: (bucket, after, limit) =>
      ask(`Reading whom the files of bucket ${bucket} belong to`, 'supasync_file_owners', { bucket, after, page: limit }, ANSWERS.fileOwners),
    setFileOwners: (bucket, owners) =>
      ask(`Setting whom the files of bucket ${bucket} belong to (storage.objects)`, 'supasync_set_file_owners', { bucket, owners }, ANSWERS.ownersSet),
    close: async () => undefined,
  };
}

/** The tables a function's arguments name (one table's, foreign keys' both ends): where a refused privilege's table is found. */
function tablesAsked(args: Record<string, unknown>): TableRef[] {
  const named = (schema: unknown, name: unknown) => (typeof schema === 'string' && typeof name === 'string' ? [{ schema, name }] : []);
  const links = Array.isArray(args.links) ? (args.links as Record<string, unknown>[]) : [];
  return [
    ...named(args.table_schema, args.table_name),
    ...links.flatMap((link) => [...named(link.child_schema, link.child_table), ...named(link.parent_schema, link.parent_table)]),
  ];
}
