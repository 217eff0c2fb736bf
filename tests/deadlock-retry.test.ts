// A direct replace whose one transaction PostgreSQL chose to end a deadlock
// (autovacuum did it twice in about sixty runs under load) failed, though it
// had changed nothing and nothing of its own was at fault. It now runs once
// more, saying why. The deadlock here is another session's: it reads the
// child table, waits for the run to take it, then reads the parent the run
// holds; its deadlock_timeout is long, so the run's backend is the one
// PostgreSQL ends. A restore of a backup taken directly, one transaction
// too, met the same in CI (a session reading table after table against the
// restore's TRUNCATE) and is restored once more.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, tableDigests } from './helpers/content.ts';
import { emptyDirectory, runScript, startScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, stack } = sharedStack();

/** Resolves once the run's staging backend waits for a lock on `table`. */
async function runWaitsOn(adminUrl: string, table: string): Promise<void> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
    const [waiting] = await query<{ count: number }>(
      adminUrl,
      `SELECT count(*)::int AS count FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE NOT l.granted AND l.relation = $1::regclass AND a.application_name = 'supasync (staging)'`,
      [table],
    );
    if (waiting?.count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the run never waited for ${table}`);
}

describe('a direct run chosen to end a deadlock', () => {
  let staging: Project;
  beforeAll(async () => {
    staging = await stack.createProject('deadlock_retry');
  });
  afterAll(() => staging?.stop());

  it('is run once more, saying why, and ends as if alone', async () => {
    const other = new pg.Client({ connectionString: staging.adminUrl });
    await other.connect();
    try {
      await other.query(`BEGIN; SET LOCAL deadlock_timeout = '60s'; SELECT count(*) FROM public.accommodation_units`);
      const run = startScript('sync.ts', ['--via', 'postgres', '--yes', '--no-backup', '--tables', 'hotels,accommodation_units'], {
        env: envFor(production, staging),
        cwd: emptyDirectory(),
      });
      await runWaitsOn(staging.adminUrl, 'public.accommodation_units');
      // The run holds hotels; asking for it closes the circle, and after a second PostgreSQL ends the run's transaction.
      await other.query('SELECT count(*) FROM public.hotels');
      await other.query('COMMIT');
      const result = await run.finished;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(
        "Staging's transaction was chosen to end a deadlock with another session (autovacuum, the app, a migration). " +
          'Staging was left exactly as it was (the run is one transaction, rolled back): running it once more.',
      );
      const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
      for (const table of ['public.hotels', 'public.accommodation_units']) expect(actual[table], table).toEqual(expected[table]);
    } finally {
      await other.end();
    }
  });

  it('restoring a backup is done once more too, saying why, and staging ends as the backup holds it', async () => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const tables = ['--tables', 'hotels,accommodation_units'];
    const filled = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--no-backup', ...tables], { env, cwd });
    expect(filled.code, filled.stderr).toBe(0);
    await query(staging.adminUrl, "UPDATE public.hotels SET name = name || ' (staging)'");
    const before = await tableDigests(staging.adminUrl);
    const synced = await runScript('sync.ts', ['--via', 'postgres', '--yes', ...tables], { env, cwd });
    expect(synced.code, synced.stderr).toBe(0);
    expect((await tableDigests(staging.adminUrl))['public.hotels']).not.toEqual(before['public.hotels']);

    const other = new pg.Client({ connectionString: staging.adminUrl });
    await other.connect();
    try {
      // A table read in a transaction, then the next, as autovacuum analyzing a parent and its inheriting tables does.
      await other.query(`BEGIN; SET LOCAL deadlock_timeout = '60s'; SELECT count(*) FROM public.accommodation_units`);
      const restore = startScript('restore-staging.ts', ['latest', '--yes'], { env, cwd });
      await runWaitsOn(staging.adminUrl, 'public.accommodation_units');
      await other.query('SELECT count(*) FROM public.hotels');
      await other.query('COMMIT');
      const result = await restore.finished;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout + result.stderr).toContain(
        "Staging's transaction was chosen to end a deadlock with another session (autovacuum, the app, a migration). " +
          'Staging was left exactly as it was (the restore is one transaction, rolled back): restoring once more.',
      );
      const after = await tableDigests(staging.adminUrl);
      for (const table of ['public.hotels', 'public.accommodation_units']) expect(after[table], table).toEqual(before[table]);
    } finally {
      await other.end();
    }
  });
});
