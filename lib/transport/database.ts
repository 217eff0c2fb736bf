// One side of a sync, reached directly or over REST. The engine, plan and
// verify hold a Database and never ask which kind it is.
import type pg from 'pg';
import type { SupabaseClient } from '@supabase/supabase-js';
import { readCatalogPostgres, readCatalogRest } from '../catalog/read.ts';
import { qualifiedName, type Catalog, type SequenceState, type TableRef } from '../catalog/types.ts';
import { DatabaseError, describeError } from '../errors.ts';
import { columnList, quoteTable } from '../sql/ident.ts';
import type { ChecksumLevel, ChecksumTarget } from './checksum.ts';
import { runBuilt } from '../sql/shared.ts';
import type { Side, SideConfig, Via } from '../config/env.ts';
import { connectPostgres, redactUrl } from '../connect/postgres.ts';
import { describeLink, type ForeignKeyLink } from '../plan/links.ts';
import { orphanLinkArgument, orphansPostgres, type Orphans } from './postgres/orphans.ts';
import { sequenceValuesPostgres } from './postgres/sequences.ts';
import { readSyncTargetPostgres } from './postgres/sync-target.ts';
import type { SyncTargetMark } from './sync-target.ts';

export interface Database {
  side: Side;
  via: Via;
  config: SideConfig;
  /** Where it is, safe to print (no password, no key). */
  location: string;
  /** Whether a run's reads of it all see one moment (one snapshot), or each request its own. */
  oneSnapshot: boolean;
  readCatalog(): Promise<Catalog>;
  /** Whether it carries the sync-target mark (sync-target.ts). */
  readSyncTarget(): Promise<SyncTargetMark>;
  countRows(table: TableRef): Promise<number>;
  /** The distinct values of `columns` (as ROW(...)::text, NULLs left out) with how many rows hold each. */
  references(table: TableRef, columns: string[], rowFilter: string | null): Promise<Record<string, number>>;
  /** Which of these ROW(...)::text values no row of `table` (of those `rowFilter` matches) has in `columns`. */
  missingKeys(table: TableRef, columns: string[], keys: string[], rowFilter: string | null): Promise<string[]>;
  /** Per link, in order: rows of its child whose key finds no parent row (MATCH SIMPLE: a NULL in the key is no reference), with a few of their keys. */
  orphans(links: ForeignKeyLink[]): Promise<Orphans[]>;
  /** Where these sequences stand now; a name that is no sequence here is left out. */
  sequenceValues(sequences: TableRef[]): Promise<SequenceState[]>;
  /** One level of a content checksum, computed in the database (supasync_private.checksum_query). */
  checksum(target: ChecksumTarget, level: ChecksumLevel): Promise<unknown>;
  /**
   * The direct path's connection, lent to the write session so a run opens
   * each side once: to a remote project a connection costs TCP, TLS and a
   * login. Nothing else may use it while the session holds it.
   */
  client?: pg.Client;
  /** The REST path's client, shared with the write session: one limit on requests in flight per project (--concurrency). */
  supabase?: SupabaseClient;
  close(): Promise<void>;
}

