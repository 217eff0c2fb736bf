// REST never hangs. A table with two 50 MB rows once hung a REST sync for
// over 300 s: its first page asked for 100 rows, 5 GB, and nothing ever
// timed out. Now PostgreSQL ends every page at a byte budget from the first
// row on, a row too large for one request is refused by its key and size
// with the direct path as the way out, and every request has a deadline.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectSupabase } from '../lib/connect/supabase.ts';
import { MAX_ROW_BYTES, pageBytesCounted, rowBytes } from '../lib/transport/rest/row-size.ts';
import { callRpc, RpcFailure } from '../lib/transport/rest/rpc.ts';
import type { Row } from '../lib/transport/rest/row-size.ts';
import { Link } from '../stack/link.ts';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();
const MB = 1_000_000;
const FIFTY_MB = 50 * 1024 * 1024;

let production: Project;
let staging: Project;

// Created as postgres, the tables' owner on Supabase, so service_role gets its default grants.
const TABLES = `SET ROLE postgres;
  CREATE TABLE public.big_rows (id integer PRIMARY KEY, payload text NOT NULL);
  CREATE TABLE public.wide_rows (id integer PRIMARY KEY, payload bytea NOT NULL);
  CREATE TABLE public.heavy_a (id integer PRIMARY KEY, payload bytea NOT NULL);
  CREATE TABLE public.heavy_b (LIKE public.heavy_a INCLUDING ALL);
  CREATE TABLE public.heavy_c (LIKE public.heavy_a INCLUDING ALL);`;
/** `bytes` bytes that do not compress, as bytea (twice as many characters of hex over REST). */
const randomish = (bytes: number) => `(SELECT decode(string_agg(md5(id::text || ':' || g), ''), 'hex') FROM generate_series(1, ${bytes} / 16) g)`;

beforeAll(async () => {
  [production, staging] = await Promise.all([stack.createProject('bounds_production', { syncTarget: false }), stack.createProject('bounds_staging')]);
  await Promise.all([query(production.adminUrl, TABLES), query(staging.adminUrl, TABLES)]);
  await query(
    production.adminUrl,
    `INSERT INTO public.big_rows SELECT i, repeat(md5(i::text), ${FIFTY_MB} / 32) FROM generate_series(1, 2) i;
     -- 200 rows, every 50th of 1.2 MB: 2.4 MB of hex each, more than a page's 2 MiB.
     INSERT INTO public.wide_rows (id, payload) SELECT id, CASE WHEN id % 50 = 0 THEN ${randomish(1_200_000)} ELSE decode(md5(id::text), 'hex') END
       FROM generate_series(1, 200) id;
     -- A first row of 1.2 MB each (2.4 MB of hex): one first page is past the 2 MiB a request of first pages carries.
     ${['a', 'b', 'c'].map((t) => `INSERT INTO public.heavy_${t} SELECT id, ${randomish(1_200_000)} FROM generate_series(1, 3) id;`).join('\n')}`,
  );
});
afterAll(async () => {
  await Promise.all([staging?.stop(), production?.stop()]);
});

const sync = (args: string[], cwd?: string) =>
  runScript('sync.ts', ['--via', 'rest', '--yes', ...args], { env: envFor(production, staging), ...(cwd ? { cwd } : {}) });
const digest = (project: Project, table: string) =>
  query<{ rows: number; md5: string }>(
    project.adminUrl,
    `SELECT count(*)::int AS rows, md5(string_agg(md5(payload::text), ',' ORDER BY id)) AS md5 FROM public.${table}`,
  );

