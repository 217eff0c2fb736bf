// Backups hold staging's personal data: they are private to the user whatever
// the umask, named so any file system takes them, removed when the run that
// took them changed nothing (refused, failed or stopped), and pruned to
// supasync.config.json's backups.keep per staging after a run that succeeded.
// restore-staging.ts lists them and restores the newest of a staging.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyBackupManifest } from '../lib/backup/manifest.ts';
import type { Project } from '../stack/index.ts';
import { backupLine } from './helpers/backup.ts';
import { query, tableDigests, type Digests } from './helpers/content.ts';
import { emptyDirectory, runScript, startScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, stack } = sharedStack();
let stagingA: Project;
let stagingB: Project;
afterAll(async () => {
  await Promise.all([stagingA?.stop(), stagingB?.stop()]);
});
beforeAll(async () => {
  // Each a copy of production that lived on: every replace of it has rows to save.
  [stagingA, stagingB] = await Promise.all([
    stack.createProject('backups_a', { fill: 'tiny', syncTarget: true }),
    stack.createProject('backups_b', { fill: 'tiny', syncTarget: true }),
  ]);
});

/** Only what the REST path needs: no connection string, so nothing can take the direct path. */
const restEnv = (staging: Project) => {
  const env = envFor(production, staging);
  delete env.SUPABASE_PROD_DB_URL;
  delete env.SUPABASE_STAGING_DB_URL;
  return env;
};
const replaceFlags = (via: 'postgres' | 'rest', tables = 'feature_flags') => ['--via', via, '--tables', tables, '--mode', 'replace', '--yes'];
const backupsIn = (cwd: string) => readdirSync(join(cwd, '.supasync', 'backups')).sort();
const manifestOf = (cwd: string, name: string) =>
  JSON.parse(readFileSync(join(cwd, '.supasync', 'backups', name, 'manifest.json'), 'utf8')) as AnyBackupManifest;
const mode = (path: string) => statSync(path).mode & 0o777;
const everyTable = (staging: Project) => tableDigests(staging.adminUrl, ['public', 'analytics']);

