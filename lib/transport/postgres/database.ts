// One side over a direct connection. Every question runs the query the REST
// path's function runs (lib/sql/shared.ts), on the run's one connection:
// this checkout's own SQL, so its answers come in the shapes declared here.
import type pg from 'pg';
import { describeLink } from '../../catalog/links.ts';
import { readCatalogPostgres } from '../../catalog/read.ts';
import { qualifiedName, type TableRef } from '../../catalog/types.ts';
import type { Connection } from '../../config/env.ts';
import { connectPostgres } from '../../connect/postgres.ts';
import { redactUrl } from '../../config/connection-string.ts';
import { DatabaseError, describeError } from '../../errors.ts';
import { privilegeFix } from '../privilege-fix.ts';
import { ownRows, runBuilt, runShared } from '../../sql/shared.ts';
import { quoteTable } from '../../sql/ident.ts';
import { parseRowText } from '../../sql/row-text.ts';
import { checksumArgs, type ChecksumAnswer } from '../checksum.ts';
import type { DatabaseClock, Watermark } from '../watermarks.ts';
import { readMaskedTablesPostgres } from './masked-tables.ts';
import { orphanLinkArgument, orphansInChunks, type DatabaseReads, type ExtensionRows, type Orphans } from '../reads.ts';
import { sequenceValuesPostgres } from './sequences.ts';
import { readSyncTargetPostgres } from './sync-target.ts';
import { keyRanges } from './key-ranges.ts';
import { holdStagingOverPostgres } from './lease.ts';
import type { StagingHold } from '../staging-hold.ts';
import { dependentViews } from './views.ts';
import { lockRoom } from './lock-room.ts';
import { fileOwnersUnavailable } from './file-owners.ts';
import { commandLine } from '../../invocation.ts';
import type { FileOwner, FileOwnerAccess, OwnersSet } from '../file-owners.ts';

export interface PostgresDatabase extends DatabaseReads, FileOwnerAccess {
  via: 'postgres';
  /**
   * The connection, lent to the write session so a run opens each side
   * once: to a remote project a connection costs TCP, TLS and a login.
   * Nothing else may use it while the session holds it.
   */
  client: pg.Client;
  dbUrl: string;
  /** Holds staging for a run that writes it, until released (staging-hold.ts). */
  holdStaging(about: string, say: (line: string) => void): Promise<StagingHold>;
}

