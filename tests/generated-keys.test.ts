// Keys that hold a generated column (an email's lower case as the primary
// key, a tenant and a normalised handle): the copy leaves generated columns
// out, staging computes them. Over REST a table is read in keyset pages, and
// each page's bound is its last row's key: read from the row, which lacked
// the generated column, so the second page started after NULL and found
// nothing. The run said "7 rows" and went on. Now such a key's columns are
// read too, for the bound, and dropped before the rows are written. Pages of
// 7 rows here, through the sync, its backup, a mirror and the restore.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { backupLine } from './helpers/backup.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE TABLE public.members (email text NOT NULL, email_key text GENERATED ALWAYS AS (lower(email)) STORED PRIMARY KEY, name text);
  CREATE TABLE public.tenant_handles (
    tenant int NOT NULL,
    handle text NOT NULL,
    handle_key text GENERATED ALWAYS AS (lower(handle)) STORED,
    shown text,
    PRIMARY KEY (tenant, handle_key));`;
const TABLES = ['members', 'tenant_handles'];

/** Every row of both tables as text, generated columns included, in one order. */
const contents = async (url: string) => Object.fromEntries(await Promise.all(TABLES.map(async (table) => [table, await rowTexts(url, `public.${table}`)])));

describe('a key that holds a generated column', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([
      stack.createProject('generated_keys_prod', { syncTarget: false }),
      stack.createProject('generated_keys_staging'),
    ]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}; NOTIFY pgrst, 'reload schema'`);
    await query(
      production.adminUrl,
      `INSERT INTO public.members (email, name) SELECT 'Member' || g || '@Example.com', 'name ' || g FROM generate_series(1, 100) g;
       INSERT INTO public.tenant_handles (tenant, handle, shown) SELECT g % 3, 'Handle' || g, 'shown ' || g FROM generate_series(1, 100) g;`,
    );
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('is paged, copied, mirrored, backed up and restored row for row (via %s)', async (via) => {
    await query(
      staging.adminUrl,
      `TRUNCATE public.members, public.tenant_handles;
       INSERT INTO public.members (email, name) VALUES ('Member1@example.com', 'staging'), ('Staging@example.com', 'staging only');
       INSERT INTO public.tenant_handles (tenant, handle) VALUES (1, 'HANDLE1');`,
    );
    const before = await contents(staging.adminUrl);
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: Object.fromEntries(TABLES.map((table) => [table, { batchSize: 7 }])) }));
    const tables = ['--tables', TABLES.join(',')];

    const sync = await runScript('sync.ts', ['--via', via, '--yes', ...tables], { env, cwd });
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    const expected = await contents(production.adminUrl);
    expect(expected.members).toHaveLength(100);
    expect(await contents(staging.adminUrl)).toEqual(expected);
    expect(sync.stdout).toMatch(/\| public\.members +\| 100 +\|/);
    const verify = await runScript('verify-sync-status.ts', ['--via', via, ...tables], { env, cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    // Rows changed, gone and added in staging: the mirror finds each by its key, generated column and all.
    await query(
      staging.adminUrl,
      `UPDATE public.members SET name = 'drifted' WHERE email_key IN ('member7@example.com', 'member70@example.com');
       DELETE FROM public.tenant_handles WHERE handle_key IN ('handle9', 'handle90');
       INSERT INTO public.tenant_handles (tenant, handle) VALUES (2, 'Staging');`,
    );
    const mirror = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', 'mirror', ...tables], { env, cwd });
    expect(mirror.code, mirror.stdout + mirror.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(expected);

    const backup = backupLine(sync.stdout);
    expect(backup?.rows).toBe(3);
    const restore = await runScript('restore-staging.ts', [backup!.restoreArgument, '--yes'], { env, cwd });
    expect(restore.code, restore.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(before);
  });
});
