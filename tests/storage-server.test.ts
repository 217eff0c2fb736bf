// The stack's Storage stand-in, driven by supabase-js's own storage client
// through the project's gateway, as the sync engine will drive it: buckets,
// nested files listed prefix by prefix, bytes in and out (50 MB streamed),
// the errors Supabase's Storage answers, its rows in storage.objects, both
// kinds of service key, an anon caller, the remote profile and a gateway fault.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REMOTE_LATENCY_MS } from '../stack/gateway.ts';
import type { Project } from '../stack/index.ts';
import { Link, REMOTE_RATES } from '../stack/link.ts';
import { query } from './helpers/content.ts';
import { sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();
const MiB = 1024 * 1024;

let project: Project;

beforeAll(async () => {
  project = await stack.createProject('storage_server');
});

afterAll(() => project?.stop());

/** supabase-js's storage client as a server-side tool makes it. */
/** supabase-js' Storage client; `apikeyOnly`: with no Authorization header, as an opaque key must reach Storage (the gateway adds its role's JWT). */
function storageWith(key: string, { apikeyOnly = false } = {}) {
  const withoutAuthorization: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    headers.delete('authorization');
    return fetch(input, { ...init, headers });
  };
  return createClient(project.apiUrl, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: WebSocket as never },
    ...(apikeyOnly ? { global: { fetch: withoutAuthorization } } : {}),
  }).storage;
}

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

async function bytesOf(download: Promise<{ data: Blob | null; error: unknown }>): Promise<Buffer> {
  const { data, error } = await download;
  expect(error).toBeNull();
  return Buffer.from(await data!.arrayBuffer());
}

/** Every file of a bucket, as a sync finds them: each prefix listed page by page, folders walked into. */
async function walk(storage: ReturnType<typeof storageWith>, bucket: string, pageSize: number, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for (let offset = 0; ; offset += pageSize) {
    const { data, error } = await storage.from(bucket).list(prefix, { limit: pageSize, offset });
    expect(error).toBeNull();
    for (const entry of data!) {
      const path = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.id === null) found.push(...(await walk(storage, bucket, pageSize, path)));
      else found.push(path);
    }
    if (data!.length < pageSize) return found;
  }
}

