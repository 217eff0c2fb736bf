// A table keyed by a UNIQUE NULLS NOT DISTINCT key whose first column may be
// NULL: settings shared by every tenant (tenant_id NULL) beside each
// tenant's own. Pages end inside the NULLs: a row comparison against a NULL
// bound is NULL, and over REST the next page came back empty, so a replace
// copied the rows up to the first NULL, a mirror wrote nothing more, and
// both exited 0. Pages of 3 rows; the direct path, which does not page, is
// held to the same rows.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';
import { projectPair } from './helpers/project-pair.ts';

const SCHEMA = `
  CREATE TABLE public.shared_settings (tenant_id int, name text, value jsonb,
    UNIQUE NULLS NOT DISTINCT (tenant_id, name));
  CREATE TABLE public.slot_labels (hotel int, floor int, room int, label text,
    UNIQUE NULLS NOT DISTINCT (hotel, floor, room));`;
const TABLES = ['shared_settings', 'slot_labels'];
const contents = async (url: string) => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await rowTexts(url, `public.${t}`)])));

describe('a key that may hold NULL (UNIQUE NULLS NOT DISTINCT), read page by page', () => {
  let production: Project;
  let staging: Project;
  projectPair('null_keys', SCHEMA, async (pair) => {
    ({ production, staging } = pair);
    // A NULL in every position: a third of the tenants, floors and rooms are NULL.
    await query(
      production.adminUrl,
      `INSERT INTO public.shared_settings SELECT CASE WHEN i % 3 <> 0 THEN i / 3 END, 'setting ' || i, jsonb_build_object('i', i) FROM generate_series(1, 40) i;
       INSERT INTO public.slot_labels SELECT CASE WHEN h > 1 THEN h END, CASE WHEN f > 1 THEN f END, CASE WHEN r > 1 THEN r END, h || '/' || f || '/' || r
         FROM generate_series(1, 3) h, generate_series(1, 3) f, generate_series(1, 3) r;`,
    );
  });

  it.each(['postgres', 'rest'] as const)('is copied whole, mirrored, backed up and restored (via %s)', async (via) => {
    await query(staging.adminUrl, `TRUNCATE ${TABLES.map((t) => `public.${t}`).join(', ')}`);
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: Object.fromEntries(TABLES.map((t) => [t, { batchSize: 3 }])) }));
    const expected = await contents(production.adminUrl);
    expect(expected.shared_settings).toHaveLength(40);
    expect(expected.slot_labels).toHaveLength(27);

    const replace = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', TABLES.join(',')], { env, cwd });
    expect(replace.code, replace.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(expected);

    // Staging drifts among the NULLs; a mirror (backed up) puts it right, and the restore gives staging's drift back.
    await query(
      staging.adminUrl,
      `UPDATE public.shared_settings SET value = '{"stale": true}' WHERE tenant_id IS NULL AND name > 'setting 2';
       DELETE FROM public.slot_labels WHERE floor IS NULL AND room IS NOT NULL;
       INSERT INTO public.slot_labels VALUES (NULL, 9, NULL, 'staging only');`,
    );
    const drifted = await contents(staging.adminUrl);
    const mirror = await runScript('sync.ts', ['--via', via, '--mode', 'mirror', '--yes', '--tables', TABLES.join(',')], { env, cwd });
    expect(mirror.code, mirror.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(expected);
    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--tables', TABLES.join(',')], { env, cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    const restore = await runScript('restore-staging.ts', ['latest', '--yes'], { env, cwd });
    expect(restore.code, restore.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(drifted);
  });
});
