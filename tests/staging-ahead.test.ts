// A staging whose migrations are ahead of production's: what it has that
// production lacks must not let a run exit 0 with staging broken. A foreign
// key staging alone has (or production has NOT VALID) is not held by
// production's rows: copied whole, under the replica role, they broke it
// unchecked, and over REST the run blamed production moving.
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts, tableDigests } from './helpers/content.ts';
import { projectPair } from './helpers/project-pair.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';

const SCHEMA = `CREATE SCHEMA ahead;
  CREATE TABLE ahead.parent (id int PRIMARY KEY, name text);
  CREATE TABLE ahead.child (id int PRIMARY KEY, parent_id int, note text);`;
const TABLES = ['--schemas', 'ahead'];

describe('a staging whose migrations are ahead of production', () => {
  let production: Project;
  let staging: Project;
  projectPair('ahead', SCHEMA, async (pair) => {
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
  CREATE TABLE numbered.ticket (id serial PRIMARY KEY, v text);`;

describe("a staging whose columns draw from sequences production's do not", () => {
  let production: Project;
  let staging: Project;
  projectPair('numbered', NUMBERED, async (pair) => {
    ({ production, staging } = pair);
    await query(
      production.adminUrl,
      `INSERT INTO numbered.plain SELECT i, 'p' || i FROM generate_series(1, 50) i;
       INSERT INTO numbered.identity SELECT i, 'p' || i FROM generate_series(1, 40) i;
       INSERT INTO numbered.ticket SELECT i, 'p' || i FROM generate_series(1, 30) i; SELECT setval('numbered.ticket_id_seq', 30);`,
    );
    await query(
      staging.adminUrl,
      `SET ROLE postgres;
       CREATE SEQUENCE numbered.plain_id_seq OWNED BY numbered.plain.id; ALTER TABLE numbered.plain ALTER id SET DEFAULT nextval('numbered.plain_id_seq');
       ALTER TABLE numbered.identity ALTER id ADD GENERATED BY DEFAULT AS IDENTITY;
       CREATE SEQUENCE numbered.ticket_number; ALTER TABLE numbered.ticket ALTER id SET DEFAULT nextval('numbered.ticket_number');
       INSERT INTO numbered.plain (v) SELECT 's' FROM generate_series(1, 10); INSERT INTO numbered.identity (v) SELECT 's' FROM generate_series(1, 10);
       INSERT INTO numbered.ticket (v) SELECT 's' FROM generate_series(1, 10);`,
    );
  });

  it.each(['postgres', 'rest'] as const)("sets them past the copied numbers, so staging's next insert takes a free one (via %s)", async (via) => {
    const env = envFor(production, staging);
    // Where staging's own ten rows left them.
    await query(
      staging.adminUrl,
      `SELECT setval('numbered.plain_id_seq', 10), setval(pg_get_serial_sequence('numbered.identity', 'id'), 10), setval('numbered.ticket_number', 10)`,
    );
    const synced = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--schemas', 'numbered'], { env, cwd: emptyDirectory() });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    for (const table of ['numbered.plain', 'numbered.identity', 'numbered.ticket']) {
      expect(await rowTexts(staging.adminUrl, table), table).toEqual(await rowTexts(production.adminUrl, table));
    }
    const inserted = await query(
      staging.adminUrl,
      `WITH plain AS (INSERT INTO numbered.plain (v) VALUES ('next') RETURNING id),
            identity AS (INSERT INTO numbered.identity (v) VALUES ('next') RETURNING id),
            ticket AS (INSERT INTO numbered.ticket (v) VALUES ('next') RETURNING id)
       SELECT (SELECT id FROM plain) AS plain, (SELECT id FROM identity) AS identity, (SELECT id FROM ticket) AS ticket`,
    );
    expect(inserted).toEqual([{ plain: 51, identity: 41, ticket: 31 }]);
  });
});
