import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, removeSupasync, syncedDigests, SYNCED_SCHEMAS } from './helpers/content.ts';
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
    expect(forProduction.stdout).toContain('CREATE OR REPLACE FUNCTION public.supasync_catalog()');
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

  it('needs to be told where', async () => {
    const result = await runScript('install-rpcs.ts', []);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--staging or --production');
  });
});
