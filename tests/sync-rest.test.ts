import { afterAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { defineSyncSuite } from './e2e/sync-suite.ts';
import { query } from './helpers/content.ts';
import { runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

defineSyncSuite('rest');

describe("staging's functions older than the checkout's (via rest)", () => {
  const { stack, production } = sharedStack();
  let staging: Project | undefined;
  afterAll(async () => {
    await staging?.stop();
  });

  it('warns, naming the update, where they would not silence every trigger and rule, and still syncs', async () => {
    staging = await stack.createProject('rest_functions_v9');
    // What version 9's functions answer: they silenced no partition's trigger and no rule.
    await query(
      staging.adminUrl,
      `CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 9'; NOTIFY pgrst, 'reload schema'`,
    );
    const result = await runScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', '--tables', 'hotels'], { env: envFor(production, staging) });
    expect(result.code, result.stderr).toBe(0);
    const output = `${result.stdout}${result.stderr}`;
    expect(output).toContain("staging's supasync functions are older than version 10");
    expect(output).toContain('install-rpcs.ts --staging');
  });
});
