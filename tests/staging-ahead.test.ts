// A staging whose migrations are ahead of production's: what it has that
// production lacks must not let a run exit 0 with staging broken. A foreign
// key staging alone has (or production has NOT VALID) is not held by
// production's rows: copied whole, under the replica role, they broke it
// unchecked, and over REST the run blamed production moving.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withClient, type Project } from '../stack/index.ts';
import { query, rowTexts, tableDigests } from './helpers/content.ts';
import { projectPair } from './helpers/project-pair.ts';
import { emptyDirectory, runScript, startScript } from './helpers/run-script.ts';
import { comparedAs } from '../lib/plan/compared-types.ts';
import { silentChange } from '../lib/plan/lossy-types.ts';
import { EXCLUSION_PAIRS_ROWS } from '../lib/plan/stricter-indexes.ts';
import { planSync } from '../lib/plan/plan.ts';
import { catalogAt } from './helpers/catalog.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const SCHEMA = `CREATE SCHEMA ahead;
  CREATE TABLE ahead.parent (id int PRIMARY KEY, name text);
  CREATE TABLE ahead.child (id int PRIMARY KEY, parent_id int, note text);`;
const TABLES = ['--schemas', 'ahead'];

describe('a staging whose migrations are ahead of production', () => {
  let production: Project;
  let staging: Project;
  projectPair('migrations_ahead', SCHEMA, async (pair) => {
    ({ production, staging } = pair);
    await query(production.adminUrl, `INSERT INTO ahead.parent VALUES (1, 'one'); INSERT INTO ahead.child VALUES (1, 1, 'kept'), (2, 99, 'names no parent')`);
    await query(
      staging.adminUrl,
      `SET ROLE postgres; ALTER TABLE ahead.child ADD CONSTRAINT child_parent_fkey FOREIGN KEY (parent_id) REFERENCES ahead.parent (id);
       INSERT INTO ahead.parent VALUES (5, 'staging'); INSERT INTO ahead.child VALUES (7, 5, 'staging')`,
    );
  });

  it.each(['postgres', 'rest'] as const)(
    "refuses, before writing, production's rows that would break a foreign key staging alone has (via %s)",
    async (via) => {
      const env = envFor(production, staging);
      const cwd = emptyDirectory();
      const before = await tableDigests(staging.adminUrl, ['ahead']);
      const refusal = [
        "Production's rows would break foreign keys that staging has and production lacks (or has NOT VALID); nothing was written:",
        '1 row of ahead.child (ahead.child.parent_id -> ahead.parent.id, child_parent_fkey) finds no parent in production: they name e.g. (99)',
      ];
      for (const args of [['--dry-run'], ['--yes'], ['--yes', '--mode', 'mirror']]) {
        const refused = await runScript('sync.ts', ['--via', via, ...args, ...TABLES], { env, cwd });
        expect(refused.code, refused.stdout + refused.stderr).toBe(1);
        for (const line of refusal) expect(refused.stderr).toContain(line);
        expect(refused.stderr).toContain('add the key there too');
        expect(await tableDigests(staging.adminUrl, ['ahead'])).toEqual(before);
      }
      // The child alone: its parents are staging's, which lack both it names.
      for (const args of [['--dry-run'], ['--yes', '--mode', 'insert-missing']]) {
        const alone = await runScript('sync.ts', ['--via', via, ...args, '--tables', 'ahead.child'], { env, cwd });
        expect(alone.code, alone.stdout + alone.stderr).toBe(1);
        expect(alone.stderr).toContain(
          '2 rows of ahead.child (ahead.child.parent_id -> ahead.parent.id, child_parent_fkey) find no parent in production or staging: they name e.g. (1) (99)',
        );
        expect(alone.stderr).toContain('copy ahead.parent too (--tables, or --with-parents)');
        expect(await tableDigests(staging.adminUrl, ['ahead'])).toEqual(before);
      }
      // Production's key added NOT VALID holds none of its older rows either.
      await query(
        production.adminUrl,
        'SET ROLE postgres; ALTER TABLE ahead.child ADD CONSTRAINT child_parent_fkey FOREIGN KEY (parent_id) REFERENCES ahead.parent (id) NOT VALID',
      );
      try {
        const notValid = await runScript('sync.ts', ['--via', via, '--yes', ...TABLES], { env, cwd });
        expect(notValid.code, notValid.stdout + notValid.stderr).toBe(1);
        for (const line of refusal) expect(notValid.stderr).toContain(line);
        // Once production holds its rows to it, the tables copy whole.
        await query(production.adminUrl, 'UPDATE ahead.child SET parent_id = 1 WHERE id = 2; ALTER TABLE ahead.child VALIDATE CONSTRAINT child_parent_fkey');
        const synced = await runScript('sync.ts', ['--via', via, '--yes', ...TABLES], { env, cwd });
        expect(synced.code, synced.stdout + synced.stderr).toBe(0);
        expect(await rowTexts(staging.adminUrl, 'ahead.child')).toEqual(await rowTexts(production.adminUrl, 'ahead.child'));
      } finally {
        await query(
          production.adminUrl,
          `SET ROLE postgres; ALTER TABLE ahead.child DROP CONSTRAINT child_parent_fkey; UPDATE ahead.child SET parent_id = 99 WHERE id = 2;`,
        );
        await query(
          staging.adminUrl,
          `SET ROLE postgres; TRUNCATE ahead.parent, ahead.child; INSERT INTO ahead.parent VALUES (5, 'staging'); INSERT INTO ahead.child VALUES (7, 5, 'staging')`,
        );
      }
    },
  );
});

// Staging's column draws from a sequence where production's does not (a serial or identity production lacks,
// or another sequence's name): production's plan left it behind the copied numbers, and the app's next insert collided.
const NUMBERED = `CREATE SCHEMA numbered;
  CREATE TABLE numbered.plain (id int PRIMARY KEY, v text);
  CREATE TABLE numbered.identity (id int PRIMARY KEY, v text);
  CREATE TABLE numbered.ticket (id serial PRIMARY KEY, v text);
  CREATE TABLE numbered.down (id int PRIMARY KEY, v text);`;

describe("a staging whose columns draw from sequences production's do not", () => {
  let production: Project;
  let staging: Project;
  projectPair('numbered', NUMBERED, async (pair) => {
    ({ production, staging } = pair);
    await query(
      production.adminUrl,
      `INSERT INTO numbered.plain SELECT i, 'p' || i FROM generate_series(1, 50) i;
       INSERT INTO numbered.identity SELECT i, 'p' || i FROM generate_series(1, 40) i;
       INSERT INTO numbered.ticket SELECT i, 'p' || i FROM generate_series(1, 30) i; SELECT setval('numbered.ticket_id_seq', 30);
       INSERT INTO numbered.down SELECT -i, 'p' || i FROM generate_series(1, 20) i;`,
    );
    await query(
      staging.adminUrl,
      `SET ROLE postgres;
       CREATE SEQUENCE numbered.plain_id_seq OWNED BY numbered.plain.id; ALTER TABLE numbered.plain ALTER id SET DEFAULT nextval('numbered.plain_id_seq');
       ALTER TABLE numbered.identity ALTER id ADD GENERATED BY DEFAULT AS IDENTITY;
       CREATE SEQUENCE numbered.ticket_number; ALTER TABLE numbered.ticket ALTER id SET DEFAULT nextval('numbered.ticket_number');
       CREATE SEQUENCE numbered.down_number INCREMENT -1 MAXVALUE -1 START -1; ALTER TABLE numbered.down ALTER id SET DEFAULT nextval('numbered.down_number');
       INSERT INTO numbered.plain (v) SELECT 's' FROM generate_series(1, 10); INSERT INTO numbered.identity (v) SELECT 's' FROM generate_series(1, 10);
       INSERT INTO numbered.ticket (v) SELECT 's' FROM generate_series(1, 10);`,
    );
  });

  it.each(['postgres', 'rest'] as const)("sets them past the copied numbers, so staging's next insert takes a free one (via %s)", async (via) => {
    const env = envFor(production, staging);
    // Where staging's own ten rows left them.
    await query(
      staging.adminUrl,
      `SELECT setval('numbered.plain_id_seq', 10), setval(pg_get_serial_sequence('numbered.identity', 'id'), 10), setval('numbered.ticket_number', 10),
              setval('numbered.down_number', -1, false)`,
    );
    const synced = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--schemas', 'numbered'], { env, cwd: emptyDirectory() });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    for (const table of ['numbered.plain', 'numbered.identity', 'numbered.ticket', 'numbered.down']) {
      expect(await rowTexts(staging.adminUrl, table), table).toEqual(await rowTexts(production.adminUrl, table));
    }
    const inserted = await query(
      staging.adminUrl,
      `WITH plain AS (INSERT INTO numbered.plain (v) VALUES ('next') RETURNING id),
            identity AS (INSERT INTO numbered.identity (v) VALUES ('next') RETURNING id),
            ticket AS (INSERT INTO numbered.ticket (v) VALUES ('next') RETURNING id),
            down AS (INSERT INTO numbered.down (v) VALUES ('next') RETURNING id)
       SELECT (SELECT id FROM plain) AS plain, (SELECT id FROM identity) AS identity, (SELECT id FROM ticket) AS ticket, (SELECT id FROM down) AS down`,
    );
    // A sequence counting down goes below the smallest.
    expect(inserted).toEqual([{ plain: 51, identity: 41, ticket: 31, down: -21 }]);
  });
});

// Staging's sequence narrower than production's numbers (AS integer where production's went past 2^31): setval()
// failed once every row was in, directly rolling the run back, over REST with the rows written.
const NARROW = `CREATE SCHEMA narrow; CREATE TABLE narrow.item (id bigserial PRIMARY KEY, v text);`;

describe("a staging sequence narrower than production's numbers", () => {
  let production: Project;
  let staging: Project;
  projectPair('narrow_sequences', NARROW, async (pair) => {
    ({ production, staging } = pair);
    await query(production.adminUrl, `SELECT setval('narrow.item_id_seq', 3000000000); INSERT INTO narrow.item (v) VALUES ('a'), ('b')`);
    await query(staging.adminUrl, `SET ROLE postgres; ALTER SEQUENCE narrow.item_id_seq AS integer; INSERT INTO narrow.item (v) VALUES ('staging')`);
  });

  it.each(['postgres', 'rest'] as const)('is refused before writing, with the ALTER SEQUENCE that widens it (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const before = await tableDigests(staging.adminUrl, ['narrow']);
    for (const args of [['--dry-run'], ['--yes'], ['--yes', '--mode', 'mirror']]) {
      const refused = await runScript('sync.ts', ['--via', via, ...args, '--schemas', 'narrow'], { env, cwd });
      expect(refused.code, refused.stdout + refused.stderr).toBe(1);
      expect(refused.stderr).toContain("Staging's sequences cannot stand where production's do");
      expect(refused.stderr).toContain(
        "narrow.item_id_seq (AS integer): production's stands at 3000000002, past its MAXVALUE 2147483647: " +
          'ALTER SEQUENCE "narrow"."item_id_seq" AS bigint MAXVALUE 9223372036854775807;',
      );
      expect(await tableDigests(staging.adminUrl, ['narrow'])).toEqual(before);
    }
    await query(staging.adminUrl, 'SET ROLE postgres; ALTER SEQUENCE "narrow"."item_id_seq" AS bigint MAXVALUE 9223372036854775807');
    try {
      const synced = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--schemas', 'narrow'], { env, cwd });
      expect(synced.code, synced.stdout + synced.stderr).toBe(0);
      expect(await rowTexts(staging.adminUrl, 'narrow.item')).toEqual(await rowTexts(production.adminUrl, 'narrow.item'));
      expect(await query(staging.adminUrl, 'SELECT last_value::text AS last FROM narrow.item_id_seq')).toEqual([{ last: '3000000002' }]);
    } finally {
      await query(
        staging.adminUrl,
        `SET ROLE postgres; TRUNCATE narrow.item; ALTER SEQUENCE narrow.item_id_seq AS integer RESTART 1; INSERT INTO narrow.item (v) VALUES ('staging')`,
      );
    }
  });
});

describe('lossy type changes (plan/lossy-types.ts), held to what PostgreSQL does with a value', () => {
  // Each pair: production's type, staging's, and a value production may hold.
  const PAIRS: [string, string, string][] = [
    ['numeric', 'numeric(10,2)', '1.12345'],
    ['numeric(12,4)', 'numeric(12,2)', '1.1234'],
    ['numeric(12,2)', 'numeric(14,4)', '1.12'],
    ['numeric(10,2)', 'numeric', '1.12'],
    ['numeric', 'integer', '1.5'],
    ['double precision', 'bigint', '2.5'],
    ['double precision', 'real', '0.1234567891'],
    ['real', 'double precision', '0.5'],
    ['integer', 'bigint', '7'],
    ['numeric', 'double precision', '1.123456789012345678901'],
    ['numeric(10,2)', 'double precision', '12345678.12'],
    ['bigint', 'double precision', '9007199254740993'],
    ['integer', 'double precision', '2147483647'],
    ['integer', 'real', '16777217'],
    ['smallint', 'real', '32767'],
    ['timestamp with time zone', 'timestamp with time zone', '2024-01-01 10:00:00.123456+02'],
    ['timestamp with time zone', 'timestamp(0) with time zone', '2024-01-01 10:00:00.5+00'],
    ['timestamp(0) without time zone', 'timestamp without time zone', '2024-01-01 10:00:00'],
    ['timestamp with time zone', 'timestamp without time zone', '2024-01-01 10:00:00+02'],
    ['time without time zone', 'time(2) without time zone', '10:00:00.123'],
    ['interval', 'interval(0)', '1.5 seconds'],
    ['timestamp with time zone', 'date', '2024-01-01 10:00:00+00'],
    ['timestamp(3) without time zone', 'date', '2024-01-01 10:00:00'],
    ['date', 'timestamp without time zone', '2024-01-01'],
    ['date', 'timestamp with time zone', '2024-01-01'],
    ['time with time zone', 'time without time zone', '10:00:00+05'],
    ['time without time zone', 'time with time zone', '10:00:00'],
    ['interval', 'interval year to month', '1 year 2 days'],
    ['interval', 'interval day', '3 days 04:05:06'],
    ['interval', 'interval day to second(3)', '1 day 00:00:01.1234'],
    ['interval', 'interval minute to second', '1 day 00:00:01.1234'],
    ['interval hour', 'interval second(0)', '5 hours'],
    ['interval hour to minute', 'interval', '5 hours 3 minutes'],
    ['interval day to second(2)', 'interval second(2)', '1 day 00:00:01.12'],
    ['text', 'jsonb', '{"a":1}'],
    ['character varying(20)', 'jsonb', '{"a":1,  "b":2}'],
    ['text', 'json', '{"a":1}'],
    ['json', 'jsonb', '{"a": 1, "a": 2}'],
    ['jsonb', 'json', '{"a": 1}'],
    ['text', 'character varying(50)', 'short'],
    ['numeric[]', 'numeric(4,1)[]', '{1.25}'],
  ];
  const { production } = sharedStack();

  it.each(PAIRS)('%s -> %s: said lossy exactly where the value, written into it and read back, comes out otherwise', async (from, to, value) => {
    const [row] = await query<{ before: string; after: string }>(
      production.adminUrl,
      `SELECT ($1::${from})::text AS before, ((($1::${from})::${to})::${from})::text AS after`,
      [value],
    );
    const changed = row?.before !== row?.after;
    expect(silentChange(from, to) !== null, `${row?.before} -> ${row?.after}`).toBe(changed);
  });
});

describe('types staging writes otherwise (plan/compared-types.ts), held to what PostgreSQL does with a value', () => {
  // Production's type, staging's (a change --allow-drift copies), and a value production may hold.
  const PAIRS: [string, string, string][] = [
    ['timestamp with time zone', 'timestamp without time zone', '2024-01-01 10:00:00.5+02'],
    ['timestamp without time zone', 'timestamp with time zone', '2024-01-01 10:00:00'],
    ['timestamp(3) without time zone[]', 'timestamp with time zone[]', '{"2024-01-01 10:00:00.123"}'],
    ['timestamp without time zone', 'timestamp(6) without time zone', '2024-01-01 10:00:00.5'],
    ['date', 'timestamp with time zone', '2024-01-01'],
    ['date', 'timestamp without time zone', '2024-02-29'],
    ['time without time zone', 'time with time zone', '10:00:00'],
    ['numeric(10,2)', 'numeric(12,4)', '1.50'],
    ['numeric(10,2)', 'numeric(12,2)', '1.50'],
    ['numeric(10,2)', 'numeric', '1.50'],
    ['numeric(10,2)', 'double precision', '1.50'],
    ['numeric(5,1)', 'real', '1234.0'],
    ['integer', 'numeric(12,2)', '7'],
    ['bigint', 'numeric(21,1)', '7'],
    ['integer', 'bigint', '7'],
    ['integer', 'double precision', '7'],
    ['real', 'double precision', '0.1'],
    ['character varying(20)', 'text', 'x  '],
    ['uuid', 'text', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ];
  const { production } = sharedStack();

  it.each(PAIRS)('%s -> %s: cast where the value reads back otherwise, to what its text gives, and only where no value can fail', async (from, to, value) => {
    const [row] = await query<{ written: string; copied: string }>(
      production.adminUrl,
      `SELECT ($1::${from})::text AS written, ((($1::${from})::text)::${to})::text AS copied`,
      [value],
    );
    const cast = comparedAs(from, to);
    expect(silentChange(from, to), 'a change that keeps the value').toBeNull();
    expect(cast !== null, `${row?.written} -> ${row?.copied}`).toBe(row?.written !== row?.copied);
    if (cast) {
      // What verify hashes of production's value is what the sync's text put in staging.
      const [castRow] = await query<{ hashed: string }>(production.adminUrl, `SELECT (($1::${from})::${cast})::text AS hashed`, [value]);
      expect(castRow?.hashed).toBe(row?.copied);
    }
  });

  it('casts no type whose values could fail to fit (a checksum is one query): those differ as written', () => {
    // 2147483647 is 10 digits, and numeric(11,2) holds 9 before its point; numeric(10,4) 6 where numeric(10,2) has 8.
    expect(comparedAs('integer', 'numeric(11,2)')).toBeNull();
    expect(comparedAs('numeric', 'numeric(20,4)')).toBeNull();
    expect(comparedAs('numeric(10,2)', 'numeric(10,4)')).toBeNull();
    expect(comparedAs('timestamp with time zone[]', 'timestamp without time zone')).toBeNull();
  });
});

// Drift that passed as equal: a generated column computed otherwise (never copied, left out of the checksums), a type
// --allow-drift copied by rounding every value, and a key staging lacks, said as if production had none.
const COMPUTED = `CREATE SCHEMA computed;
  CREATE TABLE computed.item (id int PRIMARY KEY, qty int, price numeric, at timestamptz, doc json, ratio numeric, seen timestamptz, big bigint, small int, day timestamptz[], clock timestamp, span interval);
  CREATE TABLE computed.tag (id int PRIMARY KEY, name text);
  CREATE TABLE computed.board (id int PRIMARY KEY);`;

describe('drift that used to pass unseen or be misnamed', () => {
  let production: Project;
  let staging: Project;
  projectPair('computed', COMPUTED, async (pair) => {
    ({ production, staging } = pair);
    await query(
      production.adminUrl,
      `SET ROLE postgres; ALTER TABLE computed.item ADD COLUMN total int GENERATED ALWAYS AS (qty * 2) STORED;
       INSERT INTO computed.item VALUES (1, 3, 1.12345, '2024-01-01 10:00:00.5+00', '{"a": 1, "a": 2}'); INSERT INTO computed.tag VALUES (1, 'one');`,
    );
    await query(
      staging.adminUrl,
      `SET ROLE postgres; ALTER TABLE computed.item ADD COLUMN total int GENERATED ALWAYS AS (qty * 3) STORED;
       ALTER TABLE computed.item ALTER price TYPE numeric(10,2), ALTER at TYPE timestamptz(0), ALTER doc TYPE jsonb,
         ALTER ratio TYPE double precision, ALTER seen TYPE timestamp, ALTER big TYPE double precision, ALTER small TYPE double precision,
         ALTER day TYPE date[], ALTER clock TYPE time, ALTER span TYPE interval day;
       ALTER TABLE computed.tag DROP CONSTRAINT tag_pkey;
       DROP TABLE computed.board; CREATE VIEW computed.board AS SELECT 1 AS id;`,
    );
  });

  it.each(['postgres', 'rest'] as const)('refuses them before writing, each named, --allow-drift included (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const before = await tableDigests(staging.adminUrl, ['computed']);
    const drift = await runScript('sync.ts', ['--via', via, '--yes', '--tables', 'computed.item'], { env, cwd });
    expect(drift.code, drift.stdout + drift.stderr).toBe(1);
    expect(drift.stderr).toContain(
      "computed.item: Generated from other expressions: total ((qty * 2) -> (qty * 3)). Staging computes its own values, which differ from production's",
    );
    // Not offered where it would be refused next, and why said.
    expect(drift.stderr).not.toContain('or copy the common columns with --allow-drift');
    expect(drift.stderr).toMatch(/--allow-drift does not help computed\.item \(price \(numeric -> numeric\(10,2\)\), .* would change values unsaid\)/);

    const allowed = await runScript('sync.ts', ['--via', via, '--yes', '--allow-drift', '--tables', 'computed.item'], { env, cwd });
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(1);
    expect(allowed.stderr).toContain(
      "Staging's types would change production's values without refusing them, so --allow-drift does not copy these columns; nothing was written:",
    );
    expect(allowed.stderr).toContain('computed.item.price (numeric -> numeric(10,2)): rounded to 2 decimals');
    expect(allowed.stderr).toContain('computed.item.at (timestamp with time zone -> timestamp(0) with time zone): fractions of a second rounded to 0 digits');
    expect(allowed.stderr).toContain('computed.item.doc (json -> jsonb): objects normalised');
    expect(allowed.stderr).toContain('computed.item.ratio (numeric -> double precision): rounded to 15 significant digits');
    // A time zone dropped keeps the instant, in UTC: not refused.
    expect(allowed.stderr).not.toContain('computed.item.seen');
    expect(allowed.stderr).toContain('computed.item.big (bigint -> double precision): rounded to 15 significant digits');
    // An int fits a double exactly.
    expect(allowed.stderr).not.toContain('computed.item.small');
    expect(allowed.stderr).toContain('computed.item.day (timestamp with time zone[] -> date[]): time of day dropped');
    expect(allowed.stderr).toContain('computed.item.clock (timestamp without time zone -> time without time zone): date dropped');
    expect(allowed.stderr).toContain('computed.item.span (interval -> interval day): cut to whole days');
    expect(await tableDigests(staging.adminUrl, ['computed'])).toEqual(before);

    const view = await runScript('sync.ts', ['--via', via, '--yes', '--tables', 'computed.board'], { env, cwd });
    expect(view.code, view.stdout + view.stderr).toBe(1);
    expect(view.stderr).toContain("computed.board: Staging's relation of this name is a view, not a table: replace it with the table there");

    const unkeyed = await runScript('sync.ts', ['--via', via, '--yes', '--mode', 'mirror', '--tables', 'computed.tag'], { env, cwd });
    expect(unkeyed.code, unkeyed.stdout + unkeyed.stderr).toBe(2);
    expect(unkeyed.stderr).toContain(
      "Cannot mirror computed.tag (production's tag_pkey): staging has no primary key or unique index on that key's columns to match rows on. Give both sides the same key (the migration one side lacks: production's key to staging",
    );
  });
});

// Types staging writes production's values in otherwise, keeping each (a migration staging has that production
// lacks: a timestamp made timestamptz, a date made a timestamp): --allow-drift copies them exactly, and verify read
// every such row as changed, its text on each side compared as written ('10:00:00' against '10:00:00+00').
const RETYPED = `CREATE SCHEMA retyped;
  CREATE TABLE retyped.event (id int PRIMARY KEY, at timestamptz, local_at timestamp, day date, clock time, stamps timestamptz[], note varchar(20),
    price numeric(10,2), ratio numeric(8,3), qty int);
  CREATE TABLE retyped.daily (day date PRIMARY KEY, n int);`;

describe('types staging writes otherwise, keeping the value', () => {
  let production: Project;
  let staging: Project;
  projectPair('retyped', RETYPED, async (pair) => {
    ({ production, staging } = pair);
    await query(
      production.adminUrl,
      `INSERT INTO retyped.event SELECT g, '2024-03-01 10:00:00.123456+02'::timestamptz + g * interval '1 hour', '2024-03-01 23:30:00'::timestamp + g * interval '1 minute',
         '2024-01-01'::date + g, '10:00:00.5', ARRAY['2024-01-01 10:00+05'::timestamptz, NULL, 'infinity'], 'n' || g, g * 1.5, g / 8.0, g FROM generate_series(1, 30) g;
       INSERT INTO retyped.event VALUES (31, '-infinity', 'infinity', '4713-01-01 BC', NULL, '{}', NULL, 'NaN', -0.001, -2147483648);
       INSERT INTO retyped.daily SELECT '2024-01-01'::date + g, g FROM generate_series(1, 30) g`,
    );
    await query(
      staging.adminUrl,
      `SET ROLE postgres; ALTER TABLE retyped.event ALTER at TYPE timestamp, ALTER local_at TYPE timestamptz, ALTER day TYPE timestamptz,
         ALTER clock TYPE timetz, ALTER stamps TYPE timestamp[], ALTER note TYPE text,
         ALTER price TYPE numeric(12,4), ALTER ratio TYPE double precision, ALTER qty TYPE numeric(14,2);
       ALTER TABLE retyped.daily ALTER day TYPE timestamp`,
    );
  });

  it.each(['postgres', 'rest'] as const)('are copied by --allow-drift and found equal by verify, which still finds a changed one (via %s)', async (via) => {
    const env = envFor(production, staging);
    const synced = await runScript('sync.ts', ['--via', via, '--yes', '--allow-drift', '--schemas', 'retyped'], { env });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    expect(synced.stderr).toContain('retyped.event: --allow-drift copies the columns both sides have');

    const verified = await runScript('verify-sync-status.ts', ['--via', via, '--allow-drift', '--schemas', 'retyped'], { env });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/\| retyped\.event +\| 31 +\| 31 +\| ⚠️ columns differ/);
    expect(verified.stdout).toMatch(/\| retyped\.daily +\| 30 +\| 30 +\| ⚠️ columns differ/);
    expect(verified.stdout).toContain('2 equal in their common columns');
    // A mirror hashes them so too: nothing of the table to copy (every row was, each run).
    const mirror = ['--via', via, '--yes', '--allow-drift', '--mode', 'mirror', '--tables', 'retyped.event'];
    const unchanged = await runScript('sync.ts', mirror, { env });
    expect(unchanged.code, unchanged.stdout + unchanged.stderr).toBe(0);
    expect(unchanged.stdout).toMatch(/\| retyped\.event +\| 0 +\| 0 +\| 0 +\| none: equal +\|/);

    await query(
      staging.adminUrl,
      `UPDATE retyped.event SET at = at + interval '1 second' WHERE id = 2; UPDATE retyped.daily SET n = 0 WHERE day = '2024-01-03'`,
    );
    const changed = await runScript('verify-sync-status.ts', ['--via', via, '--allow-drift', '--schemas', 'retyped'], { env });
    expect(changed.code, changed.stdout + changed.stderr).toBe(1);
    expect(changed.stdout).toMatch(/retyped\.event \(key: id\):\n +differ from production: \(2\)\n/);
    expect(changed.stdout).toMatch(/retyped\.daily \(key: day\):\n +differ from production: \("2024-01-03 00:00:00"\)\n/);
    // Verify that accepts the drift offers the sync that does.
    expect(changed.stdout).toContain('A sync with --allow-drift --mode mirror --tables retyped.daily,retyped.event compares every row of them');
    expect(changed.stdout).not.toContain('so a sync refuses');
    const mirrored = await runScript('sync.ts', mirror, { env });
    expect(mirrored.code, mirrored.stdout + mirrored.stderr).toBe(0);
    expect(mirrored.stdout).toMatch(/\| retyped\.event +\| 1 +\| 1 +\| 0 +\| /);
  });
});

// A generated column staging computes with the same expression through a function of its own defined otherwise:
// the copied columns are equal, the computed ones are not, and no sync can write them.
const GENERATED = `CREATE SCHEMA gencols;
  CREATE FUNCTION gencols.shout(t text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT upper(t)';
  CREATE TABLE gencols.note (id int PRIMARY KEY, body text, loud text GENERATED ALWAYS AS (gencols.shout(body)) STORED);
  CREATE TABLE gencols.tally (n int, label text);`;

describe('generated columns staging computes otherwise', () => {
  let production: Project;
  let staging: Project;
  projectPair('gencols', GENERATED, async (pair) => {
    ({ production, staging } = pair);
    await query(
      production.adminUrl,
      `INSERT INTO gencols.note (id, body) SELECT i, 'note ' || i FROM generate_series(1, 40) i; INSERT INTO gencols.tally VALUES (1, 'a'), (1, 'a'), (2, 'b')`,
    );
    await query(staging.adminUrl, `CREATE OR REPLACE FUNCTION gencols.shout(t text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower(t)'`);
  });

  it.each(['postgres', 'rest'] as const)('are compared by verify, named as computed by staging, with no sync offered (via %s)', async (via) => {
    const env = envFor(production, staging);
    const synced = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'gencols.note'], { env });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--tables', 'gencols.note'], { env });
    expect(verify.code, verify.stdout + verify.stderr).toBe(1);
    expect(verify.stdout).toMatch(/\| gencols\.note +\| 40 +\| 40 +\| ❌ content differs +\|/);
    expect(verify.stdout).toContain('the copied columns are equal; the generated loud, which staging computes itself, differs');
    expect(verify.stdout).toMatch(/differ from production: \(1\) \(10\) /);
    expect(verify.stdout).not.toContain('--mode mirror --tables gencols.note');
  });

  it.each(['postgres', 'rest'] as const)('lists, in a table without a key, a row held twice on one side and once on the other (via %s)', async (via) => {
    const env = envFor(production, staging);
    const synced = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'gencols.tally'], { env });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    // As many rows, not the same ones: one of the two (1, a) gone, a second (2, b).
    await query(
      staging.adminUrl,
      `DELETE FROM gencols.tally WHERE ctid = (SELECT min(ctid) FROM gencols.tally WHERE n = 1); INSERT INTO gencols.tally VALUES (2, 'b')`,
    );
    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--tables', 'gencols.tally'], { env });
    expect(verify.code, verify.stdout + verify.stderr).toBe(1);
    expect(verify.stdout).toMatch(/\| gencols\.tally +\| 3 +\| 3 +\| ❌ content differs +\|/);
    expect(verify.stdout).toContain('missing in staging: (1,a)');
    expect(verify.stdout).toContain('extra in staging: (2,b)');
  });
});

