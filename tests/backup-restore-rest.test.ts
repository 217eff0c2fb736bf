// Over REST a replace also saves the staging rows it empties (as JSON lines
// of PostgreSQL's text, so no value passes through a JS number), and
// scripts/restore-staging.ts puts them back over REST, sequences included.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestBackupManifest } from '../lib/backup/manifest.ts';
import type { Project } from '../stack/index.ts';
import { query, syncedDigests, SYNCED_SCHEMAS, tableDigests, type Digests } from './helpers/content.ts';
import { backupLine, digestNames, sequenceValues, STAGING_LIFE, upsertThenRestore, refusedUnderAnotherMark } from './helpers/backup.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, staging: otherStaging, stack } = sharedStack();
let staging: Project;
afterAll(async () => {
  await staging?.stop();
});

/** Only what the REST path needs: no connection string, so nothing can take the direct path. */
const restEnv = (target: { apiUrl: string; serviceRoleKey: string; dbUrl: string }) => {
  const env = envFor(production, target as Project);
  delete env.SUPABASE_PROD_DB_URL;
  delete env.SUPABASE_STAGING_DB_URL;
  return env;
};
const sync = (cwd: string) => runScript('sync.ts', ['--via', 'rest', '--schemas', SYNCED_SCHEMAS.join(','), '--yes'], { env: restEnv(staging), cwd });
const restore = (cwd: string, args: string[], target: { apiUrl: string; serviceRoleKey: string; dbUrl: string } = staging) =>
  runScript('restore-staging.ts', args, { env: restEnv(target), cwd });

const everyTable = () => tableDigests(staging.adminUrl, SYNCED_SCHEMAS);
const sequences = () => sequenceValues(staging.adminUrl);
/** Values JSON would corrupt on the way: int8 past 2^53, numeric's trailing zero, json's duplicate keys, -0, an array's lower bound. */
const AWKWARD_ROW = `SELECT big::text, amount::text, js::text, ratio::text, f4::text, grid::text FROM public.type_zoo WHERE id = 9001`;

