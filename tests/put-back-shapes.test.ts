// The rows a REST re-sync clears to write afresh are kept in staging as
// their row's text and put back from it where staging then holds no version
// of them (supasync_clear_rows, supasync_put_back, functions version 23).
// Each table shape here goes back byte for byte: a partitioned table, an
// inheritance parent whose children's rows are not its own, a quoted name in
// a quoted schema with a column named as the clear's alias, a dropped
// column, generated and identity ALWAYS columns, awkward values, and a
// DEFERRABLE key no ON CONFLICT can target. A row whose key staging holds
// again stays as it is; one another row's unique value keeps out is counted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SupabaseClient } from '@supabase/supabase-js';
import type { Project } from '../stack/index.ts';
import { connectSupabase } from '../lib/connect/supabase.ts';
import { query, rowTexts } from './helpers/content.ts';
import { sharedStack } from './setup/stack.ts';

const SCHEMA = `
  CREATE SCHEMA "My Schema";
  CREATE TYPE "My Schema".money_pair AS (amount numeric, currency text);
  CREATE TABLE "My Schema"."Odd ""Name""" (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gone text,
    supasync_cleared text,
    title text UNIQUE,
    shout text GENERATED ALWAYS AS (upper(title)) STORED,
    tags text[],
    price "My Schema".money_pair,
    doc jsonb,
    raw bytea,
    x float8,
    at timestamptz,
    span interval
  );
  ALTER TABLE "My Schema"."Odd ""Name""" DROP COLUMN gone;
  CREATE TABLE "My Schema".reading (id int, day date, value numeric, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
  CREATE TABLE "My Schema".reading_2024 PARTITION OF "My Schema".reading FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
  CREATE TABLE "My Schema".reading_2025 PARTITION OF "My Schema".reading FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  CREATE TABLE "My Schema".animal (id int PRIMARY KEY, name text);
  CREATE TABLE "My Schema".dog (good boolean) INHERITS ("My Schema".animal);
  CREATE TABLE "My Schema".slot (id int PRIMARY KEY DEFERRABLE INITIALLY IMMEDIATE, position int UNIQUE);
`;

const ROWS = `
  INSERT INTO "My Schema"."Odd ""Name""" (id, supasync_cleared, title, tags, price, doc, raw, x, at, span) OVERRIDING SYSTEM VALUE VALUES
    (1, 'alias', 'one', '{a,"b,c",NULL,"}"}', ROW(1.50, 'EUR'), '{"k": [1, "two", null]}', '\\x00ff0a', '-0', '2024-02-29 23:59:59.999999+00', '1 mon -2 days 03:00'),
    (2, NULL, 'two "quoted"', '{}', ROW(NULL, NULL), 'null', '', 'NaN', 'infinity', '-178000000 years'),
    (3, E'line\\nbreak\\\\', E'tab\\tthree', NULL, NULL, NULL, NULL, '-Infinity', NULL, NULL);
  INSERT INTO "My Schema".reading VALUES (1, '2024-06-01', 1.10), (1, '2025-06-01', 2.20), (2, '2024-07-01', 3.30);
  INSERT INTO "My Schema".animal VALUES (1, 'cat');
  INSERT INTO "My Schema".dog VALUES (1, 'rex', true), (2, 'fido', false);
  INSERT INTO "My Schema".slot VALUES (1, 10), (2, 20), (3, 30);
`;

const TABLES = [
  { name: 'Odd "Name"', sql: '"My Schema"."Odd ""Name"""', key: ['id'], keys: [['1'], ['2'], ['3']] },
  {
    name: 'reading',
    sql: '"My Schema".reading',
    key: ['id', 'day'],
    keys: [
      ['1', '2024-06-01'],
      ['1', '2025-06-01'],
      ['2', '2024-07-01'],
    ],
  },
  { name: 'animal', sql: '"My Schema".animal', key: ['id'], keys: [['1']] },
  { name: 'slot', sql: '"My Schema".slot', key: ['id'], keys: [['1'], ['2'], ['3']] },
];
const RUN = '00000000-0000-4000-8000-0000000000aa';

