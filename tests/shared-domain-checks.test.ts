// A domain's check added NOT VALID is dropped by every write of a table
// with a column of that domain, and added again before its transaction
// ends: production's older rows may break it. Over REST two requests write
// two such tables side by side, and no table lock keeps them apart. The
// second found the check by name, waited for the first's lock on it, and
// when the first committed (the check added again, under a new oid) failed
// with "cache lookup failed for constraint": an internal error, which the
// run retried as a failed request (sync-rest-faults counted one retry more
// than the faults it injected). The requests here are two transactions
// calling the write function as PostgREST does, the first held open until
// the second waits for it.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

/** A connection of staging acting as service_role, as PostgREST's does for a request. */
async function serviceRoleConnection(adminUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query('SET ROLE service_role');
  return client;
}

/** Resolves once the backend `pid` waits for a lock; throws after 20 s. */
async function waitsForALock(adminUrl: string, pid: number): Promise<void> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
    const [waiting] = await query<{ count: number }>(adminUrl, 'SELECT count(*)::int AS count FROM pg_locks WHERE pid = $1 AND NOT granted', [pid]);
    if (waiting?.count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`backend ${pid} never waited for a lock`);
}

/** A write of supasync's as a REST request makes it: rows as arrays of text values in `columns` order, `id` the key. */
const writeRows = (client: pg.Client, table: string, columns: string[], rows: string[][]) =>
  client.query<{ answer: { written: number } }>(`SELECT public.supasync_write_rows('public', $1, $2, ARRAY['id'], $3::jsonb) AS answer`, [
    table,
    columns,
    JSON.stringify(rows),
  ]);

describe('two requests writing tables whose columns share a domain with a check added NOT VALID', () => {
  let staging: Project;
  beforeAll(async () => {
    staging = await stack.createProject('shared_domain_checks');
  });
  afterAll(() => staging?.stop());

  it('both write their rows, the second once the first has committed, and the check is back NOT VALID', async () => {
    const first = await serviceRoleConnection(staging.adminUrl);
    const second = await serviceRoleConnection(staging.adminUrl);
    try {
      // Each row breaks the check (an email with a tab or a space in it), as production's older rows may.
      await first.query('BEGIN');
      await writeRows(first, 'binary_zoo', ['id', 'desk_email'], [['1', 'front\tdesk@example.com']]);
      const { rows: pid } = await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const secondWrite = writeRows(
        second,
        'guest_reservations',
        ['id', 'guest_email', 'check_in'],
        [['0b6d5e1a-8a53-4f55-9f0f-6d2b1c3a4e5f', 'ana maria@example.com', '2026-01-02']],
      );
      // Caught here so that a failure before the commit below is not left unhandled.
      const secondAnswer = secondWrite.then(
        (result) => ({ ok: true as const, written: result.rows[0]?.answer.written }),
        (error: unknown) => ({ ok: false as const, error: (error as Error).message }),
      );
      await waitsForALock(staging.adminUrl, pid[0]!.pid);
      await first.query('COMMIT');
      expect(await secondAnswer).toEqual({ ok: true, written: 1 });
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
    expect(await query(staging.adminUrl, 'SELECT desk_email::text FROM public.binary_zoo')).toEqual([{ desk_email: 'front\tdesk@example.com' }]);
    expect(await query(staging.adminUrl, 'SELECT guest_email::text FROM public.guest_reservations')).toEqual([{ guest_email: 'ana maria@example.com' }]);
    expect(
      await query(
        staging.adminUrl,
        `SELECT conname, convalidated, pg_get_constraintdef(oid) AS definition FROM pg_constraint
         WHERE contypid = 'public.email_address'::regtype AND NOT convalidated`,
      ),
    ).toEqual([{ conname: 'email_address_no_space', convalidated: false, definition: "CHECK ((VALUE !~ '\\s'::text)) NOT VALID" }]);
  });
});
