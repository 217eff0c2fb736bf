// The mistakes real people make with two databases — swapped variables, an
// unmarked staging, a protected project behind one of two variables, an
// unset shell variable — stop every run before it touches anything.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, removeSupasync, syncedDigests, SYNCED_SCHEMAS } from './helpers/content.ts';
import { emptyDirectory, runScript, startScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, staging, stack } = sharedStack();
const MARK_COMMAND = 'npx tsx scripts/install-rpcs.ts --staging --mark-only';

describe('the sync-target mark', () => {
  let realProduction: Project;
  let realStaging: Project;
  beforeAll(async () => {
    [realProduction, realStaging] = await Promise.all([stack.createProject('swap_production', { fill: 'tiny' }), stack.createProject('swap_staging')]);
  });
  afterAll(async () => {
    await Promise.all([realProduction?.stop(), realStaging?.stop()]);
  });

  for (const via of ['postgres', 'rest'] as const) {
    it(`refuses swapped variables and leaves production whole (via ${via})`, async () => {
      const before = await syncedDigests(realProduction.adminUrl);
      // The user's mistake: staging's variables under production's names and the other way round.
      const swapped = envFor(realStaging, realProduction);
      const result = await runScript('sync-prod-to-staging-ultimate.ts', ['--yes', '--via', via], { env: swapped });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("carries supasync's sync-target mark");
      expect(result.stderr).toContain('swapped');
      expect(await syncedDigests(realProduction.adminUrl)).toEqual(before);
    });
  }

  it('refuses a verify and a dry-run with the variables swapped, as the sync does', async () => {
    const swapped = envFor(realStaging, realProduction);
    for (const [script, args] of [
      ['verify-sync-status.ts', []],
      ['sync.ts', ['--dry-run']],
    ] as const) {
      const result = await runScript(script, [...args], { env: swapped });
      expect(result.code, script).toBe(2);
      expect(result.stderr, script).toContain("carries supasync's sync-target mark");
    }
  });

  describe('a staging nobody marked', () => {
    let unmarked: Project;
    beforeAll(async () => {
      unmarked = await stack.createProject('target_unmarked', { syncTarget: false });
      // As a direct-only user has it: none of supasync's functions, no mark table.
      await removeSupasync(unmarked.adminUrl);
    });
    afterAll(() => unmarked?.stop());

    it('is refused by the sync, the dry-run and verify, each naming the command that marks it', async () => {
      const env = envFor(production, unmarked);
      for (const args of [['sync.ts', '--yes'], ['sync.ts', '--dry-run'], ['verify-sync-status.ts']]) {
        const [script, ...flags] = args as [string, ...string[]];
        const result = await runScript(script, [...flags, '--via', 'postgres'], { env });
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr, args.join(' ')).toContain('is not marked as a supasync sync target');
        expect(result.stderr, args.join(' ')).toContain(MARK_COMMAND);
      }
      expect(await query(unmarked.adminUrl, 'SELECT count(*)::int AS n FROM public.hotels')).toEqual([{ n: 0 }]);
    });

    it('is marked by --mark-only, which names the database before it asks, installs no function, and then syncs', async () => {
      const env = envFor(production, unmarked);
      const unasked = await runScript('install-rpcs.ts', ['--staging', '--mark-only'], { env });
      expect(unasked.code).toBe(2);
      expect(unasked.stderr).toContain(`database ${unmarked.name} on 127.0.0.1:`);
      expect(unasked.stderr).toContain('Nothing was changed');
      expect(await query(unmarked.adminUrl, `SELECT to_regclass('supasync_private.sync_target') IS NULL AS absent`)).toEqual([{ absent: true }]);

      const marked = await runScript('install-rpcs.ts', ['--staging', '--mark-only', '--yes'], { env });
      expect(marked.stderr).toBe('');
      expect(marked.code).toBe(0);
      expect(marked.stdout).toContain(`database ${unmarked.name} on 127.0.0.1:`);
      expect(await query(unmarked.adminUrl, 'SELECT count(*)::int AS n FROM supasync_private.sync_target')).toEqual([{ n: 1 }]);
      expect(await query(unmarked.adminUrl, `SELECT count(*)::int AS n FROM pg_proc WHERE proname LIKE 'supasync\\_%'`)).toEqual([{ n: 0 }]);

      const synced = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--schemas', SYNCED_SCHEMAS.join(',')], { env });
      expect(synced.stderr).not.toMatch(/error|failed|not marked/i);
      expect(synced.code).toBe(0);
      expect(await syncedDigests(unmarked.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
    });
  });

  it('holds the mark through a direct run: removing it waits for the run, which writes only while staging is marked', async () => {
    const env = envFor(realProduction, realStaging);
    // Another session reads the table: the run's replace waits for it, inside its transaction.
    const reader = new pg.Client({ connectionString: realStaging.adminUrl });
    await reader.connect();
    try {
      await reader.query('BEGIN; SELECT count(*) FROM public.feature_flags');
      const run = startScript('sync.ts', ['--yes', '--via', 'postgres', '--no-backup', '--tables', 'feature_flags'], { env });
      while (!(await query(realStaging.adminUrl, "SELECT FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")).length) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await expect(query(realStaging.adminUrl, "SET lock_timeout = '500ms'; DELETE FROM supasync_private.sync_target")).rejects.toThrow(
        'canceling statement due to lock timeout',
      );
      await reader.query('COMMIT');
      const result = await run.finished;
      expect(result.code, result.stderr).toBe(0);
      expect(await query(realStaging.adminUrl, 'SELECT count(*)::int AS marks FROM supasync_private.sync_target')).toEqual([{ marks: 1 }]);
    } finally {
      await reader.end();
    }
  });

  it('refuses to use one database as both sides, in a verify and a dry-run too', async () => {
    for (const [script, args] of [
      ['verify-sync-status.ts', []],
      ['sync.ts', ['--dry-run']],
      ['sync.ts', ['--yes']],
    ] as const) {
      for (const via of ['postgres', 'rest']) {
        const result = await runScript(script, [...args, '--via', via], { env: envFor(staging, staging) });
        expect(result.code, `${script} ${via}`).toBe(2);
        expect(result.stderr, `${script} ${via}`).toContain('lead to the same database');
      }
    }
  });
});

describe('protectedRefs', () => {
  const PROTECTED = 'protectedprodref';
  // Behind a pooler string the user name carries the ref; the run must stop before it connects.
  const protectedDbUrl = `postgresql://postgres.${PROTECTED}:pw@127.0.0.1:9/postgres`;

  const withConfig = () => {
    const cwd = emptyDirectory();
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ protectedRefs: [PROTECTED] }));
    return cwd;
  };

  it("is checked on staging's connection string as well as its URL, by every script that names staging", async () => {
    const cwd = withConfig();
    // The URL names no Supabase project; the connection string names the protected one.
    const env = { ...envFor(production, staging), SUPABASE_STAGING_DB_URL: protectedDbUrl };
    const backup = join(cwd, 'backup');
    mkdirSync(backup);
    writeFileSync(
      join(backup, 'manifest.json'),
      JSON.stringify({
        supasyncBackup: 1,
        via: 'postgres',
        createdAt: new Date().toISOString(),
        staging: { location: 'x', host: '127.0.0.1', port: 9, database: 'postgres', projectRef: PROTECTED },
        tables: [],
      }),
    );
    const runs: [string, string[]][] = [
      ['sync.ts', ['--yes', '--via', 'rest']],
      ['sync.ts', ['--yes', '--via', 'postgres']],
      ['sync.ts', ['--dry-run']],
      ['verify-sync-status.ts', ['--via', 'rest']],
      ['restore-staging.ts', [backup, '--yes']],
      ['install-rpcs.ts', ['--staging', '--yes']],
    ];
    for (const [script, args] of runs) {
      const result = await runScript(script, args, { cwd, env });
      expect(result.code, `${script} ${args.join(' ')}`).toBe(2);
      expect(result.stderr, `${script} ${args.join(' ')}`).toContain(`Staging is project ${PROTECTED}, which supasync.config.json lists in protectedRefs`);
    }
  });

  it('refuses a side whose URL and connection string name different projects', async () => {
    const result = await runScript('sync.ts', ['--dry-run'], {
      env: {
        ...envFor(production, staging),
        SUPABASE_STAGING_URL: 'https://abcdefghijklmnopqrst.supabase.co',
        SUPABASE_STAGING_DB_URL: protectedDbUrl,
      },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`SUPABASE_STAGING_URL names project abcdefghijklmnopqrst but SUPABASE_STAGING_DB_URL names project ${PROTECTED}`);
  });
});

