// What every side answers, whichever way it is reached (postgres/database.ts,
// rest/database.ts). Over REST each answer is checked as it arrives
// (rest/answers.ts): the functions there may be of another version. The
// direct path runs this checkout's own SQL, whose answers cannot be.
import type { ForeignKeyLink } from '../catalog/links.ts';
import type { CatalogScope } from '../catalog/read.ts';
import type { Catalog, SequenceState, TableRef } from '../catalog/types.ts';
import type { Side } from '../config/env.ts';
import type { ChecksumAnswer, ChecksumLevel, ChecksumTarget, RangeSums } from './checksum.ts';
import type { MaskedTables } from './masked-tables.ts';
import type { DatabaseClock, Watermark } from './watermarks.ts';

/** A row's key: its columns' values as text; null where a unique key NULLS NOT DISTINCT holds a NULL. */
export type KeyValues = (string | null)[];

/**
 * An incremental run's flags, hashed in place of the columns (supasync_private.flag_expression): the rows past its
 * watermark (`rows`, a condition; `false` on staging's side), and whether the others are hashed by their key. They
 * must be where a row can be added unflagged (with an old stamp): a range where one was added and another deleted
 * would sum alike otherwise. Where every row added is flagged (by xmin), the others are hashed as 0: over REST
 * each range's answer is then a few bytes shorter.
 */
export interface RowFlags {
  rows: string;
  othersByKey: boolean;
}

export interface DatabaseReads {
  side: Side;
  /** Where it is, safe to print (no password, no key). */
  location: string;
  /** Whether a run's reads of it all see one moment (one snapshot), or each request its own. */
  oneSnapshot: boolean;
  /** The database's catalog: with `scope`, the tables a run naming those schemas needs (CatalogScope); every table without. */
  readCatalog(scope?: CatalogScope): Promise<Catalog>;
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
  checksum(target: ChecksumTarget, level: ChecksumLevel): Promise<ChecksumAnswer>;
  /**
   * Whether questions asked together travel together: over REST a run asks every table's key ranges at once, and
   * they go as one request per level; a direct connection answers one query at a time.
   */
  asksTogether: boolean;
  /**
   * Per key range at `bits` bits, of the rows `rowFilter` matches and (`within`) of those ranges alone: their count
   * and hash (supasync_private.range_sums_query); `binary`: rows hashed in their columns' binary form, only for a
   * table the plan copies in binary (binarySafe). `flagged`: rows hashed by whether they match it instead
   * (supasync_private.flag_expression: an incremental run's rows past its watermark; `false` on the other side).
   */
  rangeSums(
    target: ChecksumTarget,
    bits: number,
    rowFilter: string | null,
    binary: boolean,
    within: KeyRangeSet | null,
    flagged?: RowFlags | null,
  ): Promise<RangeSums>;
  /** The rows of these ranges (and `rowFilter`), one by one: key (its columns' text, as JSON) -> hash, as rangeSums hashes them. */
  rangeRows(target: ChecksumTarget, rowFilter: string | null, binary: boolean, within: KeyRangeSet, flagged?: RowFlags | null): Promise<Map<string, string>>;
  /**
   * Every row `rowFilter` picks as (key hash, row hash), in that order, hashed as rangeSums hashes them, streamed
   * (supasync_private.row_hashes_query). Only where bytes are cheap (the direct path): over REST ranges are asked for
   * instead.
   */
  rowHashes?(target: ChecksumTarget, rowFilter: string | null, binary: boolean, flagged?: RowFlags | null): Promise<RowHashes>;
  /**
   * Over REST, which version of supasync's functions the project holds (supasync_version(); 0 before versions were
   * recorded): an older one may not know a question's newer fields. The direct path runs this checkout's own SQL.
   */
  functionsVersion?(): Promise<number>;
  /** The SQL condition that picks the rows with these keys (each its columns' text), by the table's own key types (supasync_private.key_filter). */
  keyFilter(table: TableRef, keyColumns: string[], keys: KeyValues[]): Promise<string>;
  /**
   * The clock and the oldest running transaction (supasync_private.clock_query): of production for an incremental
   * sync, where the next run reads from; of staging for any re-sync, past which the rows it writes carry their xmin.
   */
  clock(overlapSeconds: number): Promise<DatabaseClock>;
  /** For an incremental sync, of staging: where each table's stands (supasync_private.watermarks). */
  watermarks(): Promise<Watermark[]>;
  /**
   * Of each of these extension tables that is a configuration table here (pg_extension_config_dump), the rows its
   * condition picks, the app's: how many and a hash (supasync_private.extension_rows_query); null where REST functions
   * before version 40 cannot say.
   */
  extensionRows(tables: TableRef[]): Promise<ExtensionRows[] | null>;
  /** Of staging: the tables it holds masked (supasync_private.masked_tables); `kept` false where it cannot say. */
  maskedTables(): Promise<MaskedTables>;
  /** The top-level keys the objects of a json or jsonb column hold, 200 at most (supasync_private.json_keys_query); null where REST functions before version 43 cannot say. */
  jsonKeys(table: TableRef, column: string): Promise<string[] | null>;
  /**
   * Of staging: the materialized views that read these tables, each after those it reads (supasync_private.dependent_views),
   * as a run would refresh them; null where REST functions before version 17 cannot say without refreshing.
   */
  dependentViews(tables: TableRef[]): Promise<DependentView[] | null>;
  /**
   * The lock slots a run's one transaction would take for these tables, and the server's (postgres/lock-room.ts).
   * Only where one transaction holds a run's locks to its end (the direct path): over REST each request is its own.
   */
  lockRoom?(tables: TableRef[]): Promise<LockRoom>;
  /**
   * Over REST: reads these tables' sizes now, in one request, for the questions about them that follow, which cut a
   * large table into slices by its size (rest/table-sizes.ts). Questions asked together read them together anyway:
   * this is for one asked table after table (verify).
   */
  readSizes?(tables: TableRef[]): void;
  /**
   * Over REST: asks now for the whole-table checksums of the small ones of `targets`, several tables a request
   * (rest/table-checksums.ts), which checksum() then answers from: verify's tables, compared a few at a time.
   */
  readChecksums?(targets: ChecksumTarget[]): void;
  close(): Promise<void>;
}

