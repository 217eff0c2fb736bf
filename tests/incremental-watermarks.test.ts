// An incremental run reads only the rows changed since its table's
// watermark. Three ways staging came out stale with the run exiting 0, as a
// user who re-syncs daily while the app evolves met them:
// - what the run copies changed while no row did: a column added on both
//   sides with a volatile default, or one --allow-drift left out until
//   staging gained it. The watermark now keeps the columns it copied (and
//   their types and masks); a run that copies otherwise compares whole once.
// - a restore put older rows back under a watermark the undone run had
//   moved: a restore now marks the tables' watermarks, compared whole next.
// - over REST staging rejected some rows (a CHECK production cannot be asked about), and the
//   watermark moved past them anyway: a table with rejected rows keeps its
//   watermark, and the next run reads those rows again.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { projectPair } from './helpers/project-pair.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';

// Stamps are old and the overlap none: a row is read by an incremental run only where its stamp moved, or the table is compared whole.
const SCHEMA = `CREATE SCHEMA wm;
  CREATE TYPE wm.mood AS ENUM ('calm', 'glad');
  CREATE TABLE wm.users (id int PRIMARY KEY, name text NOT NULL, mood wm.mood NOT NULL DEFAULT 'calm', updated_at timestamptz NOT NULL DEFAULT now());`;
const FILL = `TRUNCATE wm.users; INSERT INTO wm.users SELECT i, 'user ' || i, 'calm', '2020-01-01' FROM generate_series(1, 200) i`;
const RESET = `DROP SCHEMA wm CASCADE; ${SCHEMA}`;

