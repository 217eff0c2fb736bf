// The upload path of the Storage stand-in (POST and PUT /object/{bucket}/{path}),
// as Supabase's Storage takes a file (src/storage/uploader.ts): the bucket's
// limits checked, the caller's right to write the row asked, the bytes
// streamed to disk, and only then the row in storage.objects, written by the
// server as the service.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Tx } from './storage-db.ts';
import { errors } from './storage-errors.ts';
import { isEmptyFolder, mustBeValidBucketName, mustBeValidKey, ownerOf, type StorageRequest, sendJson } from './storage-http.ts';

/** storage.objects.metadata as Storage writes it after an upload (S3's HeadObject). */
export interface ObjectMetadata {
  eTag: string;
  size: number;
  mimetype: string;
  cacheControl: string;
  lastModified: string;
  contentLength: number;
  httpStatusCode: number;
}

interface BucketLimits {
  file_size_limit: string | null;
  allowed_mime_types: string[] | null;
}

/**
 * POST /object/{bucket}/{path} (`upsert` from x-upsert: true) and PUT (always
 * upsert). The body goes to disk as it arrives; the row is written only once
 * the bytes are stored, as Storage's Uploader does.
 */
export async function uploadObject(request: StorageRequest, bucket: string, name: string, upsert: boolean): Promise<void> {
  const { req, db, files, caller } = request;
  mustBeValidBucketName(bucket);
  const limits = await db.transaction('service', async (tx) => {
    const { rows } = await tx.query<BucketLimits>('SELECT file_size_limit, allowed_mime_types FROM storage.buckets WHERE id = $1', [bucket]);
    return rows[0];
  });
  if (!limits) throw errors.noSuchBucket();
  const bucketLimit = limits.file_size_limit === null ? Infinity : Number(limits.file_size_limit);
  const maxBytes = isEmptyFolder(name) ? 0 : Math.min(bucketLimit, request.maxFileSize);

  const file = await incomingFile(request);
  if (limits.allowed_mime_types?.length && !isEmptyFolder(name)) checkMimeType(file.mimeType, limits.allowed_mime_types);
  const declared = Number(req.headers['content-length']);
  if (!file.multipart && Number.isFinite(declared) && declared > maxBytes) throw errors.entityTooLarge();
  mustBeValidKey(name);

  // May this caller write the row? Asked before a byte is stored (Uploader.canUpload).
  const { owner, ownerId } = ownerOf(caller);
  await db
    .testPermission(caller, (tx) =>
      tx.query(
        `INSERT INTO storage.objects (bucket_id, name, version, owner, owner_id, metadata, user_metadata) VALUES ($1, $2, '1', $3, $4, $5, $6)
         ${upsert ? 'ON CONFLICT (name, bucket_id) DO UPDATE SET version = EXCLUDED.version, owner = EXCLUDED.owner, owner_id = EXCLUDED.owner_id' : ''}`,
        [bucket, name, owner, ownerId, { mimetype: file.mimeType, contentLength: Number.isFinite(declared) ? declared : undefined }, file.userMetadata],
      ),
    )
    .catch((error: unknown) => {
      throw (error as { code?: string }).code === 'ResourceAlreadyExists' ? errors.keyAlreadyExists() : error;
    });

  const version = randomUUID();
  const stored = await files.write(version, file.body, maxBytes);
  const metadata: ObjectMetadata = {
    eTag: stored.eTag,
    size: stored.size,
    mimetype: file.mimeType,
    cacheControl: file.cacheControl,
    lastModified: stored.lastModified.toISOString(),
    contentLength: stored.size,
    httpStatusCode: 200,
  };
  const { id, previous } = await db
    .transaction('service', (tx) => completeUpload(tx, { bucket, name, version, owner, ownerId, metadata, userMetadata: file.userMetadata, upsert }))
    .catch(async (error: unknown) => {
      await files.remove([version]);
      throw error;
    });
  if (previous !== version) await files.remove([previous]);
  sendJson(request.res, 200, { Id: id, Key: `${bucket}/${name}` });
}

