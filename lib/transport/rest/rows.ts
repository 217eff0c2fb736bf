// Reading and writing rows over REST through supasync's RPCs. A row is an
// array of text values (null for NULL) in the plan's column order: no value
// ever becomes a JavaScript number or Date on its way to staging.
import type { SupabaseClient } from '@supabase/supabase-js';
import { qualifiedName } from '../../catalog/types.ts';
import { DatabaseError } from '../../errors.ts';
import type { TablePlan } from '../../plan/plan.ts';
import type { RejectedRow } from '../session.ts';
import { callRpc, describeFailure, RpcFailure } from './rpc.ts';

export type Row = (string | null)[];

/** What paging a table needs: a sync's TablePlan, or a backup's description of a staging table. */
export type PagedTable = Pick<TablePlan, 'table' | 'columns' | 'key' | 'rowFilter'> & { options: Pick<TablePlan['options'], 'batchSize'> };
/** What writing rows into a table needs. */
export type WrittenTable = Pick<TablePlan, 'table' | 'columns' | 'key'>;

/** What one request should carry: big enough to amortise its latency, small enough for the timeouts. */
const TARGET_PAGE_BYTES = 2 * 1024 * 1024;
const MIN_PAGE_ROWS = 10;
const MAX_PAGE_ROWS = 5_000;
const FIRST_PAGE_ROWS = 100;

/**
 * Keyset pages of a table, read one ahead: the next page is already on its
 * way while the caller writes the current one.
 */
export async function* readPages(supabase: SupabaseClient, table: PagedTable, onRetry: () => void): AsyncGenerator<Row[]> {
  const keyColumns = table.key?.columns ?? [];
  const keyPositions = keyColumns.map((column) => table.columns.indexOf(column));
  // A small first page: the upload starts as soon as possible, and the next
  // pages are sized from what a row of this table weighs.
  let pageRows = table.options.batchSize ?? FIRST_PAGE_ROWS;
  const read = (after: Row | null, size: number) => {
    const page = callRpc<Row[]>(
      supabase,
      'supasync_read_rows',
      {
        table_schema: table.table.schema,
        table_name: table.table.name,
        columns: table.columns,
        key_columns: keyColumns,
        after,
        page_size: size,
        row_filter: table.rowFilter,
      },
      { onRetry },
    );
    // A page read ahead may never be awaited when the caller stops early.
    page.catch(() => undefined);
    return page;
  };
  let pending = read(null, pageRows);
  for (;;) {
    const page = await pending;
    if (!page.length) return;
    const last = page[page.length - 1] as Row;
    // Without a key the read adds each row's ctid as a last element.
    const after = keyColumns.length ? keyPositions.map((position) => last[position] ?? null) : [last[last.length - 1] ?? null];
    pageRows = table.options.batchSize ?? nextPageRows(page);
    pending = read(after, pageRows);
    yield keyColumns.length ? page : page.map((row) => row.slice(0, -1));
  }
}

function nextPageRows(page: Row[]): number {
  const bytes = page.reduce((sum, row) => sum + row.reduce((s, value) => s + (value?.length ?? 4) + 3, 2), 0);
  const perRow = Math.max(bytes / page.length, 1);
  return Math.min(MAX_PAGE_ROWS, Math.max(MIN_PAGE_ROWS, Math.floor(TARGET_PAGE_BYTES / perRow)));
}

export interface WriteOutcome {
  /** Rows staging inserted or updated. */
  written: number;
  rejected: RejectedRow[];
}

/** Writes a batch with supasync_write_rows: an upsert on the table's key, or plain inserts without one. */
export function writeRows(
  supabase: SupabaseClient,
  table: WrittenTable,
  rows: Row[],
  options: { strict: boolean; onRetry: () => void; retries?: number },
): Promise<WriteOutcome> {
  return sendInHalves(table, rows, (row) => describeKey(table, row), options.strict, (batch) =>
    callRpc<{ written: number }>(
      supabase,
      'supasync_write_rows',
      {
        table_schema: table.table.schema,
        table_name: table.table.name,
        columns: table.columns,
        key_columns: table.key?.columns ?? [],
        rows: batch,
      },
      { onRetry: options.onRetry, retries: options.retries },
    ).then((result) => result.written),
  );
}

/**
 * Sets `columns` of rows staging has, matched on the table's key, with
 * supasync_set_columns. Each row holds the key's values, then the columns'.
 */
export function setColumns(
  supabase: SupabaseClient,
  table: TablePlan,
  columns: string[],
  rows: Row[],
  options: { strict: boolean; onRetry: () => void },
): Promise<WriteOutcome> {
  const keyColumns = table.key?.columns ?? [];
  const describe = (row: Row) => keyColumns.map((column, i) => `${column}=${row[i] ?? 'NULL'}`).join(', ');
  return sendInHalves(table, rows, describe, options.strict, (batch) =>
    callRpc<{ updated: number }>(
      supabase,
      'supasync_set_columns',
      { table_schema: table.table.schema, table_name: table.table.name, key_columns: keyColumns, columns, rows: batch },
      { onRetry: options.onRetry },
    ).then((result) => result.updated),
  );
}

/**
 * Sends a batch. Too big or too slow: split in two and try again. Rejected
 * for its data: bisect down to the rows at fault, report each with its key
 * and PostgreSQL's message, and send the rest (strict: stop at the first).
 */
async function sendInHalves(
  table: WrittenTable,
  rows: Row[],
  describeRow: (row: Row) => string,
  strict: boolean,
  send: (batch: Row[]) => Promise<number>,
): Promise<WriteOutcome> {
  try {
    return { written: await send(rows), rejected: [] };
  } catch (error) {
    if (!(error instanceof RpcFailure)) throw error;
    if (error.kind !== 'too-large' && error.kind !== 'data') throw error;
    if (rows.length === 1) {
      if (error.kind === 'too-large') throw error;
      const rejected = { table: qualifiedName(table.table), key: describeRow(rows[0] as Row), message: describeFailure(error) };
      if (strict) {
        throw new DatabaseError(`${rejected.table}: the row ${rejected.key} was rejected (--strict stops here):\n${rejected.message}`);
      }
      return { written: 0, rejected: [rejected] };
    }
    const middle = Math.ceil(rows.length / 2);
    const first = await sendInHalves(table, rows.slice(0, middle), describeRow, strict, send);
    const second = await sendInHalves(table, rows.slice(middle), describeRow, strict, send);
    return { written: first.written + second.written, rejected: [...first.rejected, ...second.rejected] };
  }
}

function describeKey(table: WrittenTable, row: Row): string {
  const columns = table.key?.columns ?? table.columns;
  return columns.map((column) => `${column}=${row[table.columns.indexOf(column)] ?? 'NULL'}`).join(', ');
}
