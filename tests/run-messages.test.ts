// What a run says matches what happened: refused before writing means
// nothing was written, an interrupted run says what it left, a machine
// reading --json gets an object whatever happened, and REST says it does not
// read from one snapshot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Link } from '../stack/link.ts';
import { withClient, type Project } from '../stack/index.ts';
import { query, SYNCED_SCHEMAS, tableDigests } from './helpers/content.ts';
import { emptyDirectory, runScript, startScript, type ScriptResult } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, staging: emptyStaging, stack } = sharedStack();
const ALL = ['--schemas', SYNCED_SCHEMAS.join(',')];

describe('a run that could not refill what it empties', () => {
  let source: Project;
  let target: Project;
  beforeAll(async () => {
    [source, target] = await Promise.all([stack.createProject('unreadable_production', { fill: 'tiny' }), stack.createProject('unreadable_staging')]);
    const filled = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--no-backup', ...ALL], { env: envFor(source, target) });
    expect(filled.code).toBe(0);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  /**
   * The owner of supasync's functions (postgres) gives up its own right on a
   * table, and the API roles it is a member of theirs: what a table owned by
   * someone else without the grant looks like, for as long as `work` runs.
   */
  async function withoutPrivilege(project: Project, privilege: string, work: () => Promise<void>): Promise<void> {
    const roles = 'postgres, service_role, authenticated, anon';
    await query(project.adminUrl, `REVOKE ${privilege} ON public.muva_content FROM ${roles}`);
    try {
      await work();
    } finally {
      await query(project.adminUrl, `GRANT ${privilege} ON public.muva_content TO ${roles}`);
    }
  }

  /** A full REST replace that must be refused before staging is touched. */
  async function refusedReplace(): Promise<ScriptResult> {
    const before = await tableDigests(target.adminUrl);
    const result = await runScript('sync.ts', ['--yes', '--via', 'rest', '--no-backup', ...ALL], { env: envFor(source, target) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Nothing was changed');
    expect(result.stderr).not.toContain('holds part of this run');
    expect(await tableDigests(target.adminUrl)).toEqual(before);
    return result;
  }

  it('is refused before staging is touched when the reading role may not read a production table, naming it and the GRANT', async () => {
    await withoutPrivilege(source, 'SELECT', async () => {
      const result = await refusedReplace();
      expect(result.stderr).toContain('postgres, the role production is read as, may not read public.muva_content (no SELECT on the table)');
      expect(result.stderr).toContain('GRANT SELECT ON "public"."muva_content" TO "postgres";');
    });
  });

  it('names the columns the reading role may not read, where SELECT was granted column by column', async () => {
    const roles = 'postgres, service_role, authenticated, anon';
    await query(
      source.adminUrl,
      `REVOKE SELECT ON public.muva_content FROM ${roles}; GRANT SELECT (id, title, content, tags, embedding, source_url) ON public.muva_content TO ${roles}`,
    );
    try {
      const result = await refusedReplace();
      expect(result.stderr).toContain('postgres, the role production is read as, may not read public.muva_content (no SELECT on its column published_at)');
      expect(result.stderr).toContain('GRANT SELECT ON "public"."muva_content" TO "postgres";');
      const direct = await runScript('sync.ts', ['--dry-run', '--via', 'postgres', ...ALL], { env: envFor(source, target) });
      expect(direct.code, direct.stdout + direct.stderr).toBe(1);
      expect(direct.stderr).toContain('may not read public.muva_content (no SELECT on its column published_at)');
    } finally {
      await query(
        source.adminUrl,
        `REVOKE SELECT (id, title, content, tags, embedding, source_url) ON public.muva_content FROM ${roles}; GRANT SELECT ON public.muva_content TO ${roles}`,
      );
    }
  });

  it('names both GRANTs where the role may use neither the schema nor every column, and quotes a column name with a comma', async () => {
    const schema = `CREATE SCHEMA hidden_ops AUTHORIZATION supabase_storage_admin;
      CREATE TABLE hidden_ops.audit (id int PRIMARY KEY, "note, text" text); ALTER TABLE hidden_ops.audit OWNER TO supabase_storage_admin`;
    await Promise.all([
      query(source.adminUrl, schema),
      query(target.adminUrl, `${schema}; GRANT ALL ON SCHEMA hidden_ops TO postgres; GRANT ALL ON hidden_ops.audit TO postgres`),
    ]);
    await query(source.adminUrl, 'GRANT SELECT (id) ON hidden_ops.audit TO postgres');
    try {
      for (const via of ['postgres', 'rest']) {
        const result = await runScript('sync.ts', ['--dry-run', '--via', via, '--tables', 'hidden_ops.audit'], { env: envFor(source, target) });
        expect(result.code, result.stdout + result.stderr).toBe(1);
        expect(result.stderr).toContain('may not read hidden_ops.audit (no USAGE on schema hidden_ops, and no SELECT on its column "note, text")');
        expect(result.stderr).toContain('  GRANT USAGE ON SCHEMA "hidden_ops" TO "postgres";\n  GRANT SELECT ON "hidden_ops"."audit" TO "postgres";');
      }
    } finally {
      await Promise.all([query(source.adminUrl, 'DROP SCHEMA hidden_ops CASCADE'), query(target.adminUrl, 'DROP SCHEMA hidden_ops CASCADE')]);
    }
  });

  it("is refused when staging's functions may not TRUNCATE a table it replaces, and runs as an upsert, which needs no TRUNCATE", async () => {
    await withoutPrivilege(target, 'TRUNCATE', async () => {
      const result = await refusedReplace();
      expect(result.stderr).toContain(
        "staging's supasync functions run as postgres, which may not write every table this run copies:\n  public.muva_content: no TRUNCATE",
      );
      // Directly too, before the first write rather than at a bare "permission denied" midway.
      const before = await tableDigests(target.adminUrl);
      const direct = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--no-backup', ...ALL], { env: envFor(source, target) });
      expect(direct.code, direct.stdout + direct.stderr).toBe(1);
      expect(direct.stderr).toContain(
        "staging's connection logs in as postgres, which may not write every table this run copies:\n  public.muva_content: no TRUNCATE",
      );
      expect(direct.stderr).toContain('GRANT TRUNCATE ON <table> TO postgres;');
      expect(await tableDigests(target.adminUrl)).toEqual(before);
      const upsert = await runScript('sync.ts', ['--via', 'rest', '--mode', 'upsert', '--tables', 'muva_content'], { env: envFor(source, target) });
      expect(upsert.stderr).not.toMatch(/error|failed/i);
      expect(upsert.code).toBe(0);
    });
  });

  it('takes privileges granted column by column, and names the columns that lack one', async () => {
    const roles = 'postgres, service_role, authenticated, anon';
    const columns = 'id, title, content, tags, embedding, source_url';
    await query(
      target.adminUrl,
      `REVOKE INSERT, UPDATE ON public.muva_content FROM ${roles}; GRANT INSERT (${columns}), UPDATE (${columns}) ON public.muva_content TO ${roles}`,
    );
    try {
      for (const via of ['rest', 'postgres']) {
        const upsert = await runScript('sync.ts', ['--via', via, '--mode', 'upsert', '--tables', 'muva_content'], { env: envFor(source, target) });
        expect(upsert.code, upsert.stdout + upsert.stderr).toBe(1);
        expect(upsert.stderr).toContain('public.muva_content: no INSERT (published_at), UPDATE (published_at)');
        expect(upsert.stderr).toContain('GRANT INSERT (published_at), UPDATE (published_at) ON <table> TO postgres;');
      }
      await query(target.adminUrl, `GRANT INSERT (published_at), UPDATE (published_at) ON public.muva_content TO ${roles}`);
      for (const via of ['rest', 'postgres']) {
        const upsert = await runScript('sync.ts', ['--via', via, '--mode', 'upsert', '--tables', 'muva_content'], { env: envFor(source, target) });
        expect(upsert.code, upsert.stdout + upsert.stderr).toBe(0);
      }
    } finally {
      await query(target.adminUrl, `GRANT INSERT, UPDATE ON public.muva_content TO ${roles}`);
    }
  });

  it('is refused before a row is written when it may not set a sequence the copied tables draw from, naming it in the GRANT', async () => {
    const roles = 'postgres, service_role, authenticated, anon';
    await query(target.adminUrl, `REVOKE UPDATE ON SEQUENCE public.code_embeddings_id_seq FROM ${roles}`);
    try {
      for (const via of ['rest', 'postgres']) {
        const before = await tableDigests(target.adminUrl);
        const run = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'code_embeddings'], { env: envFor(source, target) });
        expect(run.code, run.stdout + run.stderr).toBe(1);
        expect(run.stderr).toContain('sequences the copied tables draw from, set after the rows: no UPDATE on "public"."code_embeddings_id_seq"');
        expect(run.stderr).toContain('GRANT UPDATE ON SEQUENCE "public"."code_embeddings_id_seq" TO postgres;');
        expect(run.stderr).toContain('Nothing was changed');
        expect(await tableDigests(target.adminUrl)).toEqual(before);
      }
    } finally {
      await query(target.adminUrl, `GRANT UPDATE ON SEQUENCE public.code_embeddings_id_seq TO ${roles}`);
    }
  });

  it('says in the plan and the summary that REST reads no single snapshot; the direct path does not', async () => {
    const restPlan = await runScript('sync.ts', ['--dry-run', '--via', 'rest', ...ALL], { env: envFor(source, target) });
    expect(restPlan.stdout).toContain('not from one snapshot');
    const directPlan = await runScript('sync.ts', ['--dry-run', '--via', 'postgres', ...ALL], { env: envFor(source, target) });
    expect(directPlan.stdout).not.toContain('not from one snapshot');
    const synced = await runScript('sync.ts', ['--yes', '--via', 'rest', '--no-backup', ...ALL], { env: envFor(source, target) });
    expect(synced.code).toBe(0);
    expect(synced.stdout).toContain('not from one snapshot');
  });
});

describe('interrupted', () => {
  let source: Project;
  let target: Project;
  let directTarget: Project;
  beforeAll(async () => {
    // Two stagings: batches the REST run had already sent may still land after it is gone.
    [source, target, directTarget] = await Promise.all([
      stack.createProject('interrupted_production', { fill: 'tiny' }),
      stack.createProject('interrupted_staging'),
      stack.createProject('interrupted_direct'),
    ]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), directTarget?.stop()]);
  });

  it('over REST, says which tables are complete and which are not, and exits 130', async () => {
    // A slow uplink (200 kB/s): the first tables finish, the rest are still on the wire.
    target.gateway.setProfile('remote', new Link({ downBytesPerSecond: 5_000_000, upBytesPerSecond: 200_000 }));
    target.gateway.captureRequests(true);
    try {
      const run = startScript('sync.ts', ['--yes', '--via', 'rest', '--no-backup', ...ALL], { env: envFor(source, target) });
      await run.waitFor('✓ ');
      run.child.kill('SIGINT');
      const result = await run.finished;
      expect(result.code).toBe(130);
      // Stopped, it sends nothing more but the request that lets go of staging: the batches on their way land, no new one starts.
      const sent = target.gateway
        .capturedRequests()
        .sort((a, b) => a.arrived - b.arrived)
        .map((request) => request.path);
      expect(sent).toContain('/rpc/supasync_release_lease');
      expect(sent.slice(sent.indexOf('/rpc/supasync_release_lease') + 1)).toEqual([]);
      expect(result.stderr).toContain('Interrupted (SIGINT).');
      const complete = /^ {2}complete: (.+)$/m.exec(result.stderr)?.[1]?.split(', ') ?? [];
      const incomplete = /^ {2}not complete: (.+)$/m.exec(result.stderr)?.[1]?.split(', ') ?? [];
      expect(complete.length).toBeGreaterThan(0);
      expect(complete).not.toContain('none');
      expect(incomplete.length).toBeGreaterThan(0);
      expect(incomplete).not.toContain('none');
      // A table whose last batch landed while the run let go of staging (its ✓ printed after the signal) is said complete.
      const ticked = [...(result.stdout + result.stderr).matchAll(/^✓ (\S+) /gm)].map((match) => match[1]);
      expect(ticked.length).toBeGreaterThan(0);
      for (const table of ticked) {
        expect(complete).toContain(table);
        expect(incomplete).not.toContain(table);
      }
      expect(result.stderr).toContain('Run the same command again to finish');
      expect(result.stderr).toContain('batches already sent may still land');
    } finally {
      target.gateway.setProfile('local');
      target.gateway.captureRequests(false);
    }
  });

  it('over REST, stopped after its last table, says what may not be set yet rather than that it is done', async () => {
    // Every table's rows are in; the sequences' request is held unanswered.
    target.gateway.injectFaults({ stall: 1, onlyPaths: /^\/rpc\/supasync_set_sequences$/ });
    try {
      const run = startScript('sync.ts', ['--yes', '--via', 'rest', '--no-backup', ...ALL], { env: envFor(source, target) });
      while (target.gateway.stats().faults.stall < 1) await new Promise((resolve) => setTimeout(resolve, 100));
      run.child.kill('SIGINT');
      const result = await run.finished;
      expect(result.code).toBe(130);
      expect(result.stderr).toContain('not complete: none');
      expect(result.stderr).toContain("Every table's rows are written; staging's sequences, incremental watermarks and materialized views may not be set yet.");
      expect(result.stderr).toContain('Run the same command again to finish');
    } finally {
      target.gateway.clearFaults();
      target.gateway.resetStats();
    }
  });

  it('after the sync, while it verifies, says the sync had finished, with its backup', async () => {
    // Verify's first checksums are held unanswered: the run waits there, its sync done.
    source.gateway.injectFaults({ stall: 1, onlyPaths: /^\/rpc\/supasync_checksums?$/ });
    try {
      const run = startScript('sync.ts', ['--yes', '--via', 'rest', '--verify', ...ALL], { env: envFor(source, target) });
      while (source.gateway.stats().faults.stall < 1) await new Promise((resolve) => setTimeout(resolve, 100));
      run.child.kill('SIGINT');
      const result = await run.finished;
      expect(result.code).toBe(130);
      expect(result.stderr).toMatch(
        /The sync had finished: Synced \d+ tables, [\d,]+ rows, in [\d.]+s \(replace, via rest, [^)]*\)\. Its backup: \.supasync\/backups\/\S+\./,
      );
      expect(result.stderr).toContain('Stopped after it, verifying: npx tsx scripts/verify-sync-status.ts checks staging.');
    } finally {
      source.gateway.clearFaults();
    }
  });

  it('a REST restore stopped part way says staging is part restored, and run again it converges', async () => {
    const cwd = emptyDirectory();
    const env = envFor(source, target);
    const synced = await runScript('sync.ts', ['--yes', '--via', 'rest', ...ALL], { env, cwd });
    expect(synced.code, synced.stderr).toBe(0);
    const before = await tableDigests(target.adminUrl);
    const again = await runScript('sync.ts', ['--yes', '--via', 'rest', ...ALL], { env, cwd });
    expect(again.code, again.stderr).toBe(0);
    // The first batch put back lands and its answer is held: the tables are emptied by then.
    target.gateway.injectFaults({ stall: 1, onlyPaths: /^\/rpc\/supasync_write_rows$/ });
    try {
      const restore = startScript('restore-staging.ts', ['latest', '--yes'], { env, cwd });
      while (target.gateway.stats().faults.stall < 1) await new Promise((resolve) => setTimeout(resolve, 100));
      restore.child.kill('SIGINT');
      const result = await restore.finished;
      expect(result.code).toBe(130);
      expect(result.stderr).toContain(
        'Staging is part restored: a restore over REST is not one transaction. Run the restore again: it empties the tables first.',
      );
      expect(result.stderr).not.toContain('Fix the cause');
    } finally {
      target.gateway.clearFaults();
    }
    const rerun = await runScript('restore-staging.ts', ['latest', '--yes'], { env, cwd });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await tableDigests(target.adminUrl)).toEqual(before);
  });

  it('on the direct path, leaves staging as it was: its one transaction is rolled back', async () => {
    const before = await tableDigests(directTarget.adminUrl);
    // Another session holds a table, so the run waits inside its transaction until the signal.
    await withClient(directTarget.adminUrl, async (holder) => {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE public.hotels IN ACCESS EXCLUSIVE MODE');
      const run = startScript('sync.ts', ['--yes', '--via', 'postgres', '--no-backup', ...ALL], { env: envFor(source, directTarget) });
      // Asked on a connection of its own: a transaction sees pg_stat_activity as it was when first asked.
      const waiting = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'supasync (staging)' AND wait_event_type = 'Lock'`;
      while ((await query<{ n: number }>(directTarget.adminUrl, waiting))[0]?.n !== 1) await new Promise((resolve) => setTimeout(resolve, 200));
      run.child.kill('SIGINT');
      const result = await run.finished;
      expect(result.code).toBe(130);
      expect(result.stderr).toContain('Interrupted (SIGINT).');
      expect(result.stderr).toContain('rolled back as its connection closes');
      await holder.query('ROLLBACK');
    });
    expect(await tableDigests(directTarget.adminUrl)).toEqual(before);
  });

  it('on the direct path, stopped as it sets the sequences (which no rollback undoes), says so, keeps its backup, and the restore puts them back', async () => {
    // Staging holds rows (the run backs them up) and a sequence of its own.
    const synced = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--no-backup', ...ALL], { env: envFor(source, directTarget) });
    expect(synced.code, synced.stderr).toBe(0);
    await query(directTarget.adminUrl, `SELECT setval('public.code_embeddings_id_seq', 99999)`);
    const sequences = () => query(directTarget.adminUrl, `SELECT last_value::text, is_called FROM public.code_embeddings_id_seq`);
    const [before, sequencesBefore] = await Promise.all([tableDigests(directTarget.adminUrl), sequences()]);
    const cwd = emptyDirectory();
    // Another session alters a sequence the run sets: the run waits in its setval, after the rows, before COMMIT.
    await withClient(directTarget.adminUrl, async (holder) => {
      await holder.query('BEGIN');
      await holder.query('ALTER SEQUENCE public.order_id_seq INCREMENT BY 1');
      const run = startScript('sync.ts', ['--yes', '--via', 'postgres', ...ALL], { env: envFor(source, directTarget), cwd });
      const setting = `SELECT count(*)::int AS n FROM pg_stat_activity
                       WHERE application_name = 'supasync (staging)' AND wait_event_type = 'Lock' AND query LIKE '%setval%'`;
      while ((await query<{ n: number }>(directTarget.adminUrl, setting))[0]?.n !== 1) await new Promise((resolve) => setTimeout(resolve, 200));
      run.child.kill('SIGINT');
      const result = await run.finished;
      await holder.query('ROLLBACK');
      expect(result.code).toBe(130);
      expect(result.stderr).toContain("The run stopped as it set staging's sequences, which no rollback undoes, or committed");
      expect(result.stderr).toContain("Staging's rows from before this run are in .supasync/backups/");
      expect(result.stderr).not.toContain('left exactly as it was');
    });
    // The rows rolled back; a sequence set before the signal stays set: the backup puts it back.
    expect(await tableDigests(directTarget.adminUrl)).toEqual(before);
    const restored = await runScript('restore-staging.ts', ['latest', '--yes'], { env: envFor(source, directTarget), cwd });
    expect(restored.code, restored.stderr).toBe(0);
    expect(await sequences()).toEqual(sequencesBefore);
    expect(await tableDigests(directTarget.adminUrl)).toEqual(before);
  });
});

describe('answers and errors', () => {
  it('takes "y" at the prompt, and does not count the time the question waited', async () => {
    const target = await stack.createProject('prompt_staging');
    try {
      const started = performance.now();
      const run = startScript('sync.ts', ['--via', 'postgres', '--no-backup', ...ALL], { env: envFor(production, target), terminal: true });
      await run.waitFor('Go on? [y/N]');
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      run.child.stdin?.write('y\n');
      const result = await run.finished;
      const wall = (performance.now() - started) / 1000;
      expect(result.code).toBe(0);
      const seconds = Number(/Synced \d+ tables, [\d,]+ rows, in ([\d.]+)s/.exec(result.stdout)?.[1]);
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThanOrEqual(wall - 4);
    } finally {
      await target.stop();
    }
  });

  it('shows each running table on its own line at a terminal, and in a log a plain line per running table every few seconds', async () => {
    const target = await stack.createProject('progress_staging');
    try {
      const env = { ...envFor(production, target), SUPASYNC_PROGRESS_SECONDS: '0.05' };
      const logged = await runScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', ...ALL], { env });
      expect(logged.code, logged.stderr).toBe(0);
      // A log gets plain lines: no carriage return, no escape sequence.
      expect(logged.stderr).not.toMatch(/\r|\x1b\[/);
      expect(logged.stderr).toMatch(/^… public\.\S+ {2}[\d,]+ rows {2}[\d,]+ rows\/s/m);
      expect(logged.stderr).toMatch(/^✓ public\.chat_messages {2}324 rows in [\d.]+s$/m);
      // At a terminal the running tables are drawn as a block that is redrawn in place.
      const drawn = await startScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', ...ALL], { env: envFor(production, target), terminal: true })
        .finished;
      expect(drawn.code).toBe(0);
      expect(drawn.stdout).toMatch(/\x1b\[2K/);
      // Tables copied at once are shown at once, one line each.
      expect(drawn.stdout).toMatch(/\w+\.\S+ {2}[\d,]+ rows {2}[\d,]+ rows\/s[^\n]*\r?\n\w+\.\S+ {2}[\d,]+ rows {2}[\d,]+ rows\/s/);
      expect(drawn.stdout).toMatch(/✓ public\.chat_messages {2}324 rows in [\d.]+s/);
    } finally {
      await target.stop();
    }
  });

  it('writes a JSON object on failure too, with --json', async () => {
    const result = await runScript('sync.ts', ['--yes', '--json', '--tables', ''], { env: envFor(production, emptyStaging) });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, exitCode: 2, error: expect.stringContaining('--tables was given nothing') });
    const verified = await runScript('verify-sync-status.ts', ['--json'], { env: envFor(production, production) });
    expect(verified.code).toBe(2);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: false, exitCode: 2, error: expect.stringContaining('same database') });
  });

  it('explains a URL with /rest/v1, an unreachable URL and a % in a password, naming the variable and printing no secret', async () => {
    const env = envFor(production, emptyStaging);
    const rest = await runScript('sync.ts', ['--dry-run', '--via', 'rest'], { env: { ...env, SUPABASE_STAGING_URL: `${emptyStaging.apiUrl}/rest/v1` } });
    expect(rest.code).toBe(2);
    expect(rest.stderr).toContain('SUPABASE_STAGING_URL has a path (/rest/v1)');
    expect(rest.stderr).not.toContain('[object Object]');
    // The dashboard's address, copied from the browser: its project's API URL is said.
    const dashboard = await runScript('sync.ts', ['--dry-run', '--via', 'rest'], {
      env: { ...env, SUPABASE_STAGING_URL: 'https://supabase.com/dashboard/project/abcdefghijklmnopqrst/settings/api' },
    });
    expect(dashboard.code).toBe(2);
    expect(dashboard.stderr).toContain(
      'SUPABASE_STAGING_URL has a path (/dashboard/project/abcdefghijklmnopqrst/settings/api): give the project URL alone, like https://abcdefghijklmnopqrst.supabase.co (that is the dashboard',
    );

    const closed = 'http://127.0.0.1:59998';
    const unreachable = await runScript('sync.ts', ['--dry-run', '--via', 'rest'], { env: { ...env, SUPABASE_PROD_URL: closed } });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`cannot reach ${closed}: nothing is listening`);
    expect(unreachable.stderr).not.toContain('fetch failed');

    const percent = await runScript('sync.ts', ['--dry-run'], {
      env: { ...env, SUPABASE_STAGING_DB_URL: 'postgresql://postgres:50%zzsecret@127.0.0.1:5432/postgres' },
    });
    expect(percent.code).toBe(2);
    expect(percent.stderr).toContain('SUPABASE_STAGING_DB_URL: the password holds a % that does not start URL encoding');
    expect(percent.stderr).not.toContain('secret');
  });
});

describe('a staging that takes no writes', () => {
  let readOnly: Project;
  /** A backup of each path's, taken while staging still took writes. */
  const backups = { postgres: emptyDirectory(), rest: emptyDirectory() };
  beforeAll(async () => {
    readOnly = await stack.createProject('read_only_staging');
    // The first run fills the empty table; each next one has its rows to back up.
    for (const [via, cwd] of [
      ['postgres', emptyDirectory()],
      ['postgres', backups.postgres],
      ['rest', backups.rest],
    ] as const) {
      const env = envFor(production, readOnly);
      if (via === 'rest') delete env.SUPABASE_STAGING_DB_URL;
      const synced = await runScript('sync.ts', ['--via', via, '--tables', 'sire_countries', '--yes'], { env, cwd });
      expect(synced.code, synced.stderr).toBe(0);
    }
    await query(readOnly.adminUrl, 'ALTER DATABASE read_only_staging SET default_transaction_read_only = on');
    // PostgREST's connections, opened before, keep the old default: ended, they come back with the new one.
    await query(readOnly.adminUrl, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'read_only_staging' AND usename = 'authenticator'`);
  });
  afterAll(() => readOnly?.stop());

  it('is said before anything is written, by the run and its dry run alike, directly', async () => {
    for (const args of [['--yes'], ['--dry-run']]) {
      const result = await runScript('sync.ts', ['--via', 'postgres', '--tables', 'sire_countries', ...args], { env: envFor(production, readOnly) });
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toContain(
        "Staging takes no writes in this session: default_transaction_read_only is on for its database, for this role or in the connection string's options, and supasync does not override it.",
      );
      expect(result.stderr).toContain('Nothing was changed.');
    }
  });

  it('is refused over REST too, where PostgREST would write anyway (as Supabase makes a project whose disk is full)', async () => {
    const before = await query(readOnly.adminUrl, 'SELECT count(*)::int AS n FROM public.sire_countries');
    for (const args of [['--yes'], ['--dry-run']]) {
      const result = await runScript('sync.ts', ['--via', 'rest', '--tables', 'sire_countries', ...args], { env: envFor(production, readOnly) });
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toContain("Staging's database defaults to read-only transactions (default_transaction_read_only = on: Supabase's read-only mode");
      expect(result.stderr).toContain('Nothing was changed.');
    }
    expect(await query(readOnly.adminUrl, 'SELECT count(*)::int AS n FROM public.sire_countries')).toEqual(before);
  });

  it('is refused by install-rpcs.ts, naming the setting, rather than failing at its first CREATE', async () => {
    const installed = await runScript('install-rpcs.ts', ['--staging', '--yes'], { env: envFor(production, readOnly), cwd: emptyDirectory() });
    expect(installed.code, installed.stdout + installed.stderr).toBe(2);
    expect(installed.stderr).toContain('SUPABASE_STAGING_DB_URL leads to a database whose transactions default to read-only (default_transaction_read_only');
  });

  it.each(['postgres', 'rest'] as const)('is refused by restore-staging.ts too, before it empties anything (a backup of the %s path)', async (via) => {
    const before = await tableDigests(readOnly.adminUrl, ['public']);
    const env = envFor(production, readOnly);
    if (via === 'rest') delete env.SUPABASE_STAGING_DB_URL;
    const restored = await runScript('restore-staging.ts', ['--yes', 'latest'], { env, cwd: backups[via] });
    expect(restored.code, restored.stdout + restored.stderr).toBe(1);
    expect(restored.stderr).toContain(
      via === 'postgres'
        ? "Staging takes no writes in this session: default_transaction_read_only is on for its database, for this role or in the connection string's options"
        : "Staging's database defaults to read-only transactions (default_transaction_read_only = on: Supabase's read-only mode",
    );
    expect(await tableDigests(readOnly.adminUrl, ['public'])).toEqual(before);
  });
});
