// One table's rows, streamed from production's COPY TO into staging's COPY
// FROM. pipeline() carries backpressure end to end, so memory stays at a few
// chunks whatever the table's size.
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { TableLoad } from '../load.ts';
import { columnList, copyColumns, quoteTable } from '../../sql/ident.ts';
import { ownRows } from '../../sql/shared.ts';
import { copyOut } from './copy-out.ts';
import { whyConnectionLost } from '../../connect/postgres.ts';
import type { RowMask } from '../../mask/apply.ts';
import { MaskCopyText } from '../../mask/copy-text.ts';

export type CopyFormat = 'binary' | 'text';

export interface CopyRequest {
  production: pg.ClientBase;
  staging: pg.ClientBase;
  table: TableLoad;
  /** Where rows land: the table itself, or a temporary table for upserts. */
  into: string;

  onRows?: (rowsSoFar: number) => void;
  /** A masked table's rows pass through this between the two COPYs (text format: the plan sends masked tables as text). */
  mask?: RowMask | null;
}

export async function copyRows(request: CopyRequest): Promise<number> {
  const { table } = request;
  const format: CopyFormat = table.binarySafe && !request.mask ? 'binary' : 'text';
  const columns = columnList(table.columns);
  const order = readOrder(table);
  // COPY cannot read a partitioned table directly, nor name no column; a query over it can.
  const source =
    table.partitioned || table.rowFilter || order || !table.columns.length
      ? `COPY (SELECT ${columns} FROM ${await ownRows(request.production, table.table)} WHERE ${table.rowFilter ?? 'true'}${order}) TO STDOUT (FORMAT ${format})`
      : `COPY ${quoteTable(table.table)} (${columns}) TO STDOUT (FORMAT ${format})`;
  const target = `COPY ${request.into}${copyColumns(table.columns)} FROM STDIN (FORMAT ${format})`;

  const reading = request.production.query(copyOut(source, { binary: format === 'binary', onRows: request.onRows }));
  const writing = request.staging.query(copyFrom(target));
  // Which side's stream failed first: pipeline() then ends the other.
  let failed: pg.ClientBase | null = null;
  reading.once('error', () => (failed ??= request.production));
  writing.once('error', () => (failed ??= request.staging));
  try {
    if (request.mask) await pipeline(reading, new MaskCopyText(request.mask), writing);
    else await pipeline(reading, writing);
  } catch (error) {
    throw whyConnectionLost(error, failed);
  }
  return writing.rowCount ?? reading.rows;
}

/**
 * Rows arriving in key order go into staging's key index at its rightmost
 * leaf, where PostgreSQL skips the descent from the root: random keys (UUIDs)
 * load a fifth faster sorted. Production reads them through its own key index
 * as they stream. Past a few million rows that index walk means random reads
 * on production, so large tables (and those of unknown size) keep their
 * physical order.
 */
const SORTED_READ_MAX_ROWS = 2_000_000;

function readOrder(table: TableLoad): string {
  // rowEstimate is -1 for a table never analyzed: its size is unknown, so no sort.
  if (!table.key || table.rowEstimate < 0 || table.rowEstimate > SORTED_READ_MAX_ROWS) return '';
  return ` ORDER BY ${columnList(table.key.columns)}`;
}