describe('a replace over REST backs up staging, and restore-staging.ts brings it back over REST', () => {
  const cwd = emptyDirectory();
  let before: Digests;
  let sequencesBefore: { name: string; last_value: string | null }[];
  let backup: string;

  beforeAll(async () => {
    // A staging that is production's copy, then lived a life of its own.
    staging = await stack.createProject('backup_restore_rest', { fill: 'tiny', syncTarget: true });
    await query(
      staging.adminUrl,
      `${STAGING_LIFE}
       INSERT INTO public.type_zoo (id, big, amount, js, ratio, f4, grid, note)
         VALUES (9001, 9007199254740993, 1.50, '{"a": 1, "a": 2}', '-0', '-0', '[0:2]={7,8,9}', 'staging only');`,
    );
    before = await everyTable();
    sequencesBefore = await sequences();
  });

  it('saves every staging table it empties as JSON lines before replacing, then staging equals production', async () => {
    const result = await sync(cwd);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/warning/i);
    const line = backupLine(result.stdout);
    expect(line, result.stdout).not.toBeNull();
    const { tables, rows, directory } = line as NonNullable<typeof line>;
    backup = directory;

    const manifest = JSON.parse(readFileSync(join(cwd, backup, 'manifest.json'), 'utf8')) as RestBackupManifest;
    expect(manifest.via).toBe('rest');
    expect(manifest.staging.location).toBe(staging.apiUrl);
    expect(JSON.stringify(manifest)).not.toContain(staging.serviceRoleKey);
    expect(manifest.tables).toHaveLength(tables);
    const names = await digestNames(staging.adminUrl, manifest.tables);
    for (const [index, table] of manifest.tables.entries()) {
      const name = names[index] as string;
      expect(table.format, name).toBe('jsonl');
      expect(table.rows, name).toBe(before[name]?.rows);
      if (!table.rows) expect(table.file, name).toBeNull();
      else
        expect(
          readFileSync(join(cwd, backup, table.file as string), 'utf8')
            .split('\n')
            .filter(Boolean),
          name,
        ).toHaveLength(table.rows);
    }
    expect(manifest.tables.map((t) => `${t.schema}.${t.name}`)).toEqual(expect.arrayContaining(['auth.sessions', 'auth.refresh_tokens', 'public.type_zoo']));
    expect(rows).toBe(manifest.tables.reduce((sum, t) => sum + t.rows, 0));
    // The awkward values as PostgreSQL printed them, not as JSON numbers.
    const zoo = manifest.tables.find((t) => t.name === 'type_zoo');
    const saved = readFileSync(join(cwd, backup, zoo?.file as string), 'utf8');
    expect(saved).toContain('"9007199254740993"');
    expect(saved).toContain('"1.50"');
    expect(saved).toContain(JSON.stringify('{"a": 1, "a": 2}'));
    expect(saved).toContain('"[0:2]={7,8,9}"');
    expect(manifest.tables.find((t) => t.name === 'code_embeddings')?.sequences).toEqual([
      expect.objectContaining({ column: 'id', lastValue: sequencesBefore.find((s) => s.name === 'public.code_embeddings_id_seq')?.last_value }),
    ]);

    const [expected, actual] = await Promise.all([syncedDigests(production.adminUrl), syncedDigests(staging.adminUrl)]);
    expect(actual).toEqual(expected);
    expect(await query(staging.adminUrl, AWKWARD_ROW)).toEqual([]);
  });

  it('refuses to restore into another project', async () => {
    const elsewhere = await restore(cwd, [backup, '--yes'], otherStaging);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain(`This backup is of ${staging.apiUrl}, but SUPABASE_STAGING_URL points at ${otherStaging.apiUrl}`);
    expect(elsewhere.stderr).not.toContain(otherStaging.serviceRoleKey);
    expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
  });

  it('refuses a backup whose staging carried another sync-target mark: another database at the same address', async () => {
    await refusedUnderAnotherMark(staging, () => restore(cwd, [backup, '--yes']));
  });

  it("refuses, before emptying anything, a backup whose rows staging's tables no longer take", async () => {
    // Staging's schema moved on since the backup: a NOT NULL column without a default, a column renamed.
    await query(
      staging.adminUrl,
      `SET ROLE postgres;
       ALTER TABLE public.feature_flags ADD COLUMN owner_team text NOT NULL DEFAULT 'core';
       ALTER TABLE public.feature_flags ALTER COLUMN owner_team DROP DEFAULT;
       ALTER TABLE public.feature_flags RENAME COLUMN rollout TO rollout_share;`,
    );
    try {
      const synced = await syncedDigests(staging.adminUrl);
      const result = await restore(cwd, [backup, '--yes']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("Staging's tables changed since this backup was taken");
      expect(result.stderr).toContain("public.feature_flags: staging's table no longer has rollout");
      expect(result.stderr).toContain('public.feature_flags: owner_team, NOT NULL without a default in staging, has no value in the backup');
      expect(result.stderr).toContain('Nothing was changed.');
      expect(await syncedDigests(staging.adminUrl)).toEqual(synced);
    } finally {
      await query(
        staging.adminUrl,
        `SET ROLE postgres; ALTER TABLE public.feature_flags DROP COLUMN owner_team; ALTER TABLE public.feature_flags RENAME COLUMN rollout_share TO rollout;`,
      );
    }
  });

  it('restores staging exactly as the sync found it, awkward values and next ids included, and says it was not one transaction', async () => {
    const result = await restore(cwd, [backup, '--yes']);
    expect(result.code, result.stderr).toBe(0);
    // The tables go back several at once: the rows said are every table's, as the manifest counts them.
    const manifest = JSON.parse(readFileSync(join(cwd, backup, 'manifest.json'), 'utf8')) as RestBackupManifest;
    const saved = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
    expect(manifest.tables.filter((table) => table.file).length).toBeGreaterThan(4);
    expect(result.stdout).toContain(`Restored ${manifest.tables.length} staging tables (${saved.toLocaleString('en-US')} rows) over REST from `);
    expect(result.stdout).toMatch(/not one transaction/);
    expect(await everyTable()).toEqual(before);
    expect(await sequences()).toEqual(sequencesBefore);
    expect(await query(staging.adminUrl, AWKWARD_ROW)).toEqual([
      { big: '9007199254740993', amount: '1.50', js: '{"a": 1, "a": 2}', ratio: '-0', f4: '-0', grid: '[0:2]={7,8,9}' },
    ]);
    const [{ max }] = (await query<{ max: string }>(staging.adminUrl, 'SELECT max(id)::text AS max FROM public.code_embeddings')) as [{ max: string }];
    const [{ id }] = (await query<{ id: string }>(
      staging.dbUrl,
      `INSERT INTO public.code_embeddings (file_path, chunk_index) VALUES ('after-restore.ts', 0) RETURNING id::text`,
    )) as [{ id: string }];
    expect(BigInt(id)).toBe(BigInt(max) + 1n);
    await query(staging.adminUrl, `DELETE FROM public.code_embeddings WHERE file_path = 'after-restore.ts'`);
    expect(existsSync(join(cwd, backup))).toBe(true);
  });

  it('backs up the tables an upsert writes into, and restore-staging.ts gives back the rows it overwrote and removes the ones it inserted', async () => {
    await upsertThenRestore({
      stagingUrl: staging.adminUrl,
      everyTable,
      upsert: () => runScript('sync.ts', ['--via', 'rest', '--tables', 'guest_reservations', '--mode', 'upsert'], { env: restEnv(staging), cwd }),
      restore: (directory) => restore(cwd, [directory, '--yes']),
    });
  });

  it('latest will not pass over a newer backup of what may be the same staging, taken the way the environment does not reach', async () => {
    const beforeDirect = await everyTable();
    // The same staging, synced on the direct path after the REST runs: its backup is the newest.
    const direct = await runScript('sync.ts', ['--via', 'postgres', '--tables', 'feature_flags', '--yes'], { env: envFor(production, staging), cwd });
    expect(direct.code, direct.stderr).toBe(0);
    const newest = backupLine(direct.stdout)?.directory as string;
    expect(newest).toBeTruthy();
    const afterDirect = await everyTable();

    const refused = await restore(cwd, ['latest', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${newest}, taken on the direct path at `);
    expect(refused.stderr).toContain('may be of this staging too (no Supabase project ref in either address tells them apart)');
    expect(refused.stderr).toContain('Restore the newer one with SUPABASE_STAGING_DB_URL set');
    expect(refused.stderr).toContain('Nothing was changed.');
    expect(await everyTable()).toEqual(afterDirect);

    // With both ways in the environment, latest is the direct backup, and puts back what that run changed.
    const restored = await runScript('restore-staging.ts', ['latest', '--yes'], { env: envFor(production, staging), cwd });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`The newest backup of this staging: ${newest}`);
    expect(await everyTable()).toEqual(beforeDirect);
  });
});
