// The fetch supabase-js sends supasync's requests with (lib/connect/http-fetch.ts),
// against real HTTP servers of this file's own: what it keeps of fetch's
// behaviour (decoded answers, redirects within an origin, failures shaped as
// fetch's, TLS) and what it does otherwise (no redirect to another origin).
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFetch } from '../lib/connect/http-fetch.ts';
import { connectSupabase } from '../lib/connect/supabase.ts';
import { describeFetchFailure, describeUnreachable } from '../lib/errors.ts';
import { freePort } from '../stack/ports.ts';
import { runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

interface Seen {
  method: string;
  url: string;
  body: string;
  headers: IncomingMessage['headers'];
}

async function serve(
  handler: (request: IncomingMessage, response: ServerResponse, body: string) => void,
): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', body, headers: request.headers });
      handler(request, response, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const servers: Server[] = [];
// The stack's own test certificate (stack/tls: 127.0.0.1 and localhost), trusted by nothing unless told.
const TLS = { cert: readFileSync(new URL('../stack/tls/server.crt', import.meta.url)), key: readFileSync(new URL('../stack/tls/server.key', import.meta.url)) };
const CERTIFICATE = new URL('../stack/tls/server.crt', import.meta.url).pathname;

/** An HTTPS front for `target` (an http:// origin), as Supabase's edge is for a project. */
async function tlsFront(target: string): Promise<string> {
  const upstream = new URL(target);
  const server = createTlsServer(TLS, (incoming, outgoing) => {
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: upstream.host } },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    incoming.pipe(forwarded);
  });
  // Every loopback address: 127.0.0.2 reaches it under a name its certificate lacks.
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  servers.push(server);
  return `https://localhost:${(server.address() as AddressInfo).port}`;
}
let api: Awaited<ReturnType<typeof serve>>;
let elsewhere: Awaited<ReturnType<typeof serve>>;
const ANSWER = JSON.stringify({ rows: Array.from({ length: 500 }, (_, i) => [i, `row ${i}`, 'é✓']) });

