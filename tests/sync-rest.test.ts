import { afterAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { defineSyncSuite } from './e2e/sync-suite.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { functionsVersion } from '../lib/install/version.ts';
import { envFor, sharedStack } from './setup/stack.ts';

defineSyncSuite('rest');

describe("staging's functions older than the checkout's (via rest)", () => {
  const { stack, production } = sharedStack();
  let staging: Project | undefined;
  afterAll(async () => {
    await staging?.stop();
  });

  it('refuse a run and a dry run before anything is written, naming the update, where they predate what the checks before writing read', async () => {
    const older = await stack.createProject('rest_functions_v25');
    staging = older;
    // What version 25's functions answer: their catalog says nothing of staging's triggers' kinds, and a run cannot check what it would meet.
    await query(
      older.adminUrl,
      `CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 25'; NOTIFY pgrst, 'reload schema'`,
    );
    const before = await query(older.adminUrl, 'SELECT count(*)::int AS n FROM public.hotels');
    for (const extra of [['--dry-run'], []]) {
      const result = await runScript('sync.ts', ['--via', 'rest', '--yes', '--tables', 'hotels', ...extra], {
        env: envFor(production, older),
        cwd: emptyDirectory(),
      });
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stderr).toContain("Staging's supasync functions are version 25; writing staging over REST needs version 26 or later");
      expect(result.stderr).toContain('install-rpcs.ts --staging');
      expect(result.stderr).toContain('Nothing was changed.');
    }
    expect(await query(older.adminUrl, 'SELECT count(*)::int AS n FROM public.hotels')).toEqual(before);

    // A restore writes as a run does: a backup taken with current functions is not put back with version 25's.
    const setVersion = (version: number) =>
      query(
        older.adminUrl,
        `CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT ${version}'; NOTIFY pgrst, 'reload schema'`,
      );
    const cwd = emptyDirectory();
    await setVersion(functionsVersion());
    // Twice: the first filled an empty table, which needs no backup; the second backs up its rows.
    for (let run = 0; run < 2; run++) {
      const synced = await runScript('sync.ts', ['--via', 'rest', '--yes', '--tables', 'hotels'], { env: envFor(production, older), cwd });
      expect(synced.code, synced.stderr).toBe(0);
    }
    await setVersion(25);
    const syncedRows = await query(older.adminUrl, 'SELECT count(*)::int AS n FROM public.hotels');
    const restore = await runScript('restore-staging.ts', ['latest', '--yes'], { env: envFor(production, older), cwd });
    expect(restore.code, restore.stdout + restore.stderr).toBe(2);
    expect(restore.stderr).toContain("Staging's supasync functions are version 25; restoring staging over REST needs version 26 or later");
    expect(await query(older.adminUrl, 'SELECT count(*)::int AS n FROM public.hotels')).toEqual(syncedRows);
  });
});
