// Are staging's files production's? Per bucket: object counts, total bytes
// and each object's size and ETag. An object uploaded in parts has an ETag no
// single upload reproduces: where the two ETags differ and one is such, the
// bytes are read on both sides and hashed. Then whom the files both sides
// hold belong to (engine/file-owners.ts), where the run can read it.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { StorageApiError, type StorageApi, type StoredObject } from './api.ts';
import { copiedRow, isMultipartEtag } from './compare.ts';

export interface BucketVerdict {
  bucket: string;
  status: 'equal' | 'differs' | 'missing-bucket';
  production: { objects: number; bytes: number };
  staging: { objects: number; bytes: number };
  /** Up to `maxPaths` of each. */
  missing: string[];
  extra: string[];
  changed: string[];
  /** Files both hold whose owner columns differ; absent where they were not compared. */
  owners?: string[];
  /** How many there are of each, the ones past `maxPaths` too. */
  counts: { missing: number; extra: number; changed: number; owners?: number };
  /** Objects compared by their bytes (multipart ETags). */
  hashed: number;
}

export async function verifyStorage(
  production: StorageApi,
  staging: StorageApi,
  buckets: string[],
  /** The paths of a bucket's files both sides hold whose owners differ; absent where owners are not compared. */
  ownersDiffer?: (bucket: string) => Promise<string[]>,
  maxPaths = 10,
): Promise<BucketVerdict[]> {
  const stagingBuckets = new Set((await staging.listBuckets()).map((bucket) => bucket.id));
  const verdicts: BucketVerdict[] = [];
  for (const bucket of buckets) {
    const productionObjects = await production.listObjects(bucket);
    const totals = (objects: StoredObject[]) => ({ objects: objects.length, bytes: objects.reduce((sum, object) => sum + object.size, 0) });
    if (!stagingBuckets.has(bucket)) {
      verdicts.push({
        bucket,
        status: 'missing-bucket',
        production: totals(productionObjects),
        staging: { objects: 0, bytes: 0 },
        missing: [],
        extra: [],
        changed: [],
        counts: { missing: 0, extra: 0, changed: 0 },
        hashed: 0,
      });
      continue;
    }
    const stagingObjects = await staging.listObjects(bucket);
    const stagingByPath = new Map(stagingObjects.map((object) => [object.path, object]));
    const productionPaths = new Set(productionObjects.map((object) => object.path));
    const missing: string[] = [];
    const changed: string[] = [];
    let hashed = 0;
    for (const object of productionObjects) {
      const theirs = stagingByPath.get(object.path);
      if (!theirs) missing.push(object.path);
      else if (theirs.size !== object.size) changed.push(object.path);
      else if (theirs.eTag !== object.eTag && (isMultipartEtag(object.eTag) || isMultipartEtag(theirs.eTag))) {
        hashed += 1;
        const [mine, other] = await Promise.all([contentHash(production, bucket, object.path), contentHash(staging, bucket, object.path)]);
        if (mine !== other) changed.push(object.path);
      } else if (theirs.eTag !== object.eTag) changed.push(object.path);
      // Production's row copied into staging's storage.objects: listed alike, but is its file there to serve?
      else if (copiedRow(object, theirs) && !(await serves(staging, bucket, object.path))) missing.push(object.path);
    }
    const extra = stagingObjects.filter((object) => !productionPaths.has(object.path)).map((object) => object.path);
    const owners = await ownersDiffer?.(bucket);
    verdicts.push({
      bucket,
      status: missing.length || extra.length || changed.length || owners?.length ? 'differs' : 'equal',
      production: totals(productionObjects),
      staging: totals(stagingObjects),
      missing: missing.slice(0, maxPaths),
      extra: extra.slice(0, maxPaths),
      changed: changed.slice(0, maxPaths),
      ...(owners ? { owners: owners.slice(0, maxPaths) } : {}),
      counts: { missing: missing.length, extra: extra.length, changed: changed.length, ...(owners ? { owners: owners.length } : {}) },
      hashed,
    });
  }
  return verdicts;
}

async function contentHash(api: StorageApi, bucket: string, path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of Readable.fromWeb((await api.download(bucket, path)) as NodeReadableStream<Uint8Array>)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Whether the project's Storage serves the object's file: read through, and dropped. */
async function serves(api: StorageApi, bucket: string, path: string): Promise<boolean> {
  try {
    for await (const chunk of Readable.fromWeb((await api.download(bucket, path)) as NodeReadableStream<Uint8Array>)) void chunk;
    return true;
  } catch (error) {
    if (error instanceof StorageApiError && !error.transient) return false;
    throw error;
  }
}
