// The bucket endpoints of the Storage stand-in, as Supabase's Storage answers
// them (src/http/routes/bucket/*, src/storage/storage.ts): rows of
// storage.buckets written as the caller, so RLS decides who may.
import { errors } from './storage-errors.ts';
import { mustBeValidBucketName, ownerOf, readJson, sendJson, type StorageRequest } from './storage-http.ts';

interface BucketRow {
  id: string;
  name: string;
  owner: string | null;
  public: boolean;
  file_size_limit: string | null;
  allowed_mime_types: string[] | null;
  created_at: Date;
  updated_at: Date;
}

const BUCKET_COLUMNS = 'id, name, owner, public, file_size_limit, allowed_mime_types, created_at, updated_at';
const SORT_COLUMNS = new Set(['id', 'name', 'created_at', 'updated_at']);
// What emptyBucket deletes per round (Storage: URL length limit / uuid length).
const EMPTY_BATCH = 500;

/** A row as Storage's bucketSchema serializes it: a null string becomes "", bigint a number. */
function bucketJson(row: BucketRow) {
  return {
    id: row.id,
    name: row.name,
    owner: row.owner ?? '',
    public: row.public,
    file_size_limit: row.file_size_limit === null ? null : Number(row.file_size_limit),
    allowed_mime_types: row.allowed_mime_types,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export async function listBuckets({ res, db, caller, url }: StorageRequest): Promise<void> {
  const query = url.searchParams;
  const column = query.get('sortColumn') ?? 'name';
  const order = query.get('sortOrder') === 'desc' ? 'DESC' : 'ASC';
  const search = query.get('search');
  const rows = await db.transaction(caller, async (tx) => {
    const result = await tx.query<BucketRow>(
      `SELECT ${BUCKET_COLUMNS} FROM storage.buckets
        WHERE $1::text IS NULL OR name ILIKE '%' || $1 || '%'
        ORDER BY ${SORT_COLUMNS.has(column) ? column : 'name'} ${order}
        LIMIT $2 OFFSET $3`,
      [search, query.get('limit') ?? null, query.get('offset') ?? 0],
    );
    return result.rows;
  });
  sendJson(res, 200, rows.map(bucketJson));
}

export async function getBucket({ res, db, caller }: StorageRequest, id: string): Promise<void> {
  const row = await db.transaction(
    caller,
    async (tx) => (await tx.query<BucketRow>(`SELECT ${BUCKET_COLUMNS} FROM storage.buckets WHERE id = $1`, [id])).rows[0],
  );
  if (!row) throw errors.noSuchBucket();
  sendJson(res, 200, bucketJson(row));
}

export async function createBucket(request: StorageRequest): Promise<void> {
  const { res, db, caller } = request;
  const body = await readJson(request.req);
  if (typeof body.name !== 'string') throw errors.badRequest("body must have required property 'name'");
  const name = body.name;
  const id = typeof body.id === 'string' && body.id ? body.id : name;
  mustBeValidBucketName(name);
  const settings = bucketSettings(body, request.maxFileSize);
  const { owner, ownerId } = ownerOf(caller);
  await db
    .transaction(caller, (tx) =>
      tx.query(
        `INSERT INTO storage.buckets (id, name, owner, owner_id, public, file_size_limit, allowed_mime_types)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [id, name, owner, ownerId, settings.public ?? false, settings.fileSizeLimit ?? null, settings.allowedMimeTypes ?? null],
      ),
    )
    .catch((error: unknown) => {
      throw (error as { code?: string }).code === 'ResourceAlreadyExists' ? errors.bucketAlreadyExists() : error;
    });
  sendJson(res, 200, { name });
}

export async function updateBucket(request: StorageRequest, id: string): Promise<void> {
  const { res, db, caller } = request;
  mustBeValidBucketName(id);
  const settings = bucketSettings(await readJson(request.req), request.maxFileSize);
  // Fields left out of the body stay as they are (knex leaves undefined out of the UPDATE).
  const columns: [string, unknown][] = [
    ['public', settings.public],
    ['file_size_limit', settings.fileSizeLimit],
    ['allowed_mime_types', settings.allowedMimeTypes],
  ].filter(([, value]) => value !== undefined) as [string, unknown][];
  const updated = await db.transaction(caller, async (tx) => {
    if (!columns.length) return (await tx.query('SELECT 1 FROM storage.buckets WHERE id = $1', [id])).rowCount;
    const assignments = columns.map(([column], i) => `${column} = $${i + 2}`).join(', ');
    return (await tx.query(`UPDATE storage.buckets SET ${assignments} WHERE id = $1`, [id, ...columns.map(([, value]) => value)])).rowCount;
  });
  if (!updated) throw errors.noSuchBucket();
  sendJson(res, 200, { message: 'Successfully updated' });
}

export async function deleteBucket({ res, db, caller }: StorageRequest, id: string): Promise<void> {
  await db.transaction('service', async (tx) => {
    if (!(await tx.query('SELECT id FROM storage.buckets WHERE id = $1 FOR UPDATE', [id])).rowCount) throw errors.noSuchBucket();
    const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM (SELECT 1 FROM storage.objects WHERE bucket_id = $1 LIMIT 10) o', [id]);
    if ((rows[0]?.n ?? 0) > 0) throw errors.bucketNotEmpty();
    await tx.actAs(caller);
    if (!(await tx.query('DELETE FROM storage.buckets WHERE id = $1', [id])).rowCount) throw errors.noSuchBucket();
  });
  sendJson(res, 200, { message: 'Successfully deleted' });
}

export async function emptyBucket({ res, db, caller, files }: StorageRequest, id: string): Promise<void> {
  const found = await db.transaction(caller, async (tx) => (await tx.query('SELECT name FROM storage.buckets WHERE id = $1', [id])).rowCount);
  if (!found) throw errors.noSuchBucket();
  for (;;) {
    const { listed, deleted } = await db.transaction(caller, async (tx) => {
      const listed = (
        await tx.query<{ id: string; name: string }>(`SELECT id, name FROM storage.objects WHERE bucket_id = $1 ORDER BY name COLLATE "C" LIMIT $2`, [
          id,
          EMPTY_BATCH,
        ])
      ).rows;
      const ids = listed.map((row) => row.id);
      const deleted = (
        await tx.query<{ name: string; version: string | null }>(
          `DELETE FROM storage.objects WHERE bucket_id = $1 AND id = ANY($2::uuid[]) RETURNING name, version`,
          [id, ids],
        )
      ).rows;
      return { listed, deleted };
    });
    await files.remove(deleted.map((row) => row.version));
    if (deleted.length !== listed.length) {
      const gone = new Set(deleted.map((row) => row.name));
      const left = listed.filter((row) => !gone.has(row.name)).map((row) => row.name);
      throw errors.accessDenied(`Cannot delete: ${left.join(' ,')}, you may have SELECT but not DELETE permissions`);
    }
    if (!listed.length) break;
  }
  sendJson(res, 200, { message: 'Successfully emptied' });
}

interface BucketSettings {
  public?: boolean;
  fileSizeLimit?: number | null;
  allowedMimeTypes?: string[] | null;
}

/** The settings a create or update body carries, checked as Storage checks them. */
function bucketSettings(body: Record<string, unknown>, maxFileSize: number): BucketSettings {
  const settings: BucketSettings = {};
  if (body.public !== undefined) {
    if (typeof body.public !== 'boolean') throw errors.badRequest('body/public must be boolean');
    settings.public = body.public;
  }
  const limit = body.file_size_limit;
  if (limit === null) settings.fileSizeLimit = null;
  else if (limit !== undefined) {
    const bytes = typeof limit === 'string' ? parseFileSize(limit) : limit;
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0) throw errors.badRequest('body/file_size_limit must match a schema in anyOf');
    if (bytes > maxFileSize) throw errors.entityTooLarge();
    settings.fileSizeLimit = bytes;
  }
  const types = body.allowed_mime_types;
  if (types === null) settings.allowedMimeTypes = null;
  else if (types !== undefined) {
    if (!Array.isArray(types) || types.some((t) => typeof t !== 'string')) throw errors.badRequest('body/allowed_mime_types must be array');
    const kept = (types as string[]).filter((t) => t);
    for (const type of kept) {
      if (type.length > 1000 || !/^([a-zA-Z0-9\-+.]+)\/([a-zA-Z0-9\-+.]+)(;\s*charset=[a-zA-Z0-9-]+)?$|\*$/.test(type)) throw errors.invalidMimeType(type);
    }
    settings.allowedMimeTypes = kept;
  }
  return settings;
}

/** "20GB", "1.5MB", "30KB", "3B": decimal units, as Storage's parseFileSizeToBytes. */
function parseFileSize(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(gb|mb|kb|b)$/i.exec(text);
  if (!match) throw errors.invalidFileSizeLimit();
  const value = +parseFloat(match[1] ?? '0').toPrecision(3);
  const unit = { GB: 1e9, MB: 1e6, KB: 1e3, B: 1 }[(match[2] ?? 'B').toUpperCase() as 'GB' | 'MB' | 'KB' | 'B'];
  return Math.round(value * unit);
}
