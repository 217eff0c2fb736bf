// A REST run stopped with Ctrl-C exits, but the request PostgREST was serving
// for it goes on: a restore (or a run) started right away must not write
// until that batch has committed or rolled back, or the batch lands under
// the restored rows. Every write function of supasync's holds a lock,
// shared, for its transaction; a REST restore or run waits for them all.
// The batch still running is a transaction here that called one of those
// functions, as service_role does through PostgREST, and has not ended.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { connectSupabase } from '../lib/connect/supabase.ts';
import { query, tableDigests, type Digests } from './helpers/content.ts';
import { emptyDirectory, runScript, startScript, type RunningScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, stack } = sharedStack();
const TABLES = 'hotels,accommodation_units';

/** A transaction of staging that called a write function of supasync's and is still open: a batch in flight. */
async function batchInFlight(adminUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SET LOCAL ROLE service_role');
  await client.query("SELECT public.supasync_set_sequences('[]')");
  return client;
}

/** Resolves once a backend of staging waits for supasync's write lock; throws if `script` ends first, or after 20 s. */
async function waitingForWrites(adminUrl: string, script: RunningScript): Promise<void> {
  let ended = false;
  void script.finished.then(() => (ended = true));
  for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
    const [waiting] = await query<{ count: number }>(
      adminUrl,
      `SELECT count(*)::int AS count FROM pg_locks WHERE locktype = 'advisory' AND classid = 1937076321 AND objid = 1 AND NOT granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    if (waiting?.count) return;
    if (ended) throw new Error(`the script ended without waiting: ${JSON.stringify(await script.finished)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('nothing waited for the write in flight');
}

describe('writes of an earlier run still running in staging (via rest)', () => {
  let staging: Project;
  const cwd = emptyDirectory();
  const env = () => envFor(production, staging);
  beforeAll(async () => {
    staging = await stack.createProject('settle_writes');
  });
  afterAll(() => staging?.stop());

  it('are waited for by a sync, which says so, then writes', async () => {
    const inFlight = await batchInFlight(staging.adminUrl);
    const run = startScript('sync.ts', ['--via', 'rest', '--yes', '--tables', TABLES], { env: env(), cwd });
    try {
      await waitingForWrites(staging.adminUrl, run);
      const [hotels] = await query<{ count: number }>(staging.adminUrl, 'SELECT count(*)::int AS count FROM public.hotels');
      expect(hotels?.count).toBe(0);
    } finally {
      await inFlight.query('COMMIT');
      await inFlight.end();
    }
    const result = await run.finished;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('A write of an earlier supasync run is still running in staging: waiting for it to end before writing.');
    const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
    expect(actual['public.hotels']).toEqual(expected['public.hotels']);
    expect(actual['public.hotels']?.rows).toBeGreaterThan(0);
  });

  it('are waited for by a restore: the batch lands first, and the restore puts back what the backup holds', async () => {
    // Staging lives on: a mirror rewrites the hotel staging renamed (with checks off, deleted and written again), backing up its range.
    const [{ id }] = (await query<{ id: string }>(staging.adminUrl, 'SELECT id::text FROM public.hotels ORDER BY id LIMIT 1')) as [{ id: string }];
    await query(staging.adminUrl, `UPDATE public.hotels SET name = name || ' (staging)' WHERE id = $1`, [id]);
    const before: Digests = await tableDigests(staging.adminUrl);
    const mirror = await runScript('sync.ts', ['--via', 'rest', '--yes', '--mode', 'mirror', '--tables', TABLES], { env: env(), cwd });
    expect(mirror.code, mirror.stderr).toBe(0);
    expect(await tableDigests(staging.adminUrl)).not.toEqual(before);

    // A batch of a mirror stopped a moment ago, still running: it writes that hotel anew, as such a batch does (deleted, then inserted).
    const inFlight = await batchInFlight(staging.adminUrl);
    await inFlight.query(`RESET ROLE; SET LOCAL session_replication_role = replica`);
    await inFlight.query(
      `WITH gone AS (DELETE FROM public.hotels WHERE id = $1 RETURNING *)
       INSERT INTO public.hotels SELECT id, 'written by the batch in flight', city, stars, created_at, updated_at FROM gone`,
      [id],
    );
    const restore = startScript('restore-staging.ts', ['latest', '--yes'], { env: env(), cwd });
    try {
      await waitingForWrites(staging.adminUrl, restore);
    } finally {
      await inFlight.query('COMMIT');
      await inFlight.end();
    }
    const result = await restore.finished;
    expect(result.code, result.stderr).toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('A write of an earlier supasync run is still running in staging');
    // Had the restore not waited, its delete of the range would not have seen the batch's new row, which would have stayed.
    expect(await tableDigests(staging.adminUrl)).toEqual(before);
  });

  it('are named by the function that waits, once it has waited what it was asked to', async () => {
    const inFlight = await batchInFlight(staging.adminUrl);
    try {
      const [{ pid }] = (await inFlight.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
      const supabase = connectSupabase(staging.apiUrl, staging.serviceRoleKey);
      for (const wait of [0, 1]) {
        const { error } = await supabase.rpc('supasync_settle_writes', { wait_seconds: wait });
        expect(error?.code).toBe('55P03');
        // Its transaction's start is told where the functions' owner may see other roles' sessions (pg_read_all_stats).
        expect(error?.message).toMatch(
          new RegExp(`^a write of another supasync run is still running in staging \\(backend ${pid}(, in a transaction since [^)]+)?\\)$`),
        );
      }
    } finally {
      await inFlight.query('ROLLBACK');
      await inFlight.end();
    }
    // Nothing in flight: it answers at once.
    const supabase = connectSupabase(staging.apiUrl, staging.serviceRoleKey);
    expect((await supabase.rpc('supasync_settle_writes', { wait_seconds: 1 })).error).toBeNull();
  });
});
