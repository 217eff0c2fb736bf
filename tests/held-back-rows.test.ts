// From Cal.com's schema (Prisma, ON UPDATE CASCADE): production gives a user
// a new id, and the user's bookings follow it. Over REST staging refuses the
// re-keyed user (its old row still holds the unique email), and each batch
// commits on its own with foreign-key checks off: the bookings were written
// with the new id anyway, naming a user staging lacks, and a booking's notes
// after them. A row naming a row staging rejected (and does not hold under
// that key) is now held back, named with the row it waits for, and staging
// keeps its own version of it. The direct path rolls the run back whole.
// Before writing, an insert-missing run asked staging for the parents of all
// production's rows, the re-keyed user's too, though it inserts only the rows
// staging lacks: refused with nothing to insert. It now asks for those alone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { projectPair } from './helpers/project-pair.ts';
import { envFor } from './setup/stack.ts';

const SCHEMA = `CREATE SCHEMA crm;
  CREATE TABLE crm.users (id int PRIMARY KEY, email text NOT NULL UNIQUE);
  CREATE TABLE crm.bookings (id int PRIMARY KEY, user_id int REFERENCES crm.users (id) ON UPDATE CASCADE, title text);
  CREATE TABLE crm.notes (id int PRIMARY KEY, booking_id int NOT NULL REFERENCES crm.bookings (id), body text);`;
const TABLES = ['crm.users', 'crm.bookings', 'crm.notes'];

const ORPHANS = `SELECT (SELECT count(*) FROM crm.bookings b WHERE b.user_id IS NOT NULL AND NOT EXISTS (SELECT FROM crm.users u WHERE u.id = b.user_id))
                      + (SELECT count(*) FROM crm.notes n WHERE NOT EXISTS (SELECT FROM crm.bookings b WHERE b.id = n.booking_id)) AS n`;

/** Where a test starts: production's two users with a booking each (and `more`), staging empty. */
async function twoUsersBooked(production: Project, staging: Project, more = ''): Promise<void> {
  await query(
    production.adminUrl,
    `TRUNCATE crm.users, crm.bookings, crm.notes;
     INSERT INTO crm.users VALUES (1, 'a@example.com'), (2, 'b@example.com');
     INSERT INTO crm.bookings VALUES (10, 1, 'first'), (20, 2, 'second'); ${more}`,
  );
  await query(staging.adminUrl, 'TRUNCATE crm.users, crm.bookings, crm.notes');
}

