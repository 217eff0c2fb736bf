// A table's rows as text values, read by COPY's text format as it streams,
// a page at a time (row-stream.ts' direct path).
import { StringDecoder } from 'node:string_decoder';
import type pg from 'pg';
import { whyConnectionLost } from '../../connect/postgres.ts';
import { DatabaseError, describeError } from '../../errors.ts';
import { qualifiedName } from '../../catalog/types.ts';
import { columnList } from '../../sql/ident.ts';
import { ownRows } from '../../sql/shared.ts';
import { decodeCopyField } from '../../mask/copy-text.ts';
import type { Side } from '../../config/env.ts';
import type { TableLoad } from '../load.ts';
import { copyOut } from './copy-out.ts';

/** Every row of `table` (those `rowFilter` picks), its `columns` as text in that order, NULL as null. */
export async function* copyRows(
  client: pg.Client,
  side: Side,
  table: Pick<TableLoad, 'table' | 'columns' | 'rowFilter'>,
  pageRows: number,
): AsyncGenerator<(string | null)[][]> {
  const sql = `COPY (SELECT ${columnList(table.columns)} FROM ${await ownRows(client, table.table)} WHERE ${table.rowFilter ?? 'true'}) TO STDOUT (FORMAT text)`;
  const stream = client.query(copyOut(sql, { binary: false }));
  // A chunk may end inside a character: the decoder keeps its first bytes for the next.
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let page: (string | null)[][] = [];
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = partial + decoder.write(chunk);
      const last = text.lastIndexOf('\n');
      partial = text.slice(last + 1);
      if (last < 0) continue;
      for (const line of text.slice(0, last).split('\n')) page.push(line.split('\t').map(decodeCopyField));
      if (page.length >= pageRows) {
        yield page;
        page = [];
      }
    }
  } catch (error) {
    throw new DatabaseError(describeError(`Reading the rows of ${qualifiedName(table.table)} in ${side}`, whyConnectionLost(error, client)), 1, {
      cause: error,
    });
  }
  if (page.length) yield page;
}