describe('a backup is private to the user and named for any file system', () => {
  it.each(['postgres', 'rest'] as const)('over %s, under umask 000: directories 0700, files 0600, no : * ? " < > | in names', async (via) => {
    const cwd = emptyDirectory();
    const env = via === 'rest' ? restEnv(stagingA) : envFor(production, stagingA);
    const result = await runScript('sync.ts', replaceFlags(via, 'feature_flags,code_embeddings'), { env, cwd, umask: 0o000 });
    expect(result.code, result.stderr).toBe(0);
    const line = backupLine(result.stdout);
    expect(line, result.stdout).not.toBeNull();

    expect(mode(join(cwd, '.supasync')).toString(8)).toBe('700');
    expect(mode(join(cwd, '.supasync', 'backups')).toString(8)).toBe('700');
    const [name] = backupsIn(cwd);
    const directory = join(cwd, '.supasync', 'backups', name as string);
    expect(join(cwd, line?.directory as string)).toBe(directory);
    expect(mode(directory).toString(8)).toBe('700');
    const files = readdirSync(directory);
    expect(files).toEqual(
      expect.arrayContaining(['manifest.json', expect.stringMatching(via === 'rest' ? /code_embeddings\.jsonl$/ : /code_embeddings\.bin$/)]),
    );
    expect(files).not.toContain('manifest.json.partial');
    for (const file of files) expect(`${file}: ${mode(join(directory, file)).toString(8)}`).toBe(`${file}: 600`);

    // Over REST the label is staging's host and port (127.0.0.1:port): the colon must not reach the name.
    for (const part of [name as string, ...files]) expect(part).not.toMatch(/[:*?"<>|\\]/);
    expect(name).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z-/);
  });
});

/**
 * Staging refuses the replace of hotels after its backup, before any change:
 * a DELETE and TRUNCATE trigger enabled ALWAYS, which the replica role does
 * not silence and the run disables before emptying the table, and an event
 * trigger that refuses that ALTER TABLE (ALWAYS too: the run's replica role
 * would silence it). Returns their removal.
 */
async function refuseTruncate(project: Project): Promise<() => Promise<void>> {
  await query(
    project.adminUrl,
    `
    CREATE FUNCTION public.keep_hotels() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hotels may not be emptied here'; END $$;
    CREATE TRIGGER keep_hotels BEFORE DELETE OR TRUNCATE ON public.hotels FOR EACH STATEMENT EXECUTE FUNCTION public.keep_hotels();
    ALTER TABLE public.hotels ENABLE ALWAYS TRIGGER keep_hotels;
    CREATE FUNCTION public.keep_hotels_triggers() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hotels may not be emptied here'; END $$;
    CREATE EVENT TRIGGER keep_hotels_triggers ON ddl_command_start WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION public.keep_hotels_triggers();
    ALTER EVENT TRIGGER keep_hotels_triggers ENABLE ALWAYS;`,
  );
  return async () => {
    await query(
      project.adminUrl,
      `DROP EVENT TRIGGER keep_hotels_triggers; DROP FUNCTION public.keep_hotels_triggers();
       DROP TRIGGER keep_hotels ON public.hotels; DROP FUNCTION public.keep_hotels()`,
    );
  };
}

describe('a run that changes nothing keeps no backup', () => {
  it.each(['postgres', 'rest'] as const)('over %s: emptying refused (by a trigger of staging) removes the backup it took, and says so', async (via) => {
    const cwd = emptyDirectory();
    const allowTruncate = await refuseTruncate(stagingA);
    try {
      const before = await everyTable(stagingA);
      const env = via === 'rest' ? restEnv(stagingA) : envFor(production, stagingA);
      const result = await runScript('sync.ts', replaceFlags(via, 'hotels'), { env, cwd });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('hotels may not be emptied here');
      expect(result.stderr).toMatch(/The backup this run took of staging \(.*\.supasync\/backups\/\S+\) was removed: staging was not changed/);
      expect(result.stderr).not.toContain('complete: none');
      expect(backupsIn(cwd)).toEqual([]);
      expect(await everyTable(stagingA)).toEqual(before);
    } finally {
      await allowTruncate();
    }
  });

  it.each(['postgres', 'rest'] as const)(
    'over %s: the disk full as it writes the backup (a file size limit: EFBIG, as ENOSPC), stops with nothing changed and no partial backup left',
    async (via) => {
      const cwd = emptyDirectory();
      const env = via === 'rest' ? restEnv(stagingA) : envFor(production, stagingA);
      const before = await everyTable(stagingA);
      // code_embeddings' rows are a few hundred kilobytes as a backup: past 64 blocks (32 kB), mid-table.
      const result = await runScript('sync.ts', replaceFlags(via, 'feature_flags,code_embeddings'), { env, cwd, fileBlocks: 64 });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Cannot write the backup of staging's tables to \S+\.supasync\/backups\/\S+: EFBIG/);
      expect(result.stderr).toContain('Nothing was changed. To sync without a backup, run again with --no-backup.');
      expect(await everyTable(stagingA)).toEqual(before);
      expect(backupsIn(cwd)).toEqual([]);
    },
  );

  it('stopped by SIGTERM while it writes the backup, removes the partial directory; staging keeps its rows', async () => {
    const cwd = emptyDirectory();
    const before = await everyTable(stagingA);
    // The backup reads code_embeddings' identity sequence after making its
    // directory: held under an ACCESS EXCLUSIVE lock here, the run waits there.
    const holder = new pg.Client({ connectionString: stagingA.adminUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('ALTER SEQUENCE public.code_embeddings_id_seq RENAME TO code_embeddings_id_seq_held');
      const run = startScript('sync.ts', replaceFlags('postgres', 'code_embeddings'), { env: envFor(production, stagingA), cwd });
      const partial = await waitFor(() => {
        try {
          return backupsIn(cwd)[0];
        } catch {
          return undefined;
        }
      });
      await waitFor(async () => {
        const waiting = await query(stagingA.adminUrl, `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
        return waiting.length ? true : undefined;
      });
      expect(readdirSync(join(cwd, '.supasync', 'backups', partial))).not.toContain('manifest.json');
      run.child.kill('SIGTERM');
      const result = await run.finished;
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`Stopped before staging was changed: removed this run's backup of staging (.supasync/backups/${partial})`);
      expect(backupsIn(cwd)).toEqual([]);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    expect(await everyTable(stagingA)).toEqual(before);
  });
});

describe('retention, --list and latest', () => {
  const cwd = emptyDirectory();
  const sync = (staging: Project, args: string[] = replaceFlags('postgres')) => runScript('sync.ts', args, { env: envFor(production, staging), cwd });
  const ofA: string[] = [];
  const ofB: string[] = [];
  const incomplete = '2020-01-01T00-00-00.000Z-stopped';
  let flagsBeforeThird: Digests;

  beforeAll(() => {
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ backups: { keep: 2 } }));
  });

  it('keeps the newest 2 backups of a staging after three runs, and none of another staging or an incomplete one is pruned', async () => {
    const first = await sync(stagingB);
    expect(first.code, first.stderr).toBe(0);
    ofB.push(backupLine(first.stdout)?.directory as string);
    mkdirSync(join(cwd, '.supasync', 'backups', incomplete));

    for (let run = 1; run <= 3; run++) {
      if (run === 3) {
        // What staging A holds when the third run backs it up, for `latest` below.
        await query(stagingA.adminUrl, `UPDATE public.feature_flags SET rollout = 0.123 WHERE flag_key = (SELECT min(flag_key) FROM public.feature_flags)`);
        flagsBeforeThird = await tableDigests(stagingA.adminUrl);
      }
      const result = await sync(stagingA);
      expect(result.code, result.stderr).toBe(0);
      const line = backupLine(result.stdout);
      expect(line?.before, result.stdout).toBe('the replace');
      ofA.push(line?.directory as string);
      if (run < 3) expect(result.stdout).not.toContain('Pruned');
      else expect(result.stdout).toContain(`Pruned 1 older backup (keep 2): ${ofA[0]}`);
    }
    expect(backupsIn(cwd)).toEqual([...ofA.slice(1), ...ofB, incomplete].map((path) => path.replace('.supasync/backups/', '')).sort());
  });

  it('never prunes after a failed run', async () => {
    const allowTruncate = await refuseTruncate(stagingA);
    const refused = await sync(stagingA, replaceFlags('postgres', 'hotels')).finally(allowTruncate);
    expect(refused.code).toBe(1);
    expect(backupsIn(cwd)).toHaveLength(4);
    // A later newest backup of B prunes nothing of A's: B has two now, within keep.
    const second = await sync(stagingB);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).not.toContain('Pruned');
    ofB.push(backupLine(second.stdout)?.directory as string);
    expect(backupsIn(cwd)).toHaveLength(5);
  });

  it('keeps no backup of a run that changed no row, so it never prunes one that restores something', async () => {
    const kept = backupsIn(cwd);
    for (const via of ['postgres', 'rest'] as const) {
      for (const runMode of ['mirror', 'insert-missing', 'incremental']) {
        const env = via === 'rest' ? restEnv(stagingA) : envFor(production, stagingA);
        const result = await runScript('sync.ts', ['--via', via, '--tables', 'feature_flags', '--mode', runMode, '--yes'], { env, cwd });
        expect(result.code, `${via} ${runMode}: ${result.stderr}`).toBe(0);
        expect(result.stdout).toContain('No backup kept: the run changed no row of staging, so it would restore nothing.');
        expect(result.stdout).not.toContain('Pruned');
      }
    }
    expect(backupsIn(cwd)).toEqual(kept);
  });

  it('--list shows every backup newest first, with when, via, staging, tables and rows, the incomplete one flagged', async () => {
    const result = await runScript('restore-staging.ts', ['--list'], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n').filter((line) => line.includes('.supasync/backups/'));
    const listed = lines.map((line) => /\.supasync\/backups\/\S+/.exec(line)?.[0]);
    expect(listed).toEqual([ofB[1], ofA[2], ofA[1], ofB[0], `.supasync/backups/${incomplete}`]);
    const newestOfA = manifestOf(cwd, (ofA[2] as string).replace('.supasync/backups/', ''));
    const rows = newestOfA.tables.reduce((sum, table) => sum + table.rows, 0);
    expect(lines[1]).toContain(newestOfA.createdAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
    expect(lines[1]).toMatch(new RegExp(`\\| postgres \\| ${escape(newestOfA.staging.location)} +\\| 1 +\\| ${rows.toLocaleString('en-US')} +\\|`));
    expect(lines[0]).toContain(`/${new URL(stagingB.dbUrl).pathname.slice(1)}`);
    expect(lines[4]).toContain('INCOMPLETE: no manifest.json');
    expect(result.stdout).not.toContain(new URL(stagingA.dbUrl).password || 'no password');
  });

  it('latest restores the newest complete backup of the staging the environment points at, not a newer one of another', async () => {
    expect(await tableDigests(stagingA.adminUrl)).not.toEqual(flagsBeforeThird);
    const result = await runScript('restore-staging.ts', ['latest', '--yes'], { env: envFor(production, stagingA), cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`The newest backup of this staging: ${ofA[2]}`);
    expect(result.stdout).toMatch(/Restored 1 staging table \([\d,]+ rows\) from /);
    expect(await tableDigests(stagingA.adminUrl)).toEqual(flagsBeforeThird);

    const nowhere = await runScript('restore-staging.ts', ['latest', '--yes'], { env: envFor(production, production), cwd });
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('No complete backup under .supasync/backups of the staging the environment points at');
  });

  it('refuses a keep that is not a whole number of at least 1, naming the field', async () => {
    const elsewhere = emptyDirectory();
    writeFileSync(join(elsewhere, 'supasync.config.json'), JSON.stringify({ backups: { keep: 0 } }));
    const result = await runScript('sync.ts', replaceFlags('postgres'), { env: envFor(production, stagingA), cwd: elsewhere });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('backups.keep');
  });
});

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
