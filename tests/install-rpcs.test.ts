import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, removeSupasync, syncedDigests, SYNCED_SCHEMAS } from './helpers/content.ts';
import { functionsVersion } from '../lib/install/version.ts';
import { openDatabase } from '../lib/transport/database.ts';
import { runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, stack } = sharedStack();

describe('scripts/install-rpcs.ts', () => {
  let bare: Project;
  beforeAll(async () => {
    bare = await stack.createProject('install_bare', { syncTarget: false });
    await removeSupasync(bare.adminUrl);
  });
  afterAll(() => bare?.stop());

  it('prints the SQL to paste: read-only for production, write functions and the mark for staging', async () => {
    const forProduction = await runScript('install-rpcs.ts', ['--production', '--print']);
    expect(forProduction.code).toBe(0);
    expect(forProduction.stdout).toContain('CREATE OR REPLACE FUNCTION public.supasync_version()');
    // One file per concern, each function defined once.
    const definitions = forStagingDefinitions((await runScript('install-rpcs.ts', ['--staging', '--print'])).stdout);
    expect(definitions.filter((name, index) => definitions.indexOf(name) !== index)).toEqual([]);
    expect(forProduction.stdout).toContain('CREATE OR REPLACE FUNCTION public.supasync_catalog(schemas text[] DEFAULT NULL)');
    expect(forProduction.stdout).not.toContain('supasync_write_rows');
    const forStaging = await runScript('install-rpcs.ts', ['--staging', '--print']);
    expect(forStaging.stdout).toContain('CREATE OR REPLACE FUNCTION public.supasync_write_rows(');
    expect(forStaging.stdout).toContain('CREATE OR REPLACE FUNCTION public.supasync_set_columns(');
    expect(forStaging.stdout).toContain('CREATE OR REPLACE FUNCTION public.supasync_write_cycle(');
    expect(forStaging.stdout).toContain('CREATE OR REPLACE FUNCTION public.supasync_backup_tables(');
    expect(forProduction.stdout).not.toContain('supasync_set_sequences');
    expect(forStaging.stdout).toContain('INSERT INTO supasync_private.sync_target');
  });

  it('installs into staging through its connection string, after which a REST sync works', async () => {
    const env = envFor(production, bare);
    const installed = await runScript('install-rpcs.ts', ['--staging', '--yes'], { env });
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);
    expect(installed.stdout).toContain(`version ${functionsVersion()} (new) in staging`);
    expect(await query(bare.adminUrl, 'SELECT count(*)::int AS n FROM supasync_private.sync_target')).toEqual([{ n: 1 }]);
    let synced = await runScript('sync.ts', ['--via', 'rest', '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], { env });
    // PostgREST reloads its schema cache on the NOTIFY, a moment after the install.
    for (let attempt = 0; attempt < 5 && synced.stderr.includes('lacks supasync'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      synced = await runScript('sync.ts', ['--via', 'rest', '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], { env });
    }
    expect(synced.code).toBe(0);
    expect(await syncedDigests(bare.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
  });

  it('stops, naming the question and the fix, when a function answers in a shape this version does not know', async () => {
    const env = envFor(production, bare);
    await query(
      bare.adminUrl,
      `CREATE OR REPLACE FUNCTION public.supasync_sequence_values(sequences jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT '[{"schema": 1}]'::jsonb $$`,
    );
    const staging = await openDatabase({ side: 'staging', url: bare.apiUrl, serviceRoleKey: bare.serviceRoleKey }, 'rest');
    try {
      await expect(staging.sequenceValues([{ schema: 'public', name: 'order_id_seq' }])).rejects.toThrow(
        /Reading where sequences stand in staging: the answer came in a shape supasync does not know \(.*schema.*\)\. .*install-rpcs\.ts --staging/,
      );
    } finally {
      await staging.close();
      expect((await runScript('install-rpcs.ts', ['--staging', '--yes'], { env })).code).toBe(0);
    }
  });

  it('names the migration that installs a function missing from a project whose version says it is complete', async () => {
    const env = envFor(production, bare);
    // One file applied in part (or of another version): the version, read from another file, does not show it.
    await query(bare.adminUrl, `DROP FUNCTION public.supasync_count_rows(text, text); NOTIFY pgrst, 'reload schema'`);
    const staging = await openDatabase({ side: 'staging', url: bare.apiUrl, serviceRoleKey: bare.serviceRoleKey }, 'rest');
    try {
      expect(await staging.functionsVersion?.()).toBe(functionsVersion());
      let failure = '';
      for (let attempt = 0; attempt < 20 && !failure.includes('PGRST202'); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        failure = await staging.countRows({ schema: 'public', name: 'hotels' }).then(String, (error: Error) => error.message);
      }
      expect(failure).toContain(
        'cause: the project lacks supasync_count_rows(), which supabase/migrations/20261202120000_supasync_read.sql installs (not applied there, applied in part',
      );
      expect(failure).toContain('install-rpcs.ts --production or --staging');
    } finally {
      await staging.close();
      expect((await runScript('install-rpcs.ts', ['--staging', '--yes'], { env })).code).toBe(0);
    }
  });

  it('says it reinstalls or upgrades, and refuses to put older functions over newer ones', async () => {
    const env = envFor(production, bare);
    const again = await runScript('install-rpcs.ts', ['--staging', '--yes'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`version ${functionsVersion()} (reinstalled) in staging`);
    // Functions from before versions were recorded: an upgrade, which leaves none of theirs the current ones no longer define.
    await query(
      bare.adminUrl,
      `DROP FUNCTION public.supasync_version();
       CREATE FUNCTION public.supasync_reset_sequences(sequences jsonb) RETURNS void LANGUAGE sql SECURITY DEFINER AS 'SELECT';
       CREATE FUNCTION public.supasync_range_sums(text, text, text[], text[], integer, text) RETURNS text LANGUAGE sql AS 'SELECT ''''';`,
    );
    const upgraded = await runScript('install-rpcs.ts', ['--staging', '--yes'], { env });
    expect(upgraded.stdout).toContain(`version ${functionsVersion()} (upgraded from functions from before versions were recorded)`);
    expect(await query(bare.adminUrl, `SELECT count(*)::int AS n FROM pg_proc WHERE proname IN ('supasync_reset_sequences', 'supasync_range_sums')`)).toEqual([
      { n: 0 },
    ]);
    // Newer functions than this checkout's: nothing is put over them.
    await query(bare.adminUrl, `CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql AS $$ SELECT 999 $$`);
    const downgrade = await runScript('install-rpcs.ts', ['--staging', '--yes'], { env });
    expect(downgrade.code).toBe(2);
    expect(downgrade.stderr).toContain(`staging holds supasync's functions version 999, newer than this checkout's ${functionsVersion()}`);
    expect(await query(bare.adminUrl, 'SELECT public.supasync_version() AS v')).toEqual([{ v: 999 }]);
    const reset = await runScript('install-rpcs.ts', ['--staging', '--yes', '--uninstall'], { env });
    expect(reset.code, reset.stderr).toBe(0);
    expect((await runScript('install-rpcs.ts', ['--staging', '--yes'], { env })).code).toBe(0);
  });

  it('--uninstall leaves the database as before supasync: no function, no mark, the data untouched', async () => {
    const env = envFor(production, bare);
    const before = await syncedDigests(bare.adminUrl);
    const removed = await runScript('install-rpcs.ts', ['--staging', '--yes', '--uninstall'], { env });
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/Removed \d+ supasync functions and the sync-target mark from staging/);
    expect(await query(bare.adminUrl, `SELECT count(*)::int AS n FROM pg_proc WHERE proname LIKE 'supasync\\_%'`)).toEqual([{ n: 0 }]);
    expect(await query(bare.adminUrl, `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'supasync_private'`)).toEqual([{ n: 0 }]);
    expect(await syncedDigests(bare.adminUrl)).toEqual(before);
    // Unmarked now: a sync refuses it.
    const refused = await runScript('sync.ts', ['--via', 'postgres', '--yes'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not marked as a supasync sync target');
  });

  it('--uninstall from production removes the query builders it installed there too', async () => {
    const env = envFor(bare, production);
    expect((await runScript('install-rpcs.ts', ['--production', '--yes'], { env })).code).toBe(0);
    expect(
      await query(bare.adminUrl, `SELECT count(*)::int AS n FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'supasync_private'`),
    ).not.toEqual([{ n: 0 }]);
    const removed = await runScript('install-rpcs.ts', ['--production', '--yes', '--uninstall'], { env });
    expect(removed.code, removed.stderr).toBe(0);
    expect(await query(bare.adminUrl, `SELECT count(*)::int AS n FROM pg_proc WHERE proname LIKE 'supasync\\_%'`)).toEqual([{ n: 0 }]);
    expect(await query(bare.adminUrl, `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'supasync_private'`)).toEqual([{ n: 0 }]);
  });

  it('needs to be told where', async () => {
    const result = await runScript('install-rpcs.ts', []);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--staging or --production');
  });
});

/** The functions a printed install defines, by name, as often as it defines them. */
function forStagingDefinitions(sql: string): string[] {
  return [...sql.matchAll(/CREATE OR REPLACE FUNCTION ([\w.]+)\(/g)].map((match) => match[1] as string);
}
