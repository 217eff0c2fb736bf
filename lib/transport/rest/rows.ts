// Reading and writing rows over REST through supasync's RPCs. A row is an
// array of text values (null for NULL) in the plan's column order: no value
// ever becomes a JavaScript number or Date on its way to staging.
import type { SupabaseClient } from '@supabase/supabase-js';
import * as z from 'zod';
import { qualifiedName, type TableRef } from '../../catalog/types.ts';
import { formatBytes } from '../../connect/request-deadline.ts';
import { CONFLICT_CODES, DatabaseError } from '../../errors.ts';
import type { TableLoad } from '../load.ts';
import type { RejectedRow } from '../session.ts';
import { FIRST_PAGE_BYTES, MAX_PAGE_ROWS, MAX_ROW_BYTES, PAGE_BYTES, pageBytesCounted, requestsOf, rowBytes, rowTooLarge, type Row } from './row-size.ts';
import type { WriteBatch, WriteGroups } from './write-groups.ts';
import { callRpc, describeFailure, RpcFailure, type OnRetry } from './rpc.ts';
import { functionsVersionOf } from './functions-version.ts';
import { commandLine } from '../../invocation.ts';

/** What paging a table needs: a sync's TableLoad, or a backup's description of a staging table. */
export type PagedTable = Pick<TableLoad, 'table' | 'columns' | 'key' | 'rowFilter' | 'options' | 'pickedByKey'>;
/** What writing rows into a table needs. */
export type WrittenTable = Pick<TableLoad, 'table' | 'columns' | 'key'>;

/** A kind of table supasync_read_rows pages only from version `since`. */
interface ReadNeed {
  since: number;
  applies(table: ReadTable): boolean;
  why: string;
  otherwise: string;
}

/** A table about to be read over REST, as the sync or the backup knows it. */
export interface ReadTable {
  table: TableRef;
  columns: string[];
  keyed: boolean;
  partitioned: boolean;
}

/** Largest number of arguments a PostgreSQL function takes (FUNC_MAX_ARGS). */
const FUNCTION_ARGUMENTS = 100;

const READ_NEEDS: ReadNeed[] = [
  {
    // Before it such a table was paged by ctid alone, which repeats from partition to partition: rows past a page's end were skipped.
    since: 12,
    applies: (table) => !table.keyed && table.partitioned,
    why: 'partitioned and without a key, so read partition by partition',
    otherwise: 'give the table a primary key',
  },
  {
    // Before it each row was built by jsonb_build_array, one argument a column.
    since: 13,
    applies: (table) => table.columns.length > FUNCTION_ARGUMENTS,
    why: `more than ${FUNCTION_ARGUMENTS} columns, read as one array a row`,
    otherwise: 'leave the table out (--exclude)',
  },
];

/**
 * Tables that older functions cannot read (READ_NEEDS) are refused by name,
 * before anything is written, with the version that reads them. The version
 * is asked for only where such a table is read.
 */
export async function refuseOlderReads(client: SupabaseClient, side: 'production' | 'staging', tables: ReadTable[]): Promise<void> {
  const unmet = READ_NEEDS.map((need) => ({ need, tables: tables.filter((table) => need.applies(table)) })).filter((found) => found.tables.length);
  if (!unmet.length) return;
  const version = await functionsVersionOf(client).catch((error: unknown) => {
    if (error instanceof RpcFailure) throw new DatabaseError(`Reading ${side}'s supasync functions' version: ${describeFailure(error)}`, 1, { cause: error });
    throw error;
  });
  const refused = unmet.filter(({ need }) => version < need.since);
  if (!refused.length) return;
  throw new DatabaseError(
    refused
      .map(
        ({ need, tables }) =>
          `${tables.map((table) => qualifiedName(table.table)).join(', ')}: ${need.why} over REST, which ${side}'s supasync functions do from version ${need.since}`,
      )
      .join('; ') +
      `. They are version ${version}. Update them (${commandLine('install-rpcs')} --${side}), sync over the direct path, or ` +
      `${[...new Set(refused.map(({ need }) => need.otherwise))].join(', or ')}. Nothing was changed.`,
  );
}

