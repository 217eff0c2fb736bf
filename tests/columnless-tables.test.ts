// Tables with no column to copy: one declared with none (`CREATE TABLE t ()`),
// one whose every column is generated. Their rows differ only in number, and
// COPY and INSERT have no empty column list: each statement must leave the
// list out (lib/sql/ident.ts copyColumns, the builders' COALESCEs), on both
// paths, in the sync, its backup, the restore and verify's checksums.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { backupLine } from './helpers/backup.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE TABLE public.heartbeat ();
  CREATE TABLE public.constant_seven (seven int GENERATED ALWAYS AS (7) STORED);`;
const TABLES = 'heartbeat,constant_seven';

/** Rows per table, and what the generated column holds: all a columnless row has. */
const contents = async (url: string) =>
  (
    await query<{ heartbeat: number; sevens: string | null }>(
      url,
      `SELECT (SELECT count(*)::int FROM public.heartbeat) AS heartbeat,
              (SELECT string_agg(seven::text, ',') FROM public.constant_seven) AS sevens`,
    )
  )[0];

describe('tables with no column to copy', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('columnless_prod', { syncTarget: false }), stack.createProject('columnless_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}`);
    await query(
      production.adminUrl,
      `INSERT INTO public.heartbeat SELECT FROM generate_series(1, 5);
       INSERT INTO public.constant_seven SELECT FROM generate_series(1, 3);`,
    );
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('are copied by their number of rows, verified, backed up and restored (via %s)', async (via) => {
    await query(staging.adminUrl, `TRUNCATE public.heartbeat, public.constant_seven; INSERT INTO public.heartbeat SELECT FROM generate_series(1, 2)`);
    const before = await contents(staging.adminUrl);
    const env = envFor(production, staging);
    const cwd = emptyDirectory();

    const sync = await runScript('sync.ts', ['--via', via, '--yes', '--tables', TABLES], { env, cwd });
    expect(sync.code, sync.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual({ heartbeat: 5, sevens: '7,7,7' });
    expect(sync.stdout).toMatch(/\| public\.heartbeat +\| 5 +\|/);

    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--tables', TABLES], { env, cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('2 of 2 tables Perfect');

    const backup = backupLine(sync.stdout);
    expect(backup?.rows).toBe(2);
    const restore = await runScript('restore-staging.ts', [backup!.restoreArgument, '--yes'], { env, cwd });
    expect(restore.code, restore.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(before);

    const mirror = await runScript('sync.ts', ['--via', via, '--mode', 'mirror', '--yes', '--tables', TABLES], { env, cwd });
    expect(mirror.code).toBe(2);
    expect(mirror.stderr).toContain('Cannot mirror public.constant_seven, public.heartbeat: no primary key');
    expect(await contents(staging.adminUrl)).toEqual(before);
  });
});
