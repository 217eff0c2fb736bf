// What a transport needs to know of a run to write staging: the plan's
// decisions about each table, not the plan. lib/plan's TableLoad and
// LoadPlan carry these fields among others and are handed over as they are;
// nothing here knows how they were decided.
import type { ForeignKeyLink } from '../catalog/links.ts';
import type { ForeignKey, TableRef } from '../catalog/types.ts';
import type { TableMask } from '../mask/types.ts';

/**
 * How rows land: replace empties the table first, then inserts; upsert,
 * mirror and incremental merge on the key (their deletes are deleteWhere()'s);
 * insert-missing adds rows whose key staging lacks and leaves the others.
 */
export type WriteMode = 'replace' | 'upsert' | 'mirror' | 'insert-missing' | 'incremental';

/** Whether a write changes a row staging already has under the same key. */
export function updatesExisting(mode: WriteMode): boolean {
  return mode !== 'insert-missing';
}

/** Whether the run deletes the staging rows whose key production lacks (deleteWhere(), after every table is written). */
export function deletesMissingRows(mode: WriteMode): boolean {
  return mode === 'mirror' || mode === 'incremental';
}

export interface TableLoad {
  table: TableRef;
  /** A partitioned parent: rows are read and written through it. */
  partitioned: boolean;
  /** The conflict target for upserts and the order for paging; null: replace only. */
  key: { columns: string[] } | null;
  /** Columns copied, in order. */
  columns: string[];
  /** Production's estimate, -1 when never analyzed: for read order and request sizes. */
  rowEstimate: number;
  /** Rows may travel in COPY's binary format. */
  binarySafe: boolean;
  mode: WriteMode;
  /** A SQL condition: only matching rows are copied; null: all. */
  rowFilter: string | null;
  /**
   * A re-sync's rows that differ, named by key in `rowFilter`: how many keys it names. Few rows, and over REST the
   * filter naming them travels with every page read: they are read in as few pages as the page sizes allow, and no
   * page is asked for once that many rows are in.
   */
  pickedByKey?: number;
  options: { batchSize?: number };
  /** Columns whose values are masked between production and staging (lib/mask); absent or null: copied as they are. */
  mask?: TableMask | null;
}

/** Tables that reference each other, with the foreign keys between them. */
export interface CycleLoad {
  tables: TableRef[];
  foreignKeys: { table: TableRef; foreignKey: ForeignKey }[];
}

export interface SelfReferenceLoad {
  table: TableRef;
  foreignKey: ForeignKey;
  /** The key's columns an insert may leave NULL, set in a second pass where checks stay on. */
  nullableColumns: string[];
}

/** What a write session is opened with. */
export interface LoadPlan {
  tables: TableLoad[];
  cycles: CycleLoad[];
  selfReferences: SelfReferenceLoad[];
  /** Staging's foreign keys with a written table at either end. */
  stagingLinks: ForeignKeyLink[];
}

/** Above this many rows estimated, a table is taken to hold some: asking could scan far under a `where`. */
const ASKED_IF_EMPTY_BELOW_ROWS = 1000;
/** Tables asked about per statement (holding_rows_query: one EXISTS each, planned together). */
export const HOLDING_ROWS_PER_STATEMENT = 200;

/** A replaced table small enough to be asked whether production holds any row of it before it is read (both paths). */
export function askedIfEmpty(table: TableLoad): boolean {
  return table.mode === 'replace' && table.rowEstimate < ASKED_IF_EMPTY_BELOW_ROWS;
}

/** holding_rows_query's argument: each table with its `where`. */
export function holdingRowsArgument(tables: TableLoad[]): { schema: string; name: string; filter: string | null }[] {
  return tables.map(({ table, rowFilter }) => ({ schema: table.schema, name: table.name, filter: rowFilter }));
}