/** A key may hold a column the copy leaves out (a generated one): read after the copied ones, for the next page's bound, then dropped. */
const pageColumns = (table: PagedTable): string[] => [...table.columns, ...(table.key?.columns ?? []).filter((column) => !table.columns.includes(column))];

/** A smaller first page starts the writes sooner; rows picked by key take full pages, each carrying their filter again. */
export const firstPageBytes = (table: PagedTable): number => (table.pickedByKey === undefined ? FIRST_PAGE_BYTES : PAGE_BYTES);

/** What supasync_read_rows is asked for the page of `table` after `after` (null: its first), cut at `maxBytes`. */
export function pageRequest(table: PagedTable, after: Row | null, maxBytes: number) {
  return {
    table_schema: table.table.schema,
    table_name: table.table.name,
    columns: pageColumns(table),
    key_columns: table.key?.columns ?? [],
    after,
    page_size: table.options.batchSize ?? MAX_PAGE_ROWS,
    row_filter: table.rowFilter,
    max_bytes: maxBytes,
    max_row_bytes: MAX_ROW_BYTES,
  };
}

/**
 * Keyset pages of a table, read one ahead: the next page is already on its
 * way while the caller writes the current one. PostgreSQL ends each page at
 * PAGE_BYTES (the first, unless its rows are picked by key, at
 * FIRST_PAGE_BYTES) and refuses a row larger than MAX_ROW_BYTES, naming it,
 * before any of it is sent.
 */
export async function* readPages(
  supabase: SupabaseClient,
  table: PagedTable,
  onRetry: OnRetry,
  /** Its first page, read with other tables' in one request (the same request as its own): undefined where that request failed. */
  groupedFirstPage?: Promise<Row[] | undefined>,
): AsyncGenerator<Row[]> {
  const keyColumns = table.key?.columns ?? [];
  const keyOnly = keyColumns.filter((column) => !table.columns.includes(column));
  const keyPositions = keyColumns.map((column) => pageColumns(table).indexOf(column));
  const pageSize = table.options.batchSize ?? MAX_PAGE_ROWS;
  const read = (after: Row | null, maxBytes: number) => {
    const page = callRpc<Row[]>(supabase, 'supasync_read_rows', pageRequest(table, after, maxBytes), { onRetry }).catch((error: unknown) => {
      throw explainReadFailure(table, keyColumns, after, error);
    });
    // A page read ahead may never be awaited when the caller stops early.
    page.catch(() => undefined);
    return { page, maxBytes };
  };
  // A first page read with other tables' (first-pages.ts), else asked for here. A group's request that failed leaves
  // each table to ask for its own, whose failure then names it.
  const grouped = await groupedFirstPage;
  let pending = grouped ? { page: Promise.resolve(grouped), maxBytes: firstPageBytes(table) } : read(null, firstPageBytes(table));
  let rows = 0;
  for (;;) {
    const page = await pending.page;
    if (!page.length) return;
    rows += page.length;
    // A page cut neither by rows nor by bytes ended with the table's rows: no request follows to find none (one a
    // table, most tables being one page). A key names one row at most: once as many rows as keys are in, none either.
    const ended = page.length < pageSize && pageBytesCounted(page, pending.maxBytes) < pending.maxBytes;
    const more = !ended && (table.pickedByKey === undefined || rows < table.pickedByKey);
    const last = page[page.length - 1] as Row;
    // Without a key the read adds each row's ctid as a last element.
    const after = keyColumns.length ? keyPositions.map((position) => last[position] ?? null) : [last[last.length - 1] ?? null];
    if (more) pending = read(after, PAGE_BYTES);
    yield keyColumns.length && !keyOnly.length ? page : page.map((row) => row.slice(0, table.columns.length));
    if (!more) return;
  }
}

