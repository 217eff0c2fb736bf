// The strings users paste from the dashboard, and the projects supasync must not confuse.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionString } from '../lib/config/connection-string.ts';
import { connectPostgres } from '../lib/connect/postgres.ts';
import { DatabaseError } from '../lib/errors.ts';
import { urlFor, type Project } from '../stack/index.ts';
import { query, syncedDigests, SYNCED_SCHEMAS } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, stack } = sharedStack();

/** Where the stack's server listens on this machine: its first socket directory, and its port. */
async function socketOf(project: Pick<Project, 'adminUrl'>): Promise<{ directory: string; port: string }> {
  const [server] = await query<{ directory: string; port: string }>(
    project.adminUrl,
    "SELECT split_part(current_setting('unix_socket_directories'), ',', 1) AS directory, current_setting('port') AS port",
  );
  return server!;
}

describe('connection strings', () => {
  it('refuses the transaction pooler (6543), giving the session-pooler string and no password', async () => {
    const pasted = 'postgresql://postgres.abcdefghijklmnopqrst:s3cret@aws-0-eu-west-1.pooler.supabase.com:6543/postgres?pgbouncer=true';
    const result = await runScript('sync.ts', ['--dry-run'], { env: { ...envFor(production, production), SUPABASE_STAGING_DB_URL: pasted } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("SUPABASE_STAGING_DB_URL uses port 6543, Supabase's transaction pooler");
    expect(result.stderr).toContain('postgresql://postgres.abcdefghijklmnopqrst:***@aws-0-eu-west-1.pooler.supabase.com:5432/postgres');
    expect(result.stderr).not.toContain('s3cret');
  });

  it('explains an IPv6 address this machine cannot reach, and names the pooler string', async () => {
    const result = await runScript('sync.ts', ['--dry-run', '--via', 'postgres'], {
      env: { ...envFor(production, production), SUPABASE_STAGING_DB_URL: 'postgresql://postgres:pw@[2001:db8::1]:5432/postgres?sslmode=disable' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Cannot connect to staging');
    expect(result.stderr).toContain('over IPv6');
    expect(result.stderr).toContain('Session pooler');
    expect(result.stderr).not.toContain(':pw@');
  });

  it('reads sslmode as libpq does, TLS for every host but this machine, and the project ref', () => {
    const remote = parseConnectionString('X', 'postgresql://postgres:pw@db.abcdefghijklmnopqrst.supabase.co:5432/postgres');
    expect(remote).toMatchObject({ projectRef: 'abcdefghijklmnopqrst', config: { ssl: { rejectUnauthorized: false }, port: 5432 } });
    expect(parseConnectionString('X', 'postgresql://u:p@db.x.example.com/app?sslmode=verify-full').config.ssl).toEqual({ rejectUnauthorized: true });
    expect(parseConnectionString('X', 'postgresql://u:p@db.x.example.com/app?sslmode=disable').config.ssl).toBe(false);
    expect(parseConnectionString('X', 'postgresql://u:p@127.0.0.1:5432/app').config.ssl).toBe(false);
    const pooler = parseConnectionString(
      'X',
      'postgres://postgres.qwertyuiopasdfghjklz:p%40ss@aws-0-us-east-1.pooler.supabase.com:5432/postgres?pgbouncer=true',
    );
    expect(pooler).toMatchObject({ projectRef: 'qwertyuiopasdfghjklz', config: { user: 'postgres.qwertyuiopasdfghjklz', password: 'p@ss' } });
    // libpq's ?user= and ?password=, where the string has no user part.
    expect(parseConnectionString('X', 'postgresql://127.0.0.1:5432/app?user=reader&password=p%40ss').config).toMatchObject({
      user: 'reader',
      password: 'p@ss',
    });
  });

  it("keeps the string's own options (-c name=value), but not over supasync's session settings, and reads production in its own isolation", async () => {
    const options = encodeURIComponent('-c work_mem=1234kB -c statement_timeout=5 -c default_transaction_isolation=serializable');
    const client = await connectPostgres('production', `${production.dbUrl}?options=${options}`);
    try {
      const show = async (setting: string) => ((await client.query(`SHOW ${setting}`)).rows[0] as Record<string, string>)[setting];
      expect(await show('work_mem')).toBe('1234kB');
      expect(await show('statement_timeout')).toBe('0');
      // A database or string defaulting to SERIALIZABLE, which a read replica refuses: production's reads ask for no such thing.
      expect(await show('default_transaction_isolation')).toBe('read committed');
      expect(await show('default_transaction_read_only')).toBe('on');
    } finally {
      await client.end();
    }
  });

  it('says why the server ended a connection between two queries, not that the client is "not queryable"', async () => {
    const client = await connectPostgres('production', production.dbUrl);
    try {
      const pid = ((await client.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
      // The server's FATAL arrives as the connection closes, before the next query is sent.
      const ended = new Promise((resolve) => client.once('end', resolve));
      await query(production.adminUrl, `SELECT pg_terminate_backend(${pid})`);
      await ended;
      // A database error the run reports as such (exit 1), not an unexpected one.
      await expect(client.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseError);
      await expect(client.query('SELECT 1')).rejects.toThrow(
        "production's server ended the connection: terminating connection due to administrator command (another session or a time limit ended it: run again)",
      );
    } finally {
      await client.end().catch(() => undefined);
    }
  });

  it("says whose server ended a connection during a table's COPY, on either side, and that staging was left as it was", async () => {
    const [source, target] = [await stack.createProject('copy_lost_production', { syncTarget: false }), await stack.createProject('copy_lost_staging')];
    try {
      const table = 'CREATE SCHEMA lost; CREATE TABLE lost.slow (id int PRIMARY KEY, note text)';
      await query(source.adminUrl, `SET ROLE postgres; ${table}; INSERT INTO lost.slow SELECT g, 'row ' || g FROM generate_series(1, 200) g`);
      await query(target.adminUrl, `SET ROLE postgres; ${table}; INSERT INTO lost.slow VALUES (0, 'staging''s own')`);
      // Each row read waits a little: both sides' COPYs stay open for seconds, long enough to end either one.
      const cwd = emptyDirectory();
      writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { 'lost.slow': { where: 'pg_sleep(0.05) IS NOT NULL' } } }));
      // A replace's COPY from production into staging, and a mirror's read of production's row hashes.
      for (const [side, mode] of [
        ['production', 'replace'],
        ['staging', 'replace'],
        ['production', 'mirror'],
      ] as const) {
        // The last run's production backend may still be reading for a process gone: not the one to end.
        await query(
          source.adminUrl,
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'supasync%'`,
        );
        const run = runScript('sync.ts', ['--via', 'postgres', '--schemas', 'lost', '--mode', mode, '--yes', '--no-backup'], {
          env: envFor(source, target),
          cwd,
        });
        const project = side === 'production' ? source : target;
        let ended = 0;
        for (let tries = 0; tries < 300 && !ended; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          const copying = await query<{ pid: number }>(
            project.adminUrl,
            `SELECT pid FROM pg_stat_activity WHERE datname = pg_catalog.current_database() AND application_name = $1 AND state = 'active' AND query LIKE 'COPY %'`,
            [`supasync (${side})`],
          );
          if (copying[0])
            ended =
              (
                await query<{ n: number }>(project.adminUrl, 'SELECT count(*)::int AS n FROM pg_terminate_backend($1) WHERE pg_terminate_backend', [
                  copying[0].pid,
                ])
              )[0]?.n ?? 0;
        }
        const result = await run;
        expect(ended, side).toBe(1);
        expect(result.code, `${side} ${mode}: ${result.stderr}`).toBe(1);
        // Read off its socket, the server's own FATAL; where the socket closed first, pg's words or the reset's.
        expect(result.stderr).toMatch(
          new RegExp(
            `${mode === 'replace' ? 'Copying lost\\.slow' : 'Comparing lost\\.slow with staging'} failed: (${side}'s server ended the connection: terminating connection due to administrator command|the connection to ${side} was lost: )`,
          ),
        );
        expect(result.stderr).toContain('run again');
        expect(result.stderr).toContain('Staging was left exactly as it was');
        expect(result.stderr).not.toContain('Unexpected');
        expect(await query(target.adminUrl, 'SELECT id, note FROM lost.slow')).toEqual([{ id: 0, note: "staging's own" }]);
      }
    } finally {
      await Promise.all([source.stop(), target.stop()]);
    }
  });

  it("names the variable whose key a project refused (another project's key), on either side, and prints no key", async () => {
    const { staging } = sharedStack();
    const env = envFor(production, staging);
    const result = await runScript('sync.ts', ['--dry-run', '--via', 'rest'], { env: { ...env, SUPABASE_STAGING_SERVICE_ROLE_KEY: production.secretKey } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Reading staging's schema over REST: ${staging.apiUrl} refused SUPABASE_STAGING_SERVICE_ROLE_KEY (Invalid API key). Give that project's own service_role key or secret key`,
    );
    expect(result.stderr).not.toContain(production.secretKey);
    const verified = await runScript('verify-sync-status.ts', ['--via', 'rest'], { env: { ...env, SUPABASE_PROD_SERVICE_ROLE_KEY: staging.secretKey } });
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain(`${production.apiUrl} refused SUPABASE_PROD_SERVICE_ROLE_KEY (Invalid API key)`);
    expect(verified.stderr).not.toContain(staging.secretKey);
  });

  it('takes the secret keys (sb_secret_...) from SUPABASE_*_SECRET_KEY too, naming that variable when a key is refused, and refuses two different keys', async () => {
    const target = await stack.createProject('secret_key_names');
    try {
      const env = envFor(production, target);
      const keysIn = (run: { stdout: string; stderr: string }) =>
        [production.secretKey, target.secretKey].filter((key) => (run.stdout + run.stderr).includes(key));
      const { SUPABASE_PROD_SERVICE_ROLE_KEY: _prod, SUPABASE_STAGING_SERVICE_ROLE_KEY: _staging, ...withoutRoleKeys } = env;
      const secretOnly = { ...withoutRoleKeys, SUPABASE_PROD_SECRET_KEY: production.secretKey, SUPABASE_STAGING_SECRET_KEY: target.secretKey };
      const synced = await runScript('sync.ts', ['--via', 'rest', '--tables', 'hotels', '--yes'], { env: secretOnly });
      expect(synced.code, synced.stderr).toBe(0);
      const hotels = 'SELECT id::text, name FROM public.hotels ORDER BY id';
      expect(await query(target.adminUrl, hotels)).toEqual(await query(production.adminUrl, hotels));
      expect(keysIn(synced)).toEqual([]);

      const refused = await runScript('verify-sync-status.ts', ['--via', 'rest', '--tables', 'hotels'], {
        env: { ...secretOnly, SUPABASE_STAGING_SECRET_KEY: production.secretKey },
      });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`${target.apiUrl} refused SUPABASE_STAGING_SECRET_KEY (Invalid API key)`);
      expect(keysIn(refused)).toEqual([]);

      const both = await runScript('sync.ts', ['--dry-run', '--via', 'rest'], { env: { ...secretOnly, SUPABASE_PROD_SERVICE_ROLE_KEY: target.secretKey } });
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('SUPABASE_PROD_SECRET_KEY and SUPABASE_PROD_SERVICE_ROLE_KEY hold different keys: keep one of them');
      expect(keysIn(both)).toEqual([]);

      const neither = await runScript('sync.ts', ['--dry-run', '--via', 'rest'], {
        env: { ...withoutRoleKeys, SUPABASE_PROD_SECRET_KEY: production.secretKey, SUPABASE_STAGING_SECRET_KEY: '<staging-secret-key>' },
      });
      expect(neither.code).toBe(2);
      expect(neither.stderr).toContain('SUPABASE_STAGING_SERVICE_ROLE_KEY  (');
      expect(neither.stderr).toContain(
        "a secret key may be in SUPABASE_STAGING_SECRET_KEY instead, SUPABASE_STAGING_SECRET_KEY still the example's placeholder)",
      );
      expect(neither.stderr).not.toContain('SUPABASE_PROD_SERVICE_ROLE_KEY');
    } finally {
      await target.stop();
    }
  });

  it('refuses a project URL holding a query or credentials (a key or password would be printed and kept in backups), echoing neither', async () => {
    const env = envFor(production, sharedStack().staging);
    for (const url of [
      `${sharedStack().staging.apiUrl}/?apikey=${sharedStack().staging.secretKey}`,
      sharedStack().staging.apiUrl.replace('://', '://user:hunter2pass@'),
    ]) {
      const result = await runScript('sync.ts', ['--dry-run', '--via', 'rest'], { env: { ...env, SUPABASE_STAGING_URL: url } });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('SUPABASE_STAGING_URL holds a query, a fragment or a user name and password: give the project URL alone');
      expect(result.stdout + result.stderr).not.toMatch(/hunter2pass|sb_secret_/);
    }
  });

  it('refuses to mark production as staging under another spelling of its address, and leaves it unmarked', async () => {
    const spelled = [production.dbUrl.replace('127.0.0.1', 'localhost'), `${production.dbUrl}?sslmode=disable`];
    for (const other of spelled) {
      expect(other).not.toBe(production.dbUrl);
      const result = await runScript('install-rpcs.ts', ['--staging', '--mark-only', '--yes'], {
        env: { ...envFor(production, production), SUPABASE_STAGING_DB_URL: other },
      });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('SUPABASE_STAGING_DB_URL leads to the database SUPABASE_PROD_DB_URL does');
    }
    // Production's own string not connecting, which database it is cannot be told: refused rather than guessed.
    const typo = production.dbUrl.replace(/\/([^/?]+)(\?|$)/, '/$1_typo$2');
    const unknown = await runScript('install-rpcs.ts', ['--staging', '--mark-only', '--yes'], {
      env: { ...envFor(production, production), SUPABASE_PROD_DB_URL: typo, SUPABASE_STAGING_DB_URL: spelled[0] as string },
    });
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stderr).toContain('Cannot tell that SUPABASE_STAGING_DB_URL is not production: SUPABASE_PROD_DB_URL does not connect');
    const [table] = await query<{ t: string | null }>(production.adminUrl, `SELECT to_regclass('supasync_private.sync_target')::text AS t`);
    if (table?.t) expect(await query(production.adminUrl, 'SELECT count(*)::int AS n FROM supasync_private.sync_target')).toEqual([{ n: 0 }]);
  });

  it('refuses, on a first setup with the variables swapped, to mark the database that holds the rows where production holds none', async () => {
    const [withRows, empty] = await Promise.all([
      stack.createProject('first_setup_real_production', { fill: 'tiny' }),
      stack.createProject('first_setup_real_staging', { syncTarget: false }),
    ]);
    try {
      const swapped = await runScript('install-rpcs.ts', ['--staging', '--mark-only', '--yes'], { env: envFor(empty, withRows) });
      expect(swapped.code, swapped.stdout + swapped.stderr).toBe(2);
      expect(swapped.stderr).toMatch(/SUPABASE_STAGING_DB_URL's database holds rows \(\d+ tables: [^)]+\) where SUPABASE_PROD_DB_URL's holds none/);
      expect(swapped.stderr).toContain('npx tsx scripts/install-rpcs.ts --staging --mark-only --print prints the SQL to run there. Nothing was installed.');
      expect(await query(withRows.adminUrl, 'SELECT count(*)::int AS n FROM supasync_private.sync_target')).toEqual([{ n: 0 }]);
      const right = await runScript('install-rpcs.ts', ['--staging', '--mark-only', '--yes'], { env: envFor(withRows, empty) });
      expect(right.code, right.stdout + right.stderr).toBe(0);
      expect(await query(empty.adminUrl, 'SELECT count(*)::int AS n FROM supasync_private.sync_target')).toEqual([{ n: 1 }]);
      // Marked already (on purpose, or functions reinstalled): no first setup, so not refused whatever the rows.
      await query(withRows.adminUrl, `INSERT INTO supasync_private.sync_target (marked_by) VALUES ('a person, on purpose')`);
      const again = await runScript('install-rpcs.ts', ['--staging', '--yes'], { env: envFor(empty, withRows) });
      expect(again.code, again.stdout + again.stderr).toBe(0);
    } finally {
      await Promise.all([withRows.stop(), empty.stop()]);
    }
  });

  it('refuses production and staging in the same project, before connecting', async () => {
    const same = 'https://abcdefghijklmnopqrst.supabase.co';
    const result = await runScript('sync.ts', ['--dry-run', '--via', 'rest'], {
      env: { ...envFor(production, production), SUPABASE_PROD_URL: same, SUPABASE_STAGING_URL: same },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('same Supabase project (abcdefghijklmnopqrst)');
  });

  it.each([['prodprojectref'], ['PRODPROJECTREF'], [' https://ProdProjectRef.supabase.co/ ']])(
    'never writes to a project listed in protectedRefs (as %j), however its host is spelled (case, a port, a final dot, the pooler user)',
    async (listed) => {
      const cwd = emptyDirectory();
      // Saved as some Windows editors save UTF-8, with a byte-order mark first.
      writeFileSync(join(cwd, 'supasync.config.json'), `\uFEFF${JSON.stringify({ protectedRefs: [listed] })}`);
      const spellings: Record<string, string>[] = [
        { SUPABASE_STAGING_URL: 'https://prodprojectref.supabase.co' },
        { SUPABASE_STAGING_URL: 'https://PRODPROJECTREF.supabase.co' },
        { SUPABASE_STAGING_URL: 'https://prodprojectref.supabase.co:443' },
        { SUPABASE_STAGING_URL: 'https://prodprojectref.supabase.co.' },
        { SUPABASE_STAGING_DB_URL: 'postgresql://postgres:pw@DB.ProdProjectRef.supabase.co:5432/postgres' },
        { SUPABASE_STAGING_DB_URL: 'postgresql://postgres.PRODPROJECTREF:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres' },
        // The pooler takes any role as <role>.<ref>.
        { SUPABASE_STAGING_DB_URL: 'postgresql://supasync_writer.prodprojectref:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres' },
      ];
      for (const spelling of spellings) {
        const result = await runScript('sync.ts', ['--yes'], { cwd, env: { ...envFor(production, production), ...spelling } });
        expect(result.code, JSON.stringify(spelling)).toBe(2);
        expect(result.stderr).toContain('Staging is project prodprojectref, which supasync.config.json lists in protectedRefs');
      }
    },
  );

  it('refuses a protectedRefs entry that is no project ref, saying what one is', async () => {
    const cwd = emptyDirectory();
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ protectedRefs: ['db.prod.example.com'] }));
    const result = await runScript('sync.ts', ['--dry-run'], { cwd, env: envFor(production, production) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('a project ref is letters and digits: the <ref> of https://<ref>.supabase.co');
  });

  it('refuses a password with a raw @, # or /, printing no part of it', async () => {
    for (const password of ['sx3crq#et99zz', 'pqxw@ssw9zz', 'abq7/cd9efz', 'xyq7?z9wwk']) {
      const dbUrl = `postgresql://postgres:${password}@127.0.0.1:5432/postgres`;
      for (const script of ['sync.ts', 'install-rpcs.ts']) {
        const args = script === 'sync.ts' ? ['--dry-run'] : ['--staging', '--yes'];
        const result = await runScript(script, args, { env: { ...envFor(production, production), SUPABASE_STAGING_DB_URL: dbUrl } });
        expect(result.code, `${script} ${password}`).toBe(2);
        expect(result.stderr).toContain('SUPABASE_STAGING_DB_URL: its user name or password holds a character a connection string must URL-encode');
        for (const part of password.split(/[@#/?]/)) expect(result.stderr + result.stdout).not.toContain(part);
      }
    }
  });

  it('installs over TLS (sslmode=require) the way the sync connects: one connection path for every script', async () => {
    const unmarked = await stack.createProject('install_over_tls', { syncTarget: false });
    try {
      const env = envFor(production, unmarked);
      env.SUPABASE_STAGING_DB_URL += '?sslmode=require';
      const marked = await runScript('install-rpcs.ts', ['--staging', '--mark-only', '--yes'], { env });
      expect(marked.stderr).toBe('');
      expect(marked.code).toBe(0);
      expect(await query(unmarked.adminUrl, 'SELECT count(*)::int AS n FROM supasync_private.sync_target')).toEqual([{ n: 1 }]);
    } finally {
      await unmarked.stop();
    }
  });

  it("syncs through libpq's strings that name no host (a socket's directory in ?host=), and says where none is listening", async () => {
    const staging = await stack.createProject('over_socket');
    try {
      const { directory, port } = await socketOf(production);
      const env = envFor(production, staging);
      // Both of libpq's spellings: credentials before an empty host, and the user and port as parameters.
      const prod = new URL(env.SUPABASE_PROD_DB_URL!);
      env.SUPABASE_PROD_DB_URL = `postgresql://${prod.username}:${prod.password}@${prod.pathname}?host=${directory}&port=${port}`;
      const target = new URL(env.SUPABASE_STAGING_DB_URL!);
      env.SUPABASE_STAGING_DB_URL = `postgresql://${target.pathname}?host=${encodeURIComponent(directory)}&port=${port}&user=${target.username}&password=${target.password}`;
      const result = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], { env });
      expect(result.stderr).not.toMatch(/error|failed/i);
      expect(result.code).toBe(0);
      expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));

      // No host and no ?host=: this machine's socket, as libpq's build looks for it, or a message naming where it looked.
      const nowhere = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--tables', 'hotels'], {
        env: { ...env, SUPABASE_STAGING_DB_URL: `postgresql://${target.username}@:1${target.pathname}`, PGHOST: '' },
      });
      expect(nowhere.code).toBe(2);
      expect(nowhere.stderr).not.toContain(target.password);
      expect(nowhere.stderr).toContain(
        "SUPABASE_STAGING_DB_URL names no host, which libpq reads as this machine's PostgreSQL socket, and none is listening on port 1 (/var/run/postgresql/.s.PGSQL.1, /tmp/.s.PGSQL.1)",
      );
      // A socket's directory with nothing on that port: the message says which string, with ?host= and no password.
      const closed = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--tables', 'hotels'], {
        env: { ...env, SUPABASE_STAGING_DB_URL: `postgresql://${target.username}:${target.password}@:1${target.pathname}?host=${directory}` },
      });
      expect(closed.code).toBe(1);
      expect(closed.stderr).toContain(`Cannot connect to staging (postgresql://${target.username}@:1${target.pathname}?host=${directory})`);
      expect(closed.stderr).not.toContain(target.password);
    } finally {
      await staging.stop();
    }
  });

  it("syncs through libpq's keyword/value strings (host=... dbname=...), quoted values and a socket's directory included, and names what is wrong in one", async () => {
    const staging = await stack.createProject('over_keywords');
    try {
      const { directory, port } = await socketOf(production);
      const env = envFor(production, staging);
      const prod = new URL(env.SUPABASE_PROD_DB_URL!);
      const target = new URL(env.SUPABASE_STAGING_DB_URL!);
      // Over TCP, every value quoted, spaces and an escaped quote in an option; staging through its socket's directory.
      env.SUPABASE_PROD_DB_URL =
        `host = '${prod.hostname}' port=${prod.port} dbname='${prod.pathname.slice(1)}' user=${prod.username} ` +
        `password='${decodeURIComponent(prod.password)}' application_name='it\\'s supasync' options='-c work_mem=8MB'`;
      env.SUPABASE_STAGING_DB_URL = `host=${directory} port=${port} dbname=${target.pathname.slice(1)} user=${target.username} password=${target.password}`;
      const result = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], { env });
      expect(result.stderr).not.toMatch(/error|failed/i);
      expect(result.code).toBe(0);
      expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
      // Printed as the URL it stands for, without the password.
      expect(result.stdout + result.stderr).not.toContain(target.password);

      const unclosed = await runScript('sync.ts', ['--via', 'postgres', '--dry-run', '--tables', 'hotels'], {
        env: { ...env, SUPABASE_STAGING_DB_URL: `host=${directory} dbname=x user=${target.username} password='${target.password}` },
      });
      expect(unclosed.code).toBe(2);
      expect(unclosed.stderr).toContain('SUPABASE_STAGING_DB_URL: the value of "password" opens a quote it does not close.');
      expect(unclosed.stderr).not.toContain(target.password);
      // A misspelt keyword is refused, as libpq refuses it: read on, the run would reach the server's default database.
      const misspelt = await runScript('sync.ts', ['--via', 'postgres', '--dry-run', '--tables', 'hotels'], {
        env: { ...env, SUPABASE_STAGING_DB_URL: `host=${directory} port=${port} dbnmae=${target.pathname.slice(1)} user=${target.username}` },
      });
      expect(misspelt.code).toBe(2);
      expect(misspelt.stderr).toContain(`SUPABASE_STAGING_DB_URL: "dbnmae" is not one of libpq's connection keywords`);
    } finally {
      await staging.stop();
    }
  });

  it("syncs over TLS (sslmode=require, as the dashboard's strings are used), and staging equals production", async () => {
    const staging = await stack.createProject('over_tls');
    try {
      const env = envFor(production, staging);
      env.SUPABASE_PROD_DB_URL += '?sslmode=require';
      env.SUPABASE_STAGING_DB_URL += '?sslmode=require';
      const result = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], { env });
      expect(result.stderr).not.toMatch(/error|failed/i);
      expect(result.code).toBe(0);
      expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
    } finally {
      await staging.stop();
    }
  });

  describe('a password with URL-encoded characters, on a role that may only read', () => {
    const password = 'p@ss:w/rd%#?& ü';
    let staging: Project;
    beforeAll(async () => {
      staging = await stack.createProject('encoded_password');
      await query(
        production.adminUrl,
        `
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reader') THEN
            CREATE ROLE reader LOGIN PASSWORD ${"'" + password.replace(/'/g, "''") + "'"};
          END IF;
        END $$;
        GRANT pg_read_all_data TO reader;`,
      );
    });
    afterAll(() => staging?.stop());

    it('refuses a reader that row-level security would show only part of the rows', async () => {
      const env = { ...envFor(production, staging), SUPABASE_PROD_DB_URL: urlFor(production.adminUrl, production.name, 'reader', password) };
      const result = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], { env });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        'Row-level security would hide rows of auth.identities, auth.users, public.chat_conversations, public.chat_messages, ' +
          'public.guest_reservations, public.profiles, public.staff_users, storage.buckets, storage.objects',
      );
      expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.hotels')).toEqual([{ n: 0 }]);
    });

    it('syncs with production read by a SELECT-only role through the encoded string', async () => {
      await query(production.adminUrl, 'ALTER ROLE reader BYPASSRLS');
      const readerUrl = urlFor(production.adminUrl, production.name, 'reader', password);
      expect(readerUrl).toContain('p%40ss%3Aw%2Frd%25%23%3F%26%20%C3%BC');
      const env = { ...envFor(production, staging), SUPABASE_PROD_DB_URL: readerUrl };
      const result = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], { env });
      expect(result.stderr).not.toContain('error');
      expect(result.code).toBe(0);
      expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
    });
  });
});
