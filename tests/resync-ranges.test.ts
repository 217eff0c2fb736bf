// The key ranges a re-sync compares and then copies: range_sums_query counts
// a row in the range key_range_filter picks it by, at every depth, for keys
// of every shape, and a changed row changes its range's sum and no other.
// The direct path's row-by-row hashes (row_hashes_query) are ranges at 64
// bits: the same filter picks each key hash's rows.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../lib/connect/postgres.ts';
import { connectSupabase } from '../lib/connect/supabase.ts';
import { keyedHashes, parseRangeSums } from '../lib/transport/checksum.ts';
import { keyRanges } from '../lib/transport/postgres/key-ranges.ts';
import { MAX_ROWS_SORTED_HERE } from '../lib/transport/postgres/sorted-hashes.ts';
import { quoteLiteral } from '../lib/sql/ident.ts';
import { runShared } from '../lib/sql/shared.ts';
import type { RowHashes } from '../lib/transport/reads.ts';
import { sharedStack } from './setup/stack.ts';

const { production } = sharedStack();

const TABLES = [
  { schema: 'public', name: 'sire_countries', key: ['country_code'] },
  { schema: 'public', name: 'unit_daily_rates', key: ['accommodation_unit_id', 'rate_date'] },
  { schema: 'public', name: 'booking_events', key: ['id', 'occurred_on'] },
  { schema: 'public', name: 'MixedCase', key: ['Id'] },
  { schema: 'public', name: 'binary_zoo', key: ['id'] },
];

// One connection to production, as the direct path's reads hold it, for every question below.
let client: pg.Client;
beforeAll(async () => {
  client = await connectPostgres('production', production.dbUrl);
});
afterAll(async () => {
  await client.end();
});