export async function openPostgresDatabase(connection: Extract<Connection, { via: 'postgres' }>): Promise<PostgresDatabase> {
  const { side, dbUrl } = connection;
  const client = await connectPostgres(side, dbUrl);
  // The role a refused privilege is to be granted to: the one the catalog was read as (every run reads it first).
  let role: string | undefined;
  const failed =
    (what: string, tables: readonly TableRef[] = []) =>
    (error: unknown) => {
      if (error instanceof DatabaseError) throw error;
      const fix = privilegeFix((error as { code?: string }).code, (error as Error).message, { role, tables });
      throw new DatabaseError(describeError(`${what} in ${side}`, error) + (fix ? `\n  ${fix}` : ''), 1, { cause: error });
    };
  const ranges = keyRanges(client);
  return {
    side,
    via: 'postgres',
    client,
    dbUrl,
    // A direct run's hold is its connection's: what the run is, pg_stat_activity tells (application_name).
    holdStaging: (_about, say) => holdStagingOverPostgres(client, say),
    location: redactUrl(dbUrl),
    oneSnapshot: true,
    readCatalog: async (scope) => {
      const catalog = await readCatalogPostgres(side, client, scope);
      role = catalog.role;
      return catalog;
    },
    readSyncTarget: () => readSyncTargetPostgres(client).catch(failed('Reading the sync-target mark')),
    countRows: async (table) => {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${await ownRows(client, table)}`);
      return Number(rows[0]?.n);
    },
    references: async (table, columns, rowFilter) => {
      const what = `Reading the references of ${qualifiedName(table)}`;
      return runBuilt<Record<string, number>>(client, 'references_query', [table.schema, table.name, columns, rowFilter]).catch(failed(what, [table]));
    },
    missingKeys: async (table, columns, keys, rowFilter) => {
      const what = `Looking up keys in ${qualifiedName(table)}`;
      const values = JSON.stringify(keys.map(parseRowText));
      const missing = await runBuilt<number[]>(client, 'missing_keys_query', [table.schema, table.name, columns, values, rowFilter]).catch(
        failed(what, [table]),
      );
      return missing.map((position) => keys[position] as string);
    },
    orphans: (links) =>
      orphansInChunks(
        links,
        (chunk) => {
          // A chunk holds up to hundreds of links: the first few name where it was looking.
          const links = chunk.slice(0, 3).map(describeLink).join('; ') + (chunk.length > 3 ? `; and ${chunk.length - 3} more` : '');
          const what = `Looking for rows whose foreign key finds no parent (${links})`;
          return runBuilt<Orphans[]>(client, 'orphans_query', [JSON.stringify(chunk.map(orphanLinkArgument))]).catch(
            failed(
              what,
              chunk.flatMap((link) => [link.child, link.parentRelation]),
            ),
          );
        },
        false,
      ),
    sequenceValues: (sequences) => sequenceValuesPostgres(client, sequences).catch(failed('Reading where sequences stand')),
    checksum: (target, level) =>
      runBuilt<ChecksumAnswer>(client, 'checksum_query', checksumArgs(target, level)).catch(failed(`Checksumming ${qualifiedName(target.table)}`)),
    asksTogether: false,
    rangeSums: (target, bits, rowFilter, binary, within, flagged) =>
      ranges.rangeSums(target, bits, rowFilter, binary, within, flagged).catch(failed(`Summing key ranges of ${qualifiedName(target.table)}`)),
    rangeRows: (target, rowFilter, binary, within, flagged) =>
      ranges.rangeRows(target, rowFilter, binary, within, flagged).catch(failed(`Hashing rows of ${qualifiedName(target.table)}`)),
    rowHashes: (target, rowFilter, binary, flagged) =>
      ranges.rowHashes(target, rowFilter, binary, flagged).catch(failed(`Hashing rows of ${qualifiedName(target.table)}`)),
    keyFilter: (table, keyColumns, keys) => runShared<string>(client, 'key_filter', [table.schema, table.name, keyColumns, JSON.stringify(keys)]),
    clock: (overlapSeconds) => runBuilt<DatabaseClock>(client, 'clock_query', [overlapSeconds]).catch(failed('Reading the clock and its transactions')),
    watermarks: async () => {
      // copied_columns came with functions version 29: this run's watermarks are written with it.
      const { rows } = await client.query<{ found: boolean; current: boolean }>(
        `SELECT to_regclass('supasync_private.watermarks') IS NOT NULL AS found,
                EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass('supasync_private.watermarks') AND attname = 'copied_columns') AS current`,
      );
      if (!rows[0]?.found || !rows[0].current) {
        throw new DatabaseError(
          `${side} ${rows[0]?.found ? 'keeps incremental watermarks in an older supasync_private.watermarks (without the columns each run copied)' : 'has no supasync_private.watermarks, where an incremental sync keeps where each table stands'}: ` +
            `it was marked by an older supasync. Update it: ${commandLine('install-rpcs')} --${side} (or --${side} --mark-only).`,
        );
      }
      return runShared<Watermark[]>(client, 'watermarks', []).catch(failed('Reading where incremental syncs stand'));
    },
    extensionRows: (tables) =>
      runBuilt<ExtensionRows[]>(client, 'extension_rows_query', [JSON.stringify(tables.map(({ schema, name }) => ({ schema, name })))]).catch(
        failed("Reading the app's rows in extension tables"),
      ),
    maskedTables: () => readMaskedTablesPostgres(client).catch(failed('Reading which tables staging holds masked')),
    jsonKeys: (table, column) =>
      runBuilt<string[]>(client, 'json_keys_query', [quoteTable(table), column]).catch(failed(`Reading the keys of ${qualifiedName(table)}.${column}`)),
    dependentViews: (tables) => dependentViews(client, tables).catch(failed('Listing the materialized views that read the tables')),
    lockRoom: (tables) => lockRoom(client, tables).catch(failed('Counting the locks the run would take')),
    fileOwnersUnavailable: () => fileOwnersUnavailable(client, side).catch(failed('Reading what this role may do in storage.objects')),
    fileOwners: (bucket, after, limit) =>
      runBuilt<FileOwner[]>(client, 'file_owners_query', [bucket, after, limit]).catch(failed(`Reading whom the files of bucket ${bucket} belong to`)),
    setFileOwners: (bucket, owners) =>
      runBuilt<OwnersSet>(client, 'set_file_owners_query', [bucket, JSON.stringify(owners)]).catch(
        failed(`Setting whom the files of bucket ${bucket} belong to (storage.objects)`),
      ),
    close: () => client.end(),
  };
}
