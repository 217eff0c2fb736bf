// The read and remove endpoints of the Storage stand-in, as Supabase's
// Storage answers them (src/http/routes/object/*, src/storage/object.ts,
// renderer/*): listing, downloads, HEAD and info, bulk removal, the caller's
// RLS deciding what it sees and may delete. Uploads: storage-upload.ts.
import type { OutgoingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Actor } from './storage-db.ts';
import { errors } from './storage-errors.ts';
import { mustBeValidBucketName, mustBeValidKey, readJson, sendJson, type StorageRequest } from './storage-http.ts';
import type { ObjectMetadata } from './storage-upload.ts';

interface ObjectRow {
  id: string;
  name: string;
  bucket_id: string;
  owner: string | null;
  owner_id: string | null;
  version: string | null;
  created_at: Date;
  updated_at: Date;
  last_accessed_at: Date;
  metadata: ObjectMetadata | null;
  user_metadata: Record<string, unknown> | null;
}

const SORT_COLUMNS = new Set(['name', 'updated_at', 'created_at', 'last_accessed_at']);
// storage.search caps a page at this whatever limit is asked (migration 0063): with a larger limit, a short page is not the end.
const MAX_LIST_LIMIT = 1500;

/**
 * POST /object/list/{bucket}: the entries one level under `prefix`, folders
 * (id null) among files, names relative to the prefix, in storage.search's
 * order: by name, lowercased, byte-wise, a folder where its files would sort.
 */
export async function listObjects(request: StorageRequest, bucket: string): Promise<void> {
  mustBeValidBucketName(bucket);
  const body = await readJson(request.req);
  if (typeof body.prefix !== 'string') throw errors.badRequest("body must have required property 'prefix'");
  const limit = body.limit ?? 100;
  const offset = body.offset ?? 0;
  if (!Number.isInteger(limit) || (limit as number) < 1) throw errors.badRequest('body/limit must be >= 1');
  if (!Number.isInteger(offset) || (offset as number) < 0) throw errors.badRequest('body/offset must be >= 0');
  const sortBy = (body.sortBy ?? {}) as { column?: unknown; order?: unknown };
  const column = typeof sortBy.column === 'string' && SORT_COLUMNS.has(sortBy.column) ? sortBy.column : 'name';
  const order = typeof sortBy.order === 'string' && sortBy.order.toLowerCase() === 'desc' ? 'DESC' : 'ASC';
  const search = typeof body.search === 'string' ? body.search : '';
  // Storage takes the prefix as a folder.
  const prefix = body.prefix && !body.prefix.endsWith('/') ? `${body.prefix}/` : body.prefix;
  const ordering =
    column === 'name'
      ? `lower(name || CASE WHEN folder THEN '/' ELSE '' END) COLLATE "C" ${order}`
      : `folder DESC, CASE WHEN folder THEN name END ${order}, ${column} ${order}, name COLLATE "C"`;
  const rows = await request.db.transaction(request.caller, async (tx) => {
    const result = await tx.query(
      `WITH matched AS (
         SELECT substr(name, char_length($2) + 1) AS rest, id, updated_at, created_at, last_accessed_at, metadata
           FROM storage.objects
          WHERE bucket_id = $1 AND starts_with(lower(name), lower($2 || $3))
       ), entries AS (
         SELECT split_part(rest, '/', 1) AS name, NULL::uuid AS id, NULL::timestamptz AS updated_at, NULL::timestamptz AS created_at,
                NULL::timestamptz AS last_accessed_at, NULL::jsonb AS metadata, true AS folder
           FROM matched WHERE strpos(rest, '/') > 0 GROUP BY 1
         UNION ALL
         SELECT rest, id, updated_at, created_at, last_accessed_at, metadata, false FROM matched WHERE strpos(rest, '/') = 0
       )
       SELECT name, id, updated_at, created_at, last_accessed_at, metadata FROM entries
        ORDER BY ${ordering}
        LIMIT $4 OFFSET $5`,
      [bucket, prefix, search, Math.min(limit as number, MAX_LIST_LIMIT), offset],
    );
    return result.rows;
  });
  sendJson(request.res, 200, rows);
}

type Read = 'download' | 'head' | 'info';

/**
 * GET (download), HEAD and GET /object/info of one object. A private
 * bucket's object is looked up as the caller, so RLS decides; a public
 * bucket's as the service.
 */