// Constraints staging holds rows to and production does not (a CHECK, NOT NULL, a unique key): production's rows
// that break them were refused as they were written (directly a rollback naming no row; over REST the others written
// and the run part done).
const STRICTER = `CREATE SCHEMA stricter; CREATE COLLATION stricter.case_blind (provider = icu, locale = 'und-u-ks-level2', deterministic = false);`;
/**
 * The domain as each side defines it; staging's is stricter (a domain an array column uses cannot be altered).
 * Both sides' booking has the same partial index over an enum and the same index over a function of their own: the
 * two databases give these types and functions other object ids, which a stored tree names them by.
 */
const stricterTable = (domainChecks: string) => `SET ROLE postgres; CREATE DOMAIN stricter.quantity AS int ${domainChecks};
  CREATE TYPE stricter.stay_kind AS ENUM ('hold', 'final');
  CREATE FUNCTION stricter.norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower(t)';
  CREATE TABLE stricter.product (id int PRIMARY KEY, sku text, price numeric, stock stricter.quantity, sizes stricter.quantity[]);
  CREATE TABLE stricter.booking (id int PRIMARY KEY, room int, stay int4range, email text, kind stricter.stay_kind);
  CREATE UNIQUE INDEX booking_one_final ON stricter.booking (room, kind) WHERE kind = 'final'::stricter.stay_kind;
  CREATE UNIQUE INDEX booking_email_norm ON stricter.booking (stricter.norm(email), id);`;

