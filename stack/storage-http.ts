// What every endpoint of the Storage stand-in works with: the request as
// routed and authenticated, the database and file store, and the checks
// Supabase's Storage applies to names and bodies (src/storage/limits.ts).
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Caller, StorageDb } from './storage-db.ts';
import { errors } from './storage-errors.ts';
import type { FileStore } from './storage-files.ts';

export interface StorageRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  caller: Caller;
  db: StorageDb;
  files: FileStore;
  /** The project's upload limit (Storage's FILE_SIZE_LIMIT); a bucket's own limit can only lower it. */
  maxFileSize: number;
}

// The characters Storage allows in keys and bucket names: S3's safe set (isValidKey).
const KEY = /^(\w|\/|!|-|\.|\*|'|\(|\)| |&|\$|@|=|;|:|\+|,|\?)*$/;
const BUCKET_NAME = /^(\w|!|-|\.|\*|'|\(|\)| |&|\$|@|=|;|:|\+|,|\?)*$/;
// JSON bodies of the bucket and list endpoints are small; files never come this way.
const MAX_JSON_BYTES = 1024 * 1024;

export function mustBeValidKey(key: string): void {
  if (!key || !KEY.test(key)) throw errors.invalidKey(key);
}

export function mustBeValidBucketName(name: string): void {
  if (!name || !BUCKET_NAME.test(name)) throw errors.invalidBucketName();
}

/** Where the Dashboard's "create folder" leaves its marker: kept at 0 bytes, any MIME type. */
export function isEmptyFolder(name: string): boolean {
  return name.endsWith('.emptyFolderPlaceholder');
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_JSON_BYTES) throw errors.badRequest('Request body is too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw errors.badRequest("Body is not valid JSON but content-type is set to 'application/json'");
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw errors.badRequest('body must be object');
  return parsed as Record<string, unknown>;
}

/** The owner columns Storage fills from the JWT's subject: `owner` only when it is a uuid. */
export function ownerOf(caller: Caller): { owner: string | null; ownerId: string | null } {
  const sub = typeof caller.claims.sub === 'string' ? caller.claims.sub : null;
  const uuid = sub && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-5][0-9a-f]{3}-[089ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(sub);
  return { owner: uuid ? sub : null, ownerId: sub };
}