describe('an incremental re-sync whose watermark no longer bounds what differs', () => {
  let production: Project;
  let staging: Project;
  projectPair('watermarks', SCHEMA, (pair) => {
    ({ production, staging } = pair);
  });

  const setUp = async (via: string) => {
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${RESET}; ${FILL}`);
    await query(staging.adminUrl, 'TRUNCATE supasync_private.watermarks');
    const cwd = emptyDirectory();
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ incremental: { overlapSeconds: 0 } }));
    const env = envFor(production, staging);
    const sync = (...args: string[]) => runScript('sync.ts', ['--via', via, '--yes', '--schemas', 'wm', '--mode', 'incremental', ...args], { env, cwd });
    const first = await sync('--no-backup');
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain('wm.users: first run: whole rows compared');
    return { sync, cwd, env };
  };
  const equal = async () => expect(await rowTexts(staging.adminUrl, 'wm.users')).toEqual(await rowTexts(production.adminUrl, 'wm.users'));

  it.each(['postgres', 'rest'] as const)(
    'compares whole once what it copies changed: a column both sides added, one staging gained late (via %s)',
    async (via) => {
      const { sync } = await setUp(via);
      // Both sides add a column whose default each draws for itself: no row's stamp moves.
      for (const project of [production, staging])
        await query(project.adminUrl, `SET ROLE postgres; ALTER TABLE wm.users ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid()`);
      const added = await sync('--no-backup');
      expect(added.code, added.stdout + added.stderr).toBe(0);
      expect(added.stdout).toContain('wm.users: whole rows compared: the columns copied changed since the last run');
      await equal();

      // Production gains a column staging lacks: --allow-drift copies the others. Staging gains it later.
      await query(
        production.adminUrl,
        `SET ROLE postgres; ALTER TABLE wm.users ADD COLUMN plan text NOT NULL DEFAULT 'free'; UPDATE wm.users SET plan = 'pro' WHERE id % 10 = 0`,
      );
      const drifted = await sync('--no-backup', '--allow-drift');
      expect(drifted.code, drifted.stdout + drifted.stderr).toBe(0);
      await query(staging.adminUrl, `SET ROLE postgres; ALTER TABLE wm.users ADD COLUMN plan text NOT NULL DEFAULT 'free'`);
      const caughtUp = await sync('--no-backup');
      expect(caughtUp.code, caughtUp.stdout + caughtUp.stderr).toBe(0);
      expect(caughtUp.stdout).toContain('wm.users: whole rows compared: the columns copied changed since the last run');
      await equal();

      // Nothing changed since: read from the watermark again.
      const again = await sync('--no-backup');
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toMatch(/wm\.users: read updated_at >= /);

      // A watermark kept before watermarks kept what was copied (functions before version 29): what changed since is not
      // known, so compared whole once (here a row stale in staging, which no stamp shows).
      await query(staging.adminUrl, `UPDATE supasync_private.watermarks SET copied_columns = NULL; UPDATE wm.users SET name = 'stale' WHERE id = 42`);
      const older = await sync('--no-backup');
      expect(older.code, older.stdout + older.stderr).toBe(0);
      expect(older.stdout).toContain('wm.users: whole rows compared: the watermark predates what runs keep with it (functions version 29)');
      await equal();
    },
  );

  it.each(['postgres', 'rest'] as const)('compares whole the tables a restore put back (via %s)', async (via) => {
    const { sync, cwd, env } = await setUp(via);
    await query(production.adminUrl, `UPDATE wm.users SET name = 'renamed', updated_at = now() WHERE id IN (1, 2, 3)`);
    const changed = await sync();
    expect(changed.code, changed.stdout + changed.stderr).toBe(0);
    await equal();
    const restore = await runScript('restore-staging.ts', ['latest', '--yes'], { env, cwd });
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    expect(await query(staging.adminUrl, `SELECT count(*)::int AS n FROM wm.users WHERE name = 'renamed'`)).toEqual([{ n: 0 }]);

    const after = await sync('--no-backup');
    expect(after.code, after.stdout + after.stderr).toBe(0);
    expect(after.stdout).toContain('wm.users: whole rows compared: staging was restored from a backup since the last run');
    await equal();
  });

  it("keeps a table's watermark where staging rejected rows over REST: the next run reads them again", async () => {
    const { sync } = await setUp('rest');
    // A CHECK calling what production lacks cannot be asked of production's rows before writing: staging refuses them as they come.
    await query(
      staging.adminUrl,
      `SET ROLE postgres; CREATE FUNCTION wm.short(value text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT length(value) < 12 $$;
       ALTER TABLE wm.users ADD CONSTRAINT short_name CHECK (wm.short(name))`,
    );
    await query(production.adminUrl, `UPDATE wm.users SET name = 'a much longer name', updated_at = now() WHERE id IN (5, 6, 7)`);
    const rejected = await sync('--no-backup');
    expect(rejected.code, rejected.stdout + rejected.stderr).toBe(1);
    expect(rejected.stdout).toContain('3 rows rejected by staging');
    expect(rejected.stdout).toMatch(/wm\.users: read updated_at >= [^;]+; next from \S+ again: staging rejected some of its rows/);

    await query(staging.adminUrl, `SET ROLE postgres; ALTER TABLE wm.users DROP CONSTRAINT short_name`);
    const retried = await sync('--no-backup');
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    await equal();
  });

  it('copies with --allow-drift a table whose foreign key only staging has, over a column only staging has', async () => {
    const { sync } = await setUp('postgres');
    await query(production.adminUrl, `SET ROLE postgres; CREATE TABLE wm.orgs (id int PRIMARY KEY)`);
    await query(
      staging.adminUrl,
      `SET ROLE postgres; CREATE TABLE wm.orgs (id int PRIMARY KEY); ALTER TABLE wm.users ADD COLUMN org_id int REFERENCES wm.orgs`,
    );
    await query(production.adminUrl, `UPDATE wm.users SET name = 'moved', updated_at = now() WHERE id = 9`);
    for (const mode of ['incremental', 'replace']) {
      const run = await sync('--no-backup', '--allow-drift', '--mode', mode);
      expect(run.code, `${mode}: ${run.stdout}${run.stderr}`).toBe(0);
    }
    expect(await query(staging.adminUrl, `SELECT name, org_id FROM wm.users WHERE id = 9`)).toEqual([{ name: 'moved', org_id: null }]);
  });
});
