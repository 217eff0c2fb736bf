// Tables of more than 100 columns (imported spreadsheets, denormalised
// reports): a PostgreSQL function takes at most 100 arguments, so nothing
// that reads a row may pass its columns one argument each. Over REST each
// row is read as one array of its columns' text (functions version 13);
// the sync, its backup, a re-sync, verify and the restore must carry every
// value, keyed or not. Functions older than that are refused by name before
// anything is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionsVersion } from '../lib/install/version.ts';
import type { Project } from '../stack/index.ts';
import { backupLine } from './helpers/backup.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const COLUMNS = 140;
// Columns of a few types in turn, so that a value lands in the wrong column or loses its type shows.
const types = ['text', 'integer', 'numeric', 'jsonb', 'timestamptz', 'boolean', 'bytea'];
const columnType = (i: number) => types[i % types.length] as string;
const value = (i: number) =>
  ({
    text: `'v${i}-' || g`,
    integer: `g * ${i}`,
    numeric: `(g * ${i})::numeric / 7`,
    jsonb: `jsonb_build_object('g', g, 'c', ${i})`,
    timestamptz: `'2026-01-01'::timestamptz + g * interval '${i} minutes'`,
    boolean: `(g + ${i}) % 2 = 0`,
    bytea: `decode(md5(g::text || ${i}), 'hex')`,
  })[columnType(i)];
const columns = Array.from({ length: COLUMNS }, (_, i) => `"Column ${i}" ${columnType(i)}`).join(', ');
// Every fifth value NULL: a NULL must stay a NULL, not shift the values after it.
const values = Array.from({ length: COLUMNS }, (_, i) => `CASE WHEN (g + ${i}) % 5 = 0 THEN NULL ELSE ${value(i)} END`).join(', ');

const SCHEMA = `
  CREATE TABLE public.survey (id integer PRIMARY KEY, ${columns});
  CREATE TABLE public.survey_import (${columns});`;

const rows = (url: string, table: string) => rowTexts(url, `public.${table}`);

describe(`a table of ${COLUMNS} columns`, () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('wide_prod', { syncTarget: false }), stack.createProject('wide_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}; NOTIFY pgrst, 'reload schema'`);
    await query(
      production.adminUrl,
      `INSERT INTO public.survey SELECT g, ${values} FROM generate_series(1, 120) g;
       INSERT INTO public.survey_import SELECT ${values} FROM generate_series(1, 40) g;`,
    );
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('is copied, re-synced, verified, backed up and restored value for value (via %s)', async (via) => {
    await query(
      staging.adminUrl,
      `TRUNCATE public.survey, public.survey_import;
       INSERT INTO public.survey (id, "Column 0") VALUES (1, 'staging'), (500, 'staging only');
       INSERT INTO public.survey_import ("Column 0") VALUES ('staging');`,
    );
    const before = { survey: await rows(staging.adminUrl, 'survey'), survey_import: await rows(staging.adminUrl, 'survey_import') };
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const tables = ['--tables', 'survey,survey_import'];

    const sync = await runScript('sync.ts', ['--via', via, '--yes', ...tables], { env, cwd });
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    for (const table of ['survey', 'survey_import']) {
      const expected = await rows(production.adminUrl, table);
      expect(expected.length).toBeGreaterThan(0);
      expect(await rows(staging.adminUrl, table)).toEqual(expected);
    }
    const verify = await runScript('verify-sync-status.ts', ['--via', via, ...tables], { env, cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    // A re-sync finds the changed row by its hashes, over every column, and writes it by key.
    await query(staging.adminUrl, `UPDATE public.survey SET "Column ${COLUMNS - 1}" = NULL, "Column 70" = 'drifted' WHERE id = 7`);
    const mirror = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', 'mirror', '--tables', 'survey'], { env, cwd });
    expect(mirror.code, mirror.stdout + mirror.stderr).toBe(0);
    expect(await rows(staging.adminUrl, 'survey')).toEqual(await rows(production.adminUrl, 'survey'));

    const backup = backupLine(sync.stdout);
    expect(backup?.rows).toBe(3);
    const restore = await runScript('restore-staging.ts', [backup!.restoreArgument, '--yes'], { env, cwd });
    expect(restore.code, restore.stderr).toBe(0);
    expect(await rows(staging.adminUrl, 'survey')).toEqual(before.survey);
    expect(await rows(staging.adminUrl, 'survey_import')).toEqual(before.survey_import);
  });

  it('is refused over REST, by name, where production has functions that pass a row its columns one by one', async () => {
    await query(staging.adminUrl, `TRUNCATE public.survey; INSERT INTO public.survey (id) VALUES (1)`);
    const older = 12;
    await query(
      production.adminUrl,
      `SET ROLE postgres; CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql AS 'SELECT ${older}'`,
    );
    try {
      const sync = await runScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', '--tables', 'survey'], { env: envFor(production, staging) });
      expect(sync.code).toBe(1);
      expect(sync.stderr).toContain(
        `public.survey: more than 100 columns, read as one array a row over REST, which production's supasync functions do from version 13. They are version ${older}.`,
      );
      expect(sync.stderr).toContain('install-rpcs.ts --production');
      expect(sync.stderr).toContain('Nothing was changed.');
      expect(await query(staging.adminUrl, 'SELECT id FROM public.survey')).toEqual([{ id: 1 }]);
    } finally {
      await query(
        production.adminUrl,
        `SET ROLE postgres; CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql AS 'SELECT ${functionsVersion()}'`,
      );
    }
  });
});
