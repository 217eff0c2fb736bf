// Supabase's Storage API, as far as copying files needs it, over fetch with
// the service key. supabase-js's storage client would do for buckets and
// lists, but its download() hands back a Blob: a whole file in memory. Here
// a download is a stream that goes straight into the other project's upload.
import { notTheApi } from '../connect/web-page-answers.ts';
import pRetry, { AbortError } from 'p-retry';
import { Readable } from 'node:stream';
import { DatabaseError, describeFetchFailure } from '../errors.ts';

export interface StorageProject {
  /** The project URL, https://<ref>.supabase.co; the API is under /storage/v1. */
  url: string;
  /** service_role JWT or sb_secret_ key: Storage checks it as the REST API does. */
  serviceKey: string;
}

export interface BucketSettings {
  id: string;
  name: string;
  public: boolean;
  file_size_limit: number | null;
  allowed_mime_types: string[] | null;
}

export interface StoredObject {
  /** The object's path in its bucket: a/b/c.png */
  path: string;
  size: number;
  /** As Storage reports it, quotes and all: "d41d8cd9..." or, for a multipart upload, "...-3". */
  eTag: string;
  mimetype: string;
  cacheControl: string;
  /**
   * When Storage wrote the file, as its metadata says (the store's own time of the upload): each project's upload
   * its own. Empty where not said.
   */
  lastModified: string;
  /** storage.objects' id of its row: each project's own where Storage wrote the row, production's where the rows were copied. */
  id: string;
}

