// The stack's gateway as tests and benchmarks use it: faults a sync must
// survive, and the remote profile (latency, gzip, a shared capped link) that
// makes the benchmarks' REST numbers mean something. Real PostgREST, real
// supabase-js, the gateway of a project of this file's own.
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectSupabase } from '../lib/connect/supabase.ts';
import type { Gateway } from '../stack/gateway.ts';
import { attachStack, withClient, type Project } from '../stack/index.ts';
import { REMOTE_RATES } from '../stack/link.ts';
import { query } from './helpers/content.ts';
import { sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

// 60 embeddings of 1536 reals: a bit over 1 MB of JSON, about 2.3x smaller gzipped.
const EMBEDDINGS = 60;
const MB = 1_000_000;

let project: Project;
let gateway: Gateway;
let supabase: SupabaseClient;

beforeAll(async () => {
  project = await stack.createProject('gateway_faults');
  await withClient(project.adminUrl, (client) =>
    client.query(
      `INSERT INTO public.code_embeddings (file_path, chunk_index, content, embedding)
       SELECT 'src/file.ts', i, 'chunk ' || i,
              ARRAY(SELECT (hashint4(i * 1536 + j)::float8 / 2147483648)::real FROM generate_series(1, 1536) j ORDER BY j)
         FROM generate_series(1, $1) i`,
      [EMBEDDINGS],
    ),
  );
  gateway = project.gateway;
  supabase = connectSupabase(project.apiUrl, project.serviceRoleKey);
});

afterAll(() => project?.stop());

beforeEach(() => {
  gateway.setProfile('local');
  gateway.clearFaults();
  gateway.resetStats();
});

const countries = async (code: string) =>
  (await query<{ n: string }>(project.adminUrl, 'SELECT count(*) AS n FROM public.sire_countries WHERE country_code = $1', [code]))[0]?.n;

const seconds = async <T>(work: () => PromiseLike<T>): Promise<[T, number]> => {
  const started = performance.now();
  const result = await work();
  return [result, (performance.now() - started) / 1000];
};

describe('faults', () => {
  it('answers 503 without asking PostgREST, and supabase-js reports status 503', async () => {
    gateway.injectFaults({ status503: 1, onlyPaths: /^\/code_embeddings$/ });
    const failed = await supabase.from('code_embeddings').select('id').limit(1).retry(false);
    expect(failed.status).toBe(503);
    expect(failed.error?.code).toBe('PGRST002');

    const next = await supabase.from('code_embeddings').select('id').limit(1).retry(false);
    expect(next.status).toBe(200);
    expect(gateway.stats().faults.status503).toBe(1);
    expect(gateway.stats().requests['/code_embeddings']).toBe(2);
  });

  it('leaves other paths alone', async () => {
    gateway.injectFaults({ status503: 1, onlyPaths: /^\/rpc\// });
    const read = await supabase.from('sire_countries').select('*').retry(false);
    expect(read.status).toBe(200);
    expect(gateway.stats().faults.status503).toBe(0);
  });

  it('sees supabase-js retry a GET that got 503 by itself, a second later', async () => {
    // postgrest-js retries GET and HEAD on 503 and 520 (1 s, 2 s, 4 s): a
    // reader that counts its own retries must turn this off with .retry(false).
    gateway.injectFaults({ status503: 1 });
    const read = await supabase.from('code_embeddings').select('id').limit(1);
    expect(read.status).toBe(200);
    expect(gateway.stats().requests['/code_embeddings']).toBe(2);
  });

  it('drops a connection before PostgREST sees the request: a fetch error, nothing written', async () => {
    gateway.injectFaults({ drop: 1, onlyMethods: ['POST'] });
    const write = await supabase.from('sire_countries').insert({ country_code: 'D1', name: 'Dropped before' });
    expect(write.status).toBe(0);
    expect(write.error?.message).toMatch(/fetch failed/);
    expect(await countries('D1')).toBe('0');
    expect(gateway.stats().faults.drop).toBe(1);
  });

  it('drops a connection after PostgREST answered: a fetch error, yet the row is written', async () => {
    gateway.injectFaults({ dropAfterUpstream: 1, onlyPaths: /^\/sire_countries$/, onlyMethods: ['POST'] });
    const write = await supabase.from('sire_countries').insert({ country_code: 'D2', name: 'Dropped after' });
    expect(write.status).toBe(0);
    expect(write.error?.message).toMatch(/fetch failed/);
    expect(await countries('D2')).toBe('1');
    expect(gateway.stats().faults.dropAfterUpstream).toBe(1);
  });

  it('holds the answer of a request PostgREST served: the row is written, and the client hears nothing until it gives up', async () => {
    gateway.injectFaults({ stall: 1, onlyPaths: /^\/sire_countries$/, onlyMethods: ['POST'] });
    const [write, elapsed] = await seconds(() =>
      supabase.from('sire_countries').insert({ country_code: 'S3', name: 'Held' }).abortSignal(AbortSignal.timeout(500)),
    );
    expect(write.status).toBe(0);
    expect(write.error?.message).toMatch(/TimeoutError/);
    expect(elapsed).toBeGreaterThanOrEqual(0.5);
    expect(await countries('S3')).toBe('1');
    expect(gateway.stats().faults.stall).toBe(1);
  });
});

describe('the remote profile', () => {
  beforeEach(() => gateway.setProfile('remote'));

  it('adds 40 ms to every request', async () => {
    const [read, elapsed] = await seconds(() => supabase.from('sire_countries').select('*').limit(1));
    expect(read.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(0.04);
  });

  it('gzips responses for a client that accepts it, and supabase-js decodes them', async () => {
    const raw = await fetch(`${project.apiUrl}/rest/v1/code_embeddings?select=embedding`, {
      headers: { apikey: project.serviceRoleKey, authorization: `Bearer ${project.serviceRoleKey}` },
    });
    expect(raw.headers.get('content-encoding')).toBe('gzip');
    expect(raw.headers.get('content-length')).toBeNull();
    const json = await raw.text();
    gateway.resetStats();

    const [read, elapsed] = await seconds(() => supabase.from('code_embeddings').select('embedding'));
    expect(read.error).toBeNull();
    expect(read.data).toHaveLength(EMBEDDINGS);
    expect(read.data?.[0]?.embedding).toHaveLength(1536);
    const { bytesDown } = gateway.stats();
    expect(bytesDown).toBeLessThan(json.length / 2);
    expect(elapsed).toBeGreaterThanOrEqual(bytesDown / REMOTE_RATES.downBytesPerSecond);
  });

  it('takes at least 0.2 s for 1 MB down at 5 MB/s', async () => {
    const [body, elapsed] = await seconds(async () => {
      const response = await fetch(`${project.apiUrl}/rest/v1/code_embeddings?select=embedding`, {
        headers: { apikey: project.serviceRoleKey, authorization: `Bearer ${project.serviceRoleKey}`, 'accept-encoding': 'identity' },
      });
      expect(response.headers.get('content-encoding')).toBeNull();
      return response.arrayBuffer();
    });
    expect(body.byteLength).toBeGreaterThan(MB);
    expect(gateway.stats().bytesDown).toBe(body.byteLength);
    expect(elapsed).toBeGreaterThanOrEqual(MB / REMOTE_RATES.downBytesPerSecond);
  });

  it('shares the link between concurrent requests instead of multiplying it', async () => {
    const download = () =>
      fetch(`${project.apiUrl}/rest/v1/code_embeddings?select=embedding&chunk_index=lte.${EMBEDDINGS / 2}`, {
        headers: { apikey: project.serviceRoleKey, authorization: `Bearer ${project.serviceRoleKey}`, 'accept-encoding': 'identity' },
      }).then((response) => response.arrayBuffer());
    const [bodies, elapsed] = await seconds(() => Promise.all([download(), download()]));
    const total = bodies.reduce((sum, body) => sum + body.byteLength, 0);
    expect(total).toBeGreaterThan(MB);
    expect(elapsed).toBeGreaterThanOrEqual(total / REMOTE_RATES.downBytesPerSecond);
  });

  it('counts request bodies on the 2.5 MB/s up link', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ country_code: `U${i}`, name: 'x'.repeat(10_000) }));
    const [write, elapsed] = await seconds(() => supabase.from('sire_countries').insert(rows));
    expect(write.error).toBeNull();
    const { bytesUp } = gateway.stats();
    expect(bytesUp).toBeGreaterThan(500_000);
    expect(elapsed).toBeGreaterThanOrEqual(bytesUp / REMOTE_RATES.upBytesPerSecond);
  });
});

describe("the stack's stop", () => {
  it('stops the projects its caller left running: their API stops answering and their database is dropped', async () => {
    const handle = attachStack(stack.info);
    const left = await handle.createProject('left_running');
    const stopped = await handle.createProject('stopped_first');
    await stopped.stop();
    expect((await fetch(`${left.apiUrl}/rest/v1/`, { headers: { apikey: left.serviceRoleKey } })).status).toBe(200);

    await handle.stop();
    await expect(fetch(`${left.apiUrl}/rest/v1/`)).rejects.toThrow();
    const databases = await query<{ datname: string }>(
      stack.info.adminUrl,
      `SELECT datname FROM pg_database WHERE datname IN ('left_running', 'stopped_first')`,
    );
    expect(databases).toEqual([]);
    // Stopping again, through the stack or the project, is harmless.
    await handle.stop();
    await left.stop();
  });
});
