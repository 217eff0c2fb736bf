// A table's rows as text values, page by page, from either path: what
// comparing a masked table needs, whose checksums cannot be computed inside
// the databases (production's rows must be masked first, and the mask lives
// here). Directly: COPY's text format, read as it streams; over REST:
// supasync_read_rows' keyset pages. Memory holds one page.
import { whyConnectionLost } from '../connect/postgres.ts';
import { StringDecoder } from 'node:string_decoder';
import { DatabaseError, describeError } from '../errors.ts';
import { qualifiedName } from '../catalog/types.ts';
import { columnList } from '../sql/ident.ts';
import { ownRows } from '../sql/shared.ts';
import { decodeCopyField } from '../mask/copy-text.ts';
import type { Database } from './database.ts';
import type { TableLoad } from './load.ts';
import { copyOut } from './postgres/copy-out.ts';

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
  const sql = `COPY (SELECT ${columnList(table.columns)} FROM ${await ownRows(database.client, table.table)} WHERE ${table.rowFilter ?? 'true'}) TO STDOUT (FORMAT text)`;
  const stream = database.client.query(copyOut(sql, { binary: false }));
  // A chunk may end inside a character: the decoder keeps its first bytes for the next.
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let page: TextRow[] = [];
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = partial + decoder.write(chunk);
      const last = text.lastIndexOf('\n');
      partial = text.slice(last + 1);
      if (last < 0) continue;
      for (const line of text.slice(0, last).split('\n')) page.push(line.split('\t').map(decodeCopyField));
      if (page.length >= PAGE_ROWS) {
        yield page;
        page = [];
      }
    }
  } catch (error) {
    throw new DatabaseError(
      describeError(`Reading the rows of ${qualifiedName(table.table)} in ${database.side}`, whyConnectionLost(error, database.client)),
      1,
      {
        cause: error,
      },
    );
  }
  if (page.length) yield page;
}