export async function readObject(request: StorageRequest, bucket: string, name: string, read: Read): Promise<void> {
  const { db, caller, res, req } = request;
  mustBeValidBucketName(bucket);
  const found = await db.transaction(
    'service',
    async (tx) => (await tx.query<{ public: boolean }>('SELECT public FROM storage.buckets WHERE id = $1', [bucket])).rows[0],
  );
  if (!caller.authenticated && !found?.public) throw read === 'download' ? errors.accessDenied('Access denied to this bucket') : errors.noSuchBucket();
  if (!found) throw errors.noSuchBucket();
  mustBeValidKey(name);
  const actor: Actor = found.public ? 'service' : caller;
  const row = await db.transaction(
    actor,
    async (tx) => (await tx.query<ObjectRow>('SELECT * FROM storage.objects WHERE bucket_id = $1 AND name = $2', [bucket, name])).rows[0],
  );
  if (!row) throw errors.noSuchKey();
  const metadata = row.metadata ?? ({} as Partial<ObjectMetadata>);
  const lastModified = metadata.lastModified ? new Date(metadata.lastModified).toUTCString() : undefined;

  if (read === 'info') {
    sendJson(res, 200, infoJson(row), withoutUndefined({ etag: metadata.eTag, 'last-modified': lastModified, 'cache-control': metadata.cacheControl }));
    return;
  }
  const headers: OutgoingHttpHeaders = {
    'accept-ranges': 'bytes',
    // Storage never serves HTML from a project's domain.
    'content-type': metadata.mimetype?.includes('text/html') ? 'text/plain' : metadata.mimetype,
    etag: metadata.eTag,
    'content-length': metadata.contentLength,
    'last-modified': lastModified,
    'cache-control': metadata.cacheControl,
  };
  const download = request.url.searchParams.get('download');
  if (download !== null) {
    const encoded = encodeURIComponent(download);
    headers['content-disposition'] = download === '' ? 'attachment;' : `attachment; filename=${encoded}; filename*=UTF-8''${encoded};`;
  }
  if (read === 'head') {
    res.writeHead(200, withoutUndefined(headers));
    res.end();
    return;
  }
  if (metadata.eTag && req.headers['if-none-match'] === metadata.eTag) {
    res.writeHead(304, withoutUndefined({ etag: metadata.eTag, 'last-modified': lastModified, 'cache-control': metadata.cacheControl }));
    res.end();
    return;
  }
  const range = byteRange(req.headers.range, metadata.size ?? 0);
  const bytes = row.version ? await request.files.read(row.version, range) : undefined;
  if (!bytes) throw errors.fileNotFound();
  if (range) {
    headers['content-length'] = range.end - range.start + 1;
    headers['content-range'] = `bytes ${range.start}-${range.end}/${metadata.size}`;
  }
  res.writeHead(range ? 206 : 200, withoutUndefined(headers));
  await pipeline(bytes, res).catch(() => res.destroy());
}

/** GET /object/info's body (InfoRenderer): the file's facts, `metadata` being the user's own. */
function infoJson(row: ObjectRow) {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    bucket_id: row.bucket_id,
    size: row.metadata?.size ?? null,
    content_type: row.metadata?.mimetype ?? null,
    cache_control: row.metadata?.cacheControl ?? null,
    etag: row.metadata?.eTag ?? null,
    metadata: row.user_metadata,
    last_modified: row.updated_at,
    created_at: row.created_at,
  };
}

/** One `bytes=a-b` range, as S3 serves it; anything else is ignored and the whole object sent. */
function byteRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || size === 0 || (!match[1] && !match[2])) return undefined;
  const start = match[1] ? Number(match[1]) : Math.max(0, size - Number(match[2]));
  const end = match[1] && match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  return start <= end ? { start, end } : undefined;
}

/**
 * DELETE /object/{bucket} with { prefixes }: removes those exact names (not
 * prefixes, despite the field's name) that the caller may delete, and
 * answers the removed rows.
 */
export async function deleteObjects(request: StorageRequest, bucket: string): Promise<void> {
  mustBeValidBucketName(bucket);
  const { prefixes } = await readJson(request.req);
  if (prefixes === undefined) throw errors.badRequest("body must have required property 'prefixes'");
  if (!Array.isArray(prefixes) || prefixes.some((p) => typeof p !== 'string')) throw errors.badRequest('body/prefixes must be array');
  if (!prefixes.length) throw errors.badRequest('body/prefixes must NOT have fewer than 1 items');
  const rows = await request.db.transaction(request.caller, async (tx) => {
    const result = await tx.query<ObjectRow>('DELETE FROM storage.objects WHERE bucket_id = $1 AND name = ANY($2::text[]) RETURNING *', [bucket, prefixes]);
    return result.rows;
  });
  await request.files.remove(rows.map((row) => row.version));
  sendJson(request.res, 200, rows.map(objectJson));
}

/** A row as Storage's objectSchema serializes it: its fields only, a null string as "". */
function objectJson(row: ObjectRow) {
  return {
    name: row.name,
    bucket_id: row.bucket_id,
    owner: row.owner ?? '',
    owner_id: row.owner_id ?? '',
    version: row.version ?? '',
    id: row.id,
    updated_at: row.updated_at,
    created_at: row.created_at,
    last_accessed_at: row.last_accessed_at,
    metadata: row.metadata,
    user_metadata: row.user_metadata,
  };
}

function withoutUndefined(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined));
}