interface CompletedUpload {
  bucket: string;
  name: string;
  version: string;
  owner: string | null;
  ownerId: string | null;
  metadata: ObjectMetadata;
  userMetadata: Record<string, unknown>;
  upsert: boolean;
}

/** Points the row at the new version, under a lock on the key as Storage takes one (waitObjectLock). */
async function completeUpload(tx: Tx, upload: CompletedUpload): Promise<{ id: string; previous: string | null | undefined }> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${upload.bucket}/${upload.name}`]);
  const current = await tx.query<{ version: string | null }>('SELECT version FROM storage.objects WHERE bucket_id = $1 AND name = $2 FOR UPDATE', [
    upload.bucket,
    upload.name,
  ]);
  // Another upload of the same key finished while this one streamed.
  if (!upload.upsert && current.rowCount) throw errors.keyAlreadyExists();
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO storage.objects (bucket_id, name, owner, owner_id, metadata, user_metadata, version) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (name, bucket_id) DO UPDATE
       SET metadata = EXCLUDED.metadata, user_metadata = EXCLUDED.user_metadata, version = EXCLUDED.version, owner = EXCLUDED.owner, owner_id = EXCLUDED.owner_id
     RETURNING id`,
    [upload.bucket, upload.name, upload.owner, upload.ownerId, upload.metadata, upload.userMetadata, upload.version],
  );
  return { id: rows[0]?.id ?? '', previous: current.rows[0]?.version };
}

interface IncomingFile {
  body: Readable;
  mimeType: string;
  cacheControl: string;
  userMetadata: Record<string, unknown>;
  multipart: boolean;
}

/**
 * The file of an upload: the raw body (what a stream or Buffer upload
 * sends), or the file part of a multipart/form-data body (what storage-js
 * sends for a Blob or File). The stand-in reads a multipart body whole
 * before storing it, which Storage does not: send raw bodies for big files.
 */
async function incomingFile({ req }: StorageRequest): Promise<IncomingFile> {
  const contentType = req.headers['content-type'];
  if (!contentType?.startsWith('multipart/form-data')) {
    return {
      body: req,
      mimeType: contentType || 'application/octet-stream',
      cacheControl: req.headers['cache-control'] ?? 'no-cache',
      userMetadata: parseUserMetadata(req.headers['x-metadata']),
      multipart: false,
    };
  }
  const form = await new Request('http://storage.invalid/', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: Readable.toWeb(req) as ReadableStream,
    duplex: 'half',
  } as RequestInit)
    .formData()
    .catch(() => {
      throw errors.badRequest('Unexpected end of form');
    });
  let part: File | undefined;
  // Storage takes the first file part, whatever its field's name (@fastify/multipart's request.file()).
  form.forEach((value) => {
    if (!part && typeof value !== 'string') part = value;
  });
  if (!part) throw errors.badRequest('No content provided');
  const field = (name: string) => {
    const value = form.get(name);
    return typeof value === 'string' ? value : undefined;
  };
  const cacheTime = field('cacheControl');
  const userMetadata = field('metadata') ?? field('userMetadata');
  return {
    body: Readable.fromWeb(part.stream() as WebReadableStream<Uint8Array>),
    mimeType: field('contentType') || part.type || 'application/octet-stream',
    cacheControl: cacheTime ? `max-age=${cacheTime}` : 'no-cache',
    userMetadata: userMetadata ? parseJsonObject(userMetadata) : {},
    multipart: true,
  };
}

function parseUserMetadata(header: string | string[] | undefined): Record<string, unknown> {
  return typeof header === 'string' ? parseJsonObject(Buffer.from(header, 'base64').toString('utf8')) : {};
}

function parseJsonObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** type/subtype against the bucket's list, `type/*` allowed; the subtype compared as sent, parameters included (Uploader.validateMimeType). */
function checkMimeType(mimeType: string, allowed: string[]): void {
  const [type, subtype] = mimeType.split('/');
  if (subtype === undefined) throw errors.invalidMimeType(mimeType);
  const ok = allowed.some((entry) => {
    const [allowedType, allowedSubtype] = entry.split('/');
    return allowedType === type && (allowedSubtype === '*' || allowedSubtype === subtype);
  });
  if (!ok) throw errors.invalidMimeType(mimeType);
}