beforeAll(async () => {
  elsewhere = await serve((_request, response) => response.end('{}'));
  api = await serve((request, response, body) => {
    const path = request.url ?? '';
    if (path === '/gzip') return response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(ANSWER));
    if (path === '/br') return response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' }).end(brotliCompressSync(ANSWER));
    if (path === '/deflate') return response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate' }).end(deflateSync(ANSWER));
    if (path === '/echo')
      return response.writeHead(201, 'Made', { 'content-type': 'application/json', 'x-seen': 'yes' }).end(JSON.stringify({ method: request.method, body }));
    if (path === '/keep') return response.writeHead(307, { location: '/echo' }).end();
    if (path === '/see-other') return response.writeHead(303, { location: '/echo' }).end();
    if (path === '/empty') return response.writeHead(204).end();
    if (path === '/cut') {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('{"rows": [');
      return void setTimeout(() => response.destroy(), 20);
    }
    if (path.startsWith('/rest/v1/')) return response.writeHead(308, { location: `${elsewhere.url}${path}` }).end();
    return response.writeHead(404).end();
  });
  servers.push(api.server, elsewhere.server);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('httpFetch', () => {
  it('hands over the answer whole, its status, reason and headers, gzip, deflate and brotli decoded', async () => {
    for (const path of ['/gzip', '/deflate', '/br']) {
      const response = await httpFetch(`${api.url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(ANSWER);
    }
    const echoed = await httpFetch(`${api.url}/echo`, { method: 'POST', body: '{"a":"ñ"}', headers: { 'content-type': 'application/json' } });
    expect([echoed.status, echoed.statusText, echoed.headers.get('x-seen')]).toEqual([201, 'Made', 'yes']);
    expect(await echoed.json()).toEqual({ method: 'POST', body: '{"a":"ñ"}' });
    expect(api.seen.at(-1)?.headers).toMatchObject({ 'content-length': String(Buffer.byteLength('{"a":"ñ"}')), 'accept-encoding': 'gzip, deflate' });
    const empty = await httpFetch(`${api.url}/empty`, { method: 'POST', body: '{}' });
    expect([empty.status, await empty.text()]).toEqual([204, '']);
  });

  it('tells the bytes of the answer as they arrive, decoded', async () => {
    let told = 0;
    const response = await httpFetch(`${api.url}/gzip`, { onBody: (bytes) => (told += bytes) });
    expect(told).toBe(Buffer.byteLength(ANSWER));
    expect((await response.text()).length).toBe(ANSWER.length);
  });

  it('follows a redirect within its origin as fetch does: a 307 keeps the POST and its body, a 303 asks again with a GET', async () => {
    const kept = await httpFetch(`${api.url}/keep`, { method: 'POST', body: 'the body' });
    expect(await kept.json()).toEqual({ method: 'POST', body: 'the body' });
    const other = await httpFetch(`${api.url}/see-other`, { method: 'POST', body: 'the body', headers: { 'content-type': 'text/plain' } });
    expect(await other.json()).toEqual({ method: 'GET', body: '' });
    expect(api.seen.at(-1)?.headers['content-type']).toBeUndefined();
  });

  it('follows no redirect to another origin, which hears nothing; the run is told where the URL leads', async () => {
    const before = elsewhere.seen.length;
    const supabase = connectSupabase(api.url, 'sb_secret_not_for_elsewhere');
    const { error } = await supabase.rpc('supasync_version');
    expect(elsewhere.seen.length).toBe(before);
    expect(error?.code).toBe('SUPASYNC_WEB_PAGE');
    expect(error?.message).toBe(
      `${api.url} answered /rest/v1/rpc/supasync_version with a redirect (HTTP 308) to ${elsewhere.url}/rest/v1/rpc/supasync_version, ` +
        `which supasync does not follow with the project's key: if ${elsewhere.url} is the project's API, use it as the URL ` +
        "(https://<project-ref>.supabase.co, as the dashboard's Settings > API shows it).",
    );
  });

  it("fails as fetch does where nothing listens (TypeError 'fetch failed', the reason its cause), which a run words", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const failure = await httpFetch(`${closed}/rest/v1/rpc/supasync_version`, { method: 'POST', body: '{}' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TypeError);
    expect(failure).toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });
    const { error } = await connectSupabase(closed, 'sb_secret_x').rpc('supasync_version');
    // Storage's requests go through Node's fetch, which throws its failure: worded alike.
    const thrown = await fetch(`${closed}/storage/v1/bucket`).catch((failure: unknown) => failure);
    expect(describeFetchFailure(thrown, closed)).toBe(describeUnreachable(error ?? {}, closed));
    expect(describeUnreachable(error ?? {}, closed)).toBe(
      `cannot reach ${closed}: nothing is listening at the host. Check the URL (https://<project-ref>.supabase.co) and that this machine is online.`,
    );
  });

  it("fails as fetch does when the connection closes mid-answer, and with the signal's reason when aborted", async () => {
    const cut = await httpFetch(`${api.url}/cut`).catch((error: unknown) => error);
    expect(cut).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    const reason = new Error('given up');
    const controller = new AbortController();
    const pending = httpFetch(`${api.url}/cut`, { signal: controller.signal }).catch((error: unknown) => error);
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(await httpFetch(`${api.url}/echo`, { signal: AbortSignal.abort(reason) }).catch((error: unknown) => error)).toBe(reason);
  });

  it('refuses a certificate nothing trusts as fetch does, the reason its cause', async () => {
    const front = await tlsFront(api.url);
    const failure = await httpFetch(`${front}/echo`).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'TypeError', message: 'fetch failed', cause: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } });
  });
});

describe('a run over HTTPS', () => {
  it('reads both projects through their HTTPS fronts when the certificate is trusted (NODE_EXTRA_CA_CERTS)', async () => {
    const { production, staging } = sharedStack();
    const env = { ...envFor(production, staging), SUPABASE_PROD_URL: await tlsFront(production.apiUrl), SUPABASE_STAGING_URL: await tlsFront(staging.apiUrl) };
    const trusted = await runScript('sync.ts', ['--dry-run', '--via', 'rest', '--tables', 'public.hotels'], {
      env: { ...env, NODE_EXTRA_CA_CERTS: CERTIFICATE },
    });
    expect(trusted.stderr).toBe('');
    expect(trusted.code).toBe(0);
    expect(trusted.stdout).toContain('public.hotels');
    const untrusted = await runScript('sync.ts', ['--dry-run', '--via', 'rest', '--tables', 'public.hotels'], { env });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain(
      `cannot reach ${env.SUPABASE_PROD_URL}: this machine does not trust its TLS certificate (self-signed certificate, DEPTH_ZERO_SELF_SIGNED_CERT). ` +
        'Behind a proxy or antivirus that inspects TLS, give Node its certificate authority: NODE_EXTRA_CA_CERTS=/path/to/its-ca.pem before the command.',
    );
    const otherName = env.SUPABASE_PROD_URL.replace('localhost', '127.0.0.2');
    const misnamed = await runScript('sync.ts', ['--dry-run', '--via', 'rest', '--tables', 'public.hotels'], {
      env: { ...env, SUPABASE_PROD_URL: otherName, NODE_EXTRA_CA_CERTS: CERTIFICATE },
    });
    expect(misnamed.code).toBe(1);
    expect(misnamed.stderr).toMatch(
      new RegExp(
        `cannot reach ${otherName.replace(/\./g, '\\.')}: its TLS certificate is for another name \\(Hostname/IP does not match certificate's altnames: .*\\): check the URL's host`,
      ),
    );
  });
});
