import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, staging, stack } = sharedStack();
const env = envFor(production, staging);

describe('scripts/sync.ts --dry-run', () => {
  it('prints the plan over the direct path and changes nothing', async () => {
    // With Auth's users, which public's profiles reference: the run itself would not stop.
    const result = await runScript('sync.ts', ['--dry-run', '--schemas', 'public,analytics,auth,storage'], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('via postgres');
    expect(result.stdout).toMatch(/\| 0 +\| public\.hotels +\| id/);
    expect(result.stdout).toContain('generated, left out: accommodation_unit_id_key');
    expect(result.stdout).toContain('cycle: public.departments <-> public.employees');
    expect(result.stdout).toContain('self-reference: public.chat_messages.parent_message_id -> chat_messages.id');
    expect(result.stdout).not.toContain(production.serviceRoleKey);
    expect(result.stdout).not.toContain('postgres-password');
  });

  it('says what a row estimate of ? means: a table production never analyzed, copied whole all the same', async () => {
    const [source, target] = [await stack.createProject('never_analyzed_prod', { syncTarget: false }), await stack.createProject('never_analyzed_staging')];
    try {
      const table = 'SET ROLE postgres; CREATE TABLE public.fresh_rows (id int PRIMARY KEY, note text)';
      await query(target.adminUrl, table);
      // Fewer rows than autovacuum's threshold for an ANALYZE (50): the table stays uncounted.
      await query(source.adminUrl, `${table}; INSERT INTO public.fresh_rows SELECT g, 'note ' || g FROM generate_series(1, 5) g`);
      const planned = await runScript('sync.ts', ['--dry-run', '--tables', 'fresh_rows'], { env: envFor(source, target) });
      expect(planned.code, planned.stderr).toBe(0);
      expect(planned.stdout).toMatch(/\| public\.fresh_rows +\| id +\| \? +\|/);
      expect(planned.stdout).toContain(
        "Rows (est.) ?: public.fresh_rows was never analyzed in production, so PostgreSQL holds no estimate of its rows yet (autovacuum's first ANALYZE, or yours, makes one).",
      );
      const synced = await runScript('sync.ts', ['--yes', '--tables', 'fresh_rows'], { env: envFor(source, target) });
      expect(synced.code, synced.stderr).toBe(0);
      expect(await query(target.adminUrl, 'SELECT count(*)::int AS n FROM public.fresh_rows')).toEqual([{ n: 5 }]);
    } finally {
      await Promise.all([source.stop(), target.stop()]);
    }
  });

  it('gives the same plan as JSON over REST, read from .env.local', async () => {
    const cwd = emptyDirectory();
    const { SUPABASE_PROD_DB_URL: _p, SUPABASE_STAGING_DB_URL: _s, ...restOnly } = env;
    writeFileSync(
      join(cwd, '.env.local'),
      Object.entries(restOnly)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
    // --allow-orphans: staging lacks the rows these reference, which would stop the run (and so the dry-run) otherwise.
    const tables = ['--tables', 'chat_messages,chat_conversations', '--allow-orphans'];
    const rest = await runScript('sync.ts', ['--dry-run', '--json', ...tables], { cwd });
    expect(rest.code).toBe(0);
    const parsed = JSON.parse(rest.stdout) as { via: string; plan: { tables: { table: { name: string } }[] } };
    expect(parsed.via).toBe('rest');
    expect(parsed.plan.tables.map((t) => t.table.name)).toEqual(['chat_conversations', 'chat_messages']);

    const direct = await runScript('sync.ts', ['--dry-run', '--json', ...tables], { env });
    expect((JSON.parse(direct.stdout) as { plan: unknown }).plan).toEqual(parsed.plan);
  });

  it("never prints a key a server's answer quotes back (a gateway echoing the request's headers into its error)", async () => {
    // A JSON error whose message quotes the headers, then a proxy's whose details do. (A proxy's plain-text page
    // is never printed: it is said as text that is not Supabase's API, web-page-answers.ts.)
    // Every request of a run is answered alike: which of its requests fails first is the run's to choose.
    let quoted: 'message' | 'details' = 'message';
    const echo = createServer((request, response) => {
      const headers = JSON.stringify(request.headers);
      if (quoted === 'message') {
        response.writeHead(400, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: `bad request: ${headers}` }));
      } else {
        response.writeHead(409, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: 'upstream refused the request', details: headers }));
      }
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const { SUPABASE_PROD_DB_URL: _p, SUPABASE_STAGING_DB_URL: _s, ...restOnly } = env;
      const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
      // Each key quoted in a message and in details, each way once as text and once as JSON.
      const runs = [
        { key: staging.serviceRoleKey, quote: 'message', json: [] },
        { key: staging.serviceRoleKey, quote: 'details', json: ['--json'] },
        { key: staging.secretKey, quote: 'message', json: ['--json'] },
        { key: staging.secretKey, quote: 'details', json: [] },
      ] as const;
      for (const { key, quote, json } of runs) {
        quoted = quote;
        const echoed = { ...restOnly, SUPABASE_STAGING_URL: echoUrl, SUPABASE_STAGING_SERVICE_ROLE_KEY: key };
        const result = await runScript('sync.ts', ['--dry-run', ...json], { env: echoed, cwd: emptyDirectory() });
        expect(result.code, result.stdout + result.stderr).not.toBe(0);
        expect(result.stdout + result.stderr).toContain('[redacted]');
        // The error's own words too, with the details on a line of their own.
        if (quote === 'details') expect(result.stderr).toMatch(/over REST: upstream refused the request\n\s+detail: .*\[redacted\]/);
        expect(result.stdout + result.stderr).not.toContain(key);
        expect(result.stdout + result.stderr).not.toContain(key.slice(-20));
      }
    } finally {
      await new Promise((resolve) => echo.close(resolve));
    }
  });

  it('says a URL answers as no Supabase project does (a web page, a 404 page, plain text, a gateway without the route, JSON of another service) and what URL it wants', async () => {
    const answers = [
      {
        status: 200,
        type: 'text/html',
        body: '<html><body>Welcome to our app</body></html>',
        said: 'answered /rest/v1/rpc/supasync_catalog with a web page (HTTP 200)',
      },
      { status: 404, type: 'text/html; charset=utf-8', body: '<!DOCTYPE html><title>404</title>', said: 'with a web page (HTTP 404)' },
      { status: 200, type: 'application/json', body: '{"status":"ok"}', said: 'answered supasync_catalog with an object of other fields, not a schema' },
      { status: 404, type: 'text/plain; charset=utf-8', body: '404 page not found', said: 'with text/plain text (HTTP 404)' },
      {
        status: 404,
        type: 'application/json; charset=utf-8',
        body: '{"message":"no Route matched with those values"}',
        said: "with its gateway's 404 (no Route matched)",
      },
    ];
    let answer = answers[0] as (typeof answers)[number];
    const other = createServer((_request, response) => {
      response.writeHead(answer.status, { 'content-type': answer.type });
      response.end(answer.body);
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const { SUPABASE_PROD_DB_URL: _p, SUPABASE_STAGING_DB_URL: _s, ...restOnly } = env;
      const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      for (answer of answers) {
        for (const [script, args] of [
          ['sync.ts', ['--dry-run']],
          ['verify-sync-status.ts', []],
        ] as const) {
          const result = await runScript(script, [...args], { env: { ...restOnly, SUPABASE_STAGING_URL: otherUrl }, cwd: emptyDirectory() });
          expect(result.code, result.stdout + result.stderr).toBe(1);
          expect(result.stderr).toContain(`Reading staging's schema over REST: ${otherUrl}`);
          expect(result.stderr).toContain(answer.said);
          expect(result.stderr).toContain("the project's API URL");
          expect(result.stderr).not.toContain('<html');
          expect(result.stderr).not.toContain('older than this supasync');
        }
      }
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("stops before any row is written where staging's URL answers Storage's API with a web page (--storage)", async () => {
    // staging's REST API passed through; its /storage/v1/ answered by someone else's page.
    const proxy = createServer((request, response) => {
      if (request.url?.startsWith('/storage/v1/')) {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end('<!doctype html><title>Our app</title>');
        return;
      }
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => name !== 'host' && name !== 'content-length')) as Record<
          string,
          string
        >;
        fetch(`${staging.apiUrl}${request.url ?? ''}`, { method: request.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined })
          .then(async (answer) => {
            response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
            response.end(Buffer.from(await answer.arrayBuffer()));
          })
          .catch(() => response.destroy());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { SUPABASE_PROD_DB_URL: _p, SUPABASE_STAGING_DB_URL: _s, ...restOnly } = env;
      const proxied = { ...restOnly, SUPABASE_STAGING_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` };
      const before = await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.hotels');
      for (const args of [['--dry-run'], ['--yes']]) {
        const result = await runScript('sync.ts', ['--storage', '--tables', 'hotels', '--mode', 'replace', ...args], { env: proxied, cwd: emptyDirectory() });
        expect(result.code, result.stdout + result.stderr).toBe(1);
        expect(result.stderr).toContain('list buckets: http://127.0.0.1:');
        expect(result.stderr).toContain("answered with a web page (HTTP 200), not with Supabase's Storage API");
        expect(result.stderr).not.toContain('Unexpected');
        expect(result.stdout).not.toContain('Synced');
      }
      expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.hotels')).toEqual(before);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('exits 2 naming each missing variable', async () => {
    const result = await runScript('sync.ts', ['--dry-run'], { env: { SUPABASE_PROD_URL: production.apiUrl } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SUPABASE_PROD_SERVICE_ROLE_KEY');
    expect(result.stderr).toContain('SUPABASE_STAGING_URL');
    expect(result.stderr).toContain('SUPABASE_STAGING_SERVICE_ROLE_KEY');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('exits 2 when the anon key stands where the service-role key belongs, without printing it', async () => {
    const result = await runScript('sync.ts', ['--dry-run', '--via', 'rest'], {
      env: { ...env, SUPABASE_STAGING_SERVICE_ROLE_KEY: staging.anonKey },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SUPABASE_STAGING_SERVICE_ROLE_KEY holds a key whose role is "anon"');
    expect(result.stderr).not.toContain(staging.anonKey);
    // A key as a tool left it: quoted, with the header's word, or a JWT that is no Supabase key.
    const roleless = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.c2lnbmF0dXJl`;
    for (const [key, said] of [
      [`"${staging.secretKey}"`, 'is wrapped in quotes that are part of its value: remove them'],
      [`Bearer ${staging.serviceRoleKey}`, 'starts with "Bearer ": give the key alone'],
      [roleless, 'holds a JWT without a role: not a Supabase API key'],
    ] as const) {
      const refused = await runScript('sync.ts', ['--dry-run', '--via', 'rest'], { env: { ...env, SUPABASE_STAGING_SERVICE_ROLE_KEY: key } });
      expect(refused.code, key).toBe(2);
      expect(refused.stderr).toContain(`SUPABASE_STAGING_SERVICE_ROLE_KEY ${said}`);
      expect(refused.stderr).not.toContain(staging.secretKey);
    }
  });

  it("reads .env.local.example's placeholders as unset: filled connection strings are enough, a needed placeholder is named", async () => {
    // The example copied as the README says, only the two connection strings filled in.
    const cwd = emptyDirectory();
    const example = readFileSync(new URL('../.env.local.example', import.meta.url), 'utf8')
      .replace(/^SUPABASE_PROD_DB_URL=.*$/m, `SUPABASE_PROD_DB_URL=${env.SUPABASE_PROD_DB_URL}`)
      .replace(/^SUPABASE_STAGING_DB_URL=.*$/m, `SUPABASE_STAGING_DB_URL=${env.SUPABASE_STAGING_DB_URL}`);
    expect(example).toContain('SUPABASE_PROD_URL=https://<prod-project-ref>.supabase.co');
    writeFileSync(join(cwd, '.env.preview'), example);
    const direct = await runScript('sync.ts', ['--dry-run', '--env-file', '.env.preview', '--tables', 'hotels'], { cwd });
    expect(direct.stderr).toBe('');
    expect(direct.code).toBe(0);
    expect(direct.stdout).toContain('via postgres');
    const rest = await runScript('sync.ts', ['--dry-run', '--env-file', '.env.preview', '--via', 'rest'], { cwd });
    expect(rest.code).toBe(2);
    expect(rest.stderr).toContain("SUPABASE_PROD_URL  (https://<project-ref>.supabase.co, still the example's placeholder)");
    expect(rest.stderr).toContain('Set in ');
    expect(rest.stderr).toContain('.env.preview');
    // A variable the shell set empty is kept over the file's value (dotenv never overrides): said as such.
    const emptied = await runScript('sync.ts', ['--dry-run', '--env-file', '.env.preview', '--via', 'postgres'], { cwd, env: { SUPABASE_STAGING_DB_URL: '' } });
    expect(emptied.code).toBe(2);
    expect(emptied.stderr).toContain(
      'SUPABASE_STAGING_DB_URL  (postgresql://postgres:<password>@db.<project-ref>.supabase.co:5432/postgres; set but empty in the environment, which wins over .env files: unset SUPABASE_STAGING_DB_URL',
    );
    // The example copied as it is (its keys left blank, as the README's first step leaves them): the file's, not the shell's.
    writeFileSync(join(cwd, '.env.local'), readFileSync(new URL('../.env.local.example', import.meta.url), 'utf8'));
    const blank = await runScript('sync.ts', ['--dry-run'], { cwd });
    expect(blank.code).toBe(2);
    expect(blank.stderr).toMatch(/SUPABASE_PROD_SERVICE_ROLE_KEY {2}\(.*; left empty in \.env\.local\)$/m);
    expect(blank.stderr).not.toContain('set but empty in the environment');
    rmSync(join(cwd, '.env.local'));
    // An unquoted # in a file's password starts a comment: the string arrives cut, and that is said.
    writeFileSync(
      join(cwd, '.env.hash'),
      example.replace(/^SUPABASE_STAGING_DB_URL=.*$/m, 'SUPABASE_STAGING_DB_URL=postgresql://postgres:zq7#wx@127.0.0.1:5432/postgres'),
    );
    const cut = await runScript('sync.ts', ['--dry-run', '--env-file', '.env.hash'], { cwd });
    expect(cut.code).toBe(2);
    expect(cut.stderr).toContain(
      'SUPABASE_STAGING_DB_URL is not a PostgreSQL connection string (it ends before any @: in a .env file an unquoted # starts a comment',
    );
    expect(cut.stderr).not.toContain('zq7');
    // A file named but not there is refused, not replaced by .env.local. Node itself looks for a file named by
    // --env-file even after the script's name (nodejs/node#54232), and stops first (exit 9) where it is missing.
    const missing = await runScript('sync.ts', ['--dry-run', '--env-file', '.env.staging'], { cwd });
    expect([2, 9]).toContain(missing.code);
    expect(missing.stderr).toMatch(/\.env\.staging: (no such file|not found)/);
  });

  it('exits 2 on a malformed connection string, an unknown flag or an unknown table', async () => {
    const malformed = await runScript('sync.ts', ['--dry-run'], { env: { ...env, SUPABASE_PROD_DB_URL: 'db.example.com:5432' } });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('SUPABASE_PROD_DB_URL is not a PostgreSQL connection string');
    const flag = await runScript('sync.ts', ['--dry-run', '--tabels', 'hotels'], { env });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--tabels'");
    const table = await runScript('sync.ts', ['--dry-run', '--tables', 'hotel'], { env });
    expect(table.code).toBe(2);
    expect(table.stderr).toContain('--tables hotel: production has no such table');
  });

  it('prints its help', async () => {
    const result = await runScript('sync.ts', ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: npx tsx scripts/sync.ts');
  });
});
