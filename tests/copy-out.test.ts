import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { connectPostgres } from '../lib/connect/postgres.ts';
import { copyOut } from '../lib/transport/postgres/copy-out.ts';
import { sharedStack } from './setup/stack.ts';

const { production, staging } = sharedStack();

/** Everything a readable stream gives, as a digest and a length. */
class Digest extends Writable {
  private hash = createHash('sha256');
  bytes = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback();
  }
  get hex(): string {
    return this.hash.digest('hex');
  }
}

// Rows of 1 to ~3,000 bytes: message headers fall at every offset of the socket's chunks.
const uneven = (rows: number) => `SELECT i, repeat(md5(i::text), i % 97) AS filler FROM generate_series(1, ${rows}) i`;

describe('the COPY TO reader', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = await connectPostgres('production', production.dbUrl);
  });
  afterAll(async () => {
    await client.end();
  });

  async function ours(sql: string, binary: boolean) {
    const reports: number[] = [];
    const reading = client.query(copyOut(sql, { binary, onRows: (rows) => reports.push(rows) }));
    const sink = new Digest();
    await pipeline(reading, sink);
    return { rows: reading.rows, bytes: sink.bytes, hex: sink.hex, reports };
  }

  async function library(sql: string) {
    const reading = client.query(copyTo(sql));
    const sink = new Digest();
    await pipeline(reading, sink);
    return { rows: reading.rowCount, bytes: sink.bytes, hex: sink.hex };
  }

  for (const format of ['binary', 'text'] as const) {
    it(`gives exactly the bytes pg-copy-streams gives, in ${format} format, and counts the rows`, async () => {
      const sql = `COPY (${uneven(40_000)}) TO STDOUT (FORMAT ${format})`;
      const expected = await library(sql);
      const got = await ours(sql, format === 'binary');
      expect(got.bytes).toBeGreaterThan(20_000_000);
      expect({ rows: got.rows, bytes: got.bytes, hex: got.hex }).toEqual(expected);
      expect(got.reports.at(-1)).toBe(40_000);
      // The connection is pg's again.
      expect((await client.query('SELECT 41 + 1 AS n')).rows).toEqual([{ n: 42 }]);
    });
  }

  it('counts no rows for an empty result, binary header and trailer included', async () => {
    const sql = 'COPY (SELECT 1 AS one WHERE false) TO STDOUT (FORMAT binary)';
    const expected = await library(sql);
    const got = await ours(sql, true);
    expect(expected.bytes).toBeGreaterThan(0);
    expect({ rows: got.rows, bytes: got.bytes, hex: got.hex }).toEqual(expected);
    expect(got.reports.at(-1)).toBe(0);
  });

  it('reads past notices sent between rows', async () => {
    // A function of this session only (production's connection is read-only).
    const session = await connectPostgres('staging', staging.dbUrl);
    onTestFinished(() => session.end());
    await session.query(`CREATE FUNCTION pg_temp.noisy(i int) RETURNS int LANGUAGE plpgsql AS $$
      BEGIN IF i % 500 = 0 THEN RAISE NOTICE 'row %', i; END IF; RETURN i; END $$`);
    const reading = session.query(copyOut('COPY (SELECT pg_temp.noisy(i) FROM generate_series(1, 5000) i) TO STDOUT', { binary: false }));
    const chunks: Buffer[] = [];
    await pipeline(
      reading,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          callback();
        },
      }),
    );
    const expected = Array.from({ length: 5000 }, (_, i) => `${i + 1}\n`).join('');
    expect(Buffer.concat(chunks).toString()).toBe(expected);
    expect(reading.rows).toBe(5000);
  });

  it("fails with the server's error when it comes after rows, and leaves the connection usable", async () => {
    const reading = client.query(copyOut('COPY (SELECT 1 / (3000 - i) FROM generate_series(1, 6000) i) TO STDOUT', { binary: false }));
    const sink = new Digest();
    await expect(pipeline(reading, sink)).rejects.toThrow('division by zero');
    expect(sink.bytes).toBeGreaterThan(0);
    expect((await client.query('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
  });

  it('closes the connection when the reader stops before the server is done, so nothing waits on it', async () => {
    const session = await connectPostgres('production', production.dbUrl);
    onTestFinished(() => session.end());
    const reading = session.query(copyOut(`COPY (${uneven(200_000)}) TO STDOUT (FORMAT binary)`, { binary: true }));
    let received = 0;
    const failing = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        callback(received > 1_000_000 ? new Error('staging refused a row') : null);
      },
    });
    await expect(pipeline(reading, failing)).rejects.toThrow('staging refused a row');
    // The server was still sending: the connection is closed, and says so rather than hanging.
    await expect(session.query('SELECT 1')).rejects.toThrow();
  });

  it('reads the same over TLS, as every connection to hosted Supabase is', async () => {
    const tls = await connectPostgres('production', `${production.dbUrl}?sslmode=require`);
    onTestFinished(() => tls.end());
    expect((await tls.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows).toEqual([{ ssl: true }]);
    const sql = `COPY (${uneven(40_000)}) TO STDOUT (FORMAT binary)`;
    const expected = await library(sql);
    const reading = tls.query(copyOut(sql, { binary: true }));
    const sink = new Digest();
    await pipeline(reading, sink);
    expect({ rows: reading.rows, bytes: sink.bytes, hex: sink.hex }).toEqual(expected);
    expect((await tls.query('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
  });
});

describe('a direct connection', () => {
  it("takes queries asked at once one after another, in the order asked, never two in pg's queue, a failed one stopping none", async () => {
    const session = await connectPostgres('staging', staging.dbUrl);
    onTestFinished(() => session.end());
    const warnings: string[] = [];
    const listen = (warning: Error) => warnings.push(warning.message);
    process.on('warning', listen);
    onTestFinished(() => void process.off('warning', listen));
    const asked = [0, 1, 2, 3, 4].map((n) =>
      session.query<{ n: number; at: Date }>(n === 2 ? 'SELECT 1 / 0' : `SELECT ${n} AS n, clock_timestamp() AS at FROM pg_sleep(0.02)`),
    );
    // pg deprecates a query sent while another runs (pg 9 fails it): none waits in its queue.
    expect((session as unknown as { _queryQueue: unknown[] })._queryQueue).toHaveLength(0);
    const answers = await Promise.allSettled(asked);
    expect(answers.map((answer) => (answer.status === 'fulfilled' ? answer.value.rows[0]?.n : String(answer.reason)))).toEqual([
      0,
      1,
      'error: division by zero',
      3,
      4,
    ]);
    const times = answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value.rows[0]!.at.getTime()] : []));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(warnings.filter((warning) => warning.includes('already executing a query'))).toEqual([]);
  });
});