describe('an empty selection', () => {
  it('is a usage error, never "every table", nor "nothing, Perfect" for a mistyped schema', async () => {
    const before = await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.hotels');
    const cases: [string, string[], string][] = [
      ['sync.ts', ['--yes', '--tables', ''], '--tables was given nothing'],
      ['sync.ts', ['--yes', '--tables', ','], '--tables was given nothing'],
      ['sync.ts', ['--yes', '--tables', ' , '], '--tables was given nothing'],
      ['sync.ts', ['--yes', ''], '--tables was given nothing'],
      ['sync.ts', ['--yes', '--group', ''], '--group was given nothing'],
      ['sync.ts', ['--yes', '--schemas', ' '], '--schemas was given nothing'],
      ['sync.ts', ['--yes', '--exclude', ''], '--exclude was given nothing'],
      ['verify-sync-status.ts', ['--tables', ''], '--tables was given nothing'],
      ['verify-sync-status.ts', ['--schemas', 'pubic'], 'is not a schema of production. Did you mean "public"?'],
      ['sync.ts', ['--yes', '--schemas', 'pubic'], 'is not a schema of production. Did you mean "public"?'],
      // Each side's catalog lists the tables of the schemas a run names: what production has is said all the same.
      ['sync.ts', ['--dry-run', '--schemas', 'nowhere_near'], 'is not a schema of production. Its schemas: analytics, auth, public, storage.'],
      ['sync.ts', ['--dry-run', '--via', 'rest', '--schemas', 'nowhere_near'], 'is not a schema of production. Its schemas: analytics, auth, public, storage.'],
      ['verify-sync-status.ts', ['--schemas', 'nowhere_near'], 'is not a schema of production. Its schemas: analytics, auth, public, storage.'],
      ['sync.ts', ['--dry-run', '--schemas', 'analytics', '--exclude', 'page_views'], 'Nothing to copy'],
      // A schema written as SQL quotes it is that schema.
      ['sync.ts', ['--dry-run', '--schemas', '"analytics"', '--exclude', 'page_views'], 'Nothing to copy'],
    ];
    for (const [script, args, message] of cases) {
      const result = await runScript(script, args, { env: envFor(production, staging) });
      expect(result.code, `${script} ${JSON.stringify(args)}`).toBe(2);
      expect(result.stderr, `${script} ${JSON.stringify(args)}`).toContain(message);
    }
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.hotels')).toEqual(before);
  });
});