describe('rows a REST re-sync cleared, put back', () => {
  let staging: Project;
  let client: SupabaseClient;
  const rpc = async (name: string, args: Record<string, unknown>) => {
    const { data, error } = await client.rpc(name, args);
    if (error) throw new Error(`${name}: ${error.message}`);
    return data as unknown;
  };
  // The parent's own rows: ONLY, as the clear takes them.
  const contents = async () => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t.name, await rowTexts(staging.adminUrl, `ONLY ${t.sql}`)])));
  const dogs = () => rowTexts(staging.adminUrl, '"My Schema".dog');

  beforeAll(async () => {
    staging = await sharedStack().stack.createProject('put_back_staging');
    await query(staging.adminUrl, `SET ROLE postgres; ${SCHEMA} ${ROWS}`);
    client = connectSupabase(staging.apiUrl, staging.secretKey, undefined, {}, RUN);
    expect(await rpc('supasync_take_lease', { run: RUN, about: 'put-back test', seconds: 60 })).toMatchObject({ taken: true });
  });
  afterAll(async () => {
    await staging?.stop();
  });

  const clear = async (table: (typeof TABLES)[number]) => {
    const filter = await rpc('supasync_key_filter', { table_schema: 'My Schema', table_name: table.name, key_columns: table.key, keys: table.keys });
    return rpc('supasync_clear_rows', { table_schema: 'My Schema', table_name: table.name, row_filter: filter, key_columns: table.key });
  };

  it('goes back byte for byte, whatever the table', async () => {
    const before = await contents();
    const dogsBefore = await dogs();
    for (const table of TABLES) expect(await clear(table), table.name).toEqual({ deleted: table.keys.length });
    expect(Object.values(await contents()).flat()).toEqual([]);
    // The parent's own rows alone: a child table's rows are not the parent's to clear.
    expect(await dogs()).toEqual(dogsBefore);
    for (const table of TABLES) {
      expect(await rpc('supasync_put_back', { table_schema: 'My Schema', table_name: table.name }), table.name).toEqual([
        { table: table.sql, held: table.keys.length, putBack: table.keys.length, left: 0, error: null },
      ]);
    }
    expect(await contents()).toEqual(before);
    expect(await dogs()).toEqual(dogsBefore);
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM supasync_private.cleared_rows')).toEqual([{ n: 0 }]);
  });

  it("leaves a row staging holds a version of as it is, and counts one another row's unique value keeps out", async () => {
    const slot = TABLES[3] as (typeof TABLES)[number];
    await clear(slot);
    // Production's slot 1 went in; a new slot took slot 2's position.
    await query(staging.adminUrl, `INSERT INTO "My Schema".slot VALUES (1, 11), (4, 20)`);
    const [answer] = (await rpc('supasync_put_back', { table_schema: 'My Schema', table_name: 'slot' })) as { error: string }[];
    expect(answer).toEqual({ table: '"My Schema".slot', held: 3, putBack: 1, left: 1, error: expect.stringContaining('slot_position_key') });
    expect(await rowTexts(staging.adminUrl, slot.sql)).toEqual(['(1,11)', '(3,30)', '(4,20)']);
  });

  it('are put back, every table of the run, as its lease ends', async () => {
    const before = await contents();
    await clear(TABLES[0] as (typeof TABLES)[number]);
    await clear(TABLES[1] as (typeof TABLES)[number]);
    const answer = (await rpc('supasync_release_lease', { run: RUN })) as { table: string; putBack: number }[];
    expect(answer.map(({ table, putBack }) => [table, putBack]).sort()).toEqual([
      ['"My Schema"."Odd ""Name"""', 3],
      ['"My Schema".reading', 3],
    ]);
    expect(await contents()).toEqual(before);
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM supasync_private.run_lease')).toEqual([{ n: 0 }]);
  });

  it('are refused to anon and authenticated, and to a request naming no run', async () => {
    for (const key of [staging.anonKey, staging.publishableKey]) {
      const { error } = await connectSupabase(staging.apiUrl, key, undefined, {}, RUN).rpc('supasync_put_back', {
        table_schema: 'My Schema',
        table_name: 'slot',
      });
      expect(error?.message).toMatch(/permission denied/);
    }
    const { error } = await connectSupabase(staging.apiUrl, staging.secretKey).rpc('supasync_clear_rows', {
      table_schema: 'My Schema',
      table_name: 'slot',
      row_filter: 'true',
      key_columns: ['id'],
    });
    expect(error?.message).toContain('this request names none (header x-supasync-run)');
    expect(await rowTexts(staging.adminUrl, '"My Schema".slot')).toHaveLength(3);
  });
});
