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