/**
 * Of a server's lock table: per table, its relations (itself and its partitions) and the slots writing and reading them take; the
 * server's max_locks_per_transaction and backends (max_connections + max_prepared_transactions), whose product is
 * its slots; how many are taken now.
 */
export interface LockRoom {
  tables: (TableRef & { relations: number; writes: number; reads: number })[];
  perTransaction: number;
  backends: number;
  held: number;
}

/** A materialized view that reads some tables: whether it holds rows at all, and whether this role may refresh it (its owner's rights). */
export interface DependentView {
  /** Quoted, schema-qualified. */
  view: string;
  populated: boolean;
  owner: string;
  mayRefresh: boolean;
}

/** The `tables` argument of dependent_views and the refresh: names alone. */
export function viewsArgument(tables: TableRef[]): { schema: string; name: string }[] {
  return tables.map(({ schema, name }) => ({ schema, name }));
}

/** Some key ranges at `bits` bits, each as decimal text (at 64 bits a range is one key hash, past 2^53). */
export interface KeyRangeSet {
  bits: number;
  ranges: string[];
}

/**
 * Rows' (key hash, row hash) pairs as they stream, sorted by both. Each
 * 64-bit hash comes as two 32-bit words, high (signed) then low: comparing
 * numbers costs a fraction of comparing BigInts, row after row.
 */
export interface RowHashes {
  /** The next rows' words, flattened (key high, key low, row high, row low, key high, ...), or null after the last. */
  next(): Promise<Int32Array | null>;
  /** Reads the rest, freeing the connection. */
  close(): Promise<void>;
}

/** Whether a database carries the sync-target mark (sync-target.ts). */
export type SyncTargetMark =
  /** heldBy: the run writing it now (staging-hold.ts), as a person tells it; null or absent: none, or not known. */
  | { kind: 'marked'; markedAt: string; markedBy: string | null; heldBy?: string | null }
  | { kind: 'unmarked' }
  /** The mark exists but this role may not read it, or the functions that read it are missing. */
  | { kind: 'unknown'; why: string };

/** Per link: its child's rows whose key finds no parent, and a few of those keys as ROW(...)::text. */
export interface Orphans {
  rows: number;
  keys: string[];
}

/**
 * Links per orphans query: one UNION ALL over every foreign key of a large schema took PostgreSQL seconds to plan
 * (GitLab's 844: 5.4 s, past Supabase's 8 s statement timeout on a loaded server), growing faster than the links.
 */
const ORPHAN_LINKS_PER_QUERY = 50;

/**
 * `ask` of every item, in order: all at once where questions travel together
 * (`asksTogether`: over REST each is a request of its own), else one after
 * another (a direct connection answers one query at a time; pg 9 refuses two).
 */
export async function askEach<T, R>(together: boolean, items: readonly T[], ask: (item: T) => Promise<R>): Promise<R[]> {
  if (together) return Promise.all(items.map(ask));
  const answers: R[] = [];
  for (const item of items) answers.push(await ask(item));
  return answers;
}

/** The orphans of many links, asked `ORPHAN_LINKS_PER_QUERY` at a time (over REST, as many at once as the client lets). */
export async function orphansInChunks(links: ForeignKeyLink[], ask: (chunk: ForeignKeyLink[]) => Promise<Orphans[]>, together: boolean): Promise<Orphans[]> {
  const chunks: ForeignKeyLink[][] = [];
  for (let start = 0; start < links.length; start += ORPHAN_LINKS_PER_QUERY) chunks.push(links.slice(start, start + ORPHAN_LINKS_PER_QUERY));
  return (await askEach(together, chunks, ask)).flat();
}

/** A link as supasync_private.orphans_query takes it, on either path. */
export function orphanLinkArgument(link: ForeignKeyLink) {
  return {
    child_schema: link.child.schema,
    child_table: link.child.name,
    columns: link.columns,
    child_rows: link.childRows,
    parent_schema: link.parentRelation.schema,
    parent_table: link.parentRelation.name,
    parent_columns: link.parentColumns,
  };
}

/** An extension's configuration table: the app's rows in it (what pg_dump copies), counted and hashed. */
export interface ExtensionRows extends TableRef {
  /** Null where this side's role may not read the table. */
  rows: number | null;
  hash: string | null;
}
