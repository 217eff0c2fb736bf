// A table other tables INHERIT from, as old partitioning schemes built
// them (pagila's payment and its monthly tables): every query of it reads
// their rows too, and a DELETE or TRUNCATE of it empties them. supasync
// reads, compares, writes and empties its own rows alone (ONLY), on both
// paths, in every mode, in verify, the backup and the restore. Here the
// inheriting tables reuse the parent's ids (a key is not inherited), one
// of them keyless, a grandchild inherits in turn, a keyless parent has a
// child, and another table references the parent: any query of the
// parent that reads its children's rows meets a duplicate key or a row
// too many.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { functionsVersion } from '../lib/install/version.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { backupLine } from './helpers/backup.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE TABLE public.activity (id bigint PRIMARY KEY, msg text, updated_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE public.activity_2024 (archived_by text) INHERITS (public.activity);
  ALTER TABLE public.activity_2024 ADD PRIMARY KEY (id);
  CREATE TABLE public.activity_2024_q1 () INHERITS (public.activity_2024);
  CREATE TABLE public.activity_notes (id int PRIMARY KEY, activity_id bigint NOT NULL REFERENCES public.activity, note text);
  CREATE TABLE public.raw_events (payload text);
  CREATE TABLE public.raw_events_old (archived boolean) INHERITS (public.raw_events);
  CREATE MATERIALIZED VIEW public.activity_count AS SELECT count(*)::int AS n FROM public.activity;`;

const TABLES = ['activity', 'activity_2024', 'activity_2024_q1', 'activity_notes', 'raw_events', 'raw_events_old'];

/** Production as each test begins. */
const PRODUCTION_ROWS = `
  TRUNCATE public.activity, public.activity_notes, public.raw_events;
  INSERT INTO public.activity (id, msg) SELECT i, 'own ' || i FROM generate_series(1, 6) i;
  INSERT INTO public.activity_2024 (id, msg, archived_by) SELECT i, 'archived ' || i, 'ops' FROM generate_series(1, 4) i;
  INSERT INTO public.activity_2024_q1 (id, msg, archived_by) VALUES (1, 'q1 one', 'ops'), (1, 'q1 one again', 'qa');
  INSERT INTO public.activity_notes SELECT i, i, 'note ' || i FROM generate_series(1, 6) i;
  INSERT INTO public.raw_events SELECT 'event ' || i FROM generate_series(1, 3) i;
  INSERT INTO public.raw_events_old SELECT 'old event ' || i, true FROM generate_series(1, 2) i;`;

/** The keyless tables are replaced whatever the run's mode. */
const CONFIG = { tables: Object.fromEntries(['activity_2024_q1', 'raw_events', 'raw_events_old'].map((table) => [`public.${table}`, { mode: 'replace' }])) };

/** Each table's own rows (ONLY) as text, in one order. */
const contents = async (url: string, tables = TABLES): Promise<Record<string, string[]>> =>
  Object.fromEntries(
    await Promise.all(
      tables.map(async (table) => [
        table,
        (await query<{ row: string }>(url, `SELECT x::text AS row FROM ONLY public.${table} x ORDER BY x::text`)).map(({ row }) => row),
      ]),
    ),
  );

describe('a table other tables inherit from', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('inherit_prod', { syncTarget: false }), stack.createProject('inherit_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}; NOTIFY pgrst, 'reload schema'`);
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });
  /** Production as it begins, staging emptied and then given `stagingRows`. */
  const startFrom = async (stagingRows = '') => {
    await query(production.adminUrl, PRODUCTION_ROWS);
    await query(staging.adminUrl, `TRUNCATE public.activity, public.activity_notes, public.raw_events; ${stagingRows}`);
  };

  it.each(['postgres', 'rest'] as const)('is copied, verified and re-synced in every mode as its own rows (via %s)', async (via) => {
    await startFrom();
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify(CONFIG));
    const tables = ['--tables', TABLES.join(',')];
    const sync = async (mode: string) => {
      const run = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', mode, ...tables], { env, cwd });
      expect(run.code, `${mode}: ${run.stdout}${run.stderr}`).toBe(0);
      expect(await contents(staging.adminUrl), mode).toEqual(await contents(production.adminUrl));
      const verify = await runScript('verify-sync-status.ts', ['--via', via, ...tables], { env, cwd });
      expect(verify.code, `${mode}: ${verify.stdout}${verify.stderr}`).toBe(0);
      return run;
    };

    const replaced = await sync('replace');
    expect(replaced.stdout).toMatch(/\| public\.activity +\| 6 +\|/);
    expect(replaced.stdout).toMatch(/\| public\.raw_events +\| 3 +\|/);

    const changes = [
      // The parent's rows changed, one gone with its note, one added; a child's changed under an id the parent holds too.
      `UPDATE public.activity SET msg = 'changed', updated_at = now() WHERE id = 2;
       DELETE FROM public.activity_notes WHERE id = 3; DELETE FROM public.activity WHERE id = 3;
       INSERT INTO public.activity (id, msg) VALUES (7, 'own 7');
       UPDATE public.activity_2024 SET archived_by = 'changed', updated_at = now() WHERE id = 2;`,
      `UPDATE ONLY public.activity SET msg = 'changed again', updated_at = now() WHERE id = 4;
       DELETE FROM ONLY public.activity_2024 WHERE id = 4;
       INSERT INTO public.raw_events VALUES ('event 4');`,
    ];
    await query(production.adminUrl, changes[0]!);
    await sync('mirror');
    await query(production.adminUrl, changes[1]!);
    await sync('incremental');

    // Rows only staging has, in the parent and in a child: insert-missing leaves them; a mirror of the parent alone deletes its own.
    await query(
      staging.adminUrl,
      `INSERT INTO public.activity (id, msg) VALUES (50, 'staging only'); INSERT INTO public.activity_2024 (id, msg) VALUES (50, 'staging child')`,
    );
    const insertMissing = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', 'insert-missing', ...tables], { env, cwd });
    expect(insertMissing.code, insertMissing.stdout + insertMissing.stderr).toBe(0);
    const [kept, expected] = [await contents(staging.adminUrl), await contents(production.adminUrl)];
    for (const table of ['activity', 'activity_2024']) {
      expect(kept[table], table).toEqual(expect.arrayContaining(expected[table]!));
      expect(
        kept[table]!.filter((row) => !expected[table]!.includes(row)),
        table,
      ).toEqual([expect.stringMatching(/^\(50,"staging (only|child)"/)]);
    }
    const mirrorParent = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', 'mirror', '--tables', 'activity'], { env, cwd });
    expect(mirrorParent.code, mirrorParent.stdout + mirrorParent.stderr).toBe(0);
    const afterParent = await contents(staging.adminUrl);
    expect(afterParent.activity).toEqual((await contents(production.adminUrl)).activity);
    expect(afterParent.activity_2024!.filter((row) => row.startsWith('(50,'))).toHaveLength(1);
  });

  it.each(['postgres', 'rest'] as const)('is replaced, backed up and restored alone, the tables inheriting from it untouched (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    await startFrom(
      `INSERT INTO public.activity (id, msg) VALUES (1, 'staging''s own'), (60, 'staging only');
       INSERT INTO public.activity_2024 (id, msg, archived_by) VALUES (1, 'staging child', 'qa'), (61, 'staging child', 'qa');
       INSERT INTO public.raw_events VALUES ('staging event'); INSERT INTO public.raw_events_old VALUES ('staging old event', false);`,
    );
    const before = await contents(staging.adminUrl);
    const sync = await runScript('sync.ts', ['--via', via, '--yes', '--tables', 'activity,raw_events'], { env, cwd });
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    const production_ = await contents(production.adminUrl);
    const after = await contents(staging.adminUrl);
    expect(after.activity).toEqual(production_.activity);
    expect(after.raw_events).toEqual(production_.raw_events);
    for (const child of ['activity_2024', 'activity_2024_q1', 'raw_events_old']) expect(after[child], child).toEqual(before[child]);

    const backup = backupLine(sync.stdout);
    expect(backup?.rows).toBe(3);
    const restore = await runScript('restore-staging.ts', [backup!.restoreArgument, '--yes'], { env, cwd });
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(before);
  });

  it.each(['postgres', 'rest'] as const)('comes along as its own rows where a targeted sync’s rows reference it (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    await startFrom(`INSERT INTO public.activity_2024 (id, msg, archived_by) VALUES (2, 'staging child', 'qa')`);
    const before = await contents(staging.adminUrl);
    // Notes 2 and 5 alone: the parent's own rows 2 and 5 come with them, not the inheriting table's row 2.
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { 'public.activity_notes': { where: 'id IN (2, 5)' } } }));
    const sync = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', 'upsert', '--tables', 'activity_notes', '--with-parents'], {
      env,
      cwd,
    });
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    const [after, expected] = [await contents(staging.adminUrl), await contents(production.adminUrl)];
    const twoAndFive = (rows: string[] | undefined) => (rows ?? []).filter((row) => /^\((2|5),/.test(row));
    expect(after.activity_notes).toEqual(twoAndFive(expected.activity_notes));
    expect(after.activity).toEqual(twoAndFive(expected.activity));
    expect(after.activity).toHaveLength(2);
    for (const child of ['activity_2024', 'activity_2024_q1', 'raw_events_old']) expect(after[child], child).toEqual(before[child]);
  });

  it.each(['postgres', 'rest'] as const)('has its materialized views refreshed when only a table inheriting from it was written (via %s)', async (via) => {
    await startFrom('REFRESH MATERIALIZED VIEW public.activity_count');
    const sync = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'activity_2024'], {
      env: envFor(production, staging),
      cwd: emptyDirectory(),
    });
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    // The view counts the parent's rows, and so the inheriting tables': the 4 just written.
    expect(await query(staging.adminUrl, `SELECT n FROM public.activity_count`)).toEqual([{ n: 4 }]);
  });

  it.each(['postgres', 'rest'] as const)('is copied as its own rows where staging’s role may not take the replica role (via %s)', async (via) => {
    const unprivileged = await stack.createProject(`inherit_unprivileged_${via}`, { owner: 'inherit_owner' });
    try {
      await query(unprivileged.adminUrl, `SET ROLE inherit_owner; ${SCHEMA}; NOTIFY pgrst, 'reload schema'`);
      await query(production.adminUrl, PRODUCTION_ROWS);
      await query(unprivileged.adminUrl, `INSERT INTO public.activity_2024 (id, msg, archived_by) VALUES (70, 'staging child', 'qa')`);
      const env = envFor(production, unprivileged);
      const cwd = emptyDirectory();
      const keyed = ['--tables', 'activity,activity_2024,activity_notes'];
      const replace = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', TABLES.join(',')], { env, cwd });
      expect(replace.code, replace.stdout + replace.stderr).toBe(0);
      expect(await contents(unprivileged.adminUrl)).toEqual(await contents(production.adminUrl));
      await query(production.adminUrl, `UPDATE ONLY public.activity SET msg = 'changed' WHERE id = 2; DELETE FROM ONLY public.activity_2024 WHERE id = 3`);
      // Over REST a mirror deletes with checks off, which this owner may not turn off (refused by design): a replace again.
      const mode = via === 'postgres' ? 'mirror' : 'replace';
      const again = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', mode, ...keyed], { env, cwd });
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(await contents(unprivileged.adminUrl)).toEqual(await contents(production.adminUrl));
    } finally {
      await unprivileged.stop();
    }
  });

  it('is refused by name where staging’s table of that name is partitioned', async () => {
    const partitioned = await stack.createProject('inherit_partitioned_staging');
    try {
      await query(
        partitioned.adminUrl,
        `SET ROLE postgres;
         CREATE TABLE public.activity (id bigint PRIMARY KEY, msg text, updated_at timestamptz NOT NULL DEFAULT now()) PARTITION BY RANGE (id);
         CREATE TABLE public.activity_low PARTITION OF public.activity FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
         INSERT INTO public.activity (id, msg) VALUES (1, 'staging''s own');
         NOTIFY pgrst, 'reload schema'`,
      );
      for (const via of ['postgres', 'rest']) {
        const refused = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'activity'], {
          env: envFor(production, partitioned),
          cwd: emptyDirectory(),
        });
        expect(refused.code, refused.stdout + refused.stderr).toBe(1);
        expect(refused.stderr).toContain('public.activity: partitioned on one side, and other tables INHERIT from it on the other');
        expect(refused.stderr).toContain('Nothing was changed.');
        expect(await query(partitioned.adminUrl, `SELECT id, msg FROM public.activity`)).toEqual([{ id: '1', msg: "staging's own" }]);
      }
    } finally {
      await partitioned.stop();
    }
  });

  it('is refused by name over REST where staging’s functions predate reading a table’s own rows', async () => {
    const env = envFor(production, staging);
    const version = `CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql IMMUTABLE SET search_path = '' AS $$ SELECT %s $$`;
    await query(staging.adminUrl, `SET ROLE postgres; ${version.replace('%s', '16')}`);
    try {
      await query(production.adminUrl, PRODUCTION_ROWS);
      const before = await contents(staging.adminUrl);
      const refused = await runScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', '--tables', 'activity,activity_notes'], {
        env,
        cwd: emptyDirectory(),
      });
      expect(refused.code, refused.stdout + refused.stderr).toBe(2);
      expect(refused.stderr).toContain('public.activity: other tables INHERIT from it');
      expect(refused.stderr).toContain("staging's supasync functions are version 16");
      expect(refused.stderr).toContain('install-rpcs');
      expect(refused.stderr).toContain('Nothing was changed.');
      expect(await contents(staging.adminUrl)).toEqual(before);
    } finally {
      await query(staging.adminUrl, `SET ROLE postgres; ${version.replace('%s', String(functionsVersion()))}`);
    }
  });
});
