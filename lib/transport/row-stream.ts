// A table's rows as text values, page by page, from either path: what
// comparing a masked table needs, whose checksums cannot be computed inside
// the databases (production's rows must be masked first, and the mask lives
// here). Directly: COPY's text format, read as it streams; over REST:
// supasync_read_rows' keyset pages. Memory holds one page. Each path's
// reader is loaded on that path alone (open-session.ts says why).
import type { Database } from './database.ts';
import type { TableLoad } from './load.ts';

export type TextRow = (string | null)[];
export type StreamedTable = Pick<TableLoad, 'table' | 'columns' | 'key' | 'rowFilter'>;

const PAGE_ROWS = 2_000;

/** Every row of `table` (those `rowFilter` picks), its `columns` as text in that order, NULL as null. */
export async function* streamRows(database: Database, table: StreamedTable): AsyncGenerator<TextRow[]> {
  if (database.via === 'rest') {
    const { readPages } = await import('./rest/rows.ts');
    yield* readPages(database.supabase, { ...table, options: {} }, () => undefined);
    return;
  }
  const { copyRows } = await import('./postgres/copy-rows.ts');
  yield* copyRows(database.client, database.side, table, PAGE_ROWS);
}
