// The test stack's withClient keeps a connection a few seconds after each
// piece of work, for the next piece on the same URL (stack/kept-clients.ts).
// Each test relies on starting from a session as a new connection has it:
// what one piece of work set must not reach the next, a transaction it left
// open must not keep its locks, and a kept session the server ended must be
// replaced, not handed out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient, type Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();
const backend = (url: string) => withClient(url, async (client) => (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);

describe('a connection the test stack keeps between pieces of work', () => {
  let project: Project;
  beforeAll(async () => {
    project = await stack.createProject('kept_clients');
  });
  afterAll(async () => {
    await project.stop();
  });

  it('comes back as a new session: role, settings, temporary tables and advisory locks are gone', async () => {
    const first = await withClient(project.adminUrl, async (client) => {
      await client.query(`SET ROLE postgres; SET statement_timeout = '1234ms'; CREATE TEMPORARY TABLE scratch (n int); SELECT pg_advisory_lock(42)`);
      return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    });
    const next = await withClient(project.adminUrl, async (client) => {
      const { rows } = await client.query<{ pid: number; role: string; timeout: string; scratch: string | null; locks: number }>(
        `SELECT pg_backend_pid() AS pid, current_user AS role, current_setting('statement_timeout') AS timeout,
                to_regclass('pg_temp.scratch')::text AS scratch,
                (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks`,
      );
      return rows[0];
    });
    expect(next).toEqual({ pid: first, role: 'supabase_admin', timeout: '0', scratch: null, locks: 0 });
  });

  it('is not kept with a transaction left open, whose locks end with it', async () => {
    await query(project.adminUrl, 'CREATE TABLE public.kept_locked (n int)');
    const holder = await withClient(project.adminUrl, async (client) => {
      await client.query('BEGIN; LOCK TABLE public.kept_locked IN ACCESS EXCLUSIVE MODE');
      return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    });
    // Refused at once (lock_timeout) if the lock were still held.
    const read = await withClient(project.adminUrl, async (client) => {
      await client.query(`SET lock_timeout = '200ms'`);
      return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM public.kept_locked')).rows;
    });
    expect(read).toEqual([{ n: 0 }]);
    expect(await query(project.adminUrl, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [holder])).toEqual([{ n: 0 }]);
  });

  it('is replaced when the server ended it while it waited', async () => {
    const kept = await backend(project.adminUrl);
    await withClient(urlOfAnotherSession(project.adminUrl), (client) => client.query('SELECT pg_terminate_backend($1)', [kept]));
    const next = await backend(project.adminUrl);
    expect(next).toEqual(expect.any(Number));
    expect(next).not.toBe(kept);
  });
});

/** The same database through another URL, whose connection is not the kept one: the terminating session must be another. */
function urlOfAnotherSession(adminUrl: string): string {
  const url = new URL(adminUrl);
  url.searchParams.set('application_name', 'kept-clients-test');
  return url.toString();
}
