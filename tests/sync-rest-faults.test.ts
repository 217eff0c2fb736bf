// A remote project's API fails now and then: 503s while PostgREST restarts,
// connections dropped before or after the server did the work. Every batch is
// an idempotent upsert, so retrying converges on identical data.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, syncedDigests, SYNCED_SCHEMAS, tableDigests } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

describe('a REST sync through a flaky gateway', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    production = await stack.createProject('faults_production', { fill: 'tiny' });
    staging = await stack.createProject('faults_staging');
  });
  afterAll(async () => {
    await staging?.stop();
    await production?.stop();
  });

  it('retries 503s and dropped connections, and staging still equals production', async () => {
    // A table's batch written alone or several small tables' at once.
    const writes = /^\/rpc\/supasync_write_(rows|tables)$/;
    // A page read alone or several tables' first pages at once.
    const reads = /^\/rpc\/supasync_read_(rows|first_pages)$/;
    staging.gateway.injectFaults({ status503: 3, onlyPaths: writes });
    staging.gateway.injectFaults({ drop: 2, onlyPaths: writes });
    staging.gateway.injectFaults({ dropAfterUpstream: 2, onlyPaths: writes });
    production.gateway.injectFaults({ status503: 2, drop: 2, onlyPaths: reads });

    const result = await runScript('sync.ts', ['--via', 'rest', '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], {
      env: envFor(production, staging),
    });
    expect(result.stderr).not.toMatch(/error|failed/i);
    expect(result.code).toBe(0);
    expect(staging.gateway.stats().faults).toEqual({ status503: 3, drop: 2, dropAfterUpstream: 2, stall: 0 });
    // RPCs are POSTs, which supabase-js never retries itself: each of the 11 faults cost one retry of ours.
    expect(result.stdout).toContain(', 11 requests retried)');
    // And why: the 3 + 2 injected 503s (the gateway answers as PostgREST does while it reloads); 2 + 2 connections dropped
    // before the request reached PostgREST, 2 after it answered. A batch of a table without a key, retried its own way, counts once.
    expect(result.stdout).toContain(
      'Retried after: the connection was reset (6 requests), HTTP 503 PGRST002: PostgREST could not load its schema cache (5 requests).',
    );
    expect(production.gateway.stats().faults).toMatchObject({ status503: 2, drop: 2 });
    expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
  });

  // The lease is taken through a client of its own: it used to count as a first contact with the project, tried
  // once more and then called a wrong URL, its lease (taken by the first try) left held for the next run to wait out.
  it('takes its lease through connections dropped twice, as any request to a project that answered', async () => {
    staging.gateway.resetStats();
    staging.gateway.injectFaults({ dropAfterUpstream: 1, onlyPaths: /^\/rpc\/supasync_take_lease$/ });
    staging.gateway.injectFaults({ drop: 1, onlyPaths: /^\/rpc\/supasync_take_lease$/ });
    const result = await runScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', '--tables', 'hotels'], { env: envFor(production, staging) });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).not.toContain('Check the URL');
    expect(staging.gateway.stats().faults).toMatchObject({ drop: 1, dropAfterUpstream: 1 });
  });

  it("does not repeat the rows of a table without a key when a write's answer is lost", async () => {
    staging.gateway.resetStats();
    // The first attempt is lost on its way (not written), the second on its way back (written).
    staging.gateway.injectFaults({ drop: 1, onlyPaths: /^\/rpc\/supasync_write_rows$/ });
    staging.gateway.injectFaults({ dropAfterUpstream: 1, onlyPaths: /^\/rpc\/supasync_write_rows$/ });
    const result = await runScript('sync.ts', ['--via', 'rest', '--yes', '--tables', 'event_log'], { env: envFor(production, staging) });
    expect(result.code).toBe(0);
    expect(staging.gateway.stats().faults).toEqual({ status503: 0, drop: 1, dropAfterUpstream: 1, stall: 0 });
    // Each lost answer cost one retry, counted once (it was counted twice: by the request and by the batch's own retry).
    expect(result.stdout).toContain(', 2 requests retried)');
    const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
    expect(actual['public.event_log']).toEqual(expected['public.event_log']);
  });

  it('restores a table without a key through lost answers, each row once', async () => {
    // Staging's own event_log, other than production's: what the backup keeps and the restore must give back.
    await query(
      staging.adminUrl,
      `DELETE FROM public.event_log WHERE ctid IN (SELECT ctid FROM public.event_log LIMIT 10); INSERT INTO public.event_log SELECT * FROM public.event_log LIMIT 3`,
    );
    const before = (await tableDigests(staging.adminUrl))['public.event_log'];
    const cwd = emptyDirectory();
    const synced = await runScript('sync.ts', ['--via', 'rest', '--yes', '--tables', 'event_log'], { env: envFor(production, staging), cwd });
    expect(synced.code, synced.stderr).toBe(0);
    expect((await tableDigests(staging.adminUrl))['public.event_log']).not.toEqual(before);

    staging.gateway.resetStats();
    // The first attempt is lost on its way (not written), the second on its way back (written): a plain retry wrote its rows twice.
    staging.gateway.injectFaults({ drop: 1, onlyPaths: /^\/rpc\/supasync_write_rows$/ });
    staging.gateway.injectFaults({ dropAfterUpstream: 1, onlyPaths: /^\/rpc\/supasync_write_rows$/ });
    const restored = await runScript('restore-staging.ts', ['latest', '--yes'], { env: envFor(production, staging), cwd });
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    expect(staging.gateway.stats().faults).toMatchObject({ drop: 1, dropAfterUpstream: 1 });
    expect(restored.stdout).toContain('(2 requests retried after: the connection was reset (2 requests))');
    expect((await tableDigests(staging.adminUrl))['public.event_log']).toEqual(before);
  });

  // Production is asked which tables hold rows while staging is backed up: its failure, the backup already written,
  // still stops the run before anything is emptied, and the backup (which would restore nothing) goes with it.
  it('stops before emptying anything when production cannot say which tables hold rows, and leaves no backup', async () => {
    const before = await tableDigests(staging.adminUrl);
    const asked = 'supasync_private.holding_rows_query(jsonb)';
    const [{ owner }] = (await query<{ owner: string }>(
      production.adminUrl,
      `SELECT proowner::regrole::text AS owner FROM pg_proc WHERE oid = '${asked}'::regprocedure`,
    )) as [{ owner: string }];
    await query(production.adminUrl, `REVOKE EXECUTE ON FUNCTION ${asked} FROM ${owner}`);
    try {
      const cwd = emptyDirectory();
      const result = await runScript('sync.ts', ['--via', 'rest', '--yes', '--schemas', 'public'], { env: envFor(production, staging), cwd });
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stderr).toContain(
        'Asking production which of the tables to replace hold rows (supasync_tables_holding_rows): permission denied for function holding_rows_query (HTTP 403, 42501)',
      );
      expect(result.stderr).toContain('Nothing was changed.');
      expect(result.stderr).toMatch(/The backup this run took of staging \(\S+\) was removed: staging was not changed/);
      const backups = join(cwd, '.supasync', 'backups');
      expect(existsSync(backups) ? readdirSync(backups) : []).toEqual([]);
      expect(await tableDigests(staging.adminUrl)).toEqual(before);
    } finally {
      await query(production.adminUrl, `GRANT EXECUTE ON FUNCTION ${asked} TO ${owner}`);
    }
  });
});