describe('key ranges', () => {
  const columnsOf = async (schema: string, name: string) =>
    (
      await client.query<{ attname: string }>(
        `SELECT attname FROM pg_attribute WHERE attrelid = format('%I.%I', $1::text, $2::text)::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [schema, name],
      )
    ).rows.map((row) => row.attname);
  const quoted = (schema: string, name: string) => `"${schema}"."${name}"`;

  it.each(TABLES)('picks by key_range_filter exactly the rows range_sums_query counts in each range: $name', async ({ schema, name, key }) => {
    const columns = await columnsOf(schema, name);
    const [{ total }] = (await client.query<{ total: number }>(`SELECT count(*)::int AS total FROM ${quoted(schema, name)}`)).rows as [{ total: number }];
    expect(total).toBeGreaterThan(10);
    for (const [bits, binary] of [
      [0, false],
      [3, true],
      [9, false],
      [9, true],
    ] as const) {
      const sums = await keyRanges(client).rangeSums({ table: { schema, name }, columns, keyColumns: key }, bits, null, binary, null);
      let counted = 0;
      for (const [range, sum] of sums) {
        const filter = await keyRanges(client).keyRangeFilter({ table: { schema, name }, keyColumns: key }, { bits, ranges: [String(range)] }, binary);
        const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoted(schema, name)} WHERE ${filter}`);
        expect(`${rows[0]?.n}`, `${name} range ${range} at ${bits} bits`).toBe(sum.split(':')[0]);
        counted += rows[0]?.n ?? 0;
      }
      expect(counted).toBe(total);
      expect(Math.max(...sums.keys())).toBeLessThan(2 ** bits);
    }
  });

  it.each(TABLES)('streams every row once, sorted, as a range at 64 bits that key_range_filter picks: $name', async ({ schema, name, key }) => {
    const columns = await columnsOf(schema, name);
    const [{ total }] = (await client.query<{ total: number }>(`SELECT count(*)::int AS total FROM ${quoted(schema, name)}`)).rows as [{ total: number }];
    for (const binary of [false, true]) {
      const target = { table: { schema, name }, columns, keyColumns: key };
      const pairs = await readAll(await keyRanges(client).rowHashes(target, null, binary));
      expect(pairs).toHaveLength(total);
      const sorted = [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
      expect(pairs).toEqual(sorted);
      // A table too large to sort here is sorted by the server, in the same order.
      const byServer = await readAll(await keyRanges(client).rowHashes({ ...target, rowEstimate: MAX_ROWS_SORTED_HERE + 1 }, null, binary));
      expect(byServer).toEqual(pairs);
      for (const [keyHash] of [pairs[0], pairs[Math.floor(total / 2)], pairs[total - 1]] as [bigint, bigint][]) {
        const filter = await keyRanges(client).keyRangeFilter({ table: { schema, name }, keyColumns: key }, { bits: 64, ranges: [String(keyHash)] }, binary);
        const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoted(schema, name)} WHERE ${filter}`);
        expect(rows[0]?.n, `${name}: the rows of key hash ${keyHash}`).toBe(pairs.filter(([k]) => k === keyHash).length);
      }
    }
    // The connection is free again for the next query.
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it.each([false, true])('answers over REST, several tables in one request, what the direct path computes (binary: %s)', async (binary) => {
    const service = connectSupabase(production.apiUrl, production.serviceRoleKey);
    // One question at a time on the one direct connection (pg deprecates queries queued on a busy client).
    const targets: { table: { schema: string; name: string }; columns: string[]; keyColumns: string[] }[] = [];
    for (const { schema, name, key } of TABLES) targets.push({ table: { schema, name }, columns: await columnsOf(schema, name), keyColumns: key });
    const direct = keyRanges(client);
    const wanted = [];
    for (const target of targets) {
      const sums = await direct.rangeSums(target, 6, null, binary, null);
      const within = { bits: 6, ranges: [...sums.keys()].slice(0, 3).map(String) };
      wanted.push({
        target,
        sums,
        within,
        narrowed: await direct.rangeSums(target, 9, null, binary, within),
        rows: await direct.rangeRows(target, null, binary, within),
      });
    }
    const request = (target: (typeof targets)[number], bits: number | null, within: { bits: number; ranges: string[] } | null) => ({
      table_schema: target.table.schema,
      table_name: target.table.name,
      columns: target.columns,
      key_columns: target.keyColumns,
      use_binary: binary,
      bits,
      within_bits: within?.bits ?? null,
      within_ranges: within?.ranges ?? null,
    });
    const { data, error } = await service.rpc('supasync_key_ranges', {
      requests: wanted.flatMap(({ target, within }) => [request(target, 6, null), request(target, 9, within), request(target, null, within)]),
    });
    expect(error).toBeNull();
    const answers = data as unknown[];
    expect(answers).toHaveLength(wanted.length * 3);
    wanted.forEach(({ sums, narrowed, rows }, i) => {
      expect(parseRangeSums(answers[i * 3] as string)).toEqual(sums);
      expect(parseRangeSums(answers[i * 3 + 1] as string)).toEqual(narrowed);
      expect(keyedHashes(answers[i * 3 + 2] as [string[], string][])).toEqual(rows);
      expect(rows.size).toBeGreaterThan(0);
    });
  });

  it.each([false, true])("changes one range's sum when one row changes, and no other (binary: %s)", async (binary) => {
    const columns = await columnsOf('public', 'sire_countries');
    // Production's connections are read-only: the change is made, and rolled back, as the admin.
    const admin = new pg.Client(production.adminUrl);
    await admin.connect();
    const sums = async () =>
      keyRanges(admin).rangeSums({ table: { schema: 'public', name: 'sire_countries' }, columns, keyColumns: ['country_code'] }, 8, null, binary, null);
    await admin.query('BEGIN');
    try {
      const before = await sums();
      await admin.query(`UPDATE public.sire_countries SET name = name || '.' WHERE country_code = (SELECT min(country_code) FROM public.sire_countries)`);
      const after = await sums();
      const differing = [...before.keys()].filter((range) => before.get(range) !== after.get(range));
      expect(differing).toHaveLength(1);
      expect(after.size).toBe(before.size);
    } finally {
      await admin.query('ROLLBACK');
      await admin.end();
    }
  });
});

describe('rows picked by key', () => {
  // feature_flags' key is unique NULLS NOT DISTINCT: its one NULL key is a key, which = never matches.
  it('picks the row whose key is NULL with the others, over both paths', async () => {
    const keys = [[null], ['Dark-Mode'], ["it's not a flag"]];
    const direct = await runShared<string>(client, 'key_filter', ['public', 'feature_flags', ['flag_key'], JSON.stringify(keys)]);
    const service = connectSupabase(production.apiUrl, production.serviceRoleKey);
    const { data: overRest, error } = await service.rpc('supasync_key_filter', {
      table_schema: 'public',
      table_name: 'feature_flags',
      key_columns: ['flag_key'],
      keys,
    });
    expect(error).toBeNull();
    for (const filter of [direct, overRest as string]) {
      const { rows } = await client.query<{ flag_key: string | null }>(
        `SELECT flag_key::text FROM public.feature_flags WHERE ${filter} ORDER BY 1 NULLS FIRST`,
      );
      expect(rows, filter).toEqual([{ flag_key: null }, { flag_key: 'Dark-Mode' }]);
    }
  });
});

describe('key ranges hashed in binary', () => {
  // Changes a value's text shows and its type's equality does not: binary forms keep them apart as text does.
  it.each([
    ['num', `num = 1.0`, `num = 1.00`],
    ['f8', `f8 = 0`, `f8 = '-0'`],
    ['docb', `docb = '{"a": 1.0}'`, `docb = '{"a": 1.00}'`],
    ['span', `span = '1 day'`, `span = '24 hours'`],
    ['body', `body = NULL`, `body = ''`],
  ])('sees %s change from %s to %s', async (_column, from, to) => {
    const admin = new pg.Client(production.adminUrl);
    await admin.connect();
    const columns = (
      await admin.query<{ attname: string }>(
        `SELECT attname FROM pg_attribute WHERE attrelid = 'public.binary_zoo'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      )
    ).rows.map((row) => row.attname);
    const target = { table: { schema: 'public', name: 'binary_zoo' }, columns, keyColumns: ['id'] };
    const sums = async () => ({
      ranges: await keyRanges(admin).rangeSums(target, 0, 'id = 1', true, null),
      rows: await readAll(await keyRanges(admin).rowHashes(target, 'id = 1', true)),
    });
    await admin.query('BEGIN');
    try {
      await admin.query(`UPDATE public.binary_zoo SET ${from} WHERE id = 1`);
      const before = await sums();
      await admin.query(`UPDATE public.binary_zoo SET ${to} WHERE id = 1`);
      const after = await sums();
      expect(after.ranges).not.toEqual(before.ranges);
      expect(after.rows[0]?.[1]).not.toBe(before.rows[0]?.[1]);
    } finally {
      await admin.query('ROLLBACK');
      await admin.end();
    }
  });
});