/** A row too large for one answer, named as supasync_read_rows' error details it; a function older than max_bytes, or than keys_after. */
function explainReadFailure(table: PagedTable, keyColumns: string[], after: Row | null, error: unknown): unknown {
  if (!(error instanceof RpcFailure)) return error;
  const name = qualifiedName(table.table);
  const describe = (values: unknown[]) =>
    keyColumns.length ? keyColumns.map((column, i) => `${column}=${String(values[i] ?? 'NULL')}`).join(', ') : `at ctid ${String(values[0])}`;
  if (error.code === 'PGRST202') {
    return new DatabaseError(
      `Reading ${name}: this project lacks the current supasync_read_rows (supabase/migrations/*_supasync_read.sql), which ends pages by bytes. ` +
        `Install it: ${commandLine('install-rpcs', '--production')}, and --staging.`,
      1,
      { cause: error },
    );
  }
  // Functions before version 21 asked for the next page with `>`, which some key types (hstore: `#>#`) do not have.
  if (after && error.code === '42883' && /operator does not exist/.test(error.message)) {
    return new DatabaseError(
      `Reading ${name} past its first page: ${describeFailure(error)}\nIts key (${keyColumns.join(', ')}) is ordered by operators not named \`>\`, ` +
        `which supasync's functions page by from version 21. Update them on both projects (${commandLine('install-rpcs', '--production')}, and --staging), ` +
        'or copy the table over the direct path (--via postgres).',
      1,
      { cause: error },
    );
  }
  if (error.code !== '54000') return error;
  const tooLarge = parseTooLarge(error.details);
  if (tooLarge) return rowTooLarge(name, describe(tooLarge.key), tooLarge.bytes);
  // PostgreSQL's own limit, met before ours: a value past what jsonb holds.
  // PostgreSQL names no row: the page it was building is what is known.
  const which = !after ? 'a row of its first page' : keyColumns.length ? `a row past ${describe(after)}` : `a row past the one ${describe(after)}`;
  return new DatabaseError(
    `${name}: ${which} holds a value larger than PostgreSQL's JSON can carry (text past 256 MB, a bytea past 128 MB), so it cannot be read over REST: ${describeFailure(error)}\n` +
      'Copy the table over the direct path: set SUPABASE_PROD_DB_URL and SUPABASE_STAGING_DB_URL and run with --via postgres.',
    1,
    { cause: error },
  );
}

function parseTooLarge(details: string | undefined): { key: unknown[]; bytes: number } | undefined {
  try {
    const parsed = JSON.parse(details ?? '') as { key?: unknown; bytes?: unknown };
    return Array.isArray(parsed.key) && typeof parsed.bytes === 'number' ? { key: parsed.key, bytes: parsed.bytes } : undefined;
  } catch {
    return undefined;
  }
}

export interface WriteOutcome {
  /** Rows staging inserted or updated. */
  written: number;
  rejected: RejectedRow[];
  /**
   * Of the rejected rows, those a unique or exclusion constraint refused: a
   * value production moved between rows of different batches meets the
   * other row's old value in each. Written again together once the table's
   * other batches are in (RestSession.copyRows), they may then go in.
   */
  conflicted: Row[];
}

/**
 * Writes rows with supasync_write_rows: an upsert on the table's key, or
 * plain inserts without one. A row of a page's size or more goes in a
 * request of its own; one larger than a request may carry is refused by key.
 */
export function writeRows(
  supabase: SupabaseClient,
  table: WrittenTable,
  rows: Row[],
  options: {
    strict: boolean;
    onRetry: OnRetry;
    retries?: number;
    updateExisting?: boolean;
    /** Small batches go with other tables' in one request (write-groups.ts): a sync under the replica role. */
    together?: WriteGroups;
  },
): Promise<WriteOutcome> {
  const describe = (row: Row) => describeKey(table, row);
  const alone = (batch: WriteBatch) =>
    callRpc(supabase, 'supasync_write_rows', batch, {
      onRetry: options.onRetry,
      retries: options.retries,
      answer: z.object({ written: z.coerce.number() }),
    }).then((result) => result.written);
  return sendByRequest(table, rows, { describeRow: describe, strict: options.strict }, (rows) => {
    const batch: WriteBatch = {
      table_schema: table.table.schema,
      table_name: table.table.name,
      columns: table.columns,
      key_columns: table.key?.columns ?? [],
      rows,
      update_existing: options.updateExisting ?? true,
    };
    return options.together ? options.together.write(qualifiedName(table.table), batch, alone) : alone(batch);
  });
}

/**
 * Sets `columns` of rows staging has, matched on the table's key, with
 * supasync_set_columns. Each row holds the key's values, then the columns'.
 */
