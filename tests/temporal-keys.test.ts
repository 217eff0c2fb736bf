// PostgreSQL 18's temporal keys: `PRIMARY KEY (room, valid WITHOUT
// OVERLAPS)` keeps rows apart by overlapping ranges (a GiST exclusion under
// the name of a key), and `FOREIGN KEY (room, PERIOD during) REFERENCES
// rooms (room, PERIOD valid)` wants a row's range inside its parents'. Such
// a key was taken for a key to match rows on: over REST a replace's upserts
// failed on it ("no unique or exclusion constraint matching the ON CONFLICT
// specification") and a mirror emptied rows it could then not write back;
// and the period pair was compared by equality, so every row of the
// referencing table was called an orphan (the sync stopped, verify failed).
// Now a key WITHOUT OVERLAPS is no key (mirror refuses the table naming it,
// replace copies it whole) and a key with PERIOD is checked by the columns
// before it. The schema needs PostgreSQL 18, the stack's default server,
// and btree_gist (a range key beside an int one), as on Supabase.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { projectPair } from './helpers/project-pair.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const SCHEMA = `CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA extensions;
  CREATE SCHEMA hotel;
  CREATE TABLE hotel.rooms (room int, valid tstzrange, label text, PRIMARY KEY (room, valid WITHOUT OVERLAPS));
  CREATE TABLE hotel.stays (id int PRIMARY KEY, room int NOT NULL, during tstzrange NOT NULL,
    FOREIGN KEY (room, PERIOD during) REFERENCES hotel.rooms (room, PERIOD valid));
  CREATE TABLE hotel.rates (id int PRIMARY KEY, code text NOT NULL, valid daterange NOT NULL, price numeric,
    UNIQUE (code, valid WITHOUT OVERLAPS));`;
const TABLES = ['hotel.rooms', 'hotel.stays', 'hotel.rates'];

const ROWS = `
  INSERT INTO hotel.rooms VALUES (1, '[2026-01-01,2026-06-01)', 'old wing'), (1, '[2026-06-01,2027-01-01)', 'renovated'), (2, '[2026-01-01,2027-01-01)', 'suite');
  INSERT INTO hotel.stays SELECT g, 1 + g % 2, tstzrange('2026-01-01'::timestamptz + g * interval '1 day', '2026-01-01'::timestamptz + (g + 2) * interval '1 day')
    FROM generate_series(1, 300) g;
  INSERT INTO hotel.rates SELECT g, 'rate-' || g % 5, daterange('2026-01-01'::date + g * 7, '2026-01-01'::date + g * 7 + 5), g FROM generate_series(1, 50) g;`;

const contents = (url: string) => Promise.all(TABLES.map((table) => rowTexts(url, table)));

describe.runIf(sharedStack().stack.majorVersion >= 18)("PostgreSQL 18's keys WITHOUT OVERLAPS and with PERIOD", () => {
  let production: Project;
  let staging: Project;
  projectPair('temporal', SCHEMA, async (pair) => {
    ({ production, staging } = pair);
    await query(production.adminUrl, `SET ROLE postgres; ${ROWS}`);
  });

  it.each(['rest', 'postgres'] as const)('replaces them whole, calls no row an orphan, and verifies them Perfect (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    await query(staging.adminUrl, 'TRUNCATE hotel.stays, hotel.rooms, hotel.rates');
    const sync = await runScript('sync.ts', ['--via', via, '--schemas', 'hotel', '--yes', '--no-backup'], { env, cwd });
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
    const verified = await runScript('verify-sync-status.ts', ['--via', via, '--schemas', 'hotel'], { env, cwd });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toContain('Staging equals production: 3 of 3 tables Perfect.');
    expect(verified.stdout).not.toContain('find no parent');
  });

  it.each(['rest', 'postgres'] as const)(
    'refuses to mirror a table whose only key is WITHOUT OVERLAPS, naming it, and mirrors it replaced whole by the config (via %s)',
    async (via) => {
      const env = envFor(production, staging);
      const cwd = emptyDirectory();
      await runScript('sync.ts', ['--via', 'postgres', '--schemas', 'hotel', '--yes', '--no-backup'], { env, cwd });
      await query(
        staging.adminUrl,
        `UPDATE hotel.rooms SET label = 'staging' WHERE room = 2; UPDATE hotel.rates SET price = 0 WHERE id = 7; DELETE FROM hotel.stays WHERE id = 9`,
      );
      const before = await contents(staging.adminUrl);

      const refused = await runScript('sync.ts', ['--via', via, '--schemas', 'hotel', '--mode', 'mirror', '--yes'], { env, cwd });
      expect(refused.code, refused.stdout + refused.stderr).toBe(2);
      expect(refused.stderr).toContain(
        'Cannot mirror hotel.rooms (rooms_pkey): a key WITHOUT OVERLAPS keeps rows apart by overlapping ranges, and no ON CONFLICT matches rows on it, nor has the table another key.',
      );
      expect(await contents(staging.adminUrl)).toEqual(before);
      const plan = await runScript('sync.ts', ['--via', via, '--schemas', 'hotel', '--dry-run'], { env, cwd });
      expect(plan.stdout).toContain('No primary key or NOT NULL unique key: hotel.rooms (rooms_pkey is WITHOUT OVERLAPS).');
      // The default mode replaces it, and so does its own mode in an upsert: said as what the run does, not as a refusal.
      expect(plan.stdout).toContain('This run replaces them as a whole, the one way to copy them');
      const ownMode = emptyDirectory();
      writeFileSync(join(ownMode, 'supasync.config.json'), JSON.stringify({ tables: { 'hotel.rooms': { mode: 'replace' } } }));
      const upsertPlan = await runScript('sync.ts', ['--via', via, '--schemas', 'hotel', '--dry-run', '--mode', 'upsert'], { env, cwd: ownMode });
      expect(upsertPlan.code, upsertPlan.stderr).toBe(0);
      expect(upsertPlan.stdout).toContain('This run replaces them as a whole, the one way to copy them');

      // rates keeps its own key (id) beside its key WITHOUT OVERLAPS: mirrored by id.
      writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { 'hotel.rooms': { mode: 'replace' } } }));
      const mirrored = await runScript('sync.ts', ['--via', via, '--schemas', 'hotel', '--mode', 'mirror', '--yes'], { env, cwd });
      expect(mirrored.code, mirrored.stdout + mirrored.stderr).toBe(0);
      expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
    },
  );

  it('checks a key with PERIOD by the columns before it: a stay in a room staging lacks stops a sync of the stays alone', async () => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    await query(staging.adminUrl, 'TRUNCATE hotel.stays, hotel.rooms, hotel.rates');
    await query(staging.adminUrl, `INSERT INTO hotel.rooms VALUES (1, '[2026-01-01,2027-01-01)', 'staging')`);
    const stays = await runScript('sync.ts', ['--via', 'postgres', '--tables', 'hotel.stays', '--yes', '--no-backup'], { env, cwd });
    expect(stays.code, stays.stdout + stays.stderr).toBe(1);
    expect(stays.stderr).toMatch(/150 rows of hotel\.stays reference 1 hotel\.rooms rows? missing from staging/);
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM hotel.stays')).toEqual([{ n: 0 }]);
  });
});