describe('the Storage stand-in at /storage/v1, through supabase-js', () => {
  it('creates a bucket with its settings, reads it back, updates it, and refuses a second one of the same id', async () => {
    const storage = storageWith(project.serviceRoleKey);
    expect(await storage.createBucket('avatars', { public: false, fileSizeLimit: '1MB', allowedMimeTypes: ['image/png'] })).toEqual({
      data: { name: 'avatars' },
      error: null,
    });
    const { data: bucket } = await storage.getBucket('avatars');
    expect(bucket).toMatchObject({ id: 'avatars', name: 'avatars', public: false, file_size_limit: 1_000_000, allowed_mime_types: ['image/png'] });

    expect((await storage.updateBucket('avatars', { public: true, fileSizeLimit: 2048, allowedMimeTypes: null })).data).toEqual({
      message: 'Successfully updated',
    });
    const { data: listed } = await storage.listBuckets();
    expect(listed?.find((b) => b.id === 'avatars')).toMatchObject({ public: true, file_size_limit: 2048, allowed_mime_types: null });
    const [row] = await query(project.adminUrl, `SELECT public, file_size_limit, allowed_mime_types, owner FROM storage.buckets WHERE id = 'avatars'`);
    expect(row).toEqual({ public: true, file_size_limit: '2048', allowed_mime_types: null, owner: null });

    const duplicate = await storage.createBucket('avatars', { public: false });
    expect(duplicate.error).toMatchObject({ status: 400, statusCode: '409', message: 'The resource already exists' });
    const missing = await storage.getBucket('no-such-bucket');
    expect(missing.error).toMatchObject({ status: 400, statusCode: '404', message: 'Bucket not found' });
  });

  it('lists nested paths one prefix at a time, folders with id null, and pages through a long prefix', async () => {
    const storage = storageWith(project.serviceRoleKey);
    await storage.createBucket('docs', { public: false });
    const paths = [
      'a/b/c.txt',
      'a/b/d.txt',
      'a/e.txt',
      'a/f/g.txt',
      'top.txt',
      ...Array.from({ length: 25 }, (_, i) => `many/file-${String(i).padStart(2, '0')}.txt`),
    ];
    for (const path of paths) expect((await storage.from('docs').upload(path, Buffer.from(`content of ${path}`))).error).toBeNull();

    const { data: root } = await storage.from('docs').list();
    expect(root?.map((e) => [e.name, e.id === null])).toEqual([
      ['a', true],
      ['many', true],
      ['top.txt', false],
    ]);
    const { data: inA } = await storage.from('docs').list('a');
    expect(inA?.map((e) => e.name)).toEqual(['b', 'e.txt', 'f']);
    const file = inA?.find((e) => e.name === 'e.txt');
    expect(file).toMatchObject({
      id: expect.any(String),
      created_at: expect.any(String),
      updated_at: expect.any(String),
      last_accessed_at: expect.any(String),
    });
    expect(file?.metadata).toEqual({
      eTag: `"${md5(Buffer.from('content of a/e.txt'))}"`,
      size: 18,
      mimetype: 'text/plain;charset=UTF-8',
      cacheControl: 'max-age=3600',
      lastModified: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/),
      contentLength: 18,
      httpStatusCode: 200,
    });

    const pages: string[][] = [];
    for (let offset = 0; ; offset += 10) {
      const { data } = await storage.from('docs').list('many', { limit: 10, offset });
      pages.push(data!.map((e) => e.name));
      if (data!.length < 10) break;
    }
    expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual(paths.filter((p) => p.startsWith('many/')).map((p) => p.slice('many/'.length)));

    expect((await walk(storage, 'docs', 4)).sort()).toEqual([...paths].sort());
  });

  it("downloads the bytes that were uploaded, with S3's ETag, type, length and date, by both download paths and HEAD", async () => {
    const storage = storageWith(project.serviceRoleKey);
    await storage.createBucket('photos', { public: false });
    const image = randomBytes(300_000);
    expect((await storage.from('photos').upload('2026/cat.png', image, { contentType: 'image/png', cacheControl: '60' })).error).toBeNull();

    expect(md5(await bytesOf(storage.from('photos').download('2026/cat.png')))).toBe(md5(image));
    const headers = { apikey: project.serviceRoleKey, authorization: `Bearer ${project.serviceRoleKey}` };
    for (const path of ['object/photos/2026/cat.png', 'object/authenticated/photos/2026/cat.png']) {
      const response = await fetch(`${project.apiUrl}/storage/v1/${path}`, { headers });
      expect(response.status).toBe(200);
      expect(Object.fromEntries(['etag', 'content-type', 'content-length', 'cache-control'].map((h) => [h, response.headers.get(h)]))).toEqual({
        etag: `"${md5(image)}"`,
        'content-type': 'image/png',
        'content-length': '300000',
        'cache-control': 'max-age=60',
      });
      expect(Date.parse(response.headers.get('last-modified') ?? '')).toBeGreaterThan(Date.now() - 60_000);
      expect(md5(Buffer.from(await response.arrayBuffer()))).toBe(md5(image));
    }
    const head = await fetch(`${project.apiUrl}/storage/v1/object/photos/2026/cat.png`, { method: 'HEAD', headers });
    expect([head.status, head.headers.get('etag'), head.headers.get('content-length')]).toEqual([200, `"${md5(image)}"`, '300000']);
    expect(await storage.from('photos').exists('2026/cat.png')).toEqual({ data: true, error: null });
    expect((await storage.from('photos').exists('2026/dog.png')).data).toBe(false);
    expect((await storage.from('photos').info('2026/cat.png')).data).toMatchObject({
      size: 300_000,
      contentType: 'image/png',
      etag: `"${md5(image)}"`,
      bucketId: 'photos',
    });

    const missing = await storage.from('photos').download('2026/dog.png');
    expect(missing.error).toMatchObject({ status: 400, statusCode: '404', message: 'Object not found' });

    // supabase-js sends a Blob as multipart/form-data: the same bytes and ETag arrive.
    expect((await storage.from('photos').upload('2026/cat-blob.png', new Blob([image], { type: 'image/png' }))).error).toBeNull();
    const [fromBlob] = await query<{ metadata: object }>(project.adminUrl, `SELECT metadata FROM storage.objects WHERE name = '2026/cat-blob.png'`);
    expect(fromBlob?.metadata).toMatchObject({ eTag: `"${md5(image)}"`, size: 300_000, mimetype: 'image/png', cacheControl: 'max-age=3600' });
  });

  it('streams a 50 MB upload to disk as it arrives, and streams it back', async () => {
    const storage = storageWith(project.serviceRoleKey);
    await storage.createBucket('videos', { public: false });
    const block = randomBytes(MiB);
    const whole = createHash('md5');
    const parts: Buffer[] = [];
    let part = createHash('md5');
    let sent = 0;
    let onDiskWhileSending = 0;
    const partialOnDisk = () =>
      readdirSync(project.storageDir)
        .filter((name) => name.endsWith('.part'))
        .reduce((bytes, name) => bytes + statSync(join(project.storageDir, name)).size, 0);
    const body = new Readable({
      read() {
        void (async () => {
          // With 40 of 50 MiB sent, most of it must already be in the file, not in a buffer.
          if (sent === 40) {
            for (let waited = 0; partialOnDisk() < 30 * MiB && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
            onDiskWhileSending = partialOnDisk();
          }
          if (sent === 50) return this.push(null);
          const chunk = Buffer.from(block);
          chunk.writeUInt32BE(sent, 0);
          whole.update(chunk);
          part.update(chunk);
          if (++sent % 5 === 0) {
            parts.push(part.digest());
            part = createHash('md5');
          }
          this.push(chunk);
        })();
      },
    });

    const uploaded = await storage.from('videos').upload('talks/keynote.mp4', body, { contentType: 'video/mp4', duplex: 'half' });
    expect(uploaded.error).toBeNull();
    expect(onDiskWhileSending).toBeGreaterThanOrEqual(30 * MiB);

    // Storage's standard upload reaches S3 in 5 MiB parts: a multipart ETag, not the file's md5.
    const multipartETag = `"${md5(Buffer.concat(parts))}-10"`;
    const [row] = await query<{ metadata: { eTag: string; size: number } }>(
      project.adminUrl,
      `SELECT metadata FROM storage.objects WHERE bucket_id = 'videos'`,
    );
    expect(row?.metadata).toMatchObject({ eTag: multipartETag, size: 50 * MiB, mimetype: 'video/mp4' });

    const { data: stream, error } = await storage.from('videos').download('talks/keynote.mp4').asStream();
    expect(error).toBeNull();
    const back = createHash('md5');
    let received = 0;
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      back.update(chunk);
      received += chunk.length;
    }
    expect([received, back.digest('hex')]).toEqual([50 * MiB, whole.digest('hex')]);
  });

  it('refuses to overwrite without upsert (409 Duplicate), and overwrites with it: same id, new bytes, old file gone', async () => {
    const storage = storageWith(project.serviceRoleKey);
    await storage.createBucket('notes', { public: false });
    await storage.from('notes').upload('today.md', Buffer.from('first'), { contentType: 'text/markdown' });
    const [before] = await query<{ id: string; version: string }>(project.adminUrl, `SELECT id, version FROM storage.objects WHERE bucket_id = 'notes'`);

    const again = await storage.from('notes').upload('today.md', Buffer.from('second'), { contentType: 'text/markdown' });
    expect(again.error).toMatchObject({ name: 'StorageApiError', status: 400, statusCode: '409', message: 'The resource already exists' });
    expect((await bytesOf(storage.from('notes').download('today.md'))).toString()).toBe('first');

    expect((await storage.from('notes').upload('today.md', Buffer.from('second'), { contentType: 'text/markdown', upsert: true })).error).toBeNull();
    expect((await bytesOf(storage.from('notes').download('today.md'))).toString()).toBe('second');
    expect((await storage.from('notes').update('today.md', Buffer.from('third'), { contentType: 'text/markdown' })).error).toBeNull();
    expect((await bytesOf(storage.from('notes').download('today.md'))).toString()).toBe('third');

    const [after] = await query<{ id: string; version: string }>(project.adminUrl, `SELECT id, version FROM storage.objects WHERE bucket_id = 'notes'`);
    expect(after?.id).toBe(before?.id);
    expect(after?.version).not.toBe(before?.version);
    expect(existsSync(join(project.storageDir, before!.version))).toBe(false);
    expect(readFileSync(join(project.storageDir, after!.version), 'utf8')).toBe('third');
  });

  it("holds uploads to the bucket's size limit (413) and MIME types (415), streamed or not, leaving no row and no file", async () => {
    const storage = storageWith(project.serviceRoleKey);
    await storage.createBucket('icons', { public: true, fileSizeLimit: 1024, allowedMimeTypes: ['image/png'] });
    const files = () => readdirSync(project.storageDir).length;
    const filesBefore = files();

    const tooBig = await storage.from('icons').upload('big.png', randomBytes(2048), { contentType: 'image/png' });
    expect(tooBig.error).toMatchObject({ status: 400, statusCode: '413', message: 'The object exceeded the maximum allowed size' });
    // A stream has no Content-Length: refused while it arrives.
    const streamed = await storage
      .from('icons')
      .upload('big-stream.png', Readable.from([randomBytes(1000), randomBytes(1000)]), { contentType: 'image/png', duplex: 'half' });
    expect(streamed.error).toMatchObject({ status: 400, statusCode: '413' });
    const wrongType = await storage.from('icons').upload('icon.txt', Buffer.from('not a png'), { contentType: 'text/plain' });
    expect(wrongType.error).toMatchObject({ status: 400, statusCode: '415', message: 'mime type text/plain is not supported' });

    expect((await storage.from('icons').upload('ok.png', randomBytes(1024), { contentType: 'image/png' })).error).toBeNull();
    expect(await query(project.adminUrl, `SELECT name FROM storage.objects WHERE bucket_id = 'icons'`)).toEqual([{ name: 'ok.png' }]);
    expect(files()).toBe(filesBefore + 1);
  });

  it('removes objects by name and answers the removed rows; a bucket with files cannot be deleted until emptied', async () => {
    const storage = storageWith(project.serviceRoleKey);
    await storage.createBucket('trash', { public: false });
    for (const path of ['x/1.txt', 'x/2.txt', 'y.txt']) await storage.from('trash').upload(path, Buffer.from(path));
    const [gone] = await query<{ version: string }>(project.adminUrl, `SELECT version FROM storage.objects WHERE bucket_id = 'trash' AND name = 'x/1.txt'`);

    const removed = await storage.from('trash').remove(['x/1.txt', 'never-there.txt']);
    expect(removed.error).toBeNull();
    expect(removed.data).toEqual([
      expect.objectContaining({ name: 'x/1.txt', bucket_id: 'trash', id: expect.any(String), metadata: expect.objectContaining({ size: 7 }) }),
    ]);
    expect(existsSync(join(project.storageDir, gone!.version))).toBe(false);
    expect((await storage.from('trash').download('x/1.txt')).error).toMatchObject({ statusCode: '404' });

    expect((await storage.deleteBucket('trash')).error).toMatchObject({
      status: 400,
      statusCode: '409',
      message: 'The bucket you tried to delete is not empty',
    });
    expect((await storage.emptyBucket('trash')).data).toEqual({ message: 'Successfully emptied' });
    expect(await query(project.adminUrl, `SELECT name FROM storage.objects WHERE bucket_id = 'trash'`)).toEqual([]);
    expect((await storage.deleteBucket('trash')).data).toEqual({ message: 'Successfully deleted' });
  });

  it('keeps storage.objects as the server writes it: one row per file on disk, owner null, path_tokens, metadata matching the bytes', async () => {
    const rows = await query<{ name: string; owner: string | null; path_tokens: string[]; version: string; metadata: { eTag: string; size: number } }>(
      project.adminUrl,
      'SELECT name, owner, path_tokens, version, metadata FROM storage.objects',
    );
    expect(rows.length).toBeGreaterThan(30);
    expect(readdirSync(project.storageDir).sort()).toEqual(rows.map((row) => row.version).sort());
    for (const row of rows) {
      expect(row.owner).toBeNull();
      expect(row.path_tokens).toEqual(row.name.split('/'));
      expect(statSync(join(project.storageDir, row.version)).size).toBe(row.metadata.size);
      if (row.metadata.size <= 5 * MiB) expect(row.metadata.eTag).toBe(`"${md5(readFileSync(join(project.storageDir, row.version)))}"`);
    }
  });

  it('takes the sb_secret_ key as the service role in apikey alone: the gateway forwards its JWT; an opaque key in Authorization reaches Storage, which refuses it as on Supabase', async () => {
    const bare = await fetch(`${project.apiUrl}/storage/v1/bucket`, { headers: { apikey: project.secretKey } });
    expect(bare.status).toBe(200);
    expect(((await bare.json()) as { id: string }[]).map((bucket) => bucket.id)).toContain('docs');

    const refused = { statusCode: '403', code: 'AccessDenied', error: 'Unauthorized', message: 'Invalid Compact JWS' };
    for (const authorization of [`Bearer ${project.secretKey}`, `Bearer ${project.publishableKey}`]) {
      const handedOver = await fetch(`${project.apiUrl}/storage/v1/bucket`, { headers: { apikey: project.secretKey, authorization } });
      expect([handedOver.status, await handedOver.json()]).toEqual([400, refused]);
    }
    // supabase-js sends the key in Authorization too: its Storage client fails with an opaque key.
    expect((await storageWith(project.secretKey).listBuckets()).error).toMatchObject({ message: 'Invalid Compact JWS' });
  });

  it('gives the anon key, and the publishable one, what a project without policies gives: nothing to see, every write refused', async () => {
    for (const key of [project.anonKey, project.publishableKey]) {
      const storage = storageWith(key, { apikeyOnly: key === project.publishableKey });
      expect(await storage.listBuckets()).toEqual({ data: [], error: null });
      expect((await storage.getBucket('docs')).error).toMatchObject({ status: 400, statusCode: '404' });
      expect(await storage.from('docs').list('a')).toEqual({ data: [], error: null });
      expect((await storage.from('docs').download('a/e.txt')).error).toMatchObject({ status: 400, statusCode: '404', message: 'Object not found' });
      const refused = { status: 400, statusCode: '403', message: 'new row violates row-level security policy' };
      expect((await storage.createBucket('mine', { public: true })).error).toMatchObject(refused);
      expect((await storage.from('docs').upload('anon.txt', Buffer.from('x'))).error).toMatchObject(refused);
      expect(await storage.from('docs').remove(['a/e.txt'])).toEqual({ data: [], error: null });
    }
    expect(await query(project.adminUrl, `SELECT count(*)::int AS n FROM storage.objects WHERE bucket_id = 'docs' AND name = 'a/e.txt'`)).toEqual([{ n: 1 }]);

    const noKey = await fetch(`${project.apiUrl}/storage/v1/bucket`);
    expect([noKey.status, await noKey.json()]).toEqual([
      401,
      { message: 'No API key found in request', hint: 'No `apikey` request header or url param was found.' },
    ]);
  });

  it("carries Storage through the remote profile: 40 ms more, a file at the link's rate and not gzipped, a JSON listing gzipped", async () => {
    const headers = { apikey: project.serviceRoleKey, authorization: `Bearer ${project.serviceRoleKey}`, 'accept-encoding': 'gzip' };
    project.gateway.setProfile('remote', new Link());
    try {
      const started = performance.now();
      const file = await fetch(`${project.apiUrl}/storage/v1/object/photos/2026/cat.png`, { headers });
      expect((await file.arrayBuffer()).byteLength).toBe(300_000);
      expect((performance.now() - started) / 1000).toBeGreaterThanOrEqual(REMOTE_LATENCY_MS / 1000 + 300_000 / REMOTE_RATES.downBytesPerSecond);
      expect(file.headers.get('content-encoding')).toBeNull();

      const listing = await fetch(`${project.apiUrl}/storage/v1/object/list/docs`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ prefix: 'many' }),
      });
      expect(listing.headers.get('content-encoding')).toBe('gzip');
      expect(((await listing.json()) as unknown[]).length).toBe(25);
    } finally {
      project.gateway.setProfile('local');
    }
  });

  it('answers a 503 set on the gateway for the second download only, and the third download succeeds', async () => {
    const storage = storageWith(project.serviceRoleKey);
    project.gateway.resetStats();
    project.gateway.injectFaults({ api: 'storage', status503: 1, skip: 1, onlyMethods: ['GET'], onlyPaths: /^\/object\/docs\// });
    const attempts = [];
    for (let i = 0; i < 3; i++) attempts.push((await storage.from('docs').download('top.txt')).error);
    expect(attempts.map((error) => (error as { status?: number } | null)?.status ?? 200)).toEqual([200, 503, 200]);
    expect(project.gateway.stats().faults.status503).toBe(1);
    expect(project.gateway.stats().storageRequests['/object/docs/top.txt']).toBe(3);
  });
});
