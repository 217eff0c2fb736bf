// Schema details that change what a row may be: a key's collation that
// differs between the sides (a case-insensitive one holds 'abc' and 'ABC' as
// one key, so production's two rows would merge into one in staging), and
// PostgreSQL 18's constraints that production's rows need not meet: a
// foreign key NOT ENFORCED, a NOT NULL added NOT VALID over older NULLs;
// and a partition production has that staging's tree lacks (detached there).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack, majorVersion } = sharedStack();

const rows = (url: string, table: string) =>
  query<{ row: string }>(url, `SELECT x::text AS row FROM public.${table} x ORDER BY x::text COLLATE "C"`).then((found) => found.map(({ row }) => row));

describe('a key whose collation differs in staging', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('collate_prod', { syncTarget: false }), stack.createProject('collate_staging')]);
    await query(
      production.adminUrl,
      `SET ROLE postgres;
       CREATE TABLE public.handles (handle text COLLATE "C" PRIMARY KEY, owner text);
       CREATE TABLE public.labels (label text COLLATE "C" PRIMARY KEY)`,
    );
    await query(
      staging.adminUrl,
      `SET ROLE postgres;
       CREATE COLLATION public.case_blind (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
       CREATE TABLE public.handles (handle text COLLATE public.case_blind PRIMARY KEY, owner text);
       CREATE COLLATION public.root_order (provider = icu, locale = 'und');
       CREATE TABLE public.labels (label text COLLATE public.root_order PRIMARY KEY);
       NOTIFY pgrst, 'reload schema'`,
    );
    await query(
      production.adminUrl,
      `INSERT INTO public.handles VALUES ('abc', 'first'), ('ABC', 'second'), ('other', 'third');
       INSERT INTO public.labels VALUES ('b'), ('B'), ('a')`,
    );
    await query(staging.adminUrl, `INSERT INTO public.handles VALUES ('abc', 'first')`);
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('is named as drift before anything is written, the dry run too, in every mode (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    for (const extra of [['--dry-run'], [], ['--mode', 'mirror'], ['--mode', 'upsert']]) {
      const refused = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'handles', ...extra], { env, cwd });
      expect(refused.code, `${extra.join(' ')}: ${refused.stdout}${refused.stderr}`).toBe(1);
      expect(refused.stdout + refused.stderr).toContain('Collations that compare otherwise: handle (bytes -> public.case_blind)');
    }
    expect(await rows(staging.adminUrl, 'handles')).toEqual(['(abc,first)']);

    // Collations that compare bytes alike, in another order: no drift.
    const labels = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', 'mirror', '--tables', 'labels'], { env, cwd });
    expect(labels.code, labels.stdout + labels.stderr).toBe(0);
    expect(await rows(staging.adminUrl, 'labels')).toEqual(await rows(production.adminUrl, 'labels'));
  });
});