async function readAll(hashes: RowHashes): Promise<[bigint, bigint][]> {
  const pairs: [bigint, bigint][] = [];
  for (let chunk = await hashes.next(); chunk; chunk = await hashes.next()) {
    for (let at = 0; at < chunk.length; at += 4) pairs.push([hash64(chunk, at), hash64(chunk, at + 2)]);
  }
  await hashes.close();
  return pairs;
}

/** A 64-bit hash from its two words, high (signed) then low. */
function hash64(words: Int32Array, at: number): bigint {
  return (BigInt(words[at] ?? 0) << 32n) | BigInt((words[at + 1] ?? 0) >>> 0);
}

describe("an incremental run's flags and watermarks", () => {
  it.each([true, false])(
    'sums rows past the watermark so that any number of them in one range shows, two or four as well as one (others by key: %s)',
    async (othersByKey) => {
      const target = { table: { schema: 'public', name: 'sire_countries' }, columns: ['country_code', 'name'], keyColumns: ['country_code'] };
      const codes = (await client.query<{ code: string }>('SELECT country_code AS code FROM public.sire_countries ORDER BY 1 LIMIT 4')).rows.map((r) => r.code);
      const sums = (rows: string) => keyRanges(client).rangeSums(target, 0, null, true, null, { rows, othersByKey });
      // One range (0 bits) holds every row: staging's side, flagged by false, against production's with 1, 2 and 4 rows past its watermark.
      const unflagged = await sums('false');
      for (const count of [1, 2, 4]) {
        const past = `country_code IN (${codes
          .slice(0, count)
          .map((code) => `'${code}'`)
          .join(', ')})`;
        expect(await sums(past), `${count} row(s) flagged`).not.toEqual(unflagged);
      }
      expect(await sums('false')).toEqual(unflagged);
    },
  );

  it('sums a range where production added a row with an old stamp and deleted another unlike staging, though no row is flagged and the count is the same', async () => {
    const target = { table: { schema: 'public', name: 'sire_countries' }, columns: ['country_code', 'name'], keyColumns: ['country_code'] };
    const codes = (await client.query<{ code: string }>('SELECT country_code AS code FROM public.sire_countries ORDER BY 1 LIMIT 4')).rows.map((r) => r.code);
    const rowsOf = (keys: (string | undefined)[]) => `country_code IN (${keys.map((code) => `'${code}'`).join(', ')})`;
    // One range (0 bits): staging holds rows 0, 1, 2; production deleted 2 and holds 3 instead, stamped before the watermark.
    const sides = async (othersByKey: boolean): Promise<[Map<number, string>, Map<number, string>]> => [
      await keyRanges(client).rangeSums(target, 0, rowsOf([codes[0], codes[1], codes[3]]), true, null, { rows: `country_code = 'none'`, othersByKey }),
      await keyRanges(client).rangeSums(target, 0, rowsOf(codes.slice(0, 3)), true, null, { rows: 'false', othersByKey }),
    ];
    const [production, staging] = await sides(true);
    const count = (sums: Map<number, string>) => [...sums.values()].map((sum) => sum.split(':')[0]);
    expect([count(production), count(staging)]).toEqual([['3'], ['3']]);
    expect(production).not.toEqual(staging);
    // The others hashed as 0 (by xmin, where every row added is flagged) leave a range its count and flags alone: this one would look equal.
    const [blindProduction, blindStaging] = await sides(false);
    expect([[...blindProduction.values()], [...blindStaging.values()]]).toEqual([['3:0'], ['3:0']]);
  });

  it.each(['on', 'off'])('reads a watermark back as the text it was, quoted as a literal (standard_conforming_strings %s)', async (setting) => {
    await client.query(`SET standard_conforming_strings = ${setting}`);
    try {
      for (const value of ["2026-01-01' OR true --", "a'b\\c", "x\\'; SELECT 1; --"]) {
        const { rows } = await client.query<{ same: boolean }>(`SELECT ${quoteLiteral(value)}::text = $1 AS same`, [value]);
        expect(rows[0]?.same, value).toBe(true);
      }
    } finally {
      await client.query('RESET standard_conforming_strings');
    }
  });
});
