// The key ranges a re-sync compares and then copies: range_sums_query counts
// a row in the range key_range_filter picks it by, at every depth, for keys
// of every shape, and a changed row changes its range's sum and no other.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../lib/connect/postgres.ts';
import { runBuilt, runShared } from '../lib/sql/shared.ts';
import { parseRangeSums } from '../lib/transport/checksum.ts';
import { sharedStack } from './setup/stack.ts';

const { production } = sharedStack();

const TABLES = [
  { schema: 'public', name: 'sire_countries', key: ['country_code'] },
  { schema: 'public', name: 'unit_daily_rates', key: ['accommodation_unit_id', 'rate_date'] },
  { schema: 'public', name: 'booking_events', key: ['id', 'occurred_on'] },
  { schema: 'public', name: 'MixedCase', key: ['Id'] },
  { schema: 'public', name: 'binary_zoo', key: ['id'] },
];

describe('key ranges', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = await connectPostgres('production', production.dbUrl);
  });
  afterAll(async () => {
    await client.end();
  });

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
      const sums = parseRangeSums(await runBuilt<string>(client, 'range_sums_query', [schema, name, columns, key, bits, null, binary]));
      let counted = 0;
      for (const [range, sum] of sums) {
        const filter = await runShared<string>(client, 'key_range_filter', [key, bits, [range]]);
        const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoted(schema, name)} WHERE ${filter}`);
        expect(`${rows[0]?.n}`, `${name} range ${range} at ${bits} bits`).toBe(sum.split(':')[0]);
        counted += rows[0]?.n ?? 0;
      }
      expect(counted).toBe(total);
      expect(Math.max(...sums.keys())).toBeLessThan(2 ** bits);
    }
  });

  it.each([false, true])("changes one range's sum when one row changes, and no other (binary: %s)", async (binary) => {
    const columns = await columnsOf('public', 'sire_countries');
    // Production's connections are read-only: the change is made, and rolled back, as the admin.
    const admin = new pg.Client(production.adminUrl);
    await admin.connect();
    const sums = async () =>
      parseRangeSums(await runBuilt<string>(admin, 'range_sums_query', ['public', 'sire_countries', columns, ['country_code'], 8, null, binary]));
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
    const sums = async () => parseRangeSums(await runBuilt<string>(admin, 'range_sums_query', ['public', 'binary_zoo', columns, ['id'], 0, 'id = 1', true]));
    await admin.query('BEGIN');
    try {
      await admin.query(`UPDATE public.binary_zoo SET ${from} WHERE id = 1`);
      const before = await sums();
      await admin.query(`UPDATE public.binary_zoo SET ${to} WHERE id = 1`);
      expect(await sums()).not.toEqual(before);
    } finally {
      await admin.query('ROLLBACK');
      await admin.end();
    }
  });
});