/** A refusal or failure the Storage API answered with, its own words kept. */
export class StorageApiError extends DatabaseError {
  override readonly name = 'StorageApiError';
  constructor(
    readonly status: number,
    readonly what: string,
    message: string,
  ) {
    // A file production lists but cannot serve (its row copied in without the file, or the file lost).
    const missing =
      status === 404 && what.startsWith('download ') ? ': the project lists this object but has no file for it; upload it again, or delete its row' : '';
    super(`${what}: ${status ? `${status} ` : ''}${message}${missing}`);
  }
  /** Worth another try: the server or the network, not the request. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** A `.` or `..` segment in an object's path (`avatars/../x`): no URL addresses it, whatever its encoding. */
export const unaddressable = (path: string): boolean => path.split('/').some((segment) => segment === '.' || segment === '..');

/** Objects no URL can address through the Storage API: refused, named, before any of their bucket's files is copied. */
export class UnaddressableObjectError extends DatabaseError {
  override readonly name = 'UnaddressableObjectError';
  constructor(bucket: string, paths: string[]) {
    const shown = paths.slice(0, 5).map((path) => `${bucket}/${path}`);
    super(
      `${paths.length === 1 ? 'An object' : `${paths.length} objects`} in bucket ${bucket} ${paths.length === 1 ? 'has' : 'have'} a "." or ".." segment in ` +
        `${paths.length === 1 ? 'its name' : 'their names'} (${shown.join(', ')}${paths.length > shown.length ? ', ...' : ''}), which no URL can address: ` +
        "a request for it would reach another of the API's endpoints, so its file is not copied and none of the bucket's is. " +
        'Rename it in production (Storage moves a file: POST /storage/v1/object/move), or leave the bucket out (--exclude-buckets ' +
        `${bucket}). No file of this bucket was copied or removed.`,
    );
  }
}

const RETRIES = 5;

export function storageApi(project: StorageProject) {
  const base = `${project.url.replace(/\/+$/, '')}/storage/v1`;
  // An opaque secret key (sb_secret_...) is no JWT: Storage refuses it in Authorization ("Invalid Compact JWS").
  // Sent as apikey alone, the API gateway forwards a JWT of the key's role instead; a legacy JWT key goes in both.
  const opaque = project.serviceKey.startsWith('sb_');
  const headers: Record<string, string> = { apikey: project.serviceKey, ...(opaque ? {} : { authorization: `Bearer ${project.serviceKey}` }) };
  const objectUrl = (bucket: string, path: string) => {
    const url = `${base}/object/${encodeURIComponent(bucket)}/${path.split('/').map(encodeURIComponent).join('/')}`;
    // A URL resolves `.` and `..` segments away (`%2e` too): the request would go to another endpoint, with the service key.
    if (!new URL(url).href.endsWith(url.slice(url.indexOf('/storage/v1/')))) throw new UnaddressableObjectError(bucket, [path]);
    return url;
  };

  /** One request, tried again while the failure is transient; the answer's JSON, or the response itself with `raw`. */
  async function call(what: string, url: string, init: RequestInit & { raw?: boolean } = {}): Promise<unknown> {
    return pRetry(
      async () => {
        let response: Response;
        try {
          response = await fetch(url, { ...init, headers: { ...headers, ...init.headers } });
        } catch (error) {
          throw new StorageApiError(0, what, describeFetchFailure(error, project.url.replace(/\/+$/, '')) ?? (error as Error).message);
        }
        // The API answers in JSON (a file's bytes aside): a web page came from something else at the URL.
        const page = !init.raw || !response.ok ? webPage(response, base) : null;
        if (page) {
          await response.body?.cancel();
          const failure = new StorageApiError(response.ok ? 0 : response.status, what, page);
          if (response.ok || !failure.transient) throw new AbortError(failure);
          throw failure;
        }
        if (!response.ok) {
          const { status, message } = await errorOf(response);
          const failure = new StorageApiError(status, what, message);
          if (!failure.transient) throw new AbortError(failure);
          throw failure;
        }
        return init.raw ? response : response.status === 204 ? null : response.json();
      },
      // A request whose body is a stream cannot be sent twice: its caller retries it whole.
      { retries: init.body instanceof ReadableStream ? 0 : RETRIES, minTimeout: 250, maxTimeout: 8_000 },
    ).catch((error: unknown) => {
      throw error instanceof AbortError ? error.originalError : error;
    });
  }

  /** One folder's entries, page by page: its files into `objects`, its folders onto `pending`. */
  async function listFolder(bucket: string, prefix: string, objects: StoredObject[], pending: string[]): Promise<void> {
    for (let offset = 0; ; offset += LIST_PAGE) {
      const page = (await call(`list ${bucket}/${prefix}`, `${base}/object/list/${encodeURIComponent(bucket)}`, {
        method: 'POST',
        body: JSON.stringify({ prefix, limit: LIST_PAGE, offset, sortBy: { column: 'name', order: 'asc' } }),
        headers: { 'content-type': 'application/json' },
      })) as ListEntry[];
      for (const entry of page) {
        const path = prefix ? `${prefix}/${entry.name}` : entry.name;
        if (entry.id === null) pending.push(path);
        else if (entry.metadata && entry.name !== EMPTY_FOLDER_PLACEHOLDER) {
          objects.push({
            path,
            size: Number(entry.metadata.size ?? entry.metadata.contentLength ?? 0),
            eTag: String(entry.metadata.eTag ?? ''),
            mimetype: String(entry.metadata.mimetype ?? 'application/octet-stream'),
            cacheControl: String(entry.metadata.cacheControl ?? 'max-age=3600'),
            lastModified: String(entry.metadata.lastModified ?? ''),
            id: entry.id,
          });
        }
      }
      if (page.length < LIST_PAGE) return;
    }
  }

  return {
    async listBuckets(): Promise<BucketSettings[]> {
      return (await call('list buckets', `${base}/bucket`)) as BucketSettings[];
    },
    async createBucket(bucket: BucketSettings): Promise<void> {
      await call(`create bucket ${bucket.id}`, `${base}/bucket`, {
        method: 'POST',
        body: JSON.stringify(bucket),
        headers: { 'content-type': 'application/json' },
      });
    },
    async updateBucket(bucket: BucketSettings): Promise<void> {
      const { id, ...settings } = bucket;
      await call(`update bucket ${id}`, `${base}/bucket/${encodeURIComponent(id)}`, {
        method: 'PUT',
        body: JSON.stringify({ ...settings, id }),
        headers: { 'content-type': 'application/json' },
      });
    },
    /**
     * Every object of a bucket, every prefix. Storage's list answers one level
     * (folders as entries without an id), a page at a time: supabase-js's
     * list() and every Storage server have it, where list-v2 is newer. The
     * folders are walked several at once: one after another, a bucket of a few
     * hundred folders would wait a round trip for each.
     */
    async listObjects(bucket: string, concurrency = 8): Promise<StoredObject[]> {
      const objects: StoredObject[] = [];
      const pending = [''];
      let active = 0;
      await new Promise<void>((resolve, reject) => {
        const next = () => {
          if (!pending.length && !active) return resolve();
          while (pending.length && active < concurrency) {
            const prefix = pending.shift()!;
            active += 1;
            listFolder(bucket, prefix, objects, pending).then(() => {
              active -= 1;
              next();
            }, reject);
          }
        };
        next();
      });
      return objects.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    /** The object's bytes as they arrive. */
    async download(bucket: string, path: string): Promise<ReadableStream<Uint8Array>> {
      const response = (await call(`download ${bucket}/${path}`, objectUrl(bucket, path).replace('/object/', '/object/authenticated/'), {
        raw: true,
      })) as Response;
      if (!response.body) throw new StorageApiError(response.status, `download ${bucket}/${path}`, 'no body');
      return response.body;
    },
    /** Writes the object, replacing one of that path (x-upsert), from a stream it never holds whole. */
    async upload(bucket: string, object: StoredObject, body: ReadableStream<Uint8Array> | Readable): Promise<void> {
      const stream = body instanceof Readable ? (Readable.toWeb(body) as ReadableStream<Uint8Array>) : body;
      await call(`upload ${bucket}/${object.path}`, objectUrl(bucket, object.path), {
        method: 'POST',
        body: stream,
        headers: { 'x-upsert': 'true', 'content-type': object.mimetype, 'cache-control': object.cacheControl, 'content-length': String(object.size) },
        duplex: 'half',
      } as RequestInit);
    },
    /** Removes these paths (Storage's bulk delete takes them as "prefixes", exact paths all the same). */
    async remove(bucket: string, paths: string[]): Promise<void> {
      await call(`remove from ${bucket}`, `${base}/object/${encodeURIComponent(bucket)}`, {
        method: 'DELETE',
        body: JSON.stringify({ prefixes: paths }),
        headers: { 'content-type': 'application/json' },
      });
    },
  };
}

export type StorageApi = ReturnType<typeof storageApi>;

interface ListEntry {
  name: string;
  id: string | null;
  metadata: Record<string, unknown> | null;
}

const LIST_PAGE = 1000;
// The dashboard's "new folder" writes this empty object; it is a file like any other to Storage, but not the user's.
const EMPTY_FOLDER_PLACEHOLDER = '.emptyFolderPlaceholder';

/** What a web page in answer says (as the REST path's, connect/web-page-answers.ts); null for any other answer. */
function webPage(response: Response, base: string): string | null {
  if (!/^\s*(text\/html|application\/xhtml)\b/i.test(response.headers.get('content-type') ?? '')) return null;
  return notTheApi({ origin: new URL(base).origin, status: response.status, api: 'Storage', what: 'a web page' });
}

/**
 * Storage answers most failures with HTTP 400 and the status it means in the
 * body: {"statusCode": "404", "error": "not_found", "message": "Object not
 * found"}; its own transient ones too ("503", "544": database busy). That
 * status decides; a proxy's body may be anything, and then HTTP's does.
 */
async function errorOf(response: Response): Promise<{ status: number; message: string }> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { statusCode?: string | number; message?: string; error?: string };
    const meant = Number(body.statusCode);
    return { status: Number.isInteger(meant) && meant >= 400 ? meant : response.status, message: body.message ?? body.error ?? text.slice(0, 200) };
  } catch {
    return { status: response.status, message: text.slice(0, 200) || response.statusText };
  }
}

/** The side's Storage API: the project URL and service key the REST path uses, needed here on either path. */
export function storageApiOf(side: { side: string; url?: string; serviceRoleKey?: string }): StorageApi {
  if (!side.url || !side.serviceRoleKey) {
    const prefix = side.side === 'production' ? 'SUPABASE_PROD' : 'SUPABASE_STAGING';
    throw new StorageSelectionError(
      `Copying files goes through the Storage API, which needs ${prefix}_URL and ${prefix}_SERVICE_ROLE_KEY or ${prefix}_SECRET_KEY (also on the direct path): set them, or leave --storage out.`,
    );
  }
  return storageApi({ url: side.url, serviceKey: side.serviceRoleKey });
}

/** A selection or configuration the Storage step cannot take: a usage error at the command line. */
export class StorageSelectionError extends Error {
  override readonly name = 'StorageSelectionError';
}
