// A table other tables INHERIT from (lib/engine/inherited-tables.ts): every
// query of it reads their rows too, so a copy of it would put their rows into
// it twice (over REST) or empty them unsaved (a direct replace). Refused by
// name on both paths before anything is written; the inheriting table alone
// is copied as any other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE TABLE public.activity (id bigint PRIMARY KEY, msg text);
  CREATE TABLE public.activity_2024 (archived_by text) INHERITS (public.activity);
  ALTER TABLE public.activity_2024 ADD PRIMARY KEY (id);`;

/** Each table's own rows (ONLY), as text. */
const ownRows = (url: string, table: string) => query<{ row: string }>(url, `SELECT x::text AS row FROM ONLY public.${table} x ORDER BY id`);

describe('a table other tables inherit from', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('inherit_prod', { syncTarget: false }), stack.createProject('inherit_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}`);
    await query(
      production.adminUrl,
      `INSERT INTO public.activity SELECT i, 'own ' || i FROM generate_series(1, 6) i;
       INSERT INTO public.activity_2024 SELECT i, 'archived ' || i, 'ops' FROM generate_series(101, 104) i;`,
    );
    await query(staging.adminUrl, `INSERT INTO public.activity_2024 VALUES (900, 'staging only', 'qa')`);
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('is refused by name before anything is written, and the inheriting table copies alone (via %s)', async (via) => {
    const before = await ownRows(staging.adminUrl, 'activity_2024');
    for (const mode of ['replace', 'mirror']) {
      const refused = await runScript('sync.ts', ['--via', via, '--mode', mode, '--yes', '--no-backup', '--tables', 'activity,activity_2024'], {
        env: envFor(production, staging),
      });
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toContain('public.activity (inherited by public.activity_2024)');
      expect(refused.stderr).toContain('--exclude public.activity');
      expect(refused.stderr).toContain('Nothing was changed.');
      expect(await ownRows(staging.adminUrl, 'activity')).toEqual([]);
      expect(await ownRows(staging.adminUrl, 'activity_2024')).toEqual(before);
    }
    const alone = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'activity_2024'], { env: envFor(production, staging) });
    expect(alone.code, alone.stderr).toBe(0);
    expect(await ownRows(staging.adminUrl, 'activity_2024')).toEqual(await ownRows(production.adminUrl, 'activity_2024'));
    expect(await ownRows(staging.adminUrl, 'activity')).toEqual([]);
    // Put the staging-only row back for the other path's run.
    await query(staging.adminUrl, `DELETE FROM public.activity_2024; INSERT INTO public.activity_2024 VALUES (900, 'staging only', 'qa')`);
  });
});