describe.runIf(majorVersion >= 18)("PostgreSQL 18's constraints that production's rows need not meet", () => {
  let production: Project;
  let staging: Project;
  const SCHEMA = `
    CREATE TABLE public.teams (id int PRIMARY KEY, name text);
    CREATE TABLE public.members (id int PRIMARY KEY, team_id int REFERENCES public.teams NOT ENFORCED, nickname text);
    CREATE TABLE public.badges (code text UNIQUE, label text);
    NOTIFY pgrst, 'reload schema'`;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('pg18_prod', { syncTarget: false }), stack.createProject('pg18_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}`);
    // Team 99 was never there (the key is not enforced); member 2 predates the NOT NULL.
    await query(
      production.adminUrl,
      `INSERT INTO public.teams VALUES (1, 'core');
       INSERT INTO public.members VALUES (1, 1, 'ada'), (2, 99, NULL), (3, 1, 'grace');
       INSERT INTO public.badges VALUES ('gold', 'Gold'), (NULL, 'unnamed'), (NULL, 'unnamed')`,
    );
    for (const project of [production, staging]) {
      await query(
        project.adminUrl,
        `SET ROLE postgres;
         ALTER TABLE public.members ADD CONSTRAINT nickname_given NOT NULL nickname NOT VALID;
         ALTER TABLE public.badges ADD CONSTRAINT code_given NOT NULL code NOT VALID`,
      );
    }
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('copies them as they are, keeps both constraints, and verify calls them equal (via %s)', async (via) => {
    await query(staging.adminUrl, 'TRUNCATE public.teams, public.members');
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const tables = ['--tables', 'teams,members'];
    const replace = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', ...tables], { env, cwd });
    expect(replace.code, replace.stdout + replace.stderr).toBe(0);
    expect(await rows(staging.adminUrl, 'members')).toEqual(await rows(production.adminUrl, 'members'));

    await query(production.adminUrl, `UPDATE public.members SET team_id = 98 WHERE id = 3; INSERT INTO public.members VALUES (4, 1, 'linus')`);
    const mirror = await runScript('sync.ts', ['--via', via, '--mode', 'mirror', '--yes', '--no-backup', ...tables], { env, cwd });
    expect(mirror.code, mirror.stdout + mirror.stderr).toBe(0);
    expect(await rows(staging.adminUrl, 'members')).toEqual(await rows(production.adminUrl, 'members'));

    const verify = await runScript('verify-sync-status.ts', ['--via', via, ...tables], { env, cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('2 of 2 tables Perfect');
    await query(production.adminUrl, `DELETE FROM public.members WHERE id = 4; UPDATE public.members SET team_id = 1 WHERE id = 3`);
    // A unique key over a NOT NULL added NOT VALID may still hold NULLs: no key to match rows on.
    const badges = await runScript('sync.ts', ['--via', via, '--dry-run', '--tables', 'badges'], { env, cwd });
    expect(badges.code, badges.stdout + badges.stderr).toBe(0);
    expect(badges.stdout).toContain('No primary key or NOT NULL unique key: public.badges');
    const constraints = await query(
      staging.adminUrl,
      `SELECT conname, convalidated, conenforced FROM pg_constraint WHERE conrelid = 'public.members'::regclass AND (contype = 'f' OR conname = 'nickname_given') ORDER BY conname`,
    );
    expect(constraints).toEqual([
      { conname: 'members_team_id_fkey', convalidated: false, conenforced: false },
      { conname: 'nickname_given', convalidated: false, conenforced: true },
    ]);
  });
});

describe("a partition production has and staging's tree lacks", () => {
  let production: Project;
  let staging: Project;
  const SCHEMA = `
    CREATE TABLE public.readings (id int, kind int, v text, PRIMARY KEY (id, kind)) PARTITION BY LIST (kind);
    CREATE TABLE public.readings_1 PARTITION OF public.readings FOR VALUES IN (1);
    CREATE TABLE public.readings_2 PARTITION OF public.readings FOR VALUES IN (2);`;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('parts_prod', { syncTarget: false }), stack.createProject('parts_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}`);
    await query(production.adminUrl, `INSERT INTO public.readings SELECT i, 1 + i % 2, 'reading ' || i FROM generate_series(1, 20) i`);
    // Detached in staging: a plain table of its own there.
    await query(staging.adminUrl, `SET ROLE postgres; ALTER TABLE public.readings DETACH PARTITION public.readings_2; NOTIFY pgrst, 'reload schema'`);
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('is named as drift before writing; a DEFAULT partition in staging takes its rows (via %s)', async (via) => {
    await query(staging.adminUrl, 'TRUNCATE public.readings');
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    for (const extra of [['--dry-run'], [], ['--mode', 'mirror']]) {
      const refused = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'readings', ...extra], { env, cwd });
      expect(refused.code, `${extra.join(' ')}: ${refused.stdout}${refused.stderr}`).toBe(1);
      expect(refused.stdout + refused.stderr).toContain(
        "Partitions production has and staging's tree lacks: public.readings_2 (FOR VALUES IN (2)). Their rows would find no partition in staging",
      );
    }
    // --allow-drift asks production's partition for rows before writing: with rows, refused, saying what to create.
    const allowed = (extra: string[] = []) =>
      runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--allow-drift', '--tables', 'readings', ...extra], { env, cwd });
    const needed = await allowed();
    expect(needed.code, needed.stdout + needed.stderr).toBe(1);
    expect(needed.stderr).toMatch(
      /^ {2}public\.readings: no partition for public\.readings_2 \(FOR VALUES IN \(2\)\): 10 rows of production's, e\.g\. \(\d+,2\)/m,
    );
    expect(needed.stderr).toContain('To copy them, create or attach the partitions in staging as production has them (public.readings_2 FOR VALUES IN (2))');
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.readings')).toEqual([{ n: 0 }]);
    // An empty one (a month's, made ahead of its rows) stops nothing.
    await query(production.adminUrl, 'DELETE FROM public.readings WHERE kind = 2');
    try {
      const empty = await allowed();
      expect(empty.code, empty.stdout + empty.stderr).toBe(0);
      expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.readings')).toEqual([{ n: 10 }]);
    } finally {
      await query(production.adminUrl, `INSERT INTO public.readings SELECT i, 2, 'reading ' || i FROM generate_series(1, 20) i WHERE i % 2 = 1`);
      await query(staging.adminUrl, 'TRUNCATE public.readings');
    }
    await query(staging.adminUrl, `SET ROLE postgres; CREATE TABLE IF NOT EXISTS public.readings_rest PARTITION OF public.readings DEFAULT`);
    const taken = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'readings'], { env, cwd });
    expect(taken.code, taken.stdout + taken.stderr).toBe(0);
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.readings_rest')).toEqual([{ n: 10 }]);
    await query(staging.adminUrl, `SET ROLE postgres; DROP TABLE public.readings_rest`);
  });
});
