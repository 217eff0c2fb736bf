// One run writes a staging at a time. Two at once interleaved their writes:
// two REST replaces both exited 0 with a keyless table holding both runs'
// rows. A REST run holds a lease row it renews; a direct run an advisory lock
// its connection keeps; each path refuses the other's live hold, waits out a
// REST lease no longer renewed, and staging's write functions refuse any
// request of a run that does not hold the lease.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { connectSupabase } from '../lib/connect/supabase.ts';
import { holdStagingOverRest } from '../lib/transport/rest/lease.ts';
import { RENEW_EVERY_SECONDS } from '../lib/transport/staging-hold.ts';
import { query, tableDigests } from './helpers/content.ts';
import { emptyDirectory, runScript, startScript, type RunningScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, stack } = sharedStack();
// event_log has no key: a replace written twice at once doubles it.
const TABLES = ['--tables', 'event_log,hotels,accommodation_units'];
const OTHER_RUN =
  /Another supasync run is writing this staging: sync --mode replace from [^,]+, process \d+, since [^,]+, last heard from \d+ s ago\..*Nothing was changed\./s;

describe('one run at a time into a staging', () => {
  let staging: Project;
  const cwd = emptyDirectory();
  const env = () => envFor(production, staging);
  const lease = () => query<{ about: string }>(staging.adminUrl, 'SELECT about FROM supasync_private.run_lease');
  const copied = async () => {
    const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
    for (const table of ['public.event_log', 'public.hotels', 'public.accommodation_units']) expect(actual[table], table).toEqual(expected[table]);
  };
  /** A run that has taken hold of staging and waits at its question. */
  const heldAtQuestion = async (via: 'rest' | 'postgres'): Promise<RunningScript> => {
    const run = startScript('sync.ts', ['--via', via, '--no-backup', ...TABLES], { env: env(), cwd, terminal: true });
    await run.waitFor('Go on? [y/N]');
    return run;
  };

  beforeAll(async () => {
    staging = await stack.createProject('one_run_at_a_time');
  });
  afterAll(() => staging?.stop());

  it('while a REST run holds staging, a second run on either path is refused before writing, and the first ends as if alone', async () => {
    const first = await heldAtQuestion('rest');
    expect(await lease()).toEqual([{ about: expect.stringMatching(/^sync --mode replace from .+, process \d+$/) }]);
    for (const via of ['rest', 'postgres']) {
      const second = await runScript('sync.ts', ['--via', via, '--yes', ...TABLES], { env: env(), cwd });
      expect(second.code, `${via}: ${second.stderr}`).toBe(1);
      expect(second.stderr, via).toMatch(OTHER_RUN);
    }
    // A dry run and verify, which write nothing, go on and say so.
    for (const via of ['rest', 'postgres']) {
      const plan = await runScript('sync.ts', ['--via', via, '--dry-run', ...TABLES], { env: env(), cwd });
      expect(plan.code, `${via}: ${plan.stderr}`).toBe(0);
      expect(plan.stderr, via).toMatch(
        /warning: another supasync run is writing this staging now \(sync --mode replace from [^,]+, process \d+, since [^,]+, last heard from \d+ s ago\)/,
      );
    }
    const verify = await runScript('verify-sync-status.ts', ['--via', 'rest', ...TABLES], { env: env(), cwd });
    expect(verify.stderr).toContain('warning: a supasync run is writing this staging now (sync --mode replace from');
    expect((await tableDigests(staging.adminUrl))['public.event_log']?.rows).toBe(0);
    first.child.stdin?.write('y\n');
    const result = await first.finished;
    expect(result.code, result.stdout).toBe(0);
    await copied();
    // Given up at its end: the next run begins at once.
    expect(await lease()).toEqual([]);
    const next = await runScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', ...TABLES], { env: env(), cwd });
    expect(next.code, next.stderr).toBe(0);
    await copied();
  });

  it('while a direct run holds staging, a second run on either path is refused, naming its backend', async () => {
    const first = await heldAtQuestion('postgres');
    const rest = await runScript('sync.ts', ['--via', 'rest', '--yes', ...TABLES], { env: env(), cwd });
    expect(rest.code, rest.stderr).toBe(1);
    expect(rest.stderr).toMatch(
      /a direct supasync run is writing staging \(backend \d+ \(supasync \(staging\)\), connected since [^)]+\)\. Run one sync or restore at a time.*Nothing was changed\./,
    );
    const direct = await runScript('sync.ts', ['--via', 'postgres', '--yes', ...TABLES], { env: env(), cwd });
    expect(direct.code, direct.stderr).toBe(1);
    expect(direct.stderr).toMatch(
      /Another direct supasync run is writing this staging \(backend \d+ \(supasync \(staging\)\), connected since [^)]+\)\..*Nothing was changed\./,
    );
    for (const via of ['rest', 'postgres']) {
      const plan = await runScript('sync.ts', ['--via', via, '--dry-run', ...TABLES], { env: env(), cwd });
      expect(plan.stderr, via).toMatch(/warning: another supasync run is writing this staging now \(a direct run \(backend \d+ \(supasync \(staging\)\)/);
    }
    first.child.stdin?.write('n\n');
    expect((await first.finished).stdout).toContain('Nothing was changed: the sync was not confirmed.');
    // Its connection gone, so is its hold.
    const after = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--no-backup', ...TABLES], { env: env(), cwd });
    expect(after.code, after.stderr).toBe(0);
    await copied();
  });

  it('a lease no longer renewed (a run killed outright) is waited out over REST and passed over directly', async () => {
    const stale = (endsIn: number) =>
      query(
        staging.adminUrl,
        `INSERT INTO supasync_private.run_lease (holder, about, renewed_at, expires_at)
         VALUES (gen_random_uuid(), 'sync --mode mirror from elsewhere, process 1', now() - interval '40 s', now() + $1 * interval '1 s')`,
        [endsIn],
      );
    await stale(8);
    const rest = await runScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', ...TABLES], { env: env(), cwd });
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stderr).toMatch(
      /An earlier run holds staging \(sync --mode mirror from elsewhere, process 1\) but was last heard from 4\d s ago: it stopped without letting go\. Waiting [1-8] s for its hold to lapse before writing\./,
    );
    expect(rest.stderr).toMatch(
      /Took staging over from a run that stopped without letting go \(sync --mode mirror from elsewhere, process 1, last heard from 4\d s ago\)/,
    );
    expect(await lease()).toEqual([]);
    await stale(50);
    const direct = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--no-backup', ...TABLES], { env: env(), cwd });
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stderr).toContain('it stopped without letting go. Its writes are refused while this run holds staging, so this run goes ahead.');
    await copied();
    await query(staging.adminUrl, 'DELETE FROM supasync_private.run_lease');
  });

  it('a lease whose process is gone from this machine (killed a moment ago) is waited out over REST and passed over directly, not refused', async () => {
    // A process that has ended: its pid names no process now.
    const ended = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => ended.on('exit', resolve));
    const killed = (endsIn: number) =>
      query(
        staging.adminUrl,
        `INSERT INTO supasync_private.run_lease (holder, about, expires_at) VALUES (gen_random_uuid(), $1, now() + $2 * interval '1 s')`,
        [`sync --mode replace from ${hostname()}, process ${ended.pid}`, endsIn],
      );
    await killed(4);
    const rest = await runScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', ...TABLES], { env: env(), cwd });
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stderr).toMatch(
      /An earlier run holds staging \(sync --mode replace from [^,]+, process \d+\), and that process is no longer running on this machine: it stopped without letting go\. Waiting [1-4] s for its hold to lapse before writing\./,
    );
    await killed(50);
    const direct = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--no-backup', ...TABLES], { env: env(), cwd });
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stderr).toContain(
      'and that process is no longer running on this machine: it stopped without letting go. Its writes are refused while this run holds staging',
    );
    await copied();
    await query(staging.adminUrl, 'DELETE FROM supasync_private.run_lease');
  });

  it("staging's write functions refuse a request of any run but the lease's holder", async () => {
    const holder = '00000000-0000-4000-8000-000000000001';
    const write = (run?: string) => connectSupabase(staging.apiUrl, staging.secretKey, undefined, {}, run).rpc('supasync_set_sequences', { sequences: [] });
    await query(
      staging.adminUrl,
      `INSERT INTO supasync_private.run_lease (holder, about, expires_at) VALUES ($1, 'sync --mode replace from ci, process 7', now() + interval '1 minute')`,
      [holder],
    );
    try {
      expect((await write(holder)).error).toBeNull();
      const taken = (await write('00000000-0000-4000-8000-000000000002')).error;
      expect(taken?.code).toBe('SUPA1');
      expect(taken?.message).toMatch(/^this run no longer holds staging: another run took it over \(sync --mode replace from ci, process 7, at [^)]+\)$/);
      // A client older than the lease sends no run: refused while another run holds staging.
      const unnamed = (await write()).error;
      expect(unnamed?.code).toBe('SUPA1');
      expect(unnamed?.message).toMatch(/^another supasync run is writing staging \(sync --mode replace from ci, process 7, since [^)]+\)$/);
    } finally {
      await query(staging.adminUrl, 'DELETE FROM supasync_private.run_lease');
    }
    expect((await write()).error).toBeNull();
    expect((await write(holder)).error?.message).toBe('this run no longer holds staging: its lease was ended');
  });

  it('a REST run stopped with Ctrl-C gives its lease up, and a restore holds staging as a sync does', async () => {
    const backedUp = await runScript('sync.ts', ['--via', 'rest', '--yes', ...TABLES], { env: env(), cwd });
    expect(backedUp.code, backedUp.stderr).toBe(0);
    // A batch in flight keeps the next run waiting (settle-writes.ts), after it took its lease.
    const inFlight = new pg.Client({ connectionString: staging.adminUrl });
    await inFlight.connect();
    try {
      await inFlight.query("BEGIN; SET LOCAL ROLE service_role; SELECT public.supasync_set_sequences('[]')");
      const stopped = startScript('sync.ts', ['--via', 'rest', '--yes', ...TABLES], { env: env(), cwd });
      await stopped.waitFor('waiting for it to end before writing');
      expect(await lease()).toHaveLength(1);
      stopped.child.kill('SIGINT');
      expect((await stopped.finished).code).toBe(130);
      expect(await lease()).toEqual([]);
      // A restore meanwhile waits for the batch, then holds staging: a run begun now is refused.
      const restore = startScript('restore-staging.ts', ['latest', '--yes'], { env: env(), cwd });
      await restore.waitFor('waiting for it to end before writing');
      const refused = await runScript('sync.ts', ['--via', 'rest', '--yes', ...TABLES], { env: env(), cwd });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/Another supasync run is writing this staging: restore from /);
      await inFlight.query('COMMIT');
      const restored = await restore.finished;
      expect(restored.code, restored.stderr).toBe(0);
      expect(await lease()).toEqual([]);
    } finally {
      await inFlight.end();
    }
  });

  it('a REST run stopped with Ctrl-C that cannot give its lease up says so, and how long the next run waits', async () => {
    const inFlight = new pg.Client({ connectionString: staging.adminUrl });
    await inFlight.connect();
    const releasing = 'FUNCTION public.supasync_release_lease(uuid, boolean)';
    try {
      await inFlight.query("BEGIN; SET LOCAL ROLE service_role; SELECT public.supasync_set_sequences('[]')");
      const stopped = startScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', ...TABLES], { env: env(), cwd });
      await stopped.waitFor('waiting for it to end before writing');
      await query(staging.adminUrl, `REVOKE EXECUTE ON ${releasing} FROM service_role`);
      stopped.child.kill('SIGINT');
      const { code, stderr } = await stopped.finished;
      expect(code).toBe(130);
      expect(stderr).toMatch(/Staging could not be told this run ended \(permission denied for function supasync_release_lease\): its hold lapses within 60 s/);
      expect(await lease()).toHaveLength(1);
    } finally {
      await inFlight.query('ROLLBACK');
      await inFlight.end();
      await query(staging.adminUrl, `GRANT EXECUTE ON ${releasing} TO service_role; DELETE FROM supasync_private.run_lease`);
    }
  });

  it('a REST run renews its lease while it runs, so a run that lasts longer than the lease keeps staging', async () => {
    const run = '00000000-0000-4000-8000-000000000003';
    const said: string[] = [];
    const hold = await holdStagingOverRest(connectSupabase(staging.apiUrl, staging.secretKey, 1, {}, run), run, 'a long run', (line) => said.push(line));
    try {
      const [taken] = await query<{ renewed_at: Date; expires_at: Date }>(staging.adminUrl, 'SELECT renewed_at, expires_at FROM supasync_private.run_lease');
      await new Promise((resolve) => setTimeout(resolve, (RENEW_EVERY_SECONDS + 1.5) * 1000));
      const [renewed] = await query<{ holder: string; renewed_at: Date; expires_at: Date }>(
        staging.adminUrl,
        'SELECT holder::text, renewed_at, expires_at FROM supasync_private.run_lease',
      );
      expect(renewed?.holder).toBe(run);
      expect(renewed!.renewed_at.getTime()).toBeGreaterThan(taken!.renewed_at.getTime());
      expect(renewed!.expires_at.getTime()).toBeGreaterThan(taken!.expires_at.getTime());
      const other = '00000000-0000-4000-8000-000000000004';
      await expect(holdStagingOverRest(connectSupabase(staging.apiUrl, staging.secretKey, 1, {}, other), other, 'another', () => undefined)).rejects.toThrow(
        /^Another supasync run is writing this staging: a long run, since /,
      );
    } finally {
      await hold.release();
    }
    expect(said).toEqual([]);
    expect(await lease()).toEqual([]);
  });
});