describe('a table whose rows are too large for one REST request', () => {
  it('is refused by name, with the row, its size and --via postgres, well within two minutes', async () => {
    const started = performance.now();
    const result = await sync(['--tables', 'big_rows']);
    const seconds = (performance.now() - started) / 1000;
    expect(result.code).toBe(1);
    expect(seconds).toBeLessThan(120);
    expect(result.stderr).toMatch(/public\.big_rows: the row id=1 holds 52\.4 MB, more than the 32\.0 MB supasync sends in one REST request/);
    expect(result.stderr).toContain('run with --via postgres');
    // Running it again as it is would meet the same row: the message does not tell the user to.
    expect(result.stderr).toContain('Running the same command again would stop at the same place');
    expect(result.stderr).not.toContain('Run the same command again to finish');
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.big_rows')).toEqual([{ n: 0 }]);
  });

  it("is refused by name read with another table's first page: the two tables' request fails, and each table asks for its own", async () => {
    production.gateway.resetStats();
    const result = await sync(['--tables', 'big_rows,wide_rows', '--no-backup']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/public\.big_rows: the row id=1 holds 52\.4 MB, more than the 32\.0 MB supasync sends in one REST request/);
    const { requests } = production.gateway.stats();
    expect(requests['/rpc/supasync_read_first_pages']).toBe(1);
    expect(requests['/rpc/supasync_read_rows']).toBeGreaterThanOrEqual(1);
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.big_rows')).toEqual([{ n: 0 }]);
  });

  it("reads no more tables' first pages in one request once a page's bytes are in: the tables after it read their own", async () => {
    production.gateway.captureRequests(true);
    try {
      const result = await sync(['--tables', 'heavy_a,heavy_b,heavy_c', '--no-backup']);
      expect(result.code, result.stderr).toBe(0);
      const requests = production.gateway.capturedRequests();
      const grouped = requests.filter((request) => request.path.startsWith('/rpc/supasync_read_first_pages'));
      expect(grouped.map((request) => (JSON.parse(request.body) as { reads: { table_name: string }[] }).reads.map((read) => read.table_name))).toEqual([
        ['heavy_a', 'heavy_b', 'heavy_c'],
      ]);
      const firstAlone = requests
        .filter((request) => request.path.startsWith('/rpc/supasync_read_rows'))
        .map((request) => JSON.parse(request.body) as { table_name: string; after: unknown })
        .filter((read) => read.after === null)
        .map((read) => read.table_name);
      expect(firstAlone.sort()).toEqual(['heavy_b', 'heavy_c']);
    } finally {
      production.gateway.captureRequests(false);
    }
    for (const table of ['heavy_a', 'heavy_b', 'heavy_c']) expect(await digest(staging, table)).toEqual(await digest(production, table));
  });

  it('stops a replace whose backup meets such a row in staging, leaves no backup file behind, and empties nothing', async () => {
    // Tables of a few rows backed up beside it, several at once: the run still stops on the one, and none is emptied.
    const beside = ['beside_1', 'beside_2', 'beside_3', 'beside_4', 'beside_5', 'beside_6'];
    const besideTables = beside.map((name) => `CREATE TABLE public.${name} (id integer PRIMARY KEY, payload text NOT NULL);`).join('\n');
    await Promise.all([query(production.adminUrl, `SET ROLE postgres; ${besideTables}`), query(staging.adminUrl, `SET ROLE postgres; ${besideTables}`)]);
    await query(staging.adminUrl, beside.map((name) => `INSERT INTO public.${name} SELECT id, 'staging' FROM generate_series(1, 3) id;`).join('\n'));
    await query(staging.adminUrl, `INSERT INTO public.big_rows VALUES (7, repeat('s', ${FIFTY_MB}))`);
    const before = await Promise.all(['big_rows', ...beside].map((name) => digest(staging, name)));
    const cwd = emptyDirectory();
    const result = await sync(['--tables', ['big_rows', ...beside].join(',')], cwd);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Backing up staging's public.big_rows: public.big_rows: the row id=7 holds 52.4 MB");
    expect(result.stderr).toContain('Nothing was changed');
    const backups = join(cwd, '.supasync', 'backups');
    expect(existsSync(backups) ? readdirSync(backups) : []).toEqual([]);
    expect(await Promise.all(['big_rows', ...beside].map((name) => digest(staging, name)))).toEqual(before);
    expect(before.slice(1).map(([table]) => table?.rows)).toEqual(beside.map(() => 3));
    await query(staging.adminUrl, `TRUNCATE public.big_rows; ${beside.map((name) => `DROP TABLE public.${name};`).join(' ')}`);
    await query(production.adminUrl, beside.map((name) => `DROP TABLE public.${name};`).join(' '));
  });

  it('copies rows larger than a page exactly, each in a request of its own', async () => {
    staging.gateway.resetStats();
    const result = await sync(['--tables', 'wide_rows']);
    expect(result.stderr).not.toMatch(/warning|error/i);
    expect(result.code).toBe(0);
    expect(await digest(staging, 'wide_rows')).toEqual(await digest(production, 'wide_rows'));
    // Each page ends at a 2.4 MB row (50, 100, 150, 200), the one that crosses its
    // budget, and that row is written alone after the 49 before it: 4 x 2 requests.
    expect(staging.gateway.stats().requests['/rpc/supasync_write_rows']).toBe(8);
  });
});

