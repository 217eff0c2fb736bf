// A staging one migration ahead keeps columns production lacks. With
// --allow-drift, a re-sync writes the common columns and leaves staging's own
// as they are on every row it rewrites, as an upsert does: a mirror or an
// incremental run used to delete the rows that differ and write them afresh,
// putting staging's own values back to their defaults unsaid.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE SCHEMA ahead;
  CREATE TABLE ahead.assets (id int PRIMARY KEY, title text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
  CREATE SCHEMA tiers;
  CREATE TABLE tiers.users (id int PRIMARY KEY, name text NOT NULL);
  CREATE SCHEMA narrow;
  CREATE TABLE narrow.t (id int PRIMARY KEY, name varchar(20));`;

const rows = (url: string, columns: string) => query(url, `SELECT ${columns} FROM ahead.assets ORDER BY id`);

describe('a re-sync of a table staging has more columns of (--allow-drift)', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('ahead_prod', { syncTarget: false }), stack.createProject('ahead_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}`);
    await query(
      staging.adminUrl,
      `SET ROLE postgres; ALTER TABLE ahead.assets ADD COLUMN visibility text NOT NULL DEFAULT 'timeline';
       INSERT INTO tiers.users VALUES (7, 'staging''s own'); ALTER TABLE tiers.users ADD COLUMN tier text NOT NULL DEFAULT 'free'; ALTER TABLE tiers.users ALTER COLUMN tier DROP DEFAULT;
       ALTER TABLE narrow.t ALTER COLUMN name TYPE varchar(5), ADD COLUMN extra text DEFAULT 'mine';
       NOTIFY pgrst, 'reload schema'`,
    );
    await query(production.adminUrl, `INSERT INTO tiers.users VALUES (1, 'production''s'); NOTIFY pgrst, 'reload schema'`);
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each([
    ['postgres', 'mirror'],
    ['postgres', 'incremental'],
    ['rest', 'mirror'],
    ['rest', 'incremental'],
  ] as const)("keeps staging's own column on the rows it rewrites, and deletes what production lacks (via %s, %s)", async (via, mode) => {
    await query(production.adminUrl, `TRUNCATE ahead.assets; INSERT INTO ahead.assets (id, title) SELECT g, 'asset ' || g FROM generate_series(1, 50) g`);
    await query(
      staging.adminUrl,
      `TRUNCATE ahead.assets; INSERT INTO ahead.assets (id, title, visibility) SELECT g, 'asset ' || g, 'archive' FROM generate_series(1, 50) g;
       INSERT INTO ahead.assets (id, title, visibility) VALUES (99, 'staging only', 'archive')`,
    );
    await query(production.adminUrl, `UPDATE ahead.assets SET title = title || ' (edited)', updated_at = now() + interval '1 minute' WHERE id IN (1, 2)`);
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const args = ['--via', via, '--yes', '--no-backup', '--schemas', 'ahead', '--mode', mode, '--allow-drift'];
    // An incremental run's first pass over a table has no watermark yet: it compares whole rows, as a mirror does.
    const run = await runScript('sync.ts', args, { env, cwd });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await rows(staging.adminUrl, 'id, title')).toEqual(await rows(production.adminUrl, 'id, title'));
    expect(await query(staging.adminUrl, 'SELECT DISTINCT visibility FROM ahead.assets')).toEqual([{ visibility: 'archive' }]);

    await query(production.adminUrl, `UPDATE ahead.assets SET title = title || '!', updated_at = now() + interval '2 minutes' WHERE id = 3`);
    const again = await runScript('sync.ts', args, { env, cwd });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(await rows(staging.adminUrl, 'id, title')).toEqual(await rows(production.adminUrl, 'id, title'));
    expect(await query(staging.adminUrl, 'SELECT DISTINCT visibility FROM ahead.assets')).toEqual([{ visibility: 'archive' }]);
    if (mode !== 'mirror') return;
    // Verify calls the common columns equal; only --allow-drift, which accepted the drift, lets that pass (exit 0).
    const verify = (extra: string[]) => runScript('verify-sync-status.ts', ['--via', via, '--schemas', 'ahead', ...extra], { env, cwd });
    const strict = await verify([]);
    expect(strict.code, strict.stdout + strict.stderr).toBe(1);
    expect(strict.stdout).toContain("ahead.assets: the common columns are equal, but the two sides' columns differ: Extra columns in staging: visibility.");
    expect(strict.stdout).toContain('1 of 1 tables differ.');
    const accepted = await verify(['--allow-drift']);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain(
      "Staging holds production's rows in the columns both sides have: 0 of 1 tables Perfect, 1 equal in their common columns (--allow-drift; how their columns differ is said above).",
    );
    const verified = await runScript('sync.ts', [...args, '--verify'], { env, cwd });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    // The run says, as it begins, what of the table it does not copy as production has it.
    expect(verified.stdout + verified.stderr).toContain('ahead.assets: --allow-drift copies the columns both sides have: Extra columns in staging: visibility');
    expect(verified.stdout).not.toContain('tables differ');
  });

  it.each(['postgres', 'rest'] as const)(
    "refuses before writing where staging's own column is NOT NULL without a default, the dry run too (via %s)",
    async (via) => {
      const env = envFor(production, staging);
      const cwd = emptyDirectory();
      for (const extra of [['--dry-run'], []]) {
        const run = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--schemas', 'tiers', '--allow-drift', ...extra], { env, cwd });
        expect(run.code, run.stdout + run.stderr).toBe(1);
        expect(run.stderr).toContain('Staging has columns production lacks that are NOT NULL without a default');
        expect(run.stderr).toContain('  tiers.users: tier');
      }
      expect(await query(staging.adminUrl, 'SELECT id, name, tier FROM tiers.users')).toEqual([{ id: 7, name: "staging's own", tier: 'free' }]);
    },
  );

  it.each(['postgres', 'rest'] as const)(
    "says a row staging refused keeps staging's version where the rows are upserted, not cleared (via %s)",
    async (via) => {
      for (const project of [production, staging]) {
        await query(project.adminUrl, `TRUNCATE narrow.t; INSERT INTO narrow.t (id, name) SELECT g, 'n' || g FROM generate_series(1, 50) g`);
      }
      await query(production.adminUrl, `UPDATE narrow.t SET name = 'much-too-long' WHERE id = 7; UPDATE narrow.t SET name = 'ok' WHERE id = 8`);
      const run = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--schemas', 'narrow', '--mode', 'mirror', '--allow-drift'], {
        env: envFor(production, staging),
        cwd: emptyDirectory(),
      });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      const staged = await query(staging.adminUrl, 'SELECT id, name, extra FROM narrow.t WHERE id IN (7, 8) ORDER BY id');
      if (via === 'postgres') {
        // One transaction: the failure leaves staging as it was.
        expect(staged).toEqual([
          { id: 7, name: 'n7', extra: 'mine' },
          { id: 8, name: 'n8', extra: 'mine' },
        ]);
        return;
      }
      expect(run.stdout).toContain('narrow.t (id=7): value too long for type character varying(5)');
      // Upserted, not cleared first (staging has a column of its own): nothing of staging's was lost, and no restore is asked for.
      expect(run.stdout).not.toContain('is gone');
      expect(run.stdout).not.toContain('restore');
      expect(staged).toEqual([
        { id: 7, name: 'n7', extra: 'mine' },
        { id: 8, name: 'ok', extra: 'mine' },
      ]);
    },
  );

  it('says rows of a table refused with one message once, with their number and a few keys (via rest)', async () => {
    for (const project of [production, staging]) {
      await query(project.adminUrl, `TRUNCATE narrow.t; INSERT INTO narrow.t (id, name) SELECT g, 'n' || g FROM generate_series(1, 50) g`);
    }
    await query(
      production.adminUrl,
      `UPDATE narrow.t SET name = 'much-too-long' WHERE id BETWEEN 11 AND 22; UPDATE narrow.t SET name = 'x' || id WHERE id = 30`,
    );
    const run = await runScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', '--schemas', 'narrow', '--mode', 'mirror', '--allow-drift'], {
      env: envFor(production, staging),
      cwd: emptyDirectory(),
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain('12 rows rejected by staging, the rest written:');
    expect(run.stdout).toMatch(
      /\n {2}narrow\.t: 12 rows refused alike, e\.g\. \(id=\d+\) \(id=\d+\) \(id=\d+\): value too long for type character varying\(5\) \(HTTP 400, 22001\)\n {4}Every row is listed by --json and in --report FILE\./,
    );
    expect(run.stdout.match(/value too long/g)).toHaveLength(1);
    expect(await query(staging.adminUrl, 'SELECT name FROM narrow.t WHERE id = 30')).toEqual([{ name: 'x30' }]);
  });
});
