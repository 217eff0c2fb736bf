// A partitioned table without a key (an append-only log): over REST it is
// read by physical place, and a ctid repeats from partition to partition, so
// supasync_read_rows pages it leaf partition by leaf partition (version 12).
// Pages of 7 rows here end inside leaves and across them, sub-partitions
// and the default partition included; the sync, its backup and the restore
// must each carry every row exactly once. Functions older than that are
// refused by name before anything is written.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionsVersion } from '../lib/install/version.ts';
import type { Project } from '../stack/index.ts';
import { backupLine } from './helpers/backup.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE TABLE public.audit_log (at timestamptz NOT NULL, region text NOT NULL, message text) PARTITION BY RANGE (at);
  CREATE TABLE public.audit_log_2024 PARTITION OF public.audit_log FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
  CREATE TABLE public.audit_log_2025 PARTITION OF public.audit_log FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (region);
  CREATE TABLE public.audit_log_2025_eu PARTITION OF public.audit_log_2025 FOR VALUES IN ('eu');
  CREATE TABLE public.audit_log_2025_rest PARTITION OF public.audit_log_2025 DEFAULT;
  CREATE TABLE public.audit_log_other PARTITION OF public.audit_log DEFAULT;`;

/** Every row as text, sorted: a row twice or missing shows. */
const rows = (url: string) => rowTexts(url, 'public.audit_log');

describe('a partitioned table without a key', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('keyless_parts_prod', { syncTarget: false }), stack.createProject('keyless_parts_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}`);
    // The same message twice in a leaf: rows equal in every column are still two rows.
    await query(
      production.adminUrl,
      `INSERT INTO public.audit_log
       SELECT '2023-12-20'::timestamptz + i * interval '3 days', (ARRAY['eu', 'us', 'jp'])[1 + i % 3], 'event ' || (i / 2)
       FROM generate_series(1, 300) i`,
    );
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('is copied, backed up and restored row for row in pages that cross partitions (via %s)', async (via) => {
    await query(
      staging.adminUrl,
      `TRUNCATE public.audit_log; INSERT INTO public.audit_log VALUES ('2024-05-05', 'eu', 'staging'), ('2030-01-01', 'us', 'staging')`,
    );
    const before = await rows(staging.adminUrl);
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { audit_log: { batchSize: 7 } } }));

    const sync = await runScript('sync.ts', ['--via', via, '--yes', '--tables', 'audit_log'], { env, cwd });
    expect(sync.code, sync.stderr).toBe(0);
    const expected = await rows(production.adminUrl);
    expect(expected).toHaveLength(300);
    expect(await rows(staging.adminUrl)).toEqual(expected);

    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--tables', 'audit_log'], { env, cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    const backup = backupLine(sync.stdout);
    expect(backup?.rows).toBe(2);
    const restore = await runScript('restore-staging.ts', [backup!.restoreArgument, '--yes'], { env, cwd });
    expect(restore.code, restore.stderr).toBe(0);
    expect(await rows(staging.adminUrl)).toEqual(before);
  });

  it('is refused by a mirror, which names it with the config entries that replace it alone; pasted, the mirror runs', async () => {
    // Another table without a key, under names the file must quote as SQL does.
    const trail = '"Sales Data"."Audit ""Trail"""';
    for (const project of [production, staging])
      await query(project.adminUrl, `SET ROLE postgres; CREATE SCHEMA "Sales Data"; CREATE TABLE ${trail} (note text)`);
    await query(production.adminUrl, `INSERT INTO ${trail} VALUES ('a'), ('a'), (NULL)`);
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const tables = ['--tables', 'audit_log', '--tables', trail];
    const refused = await runScript('sync.ts', ['--mode', 'mirror', '--yes', '--no-backup', ...tables], { env, cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Cannot mirror public.audit_log, Sales Data.Audit "Trail": no primary key');
    const entries = /supasync\.config\.json's "tables" holds: (\{.*\})$/m.exec(refused.stderr)?.[1];
    expect(entries).toBe(`{ "public.audit_log": { "mode": "replace" }, ${JSON.stringify(trail)}: { "mode": "replace" } }`);

    writeFileSync(join(cwd, 'supasync.config.json'), `{ "tables": ${entries} }`);
    const mirrored = await runScript('sync.ts', ['--mode', 'mirror', '--yes', '--no-backup', ...tables], { env, cwd });
    expect(mirrored.code, mirrored.stderr).toBe(0);
    expect(await rows(staging.adminUrl)).toEqual(await rows(production.adminUrl));
    expect(await rowTexts(staging.adminUrl, trail)).toEqual(await rowTexts(production.adminUrl, trail));
  });

  it('is refused over REST, by name, where production has functions that page it by ctid alone', async () => {
    const before = await rows(staging.adminUrl);
    await query(production.adminUrl, `SET ROLE postgres; CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql AS 'SELECT 11'`);
    try {
      const sync = await runScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', '--tables', 'audit_log'], { env: envFor(production, staging) });
      expect(sync.code).toBe(1);
      expect(sync.stderr).toContain(
        "public.audit_log: partitioned and without a key, so read partition by partition over REST, which production's supasync functions do from version 12. They are version 11.",
      );
      expect(sync.stderr).toContain('install-rpcs.ts --production');
      expect(sync.stderr).toContain('Nothing was changed.');
      expect(await rows(staging.adminUrl)).toEqual(before);
    } finally {
      await query(
        production.adminUrl,
        `SET ROLE postgres; CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql AS 'SELECT ${functionsVersion()}'`,
      );
    }
  });
});
