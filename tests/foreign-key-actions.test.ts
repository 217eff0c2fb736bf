// Rows production's foreign keys rewrite by their actions, without moving
// the child's updated_at: ON DELETE SET NULL (Prisma's action for every
// optional relation) and ON UPDATE CASCADE (Prisma's for every relation). An
// incremental run that follows updated_at did not read them: directly it
// exited 0 with staging's child naming a parent it had just deleted, over
// REST it stopped and blamed production for moving. Now such a child is
// compared whole when the run deletes keys of its parent, and a child that
// changed unseen otherwise (an app that repoints it without setting
// updated_at) stops the run on both paths, naming the mode that sees it.
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';
import { projectPair } from './helpers/project-pair.ts';

const SCHEMA = `
  CREATE SCHEMA crm;
  CREATE TABLE crm.spaces (id text PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE crm.polls (id text PRIMARY KEY, title text, updated_at timestamptz NOT NULL DEFAULT now(),
    space_id text REFERENCES crm.spaces (id) ON DELETE SET NULL ON UPDATE CASCADE);
  CREATE TABLE crm.votes (id text PRIMARY KEY, choice text, updated_at timestamptz NOT NULL DEFAULT now(),
    poll_id text REFERENCES crm.polls (id) ON DELETE CASCADE ON UPDATE CASCADE);
  CREATE TABLE crm.notes (id text PRIMARY KEY, body text, updated_at timestamptz NOT NULL DEFAULT now(),
    space_id text REFERENCES crm.spaces (id));
  CREATE TABLE crm.tags (id text PRIMARY KEY, label text, updated_at timestamptz NOT NULL DEFAULT now(),
    space_id text REFERENCES crm.spaces (id) ON DELETE CASCADE);
  CREATE TABLE crm.pins (id text PRIMARY KEY, label text, updated_at timestamptz NOT NULL DEFAULT now(),
    space_id text REFERENCES crm.spaces (id) ON DELETE SET NULL);`;
// Three children whose keys to crm.spaces act on delete: each compared as a space is deleted, all asked in one round.
const TABLES = ['crm.spaces', 'crm.polls', 'crm.votes', 'crm.notes', 'crm.tags', 'crm.pins'];
const contents = async (url: string) => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await rowTexts(url, t)])));

describe("rows production's foreign-key actions rewrite, re-synced incrementally by updated_at", () => {
  let production: Project;
  let staging: Project;
  projectPair('fk_actions', SCHEMA, (pair) => {
    ({ production, staging } = pair);
  });

  it.each(['postgres', 'rest'] as const)(
    'are read where the run deletes or renames their parent, and a child changed unseen stops the run (via %s)',
    async (via) => {
      // Every row stamped in the past: a write that does not set updated_at leaves it there.
      await query(
        production.adminUrl,
        `TRUNCATE crm.spaces, crm.polls, crm.votes, crm.notes, crm.tags, crm.pins;
       INSERT INTO crm.spaces SELECT 's' || i, 'space ' || i, '2024-01-01' FROM generate_series(1, 6) i;
       INSERT INTO crm.polls SELECT 'p' || i, 'poll ' || i, '2024-01-01', 's' || (1 + i % 6) FROM generate_series(1, 30) i;
       INSERT INTO crm.votes SELECT 'v' || i, 'choice ' || i, '2024-01-01', 'p' || (1 + i % 30) FROM generate_series(1, 90) i;
       INSERT INTO crm.notes SELECT 'n' || i, 'note ' || i, '2024-01-01', 's' || (ARRAY[1, 4, 5, 6])[1 + i % 4] FROM generate_series(1, 12) i;
       INSERT INTO crm.tags SELECT 't' || i, 'tag ' || i, '2024-01-01', 's' || (ARRAY[1, 2, 5])[1 + i % 3] FROM generate_series(1, 9) i;
       INSERT INTO crm.pins SELECT 'q' || i, 'pin ' || i, '2024-01-01', 's' || (ARRAY[2, 5, 6])[1 + i % 3] FROM generate_series(1, 9) i;`,
      );
      await query(staging.adminUrl, 'TRUNCATE crm.spaces, crm.polls, crm.votes, crm.notes, crm.tags, crm.pins; TRUNCATE supasync_private.watermarks');
      const env = envFor(production, staging);
      const cwd = emptyDirectory();
      const sync = (mode: string) => runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', mode, '--tables', TABLES.join(',')], { env, cwd });
      for (const mode of ['replace', 'incremental']) {
        const result = await sync(mode);
        expect(result.code, `${mode}: ${result.stderr}`).toBe(0);
      }

      // A space deleted (its polls' and pins' space_id set NULL, its tags deleted), a poll renamed (its votes follow), a space renamed (its polls follow): no child's updated_at moves.
      await query(
        production.adminUrl,
        `DELETE FROM crm.spaces WHERE id = 's2';
       UPDATE crm.polls SET id = 'p7-renamed', updated_at = now() WHERE id = 'p7';
       UPDATE crm.spaces SET id = 's3-renamed', updated_at = now() WHERE id = 's3';`,
      );
      const incremental = await sync('incremental');
      expect(incremental.code, incremental.stderr).toBe(0);
      expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
      const verify = await runScript('verify-sync-status.ts', ['--via', via, '--tables', TABLES.join(',')], { env, cwd });
      expect(verify.code, verify.stdout).toBe(0);

      // A note repointed by an app that does not set updated_at, its old space deleted: a key without an action, nothing read it.
      await query(production.adminUrl, `UPDATE crm.notes SET space_id = 's1' WHERE space_id = 's4'; DELETE FROM crm.spaces WHERE id = 's4';`);
      const unseen = await sync('incremental');
      expect(unseen.code, unseen.stdout).toBe(1);
      expect(unseen.stderr).toContain('3 rows of crm.notes (crm.notes.space_id -> crm.spaces.id, notes_space_id_fkey) find no parent: they name e.g. (s4)');
      expect(unseen.stderr).toContain('crm.notes (by updated_at): an incremental run reads the rows whose column moved since the last run');
      expect(unseen.stderr).toContain('Run --mode mirror --tables crm.notes once');
      expect(unseen.stderr).not.toContain('production most likely changed');
      const mirror = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', 'mirror', '--tables', 'crm.notes'], { env, cwd });
      expect(mirror.code, mirror.stderr).toBe(0);
      const settled = await sync('incremental');
      expect(settled.code, settled.stderr).toBe(0);
      expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
    },
  );
});
