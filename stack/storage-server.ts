// A stand-in for Supabase's Storage server (supabase/storage, which is not
// published on npm): the endpoints a sync calls, with the paths, headers,
// status codes and error bodies of the real one, files kept on disk and their
// rows written into the project's storage schema by the server itself, as
// supabase_storage_admin. The gateway serves it at /storage/v1 behind the
// same apikey check as /rest/v1. docs/testing.md lists what it covers and
// what it leaves out.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBucket, deleteBucket, emptyBucket, getBucket, listBuckets, updateBucket } from './storage-buckets.ts';
import { StorageDb, type Caller } from './storage-db.ts';
import { errors, StorageError } from './storage-errors.ts';
import { FileStore } from './storage-files.ts';
import { sendJson, type StorageRequest } from './storage-http.ts';
import { deleteObjects, listObjects, readObject } from './storage-objects.ts';
import { uploadObject } from './storage-upload.ts';

/** Supabase's default upload limit (Storage's FILE_SIZE_LIMIT; the Free plan's 50 MB). */
export const DEFAULT_MAX_FILE_SIZE = 50 * 1024 * 1024;

export interface StorageServerOptions {
  /** The project's database, logged in as supabase_storage_admin. */
  dbUrl: string;
  /** The project's JWT secret: Storage verifies the Authorization header itself. */
  jwtSecret: string;
  maxFileSize?: number;
}

export interface StorageServer {
  /** Where the server listens, without the gateway's /storage/v1. */
  url: string;
  /** Where the files are: one per stored version, named by storage.objects.version. */
  dir: string;
  stop(): Promise<void>;
}

// The files of servers not stopped (a run that died) go with the process.
const liveDirs = new Set<string>();
process.on('exit', () => {
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});

interface Route {
  run: (request: StorageRequest) => Promise<void>;
  /** Storage's allowInvalidJwt: without a valid JWT the request goes on as anon, unauthenticated. */
  allowInvalidJwt?: boolean;
}

export async function startStorageServer(options: StorageServerOptions): Promise<StorageServer> {
  const dir = await mkdtemp(join(tmpdir(), 'supasync-storage-'));
  liveDirs.add(dir);
  const db = new StorageDb(options.dbUrl);
  const files = new FileStore(dir);
  const maxFileSize = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://storage.invalid');
    const method = req.method ?? 'GET';
    const route = routeOf(method, url.pathname);
    if (!route) throw errors.routeNotFound(method, url.pathname);
    const caller = authenticate(req.headers.authorization, options.jwtSecret, route.allowInvalidJwt ?? false);
    await route.run({ req, res, url, caller, db, files, maxFileSize });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const failure = error instanceof StorageError ? error : errors.internal(error);
      // An upload refused before its body was read: read it anyway, so the connection carries the answer.
      if (!req.readableEnded) req.resume();
      if (req.method === 'HEAD') {
        res.writeHead(failure.httpStatus);
        res.end();
      } else {
        sendJson(res, failure.httpStatus, failure.body);
      }
    });
  });
  // The gateway keeps its connections here open between requests. With Node's 5 s default a connection could close
  // as the gateway sent a request on it, on a loaded machine (ECONNRESET, answered 502): idle ones last a minute.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dir,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.end();
      await rm(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    },
  };
}

/** Storage's routes a sync needs (src/http/routes/bucket, src/http/routes/object); the static ones win, as in Fastify. */
function routeOf(method: string, pathname: string): Route | undefined {
  let segments: string[];
  try {
    segments = pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const [area, first, ...rest] = segments;
  const path = rest.join('/');
  if (area === 'bucket') {
    if (first === undefined || first === '') {
      if (method === 'GET') return { run: listBuckets };
      if (method === 'POST') return { run: createBucket };
      return undefined;
    }
    if (rest.length === 0) {
      if (method === 'GET') return { run: (r) => getBucket(r, first) };
      if (method === 'PUT') return { run: (r) => updateBucket(r, first) };
      if (method === 'DELETE') return { run: (r) => deleteBucket(r, first) };
    }
    if (method === 'POST' && path === 'empty') return { run: (r) => emptyBucket(r, first) };
    return undefined;
  }
  if (area !== 'object' || first === undefined) return undefined;
  const [bucket = '', ...name] = rest;
  if (method === 'POST' && first === 'list' && rest.length === 1) return { run: (r) => listObjects(r, bucket) };
  if (method === 'GET' && first === 'info') {
    if (bucket === 'authenticated') {
      const [inner = '', ...innerName] = name;
      return { run: (r) => readObject(r, inner, innerName.join('/'), 'info') };
    }
    return { run: (r) => readObject(r, bucket, name.join('/'), 'info'), allowInvalidJwt: true };
  }
  if (first === 'authenticated' && (method === 'GET' || method === 'HEAD')) {
    return { run: (r) => readObject(r, bucket, name.join('/'), method === 'GET' ? 'download' : 'head') };
  }
  if (method === 'DELETE' && rest.length === 0) return { run: (r) => deleteObjects(r, first) };
  if (rest.length === 0) return undefined;
  switch (method) {
    case 'GET':
      return { run: (r) => readObject(r, first, path, 'download'), allowInvalidJwt: true };
    case 'HEAD':
      return { run: (r) => readObject(r, first, path, 'head'), allowInvalidJwt: true };
    case 'POST':
      return { run: (r) => uploadObject(r, first, path, r.req.headers['x-upsert'] === 'true') };
    case 'PUT':
      return { run: (r) => uploadObject(r, first, path, true) };
    default:
      return undefined;
  }
}

/**
 * Storage verifies the JWT in Authorization itself (src/http/plugins/jwt.ts,
 * with jose: its messages are what a client reads). The apikey header is the
 * gateway's business, not Storage's.
 */
function authenticate(authorization: string | undefined, secret: string, allowInvalidJwt: boolean): Caller {
  const token = (authorization ?? '').replace(/^Bearer\s+/i, '');
  if (!token && allowInvalidJwt) return { role: 'anon', claims: { role: 'anon' }, authenticated: false };
  try {
    return verifyJwt(token, secret);
  } catch (error) {
    if (allowInvalidJwt) return { role: 'anon', claims: { role: 'anon' }, authenticated: false };
    throw errors.accessDenied((error as Error).message);
  }
}

function verifyJwt(token: string, secret: string): Caller {
  const [header, payload, signature, ...extra] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined || extra.length) throw new Error('Invalid Compact JWS');
  let claims: Record<string, unknown>;
  let alg: unknown;
  try {
    alg = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown }).alg;
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new Error('Invalid Compact JWS');
  }
  if (alg !== 'HS256') throw new Error('"alg" (Algorithm) Header Parameter value not allowed');
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error('signature verification failed');
  if (typeof claims.exp === 'number' && claims.exp <= Math.floor(Date.now() / 1000)) throw new Error('"exp" claim timestamp check failed');
  return { role: typeof claims.role === 'string' ? claims.role : 'anon', claims, authenticated: true };
}