describe('supasync_read_rows, called as a sync calls it', () => {
  const read = (table: string, args: Record<string, unknown>) =>
    callRpc<Row[]>(connectSupabase(production.apiUrl, production.serviceRoleKey), 'supasync_read_rows', {
      table_schema: 'public',
      table_name: table,
      columns: ['id', 'payload'],
      key_columns: ['id'],
      after: null,
      page_size: 1000,
      ...args,
    });
  beforeEach(() => production.gateway.resetStats());

  it('ends the first page at its byte budget, counted in PostgreSQL, not at page_size', async () => {
    const budget = 256 * 1024;
    const page = await read('wide_rows', { max_bytes: budget });
    // Small rows until the 2.4 MB row 50 reaches the budget: it ends the page.
    expect(page.map((row) => Number(row[0]))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const sizes = page.map(rowBytes);
    expect(sizes.slice(0, -1).reduce((a, b) => a + b, 0)).toBeLessThan(budget);
    // One page's bytes crossed the wire, not the table's 9.6 MB that page_size alone allows.
    expect(production.gateway.stats().bytesDown).toBeLessThan(3 * MB);
  });

  it('counts a row by the JSON text it crosses the wire as: control characters, six bytes each there, refused by key and size', async () => {
    // About a sixth of the bound in jsonb, past it as JSON text (\u0001 for each).
    const characters = Math.ceil(MAX_ROW_BYTES / 5);
    await query(
      production.adminUrl,
      `SET ROLE postgres; CREATE TABLE public.escaped_rows (id integer PRIMARY KEY, payload text); INSERT INTO public.escaped_rows VALUES (1, 'small'), (2, repeat(chr(1), ${characters}));`,
    );
    const failure = await read('escaped_rows', { max_bytes: 2 * 1024 * 1024, max_row_bytes: MAX_ROW_BYTES }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: '54000', kind: 'too-large' });
    const said = JSON.parse((failure as RpcFailure).details ?? '') as { key: string[]; bytes: number };
    expect(said.key).toEqual(['2']);
    expect(said.bytes).toBeGreaterThan(6 * characters);
    expect(production.gateway.stats().bytesDown).toBeLessThan(10_000);
  });

  it("is never taken for a table's last by the client's count where PostgreSQL ended it at its byte budget", async () => {
    // Values whose bytes are not their characters (accents, emoji, control characters, quotes, backslashes), nulls and
    // longer ones: a page cut short of the table at any budget is counted at the budget or past it, so another follows.
    await query(
      production.adminUrl,
      `SET ROLE postgres;
       CREATE TABLE public.counted_rows (id integer PRIMARY KEY, t text, u text);
       INSERT INTO public.counted_rows
         SELECT i, CASE i % 4 WHEN 0 THEN repeat('é€😀', i) WHEN 1 THEN repeat(chr(1) || '"\\', i) WHEN 2 THEN NULL ELSE repeat('x', 40 * i) END,
                CASE WHEN i % 3 = 0 THEN NULL ELSE repeat('ñ', i) END
         FROM generate_series(1, 60) i;`,
    );
    const columns = ['id', 't', 'u'];
    const whole = await read('counted_rows', { columns, max_bytes: 10 * MB });
    expect(whole).toHaveLength(60);
    const total = pageBytesCounted(whole, Infinity);
    expect(total).toBeLessThan(10 * MB);
    let cut = 0;
    for (let budget = 40; budget < total; budget = Math.ceil(budget * 1.05)) {
      const page = await read('counted_rows', { columns, max_bytes: budget });
      if (page.length === whole.length) continue;
      cut++;
      expect(pageBytesCounted(page, budget), `a page of ${page.length} rows under a budget of ${budget} bytes`).toBe(budget);
    }
    expect(cut).toBeGreaterThan(50);
  });

  it('pages a table without a key a window of blocks at a time: every row once, in place order, across a stretch of empty blocks', async () => {
    // 60,000 small rows over about 270 blocks, and a stretch of empty blocks in the middle a page must read past.
    await query(
      production.adminUrl,
      `SET ROLE postgres;
       CREATE TABLE public.keyless_rows (v smallint);
       INSERT INTO public.keyless_rows SELECT g % 1000 FROM generate_series(1, 60000) g;
       DELETE FROM public.keyless_rows WHERE ctid >= '(60,0)' AND ctid < '(150,0)';
       ANALYZE public.keyless_rows;`,
    );
    const expected = await query<{ n: number; sum: number }>(production.adminUrl, 'SELECT count(*)::int AS n, sum(v)::int AS sum FROM public.keyless_rows');
    const places: string[] = [];
    let sum = 0;
    for (let after: string[] | null = null; ;) {
      const page = await read('keyless_rows', { columns: ['v'], key_columns: [], after, max_bytes: 2 * 1024 * 1024 });
      if (!page.length) break;
      for (const row of page) {
        sum += Number(row[0]);
        places.push(String(row[1]));
      }
      after = [String(page[page.length - 1]?.[1])];
    }
    const block = (place: string) => place.slice(1, -1).split(',').map(Number) as [number, number];
    const ordered = [...places].sort((a, b) => block(a)[0] - block(b)[0] || block(a)[1] - block(b)[1]);
    expect(places).toEqual(ordered);
    expect(new Set(places).size).toBe(places.length);
    expect({ n: places.length, sum }).toEqual(expected[0]);
  });

  it('refuses a row over max_row_bytes before sending any of it, naming its key and size', async () => {
    const failure = await read('big_rows', { max_bytes: 2 * 1024 * 1024, max_row_bytes: MAX_ROW_BYTES }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RpcFailure);
    expect(failure).toMatchObject({ code: '54000', kind: 'too-large' });
    expect(JSON.parse((failure as RpcFailure).details ?? '')).toEqual({ key: ['1'], bytes: FIFTY_MB + 17 });
    expect(production.gateway.stats().bytesDown).toBeLessThan(10_000);
  });
});