describe('rows naming a row staging rejected, over REST', () => {
  let production: Project;
  let staging: Project;
  projectPair('heldback', SCHEMA, (pair) => {
    ({ production, staging } = pair);
  });

  it.each(['postgres', 'rest'] as const)(
    'insert-missing asks staging for the parents of the rows it would insert alone, not of the rows staging has (via %s)',
    async (via) => {
      const env = envFor(production, staging);
      const sync = (...args: string[]) => runScript('sync.ts', ['--via', via, '--yes', ...args], { env, cwd: emptyDirectory() });
      await twoUsersBooked(production, staging);
      expect((await sync('--tables', TABLES.join(','), '--mode', 'replace')).code).toBe(0);
      const before = await rowTexts(staging.adminUrl, 'crm.bookings');
      // Booking 10 now names user 300, whom staging lacks; staging has booking 10, which insert-missing leaves alone.
      await query(production.adminUrl, 'UPDATE crm.users SET id = 300 WHERE id = 1');
      const nothingToInsert = await sync('--tables', 'crm.bookings', '--mode', 'insert-missing');
      expect(nothingToInsert.code, nothingToInsert.stdout + nothingToInsert.stderr).toBe(0);
      expect(await rowTexts(staging.adminUrl, 'crm.bookings')).toEqual(before);
      // A new booking naming user 300 is one to insert: refused before writing, counted alone, the parent offered by name.
      await query(production.adminUrl, `INSERT INTO crm.bookings VALUES (30, 300, 'third'), (40, 2, 'fourth')`);
      const refused = await sync('--tables', 'crm.bookings', '--mode', 'insert-missing');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('1 row of crm.bookings references 1 crm.users row missing from staging (crm.bookings.user_id), e.g. (300)');
      expect(refused.stderr).toContain('  name crm.users too (--tables)   also copy that table whole');
      expect(await rowTexts(staging.adminUrl, 'crm.bookings')).toEqual(before);
    },
  );

  it('insert-missing says when the rows naming a missing parent are too many to ask staging which it lacks, and counts them all', async () => {
    const env = envFor(production, staging);
    const rows = `INSERT INTO crm.bookings SELECT g, 300, 'b' FROM generate_series(1, 10001) g;`;
    await query(production.adminUrl, `TRUNCATE crm.users, crm.bookings, crm.notes; INSERT INTO crm.users VALUES (300, 'a@example.com'); ${rows}`);
    await query(staging.adminUrl, `TRUNCATE crm.users, crm.bookings, crm.notes; SET session_replication_role = replica; ${rows}`);
    const refused = await runScript('sync.ts', ['--via', 'postgres', '--dry-run', '--tables', 'crm.bookings', '--mode', 'insert-missing'], {
      env,
      cwd: emptyDirectory(),
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      '10,001 rows of crm.bookings reference 1 crm.users row missing from staging (crm.bookings.user_id), e.g. (300); insert-missing writes only the rows staging lacks, but more than 10,000 rows name these parents, too many to ask staging which: every one is counted',
    );
  });

  it("in a mirror, a row naming a row staging refused production's version of but keeps its own of is written, not held back", async () => {
    const env = envFor(production, staging);
    const sync = (...args: string[]) =>
      runScript('sync.ts', ['--via', 'rest', '--yes', '--allow-drift', '--tables', TABLES.join(','), ...args], { env, cwd: emptyDirectory() });
    await query(
      production.adminUrl,
      `TRUNCATE crm.users, crm.bookings, crm.notes;
       INSERT INTO crm.users VALUES (1, 'a@example.com'), (2, 'b@example.com');
       INSERT INTO crm.bookings VALUES (10, 1, 'first');`,
    );
    await query(staging.adminUrl, 'TRUNCATE crm.users, crm.bookings, crm.notes; ALTER TABLE crm.users ALTER email TYPE varchar(16)');
    try {
      expect((await sync('--mode', 'replace')).code).toBe(0);
      // Staging's narrower email refuses user 2's new one; its old version goes back, and booking 20 names a user staging holds.
      await query(
        production.adminUrl,
        `UPDATE crm.users SET email = 'a-much-longer-address@example.com' WHERE id = 2; INSERT INTO crm.bookings VALUES (20, 2, 'second')`,
      );
      const mirror = await sync('--mode', 'mirror');
      const said = mirror.stdout + mirror.stderr;
      expect(mirror.code, said).toBe(1);
      expect(said).toContain('crm.users (id=2): value too long for type character varying(16)');
      expect(said).not.toContain('held back');
      expect(await query(staging.adminUrl, 'SELECT id, email FROM crm.users ORDER BY id')).toEqual([
        { id: 1, email: 'a@example.com' },
        { id: 2, email: 'b@example.com' },
      ]);
      expect(await query(staging.adminUrl, 'SELECT id, user_id FROM crm.bookings ORDER BY id')).toEqual([
        { id: 10, user_id: 1 },
        { id: 20, user_id: 2 },
      ]);
    } finally {
      await query(staging.adminUrl, 'ALTER TABLE crm.users ALTER email TYPE text');
    }
  });

  it.each(['upsert', 'insert-missing'] as const)('are held back, named with the row they wait for, and point nowhere in no table (%s)', async (mode) => {
    const env = envFor(production, staging);
    const sync = (...args: string[]) => runScript('sync.ts', ['--via', 'rest', '--yes', '--tables', TABLES.join(','), ...args], { env, cwd: emptyDirectory() });
    await twoUsersBooked(production, staging, `INSERT INTO crm.notes VALUES (100, 10, 'on the first');`);
    expect((await sync('--mode', 'replace')).code).toBe(0);
    const before = await rowTexts(staging.adminUrl, 'crm.bookings');

    // Prisma re-keys the user; its booking follows by the cascade; a new booking and its note name the new id.
    await query(
      production.adminUrl,
      `UPDATE crm.users SET id = 300 WHERE id = 1;
       INSERT INTO crm.bookings VALUES (30, 300, 'third');
       INSERT INTO crm.notes VALUES (300, 30, 'on the third');`,
    );
    const run = await sync('--mode', mode);
    const said = run.stdout + run.stderr;
    expect(run.code, said).toBe(1);
    expect(said).toContain('users_email_key');
    expect(said).toMatch(/id=30\b.*held back: it names crm\.users \(id=300\), a row staging rejected in this run/);
    expect(said).toMatch(/id=300\b.*held back: it names crm\.bookings \(id=30\)/);
    expect(said).not.toContain('find no parent');
    expect(await query(staging.adminUrl, ORPHANS)).toEqual([{ n: '0' }]);
    // Staging keeps its own version of booking 10, whose user it holds; the note on it was left alone or written again as it was.
    expect(await rowTexts(staging.adminUrl, 'crm.bookings')).toEqual(before);
    expect(await query(staging.adminUrl, 'SELECT id FROM crm.notes ORDER BY id')).toEqual([{ id: 100 }]);
  });

  it('past five, are counted per table with a few named, under the refused row they wait for; the report lists every one', async () => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const sync = (...args: string[]) => runScript('sync.ts', ['--via', 'rest', '--yes', '--tables', TABLES.join(','), ...args], { env, cwd });
    await twoUsersBooked(production, staging);
    expect((await sync('--mode', 'replace')).code).toBe(0);
    // The re-keyed user, refused for its email, holds back its booking (moved by the cascade), eight new ones and three notes on them.
    await query(
      production.adminUrl,
      `UPDATE crm.users SET id = 300 WHERE id = 1;
       INSERT INTO crm.bookings SELECT i, 300, 'booking ' || i FROM generate_series(31, 38) i;
       INSERT INTO crm.notes SELECT i * 10, i, 'note ' || i FROM generate_series(31, 33) i;`,
    );
    const run = await sync('--mode', 'upsert', '--report', 'report.md');
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('rows rejected by staging, the rest written:');
    expect(run.stdout).toMatch(/crm\.users \(id=300\): duplicate key value violates unique constraint "users_email_key"/);
    expect(run.stdout).toContain(
      'and 12 rows held back, each naming a row staging rejected in this run (they go in with it, once staging takes it): crm.bookings 9, crm.notes 3; for example:',
    );
    expect(run.stdout.match(/held back: it names/g)).toHaveLength(3);
    expect(run.stdout).toContain('Every row is listed by --json and in --report FILE.');
    expect(readFileSync(join(cwd, 'report.md'), 'utf8').match(/held back: it names/g)).toHaveLength(12);
    expect(await query(staging.adminUrl, ORPHANS)).toEqual([{ n: '0' }]);
  });
});