/** `concurrency`: at most this many requests at once to the project over REST; the direct path holds one connection. */
export async function openDatabase(config: SideConfig, via: Via, concurrency?: number): Promise<Database> {
  if (via === 'postgres') {
    const client: pg.Client = await connectPostgres(config.side, config.dbUrl as string);
    return {
      side: config.side,
      via,
      config,
      location: redactUrl(config.dbUrl as string),
      oneSnapshot: true,
      client,
      readCatalog: () => readCatalogPostgres(config.side, client),
      readSyncTarget: () =>
        readSyncTargetPostgres(client).catch((error: unknown) => {
          throw new DatabaseError(describeError(`Reading ${config.side}'s sync-target mark`, error), 1, { cause: error });
        }),
      countRows: async (table) => {
        const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteTable(table)}`);
        return Number(rows[0]?.n);
      },
      references: async (table, columns, rowFilter) =>
        referenceCounts(await runBuilt(client, 'references_query', [table.schema, table.name, columns, rowFilter])),
      missingKeys: (table, columns, keys, rowFilter) => runBuilt(client, 'missing_keys_query', [table.schema, table.name, columns, rowFilter], [keys]),
      orphans: (links) =>
        orphansPostgres(client, links).catch((error: unknown) => {
          throw new DatabaseError(describeError(`Looking for ${config.side}'s rows whose foreign key finds no parent (${links.map(describeLink).join('; ')})`, error), 1, {
            cause: error,
          });
        }),
      sequenceValues: (sequences) =>
        sequenceValuesPostgres(client, sequences).catch((error: unknown) => {
          throw new DatabaseError(describeError(`Reading where ${config.side}'s sequences stand`, error), 1, { cause: error });
        }),
      checksum: async (target, level) => {
        try {
          return await runBuilt(client, 'checksum_query', checksumArgs(target, level), level.onlyBuckets ? checksumValues(level) : []);
        } catch (error) {
          throw new DatabaseError(describeError(`Checksumming ${config.side}'s ${qualifiedName(target.table)}`, error), 1, { cause: error });
        }
      },
      close: () => client.end(),
    };
  }
  // supabase-js is loaded only on this path: the direct path starts faster without it.
  const [{ connectSupabase }, { callRpc, describeFailure, RpcFailure }] = await Promise.all([
    import('../connect/supabase.ts'),
    import('./rest/rpc.ts'),
  ]);
  const supabase: SupabaseClient = connectSupabase(config.url as string, config.serviceRoleKey as string, concurrency);
  const rpc = <T = unknown>(what: string, name: string, args: Record<string, unknown>): Promise<T> =>
    callRpc<T>(supabase, name, args).catch((error: unknown) => {
      const detail = error instanceof RpcFailure ? describeFailure(error, config.url) : (error as Error).message;
      throw new DatabaseError(`${what} in ${config.side} over REST: ${detail}`, 1, { cause: error });
    });
  return {
    side: config.side,
    via,
    config,
    location: config.url as string,
    // PostgREST runs each request in its own transaction: each page of rows is read at its own moment.
    oneSnapshot: false,
    supabase,
    readCatalog: () => readCatalogRest(config.side, supabase, config.url as string),
    readSyncTarget: async (): Promise<SyncTargetMark> => {
      try {
        const mark = await callRpc<{ markedAt: string; markedBy: string | null } | null>(supabase, 'supasync_sync_target', {});
        return mark ? { kind: 'marked', ...mark } : { kind: 'unmarked' };
      } catch (error) {
        if (error instanceof RpcFailure && error.code === 'PGRST202') {
          return { kind: 'unknown', why: `it lacks supasync_sync_target(), which supasync's functions have had since this version: update them (npx tsx scripts/install-rpcs.ts --${config.side})` };
        }
        throw new DatabaseError(`Reading ${config.side}'s sync-target mark over REST: ${error instanceof RpcFailure ? describeFailure(error, config.url) : (error as Error).message}`, 1, { cause: error });
      }
    },
    countRows: async (table) =>
      Number(await rpc(`Counting ${qualifiedName(table)}`, 'supasync_count_rows', { table_schema: table.schema, table_name: table.name })),
    references: async (table, columns, rowFilter) => {
      const args = { table_schema: table.schema, table_name: table.name, columns, row_filter: rowFilter };
      return referenceCounts(await rpc(`Reading the references of ${qualifiedName(table)}`, 'supasync_references', args));
    },
    missingKeys: (table, columns, keys, rowFilter) =>
      rpc<string[]>(`Looking up keys in ${qualifiedName(table)}`, 'supasync_missing_keys', {
        table_schema: table.schema,
        table_name: table.name,
        columns,
        keys,
        row_filter: rowFilter,
      }),
    orphans: async (links) =>
      links.length
        ? rpc<Orphans[]>('Looking for rows whose foreign key finds no parent', 'supasync_orphans', {
            links: links.map(orphanLinkArgument),
          })
        : [],
    sequenceValues: async (sequences) =>
      sequences.length
        ? rpc<SequenceState[]>('Reading where sequences stand', 'supasync_sequence_values', { sequences: sequences.map(({ schema, name }) => ({ schema, name })) })
        : [],
    checksum: (target, level) => {
      const [table_schema, table_name, columns, key_columns, buckets] = checksumArgs(target, level);
      const [only_buckets, row_limit] = checksumValues(level);
      return rpc(`Checksumming ${qualifiedName(target.table)}`, 'supasync_checksum', { table_schema, table_name, columns, key_columns, buckets, only_buckets, row_limit });
    },
    close: async () => undefined,
  };
}

/**
 * Said in the plan and the summary whenever a run reads several tables
 * without one snapshot: a production written to meanwhile gives a staging
 * that never existed as a whole, and nothing else would tell.
 */
export function snapshotNotes(production: Pick<Database, 'oneSnapshot'>, tables: number): string[] {
  if (production.oneSnapshot || tables < 2) return [];
  return [
    'Over REST each page of rows is read in its own transaction, not from one snapshot: if production changed during the run, ' +
      'staging may hold rows that never existed together (a child copied after its parent changed, totals that do not add up). ' +
      'Where production is quiet this does not matter; where it is busy, use the direct path (SUPABASE_*_DB_URL), which reads every table at one moment.',
  ];
}

/** A table's hash, its buckets' or their rows' (ChecksumLevel): supasync_private.checksum_query's arguments. */
function checksumArgs(target: ChecksumTarget, level: ChecksumLevel): [string, string, string[], string[], number | null, boolean] {
  return [target.table.schema, target.table.name, target.columns, target.keyColumns, level.buckets ?? null, level.onlyBuckets !== undefined];
}

/** What a listing of rows is run with: the buckets to list and at most how many rows. */
function checksumValues(level: ChecksumLevel): [number[] | null, number] {
  return [level.onlyBuckets ?? null, level.rowLimit ?? 1000];
}

/** Counts arrive as jsonb numbers, or strings from functions of an older version. */
function referenceCounts(counts: unknown): Record<string, number> {
  return Object.fromEntries(Object.entries(counts as Record<string, string | number>).map(([key, n]) => [key, Number(n)]));
}