describe('a request that gets no answer', () => {
  // Deadlines short enough for a test: a 1 s base instead of 30 s.
  const client = () => connectSupabase(staging.apiUrl, staging.serviceRoleKey, 8, { baseMs: 1000 });
  const countries = (rows: Row[]) => ({
    table_schema: 'public',
    table_name: 'sire_countries',
    columns: ['country_code', 'name'],
    key_columns: ['country_code'],
    rows,
  });
  beforeEach(() => {
    staging.gateway.clearFaults();
    staging.gateway.resetStats();
  });

  it('is sent again once its deadline passes, and a write whose answer was held lands once', async () => {
    staging.gateway.injectFaults({ stall: 1, onlyPaths: /^\/rpc\/supasync_write_rows$/ });
    const retried: string[] = [];
    const started = performance.now();
    const result = await callRpc<{ written: number }>(
      client(),
      'supasync_write_rows',
      countries([
        ['S1', 'Stalled'],
        ['S2', 'Stalled too'],
      ]),
      {
        onRetry: (failure) => retried.push(failure.message),
      },
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
    expect(retried).toEqual([
      expect.stringMatching(/^RequestTimeout: no complete answer to POST \/rest\/v1\/rpc\/supasync_write_rows within 1 s \(\d+ B sent, 0 B received\)$/),
    ]);
    // The held attempt committed; the second found the rows equal and left them alone.
    expect(result.written).toBe(0);
    expect(staging.gateway.stats().faults.stall).toBe(1);
    expect(await query(staging.adminUrl, `SELECT country_code, name FROM public.sire_countries WHERE country_code LIKE 'S_' ORDER BY 1`)).toEqual([
      { country_code: 'S1', name: 'Stalled' },
      { country_code: 'S2', name: 'Stalled too' },
    ]);
  });

  it('is reported after three silences, with what it sent and what to check', async () => {
    staging.gateway.injectFaults({ stall: 3, onlyPaths: /^\/rpc\/supasync_count_rows$/ });
    let retries = 0;
    const started = performance.now();
    const failure = await callRpc(
      client(),
      'supasync_count_rows',
      { table_schema: 'public', table_name: 'sire_countries' },
      { onRetry: () => retries++ },
    ).catch((error: unknown) => error);
    const seconds = (performance.now() - started) / 1000;
    expect(failure).toBeInstanceOf(RpcFailure);
    expect(failure).toMatchObject({ kind: 'transient', status: 0, details: undefined });
    expect((failure as RpcFailure).message).toMatch(/^RequestTimeout: no complete answer to POST \/rest\/v1\/rpc\/supasync_count_rows within 1 s/);
    expect((failure as RpcFailure).hint).toContain('--via postgres');
    expect(retries).toBe(2);
    expect(staging.gateway.stats().faults.stall).toBe(3);
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(seconds).toBeLessThan(15);
  });

  it('is not cut while its answer keeps arriving: the deadline grows with the bytes', async () => {
    // A 500 kB/s link down: the 2.4 MB row's page (gzipped about in half) takes over 2 s, twice the 1 s base.
    production.gateway.setProfile('remote', new Link({ downBytesPerSecond: 500_000, upBytesPerSecond: 500_000 }));
    try {
      const slow = connectSupabase(production.apiUrl, production.serviceRoleKey, 8, { baseMs: 1000, bytesPerSecond: 500_000 });
      const started = performance.now();
      const page = await callRpc<Row[]>(
        slow,
        'supasync_read_rows',
        { table_schema: 'public', table_name: 'wide_rows', columns: ['id', 'payload'], key_columns: ['id'], after: [49], page_size: 1, max_bytes: 1 },
        { retries: 0 },
      );
      expect(page.map((row) => row[0])).toEqual(['50']);
      expect(performance.now() - started).toBeGreaterThan(2000);
    } finally {
      production.gateway.setProfile('local');
    }
  });
});