export function setColumns(
  supabase: SupabaseClient,
  table: TableLoad,
  columns: string[],
  rows: Row[],
  options: { strict: boolean; onRetry: OnRetry },
): Promise<WriteOutcome> {
  const keyColumns = table.key?.columns ?? [];
  const describe = (row: Row) => keyColumns.map((column, i) => `${column}=${row[i] ?? 'NULL'}`).join(', ');
  return sendByRequest(table, rows, { describeRow: describe, strict: options.strict }, (batch) =>
    callRpc(
      supabase,
      'supasync_set_columns',
      { table_schema: table.table.schema, table_name: table.table.name, key_columns: keyColumns, columns, rows: batch },
      { onRetry: options.onRetry, answer: z.object({ updated: z.coerce.number() }) },
    ).then((result) => result.updated),
  );
}

/** How a batch's rows are named in messages, and whether the first one staging rejects stops the run. */
interface Sending {
  describeRow: (row: Row) => string;
  strict: boolean;
}

/** Checks every row's size before anything is sent, then sends the rows request by request (row-size.ts). */
async function sendByRequest(table: WrittenTable, rows: Row[], how: Sending, send: (batch: Row[]) => Promise<number>): Promise<WriteOutcome> {
  const { describeRow } = how;
  for (const row of rows) {
    const bytes = rowBytes(row);
    if (bytes > MAX_ROW_BYTES) throw rowTooLarge(qualifiedName(table.table), describeRow(row), bytes);
  }
  const outcome: WriteOutcome = { written: 0, rejected: [], conflicted: [] };
  for (const batch of requestsOf(rows)) {
    const sent = await sendInHalves(table, batch, how, send);
    outcome.written += sent.written;
    outcome.rejected.push(...sent.rejected);
    outcome.conflicted.push(...sent.conflicted);
  }
  return outcome;
}

/**
 * Sends a batch. Too big or too slow: split in two and try again. Rejected
 * for its data: bisect down to the rows at fault, report each with its key
 * and PostgreSQL's message, and send the rest (strict: stop at the first).
 */
async function sendInHalves(table: WrittenTable, rows: Row[], how: Sending, send: (batch: Row[]) => Promise<number>): Promise<WriteOutcome> {
  const { describeRow, strict } = how;
  try {
    return { written: await send(rows), rejected: [], conflicted: [] };
  } catch (error) {
    if (!(error instanceof RpcFailure)) throw error;
    if (error.kind !== 'too-large' && error.kind !== 'data') throw error;
    if (rows.length === 1) {
      const row = rows[0] as Row;
      if (error.kind === 'too-large') {
        throw new DatabaseError(
          `${qualifiedName(table.table)}: staging could not take the row ${describeRow(row)} (${formatBytes(rowBytes(row))}) in one request: ${describeFailure(error)}\n` +
            'Copy the table over the direct path: set SUPABASE_PROD_DB_URL and SUPABASE_STAGING_DB_URL and run with --via postgres.',
          1,
          { cause: error },
        );
      }
      const rejected = { table: qualifiedName(table.table), key: describeRow(row), message: describeFailure(error) };
      if (strict) {
        throw new DatabaseError(`${rejected.table}: the row ${rejected.key} was rejected (--strict stops here):\n${rejected.message}`);
      }
      return { written: 0, rejected: [rejected], conflicted: CONFLICT_CODES.has(error.code) ? [row] : [] };
    }
    const middle = Math.ceil(rows.length / 2);
    const first = await sendInHalves(table, rows.slice(0, middle), how, send);
    const second = await sendInHalves(table, rows.slice(middle), how, send);
    return {
      written: first.written + second.written,
      rejected: [...first.rejected, ...second.rejected],
      conflicted: [...first.conflicted, ...second.conflicted],
    };
  }
}

/** A row as a rejection names it: its key's columns and values; where the key holds a column the copy leaves out (a generated one), every column the row carries. */
export function describeKey(table: WrittenTable, row: Row): string {
  const key = table.key?.columns;
  const columns = key?.every((column) => table.columns.includes(column)) ? key : table.columns;
  return columns.map((column) => `${column}=${row[table.columns.indexOf(column)] ?? 'NULL'}`).join(', ');
}
