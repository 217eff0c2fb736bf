// COPY ... TO STDOUT as a readable stream of the rows' bytes, counting rows
// as they pass.
//
// The server sends one protocol message per row. pg-copy-streams' reader
// takes each message apart through a list of buffers, which allocates per
// row: for a million rows that was half a second of Node's CPU, taken from
// the two cores that staging's backend needs. This reader walks the message
// headers in place and copies each socket chunk's row bytes into one buffer.
// It reads the socket itself, as pg-copy-streams does: pg cannot pause a
// query, and backpressure must reach production.
import { Readable } from 'node:stream';
import type { Connection } from 'pg';

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'
const HEADER = 5; // type byte + int32 length (which counts itself)

export class CopyOutStream extends Readable {
  /** Rows so far: one CopyData message per row (binary COPY's trailer is its own message, taken off at the end). */
  rows = 0;
  private connection: Connection | null = null;
  private pgDataHandler: ((chunk: Buffer) => void) | null = null;
  private wanted = false;
  private reading = false;
  private finished = false;
  // The message being read: its type and how many of its bytes are still to come.
  private type = 0;
  private left = 0;
  // A message header split across two socket chunks.
  private header = Buffer.alloc(HEADER);
  private headerHave = 0;
  private readonly onReadable = () => this.forward();
  private lastReport = 0;

  constructor(
    private readonly text: string,
    private readonly binary: boolean,
    private readonly onRows?: (rowsSoFar: number) => void,
  ) {
    super();
  }

  /** Called by pg when the query's turn comes on the connection. */
  submit(connection: Connection): void {
    this.connection = connection;
    const socket = connection.stream;
    const listeners = socket.listeners('data') as ((chunk: Buffer) => void)[];
    if (listeners.length !== 1) throw new Error('COPY TO: the connection has an unexpected data listener');
    this.pgDataHandler = listeners[0] as (chunk: Buffer) => void;
    socket.removeListener('data', this.pgDataHandler);
    socket.pause();
    socket.on('readable', this.onReadable);
    connection.query(this.text);
  }

  override _read(): void {
    this.wanted = true;
    this.forward();
  }

  private forward(): void {
    if (this.reading || !this.wanted || !this.connection || this.finished) return;
    this.reading = true;
    const socket = this.connection.stream;
    let chunk: Buffer | null;
    while (this.wanted && !this.finished && (chunk = socket.read() as Buffer | null) !== null) this.parse(chunk);
    this.reading = false;
  }

  private parse(chunk: Buffer): void {
    const rows = Buffer.allocUnsafe(chunk.length);
    let used = 0;
    let at = 0;
    while (at < chunk.length) {
      if (this.left > 0) {
        const end = Math.min(chunk.length, at + this.left);
        if (this.type === COPY_DATA) used = copyBytes(chunk, at, end, rows, used);
        this.left -= end - at;
        at = end;
        continue;
      }
      // A header, maybe split across chunks.
      let header = chunk;
      let headerAt = at;
      if (this.headerHave > 0 || chunk.length - at < HEADER) {
        const taken = Math.min(HEADER - this.headerHave, chunk.length - at);
        chunk.copy(this.header, this.headerHave, at, at + taken);
        this.headerHave += taken;
        at += taken;
        if (this.headerHave < HEADER) break;
        header = this.header;
        headerAt = 0;
        this.headerHave = 0;
      } else {
        at += HEADER;
      }
      const type = header[headerAt] as number;
      if (type === ERROR_RESPONSE || type === COPY_DONE) {
        // pg reads the rest (the error, or CommandComplete and ReadyForQuery).
        const rest = header === this.header ? Buffer.concat([this.header, chunk.subarray(at)]) : chunk.subarray(at - HEADER);
        if (used) this.push(rows.subarray(0, used));
        this.finish(rest, type === COPY_DONE);
        return;
      }
      this.type = type;
      this.left = header.readUInt32BE(headerAt + 1) - 4;
      // CopyOutResponse, notices and parameter changes come between rows: read past them.
      if (type === COPY_DATA) this.rows++;
    }
    if (used && !this.push(rows.subarray(0, used))) this.wanted = false;
    this.report();
  }

  private report(): void {
    const now = Date.now();
    if (this.onRows && now - this.lastReport > 200) {
      this.lastReport = now;
      this.onRows(this.rows);
    }
  }

  /** Gives the connection back to pg with what it has not read yet. */
  private finish(rest: Buffer, done: boolean): void {
    this.finished = true;
    const socket = (this.connection as Connection).stream;
    socket.removeListener('readable', this.onReadable);
    socket.on('data', this.pgDataHandler as (chunk: Buffer) => void);
    if (done && this.binary && this.rows > 0) this.rows--; // the trailer
    if (done) {
      this.onRows?.(this.rows);
      this.push(null);
    }
    (this.pgDataHandler as (chunk: Buffer) => void)(rest);
    process.nextTick(() => socket.resume());
  }

  /**
   * Stopped before the server finished (staging failed mid-table, or a
   * backup file could not be written): the server keeps sending rows that
   * nobody reads, and pg cannot take the connection back mid-COPY. Closing it
   * ends the server's COPY at once, and rolls back a transaction open on it;
   * the run is failing and does not use this connection again.
   */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.finished && this.connection) this.connection.stream.destroy();
    callback(error);
  }

  // pg calls these as the query's last messages arrive.
  handleError(error: Error): void {
    this.destroy(error);
  }

  handleCommandComplete(message: { text?: string }): void {
    const match = /COPY (\d+)/.exec(message.text ?? '');
    if (match) this.rows = Number(match[1]);
  }

  handleReadyForQuery(): void {}
}

/**
 * chunk[from, to) into rows at `used`; the new end. A row of a few dozen
 * bytes (a re-sync's hashes, a narrow table's) is copied byte by byte:
 * Buffer.copy's checks cost more than the copy, a million times over.
 */
function copyBytes(chunk: Buffer, from: number, to: number, rows: Buffer, used: number): number {
  if (to - from > 64) return used + chunk.copy(rows, used, from, to);
  for (let at = from; at < to; at++) rows[used++] = chunk[at] as number;
  return used;
}

/** Pass to a pg client's query(); `onRows` hears the count about five times a second and once at the end. */
export function copyOut(text: string, options: { binary: boolean; onRows?: (rowsSoFar: number) => void }): CopyOutStream {
  return new CopyOutStream(text, options.binary, options.onRows);
}