describe('a staging stricter than production', () => {
  let production: Project;
  let staging: Project;
  projectPair('stricter', STRICTER, async (pair) => {
    ({ production, staging } = pair);
    await query(production.adminUrl, stricterTable('CONSTRAINT quantity_check CHECK (VALUE >= 0)'));
    await query(staging.adminUrl, stricterTable('CONSTRAINT quantity_check CHECK (VALUE >= 0) CONSTRAINT quantity_positive CHECK (VALUE > 0)'));
    await query(
      production.adminUrl,
      `INSERT INTO stricter.product VALUES (1, 'a', 10, 1, '{1}'), (2, NULL, 5, 0, '{2,0}'), (3, 'c', -1, 3, NULL), (4, 'd', NULL, 4, '{}'), (5, 'a', 1, 5, '{5}')`,
    );
    await query(
      production.adminUrl,
      `INSERT INTO stricter.booking VALUES (1, 1, '[1,5)', 'A@x'), (2, 1, '[3,7)', 'a@x'), (3, 2, '[10,15)', NULL), (4, 2, '[20,22)', NULL), (5, NULL, '[30,31)', 'b@x');
       ANALYZE stricter.booking`,
    );
    await query(
      staging.adminUrl,
      `SET ROLE postgres; ALTER TABLE stricter.product ADD CONSTRAINT price_positive CHECK (price > 0), ALTER sku SET NOT NULL, ADD CONSTRAINT sku_unique UNIQUE (sku);
       INSERT INTO stricter.product VALUES (9, 'staging', 1, 1, '{1}');
       ALTER TABLE stricter.booking ADD CONSTRAINT booking_one_stay EXCLUDE USING gist (stay WITH &&),
         ADD CONSTRAINT booking_room_email UNIQUE NULLS NOT DISTINCT (room, email), ADD CONSTRAINT booking_id_room UNIQUE (id, room);
       CREATE UNIQUE INDEX booking_email_blind ON stricter.booking (email COLLATE stricter.case_blind);
       CREATE UNIQUE INDEX booking_email_lower ON stricter.booking (lower(email)) WHERE room IS NOT NULL`,
    );
  });

  it("reads both catalogs past an app's lock on tables with defaults, CHECKs, generated columns, a trigger's WHEN and partitions, and says the CHECK it could not read", async () => {
    // Each of these deparses an expression over the table's columns, which takes the table's ACCESS SHARE lock.
    const ledger = `SET ROLE postgres;
      CREATE TABLE stricter.ledger (id int PRIMARY KEY, amount numeric DEFAULT 0 CONSTRAINT ledger_amount_check CHECK (amount >= 0),
        twice numeric GENERATED ALWAYS AS (amount * 2) STORED);
      CREATE FUNCTION stricter.touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
      CREATE TRIGGER ledger_touch BEFORE UPDATE ON stricter.ledger FOR EACH ROW WHEN (OLD.amount IS DISTINCT FROM NEW.amount) EXECUTE FUNCTION stricter.touch();
      CREATE TABLE stricter.journal (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
      CREATE TABLE stricter.journal_2026 PARTITION OF stricter.journal FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');`;
    await query(production.adminUrl, ledger);
    await query(staging.adminUrl, `${ledger} ALTER TABLE stricter.ledger ADD CONSTRAINT ledger_small CHECK (amount < 1000);`);
    const catalogOf = (project: Project, side: 'production' | 'staging') => catalogAt(project.dbUrl, side);
    try {
      await withClient(production.adminUrl, (productionHolder) =>
        withClient(staging.adminUrl, async (holder) => {
          await Promise.all([productionHolder.query('BEGIN'), holder.query('BEGIN')]);
          await productionHolder.query('LOCK TABLE stricter.ledger IN ACCESS EXCLUSIVE MODE');
          await holder.query('LOCK TABLE stricter.booking, stricter.ledger, stricter.journal_2026 IN ACCESS EXCLUSIVE MODE');
          try {
            const run = startScript('sync.ts', ['--via', 'postgres', '--dry-run', '--tables', 'stricter.product'], {
              env: envFor(production, staging),
              cwd: emptyDirectory(),
            });
            const stuck = setTimeout(() => run.child.kill('SIGKILL'), 30_000);
            const plan = await run.finished.finally(() => clearTimeout(stuck));
            // Refused for product's own rules (below), having read both catalogs.
            expect(plan.stderr).toContain("stricter.product: NOT NULL on sku: 1 row of production's");

            const [ours, theirs] = await Promise.all([catalogOf(production, 'production'), catalogOf(staging, 'staging')]);
            const stagingLedger = theirs.tables.find((table) => table.schema === 'stricter' && table.name === 'ledger');
            expect(stagingLedger?.checks?.map((check) => check.expression)).toEqual([null, null]);
            expect(stagingLedger?.columns.find((column) => column.name === 'amount')?.default).toBe('0');
            const journal = theirs.tables.find((table) => table.name === 'journal');
            expect(journal?.partitions?.map((partition) => partition.bound)).toEqual(["FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"]);
            // Production's check of the same name holds staging's; staging's own is said, not asked (nor its generated column compared).
            const planned = planSync(ours, theirs, { schemas: ['stricter'] }).tables.find((table) => table.table.name === 'ledger');
            expect(planned?.drift).toEqual([]);
            expect(planned?.stricterInStaging.map((rule) => [rule.rule, Boolean(rule.notAsked)])).toEqual([['CHECK ledger_small', true]]);
          } finally {
            await Promise.all([productionHolder.query('ROLLBACK'), holder.query('ROLLBACK')]);
          }
        }),
      );
      // Unlocked, the same catalogs hold every expression, and staging's CHECK is asked.
      const [ours, theirs] = await Promise.all([catalogOf(production, 'production'), catalogOf(staging, 'staging')]);
      const rules = planSync(ours, theirs, { schemas: ['stricter'] }).tables.find((table) => table.table.name === 'ledger')?.stricterInStaging ?? [];
      expect(rules.map((rule) => [rule.rule, Boolean(rule.notAsked)])).toEqual([['CHECK ledger_small ((amount < (1000)::numeric))', false]]);
    } finally {
      const drop = 'SET ROLE postgres; DROP TABLE stricter.ledger, stricter.journal; DROP FUNCTION stricter.touch()';
      await Promise.all([query(production.adminUrl, drop), query(staging.adminUrl, drop)]);
    }
  });

  it.each(['postgres', 'rest'] as const)(
    'leaves out a CHECK over a column staging alone has (--allow-drift), and says one that also reads it is not asked (via %s)',
    async (via) => {
      const shelf = 'SET ROLE postgres; CREATE TABLE stricter.shelf (id int PRIMARY KEY, label text)';
      await Promise.all([query(production.adminUrl, shelf), query(staging.adminUrl, shelf)]);
      await query(production.adminUrl, `INSERT INTO stricter.shelf VALUES (1, 'a'), (2, NULL)`);
      // Staging's migration ahead: a column with its own CHECK, and one over both columns.
      await query(
        staging.adminUrl,
        `SET ROLE postgres; ALTER TABLE stricter.shelf ADD COLUMN extra text CONSTRAINT shelf_extra_short CHECK (char_length(extra) <= 10),
           ADD CONSTRAINT shelf_named CHECK (label IS NOT NULL OR extra IS NOT NULL); NOTIFY pgrst, 'reload schema'`,
      );
      try {
        const plan = await runScript('sync.ts', ['--via', via, '--dry-run', '--allow-drift', '--tables', 'stricter.shelf'], {
          env: envFor(production, staging),
          cwd: emptyDirectory(),
        });
        expect(plan.code, plan.stderr).toBe(0);
        expect(plan.stderr).not.toContain('shelf_extra_short');
        expect(plan.stderr).not.toContain('could not say');
        expect(plan.stderr).toContain(
          'stricter.shelf: staging has CHECK shelf_named (((label IS NOT NULL) OR (extra IS NOT NULL))), which production lacks; it also reads extra, which the run does not copy',
        );
      } finally {
        const drop = 'SET ROLE postgres; DROP TABLE stricter.shelf';
        await Promise.all([query(production.adminUrl, drop), query(staging.adminUrl, drop)]);
      }
    },
  );

  it("stops, naming the table, where staging's child of a copied table stays locked by another session, rather than waiting without end", async () => {
    const crates = `SET ROLE postgres; CREATE TABLE stricter.crate (id int PRIMARY KEY);
      CREATE TABLE stricter.crate_label (id int PRIMARY KEY, crate_id int REFERENCES stricter.crate)`;
    await Promise.all([query(production.adminUrl, crates), query(staging.adminUrl, crates)]);
    try {
      await withClient(staging.adminUrl, async (holder) => {
        await holder.query('BEGIN');
        await holder.query('LOCK TABLE stricter.crate_label IN ACCESS EXCLUSIVE MODE');
        try {
          // A minute unless the connection string says otherwise: here a second.
          const env = { ...envFor(production, staging), SUPABASE_STAGING_DB_URL: `${staging.dbUrl}?options=${encodeURIComponent('-c lock_timeout=1s')}` };
          const run = startScript('sync.ts', ['--via', 'postgres', '--dry-run', '--tables', 'stricter.crate'], { env, cwd: emptyDirectory() });
          const stuck = setTimeout(() => run.child.kill('SIGKILL'), 30_000);
          const plan = await run.finished.finally(() => clearTimeout(stuck));
          expect(plan.code, plan.stderr).toBe(1);
          expect(plan.stderr).toContain('Reading the references of stricter.crate_label in staging: canceling statement due to lock timeout');
          expect(plan.stderr).toContain('cause: another session held a lock on a table this needs');
        } finally {
          await holder.query('ROLLBACK');
        }
      });
    } finally {
      const drop = 'SET ROLE postgres; DROP TABLE stricter.crate_label, stricter.crate';
      await Promise.all([query(production.adminUrl, drop), query(staging.adminUrl, drop)]);
    }
  });

  it('says, and does not ask, an exclusion constraint without `=` over a large production table (each pair of rows compared)', async () => {
    const catalogOf = (project: Project) => catalogAt(project.dbUrl);
    const [ours, theirs] = await Promise.all([catalogOf(production), catalogOf(staging)]);
    const rulesAt = (rows: number) => {
      const booking = ours.tables.find((table) => table.schema === 'stricter' && table.name === 'booking');
      if (booking) booking.rowEstimate = rows;
      return planSync(ours, theirs, { schemas: ['stricter'] }).tables.find((table) => table.table.name === 'booking')?.stricterInStaging ?? [];
    };
    const unasked = (rows: number) => rulesAt(rows).flatMap((rule) => (rule.notAsked ? [rule.rule] : []));
    // An index on an expression is never asked: the catalog does not deparse it (that waits for the table's lock).
    expect(unasked(EXCLUSION_PAIRS_ROWS)).toEqual(['UNIQUE booking_email_lower (an expression) WHERE ...']);
    expect(unasked(EXCLUSION_PAIRS_ROWS + 1)).toEqual(['UNIQUE booking_email_lower (an expression) WHERE ...', 'EXCLUDE booking_one_stay (stay WITH &&)']);
    expect(unasked(-1)).toEqual(['UNIQUE booking_email_lower (an expression) WHERE ...', 'EXCLUDE booking_one_stay (stay WITH &&)']);
  });

  it.each(['postgres', 'rest'] as const)("names production's rows that break its constraints before writing, dry runs too (via %s)", async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const before = await tableDigests(staging.adminUrl, ['stricter']);
    for (const args of [['--dry-run'], ['--yes'], ['--yes', '--mode', 'mirror']]) {
      const refused = await runScript('sync.ts', ['--via', via, ...args, '--schemas', 'stricter'], { env, cwd });
      expect(refused.code, refused.stdout + refused.stderr).toBe(1);
      expect(refused.stderr).toContain("Staging holds rows to constraints production lacks, which production's rows break; nothing was written:");
      // A NULL price passes a CHECK: row 4 is not among them.
      expect(refused.stderr).toContain("stricter.product: CHECK price_positive ((price > (0)::numeric)): 1 row of production's, e.g. (3)");
      expect(refused.stderr).toContain("stricter.product: NOT NULL on sku: 1 row of production's, e.g. (2)");
      expect(refused.stderr).toContain("stricter.product: UNIQUE sku_unique (sku): 2 rows of production's, e.g. (1) (5)");
      expect(refused.stderr).toContain(
        "stricter.product: CHECK quantity_positive ((VALUE > 0)) of domain stricter.quantity on stock: 1 row of production's, e.g. (2)",
      );
      expect(refused.stderr).toContain(
        "stricter.product: CHECK quantity_positive ((VALUE > 0)) of domain stricter.quantity on sizes: 1 row of production's, e.g. (2)",
      );
      // Unique indexes NULLS NOT DISTINCT or under their own collation, and exclusion constraints; a key production's primary key holds is not asked.
      expect(refused.stderr).toContain("stricter.booking: EXCLUDE booking_one_stay (stay WITH &&): 2 rows of production's, e.g. (1) (2)");
      expect(refused.stderr).toContain("stricter.booking: UNIQUE booking_email_blind (email): 2 rows of production's, e.g. (1) (2)");
      expect(refused.stderr).toContain("stricter.booking: UNIQUE booking_room_email (room, email): 2 rows of production's, e.g. (3) (4)");
      expect(refused.stderr).not.toContain('booking_id_room');
      // One on expressions is said, not asked.
      expect(refused.stderr).toContain(
        'stricter.booking: staging has UNIQUE booking_email_lower (an expression) WHERE ..., which production lacks; its key holds expressions',
      );
      expect(await tableDigests(staging.adminUrl, ['stricter'])).toEqual(before);
    }
    // Rows a `where` leaves out clash with none: the duplicates are looked for among the rows copied.
    const filtered = emptyDirectory();
    writeFileSync(join(filtered, 'supasync.config.json'), JSON.stringify({ tables: { 'stricter.booking': { where: 'id <> 2' } } }));
    const onlySome = await runScript('sync.ts', ['--via', via, '--dry-run', '--tables', 'stricter.booking'], { env, cwd: filtered });
    expect(onlySome.code, onlySome.stdout + onlySome.stderr).toBe(1);
    expect(onlySome.stderr).toContain("stricter.booking: UNIQUE booking_room_email (room, email): 2 rows of production's, e.g. (3) (4)");
    expect(onlySome.stderr).not.toContain('booking_one_stay (stay WITH &&):');
    expect(onlySome.stderr).not.toContain('booking_email_blind (email):');
    // Masked, production's raw values cannot say what staging gets: said, not asked; no raw value printed.
    const masked = emptyDirectory();
    writeFileSync(join(masked, 'supasync.config.json'), JSON.stringify({ mask: { 'stricter.product.sku': 'hash' } }));
    const maskedRun = await runScript('sync.ts', ['--via', via, '--dry-run', '--tables', 'stricter.product'], {
      env: { ...env, SUPASYNC_MASK_SECRET: 'stricter-mask-secret-0123456789' },
      cwd: masked,
    });
    expect(maskedRun.stderr).toContain('stricter.product: staging has CHECK price_positive ((price > (0)::numeric)), NOT NULL on sku');
    expect(maskedRun.stderr).toContain("the table is masked, so production's values cannot say whether staging takes the masked ones");
    expect(maskedRun.stdout + maskedRun.stderr).not.toMatch(/e\.g\. \(/);
    // Once production's rows hold to them, the run writes.
    await query(
      production.adminUrl,
      `UPDATE stricter.product SET price = 1 WHERE id = 3; UPDATE stricter.product SET sku = 'b' WHERE id = 2; UPDATE stricter.product SET sku = 'e' WHERE id = 5;
       UPDATE stricter.product SET stock = 2, sizes = '{2}' WHERE id = 2;
       UPDATE stricter.booking SET stay = '[5,7)', email = 'c@x' WHERE id = 2; UPDATE stricter.booking SET email = 'd@x' WHERE id = 4`,
    );
    try {
      const synced = await runScript('sync.ts', ['--via', via, '--yes', '--schemas', 'stricter'], { env, cwd });
      expect(synced.code, synced.stdout + synced.stderr).toBe(0);
      expect(await rowTexts(staging.adminUrl, 'stricter.product')).toEqual(await rowTexts(production.adminUrl, 'stricter.product'));
      expect(await rowTexts(staging.adminUrl, 'stricter.booking')).toEqual(await rowTexts(production.adminUrl, 'stricter.booking'));
    } finally {
      await query(
        production.adminUrl,
        `UPDATE stricter.product SET price = -1 WHERE id = 3; UPDATE stricter.product SET sku = NULL WHERE id = 2; UPDATE stricter.product SET sku = 'a' WHERE id = 5;
         UPDATE stricter.product SET stock = 0, sizes = '{2,0}' WHERE id = 2;
         UPDATE stricter.booking SET stay = '[3,7)', email = 'a@x' WHERE id = 2; UPDATE stricter.booking SET email = NULL WHERE id = 4`,
      );
    }
  });
});
