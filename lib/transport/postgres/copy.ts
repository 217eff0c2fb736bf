// One table's rows, streamed from production's COPY TO into staging's COPY
// FROM. pipeline() carries backpressure end to end, so memory stays at a few
// chunks whatever the table's size.
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { TablePlan } from '../../plan/plan.ts';
import { columnList, quoteTable } from '../../sql/ident.ts';

export type CopyFormat = 'binary' | 'text';

export interface CopyRequest {
  production: pg.ClientBase;
  staging: pg.ClientBase;
  table: TablePlan;
  /** Where rows land: the table itself, or a temporary table for upserts. */
  into: string;

  onRows?: (rowsSoFar: number) => void;
}

export async function copyRows(request: CopyRequest): Promise<number> {
  const { table } = request;
  const format: CopyFormat = table.binarySafe ? 'binary' : 'text';
  const columns = columnList(table.columns);
  const order = readOrder(table);
  // COPY cannot read a partitioned table directly; a query over it can.
  const source =
    table.partitioned || table.rowFilter || order
      ? `COPY (SELECT ${columns} FROM ${quoteTable(table.table)} WHERE ${table.rowFilter ?? 'true'}${order}) TO STDOUT (FORMAT ${format})`
      : `COPY ${quoteTable(table.table)} (${columns}) TO STDOUT (FORMAT ${format})`;
  const target = `COPY ${request.into} (${columns}) FROM STDIN (FORMAT ${format})`;

  const reading = request.production.query(copyTo(source));
  const writing = request.staging.query(copyFrom(target));
  const counter = format === 'binary' ? new BinaryRowCounter(request.onRows) : new TextRowCounter(request.onRows);
  await pipeline(reading, counter, writing);
  return writing.rowCount ?? counter.rows;
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

function readOrder(table: TablePlan): string {
  // rowEstimate is -1 for a table never analyzed: its size is unknown, so no sort.
  if (!table.key || table.rowEstimate < 0 || table.rowEstimate > SORTED_READ_MAX_ROWS) return '';
  return ` ORDER BY ${columnList(table.key.columns)}`;
}

// Progress comes from counting rows as they pass; the final number is the
// one staging reports.
abstract class RowCounter extends Transform {
  rows = 0;
  private lastReport = 0;
  constructor(private readonly onRows?: (rows: number) => void) {
    super();
  }
  protected report(): void {
    const now = Date.now();
    if (this.onRows && now - this.lastReport > 200) {
      this.lastReport = now;
      this.onRows(this.rows);
    }
  }
  override _flush(callback: TransformCallback): void {
    this.onRows?.(this.rows);
    callback();
  }
}

/** Text COPY: one row per newline (newlines inside values are escaped as \n). */
class TextRowCounter extends RowCounter {
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let at = chunk.indexOf(10);
    while (at !== -1) {
      this.rows++;
      at = chunk.indexOf(10, at + 1);
    }
    this.report();
    callback(null, chunk);
  }
}

/**
 * Binary COPY: an 11-byte signature, flags and a header extension, then per
 * row an int16 field count followed by (int32 length, bytes) per field; a
 * field count of -1 ends the data. We walk just those lengths.
 */
class BinaryRowCounter extends RowCounter {
  private headerLeft = 19; // signature 11 + flags 4 + extension length 4 (always 0 from the server)
  private skip = 0; // bytes of the current field still to pass
  private fieldsLeft = 0;
  private pending = Buffer.alloc(0); // a split int16/int32 header

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    let at = 0;
    if (this.headerLeft > 0) {
      const taken = Math.min(this.headerLeft, data.length);
      this.headerLeft -= taken;
      at = taken;
    }
    while (at < data.length) {
      if (this.skip > 0) {
        const taken = Math.min(this.skip, data.length - at);
        this.skip -= taken;
        at += taken;
        continue;
      }
      if (this.fieldsLeft === 0) {
        if (data.length - at < 2) break;
        const fields = data.readInt16BE(at);
        at += 2;
        if (fields === -1) {
          at = data.length;
          break;
        }
        this.rows++;
        this.fieldsLeft = fields;
        continue;
      }
      if (data.length - at < 4) break;
      const length = data.readInt32BE(at);
      at += 4;
      this.fieldsLeft--;
      this.skip = Math.max(length, 0); // -1 is NULL: no bytes follow
    }
    if (at < data.length) this.pending = Buffer.from(data.subarray(at));
    this.report();
    callback(null, chunk);
  }
}
