// Which files a bucket's copy must write, and which staging has that
// production lacks. An object is unchanged when its size and ETag agree
// (and staging's row is not production's own, copied with the rows):
// equal ETags mean equal bytes, also for a multipart ETag ("...-3", the md5
// of the parts' md5s). Unequal ETags need not mean unequal bytes: the same
// file uploaded in other parts gets another multipart ETag, so such a file is
// copied again on every run, and verify compares its bytes instead.
import type { StoredObject } from './api.ts';

export interface BucketComparison {
  bucket: string;
  /** Missing from staging, or different there. */
  toCopy: StoredObject[];
  /** Paths only staging has. */
  stagingOnly: string[];
  unchanged: number;
  unchangedBytes: number;
}

export const isMultipartEtag = (eTag: string): boolean => /-\d+"?$/.test(eTag);

/**
 * Staging's row of the object is production's own, copied with the rows (a sync of schema `storage`), not one its
 * Storage wrote on an upload: the same id and the same upload time (Storage's metadata), or the one of them both
 * sides' listings give. Its file was never put in staging's store, which serves nothing for it, whatever the row's
 * size and ETag say. (Storage writes a file into the row it has, keeping its id, with a time of its own: a file
 * copied into such a row is staging's from then on.) The time is to the second: a file copied within the second
 * production took it has production's time, in a row of staging's own id, and was copied again on every run.
 */
export function copiedRow(production: StoredObject, staging: StoredObject): boolean {
  if (production.id !== '' && staging.id !== '' && staging.id !== production.id) return false;
  if (production.lastModified) return staging.lastModified === production.lastModified;
  return production.id !== '' && staging.id === production.id;
}

export function sameObject(production: StoredObject, staging: StoredObject | undefined): boolean {
  return !!staging && staging.size === production.size && staging.eTag === production.eTag && !copiedRow(production, staging);
}

export function compareBucket(bucket: string, production: StoredObject[], staging: StoredObject[]): BucketComparison {
  const stagingByPath = new Map(staging.map((object) => [object.path, object]));
  const productionPaths = new Set(production.map((object) => object.path));
  const toCopy: StoredObject[] = [];
  let unchanged = 0;
  let unchangedBytes = 0;
  for (const object of production) {
    if (sameObject(object, stagingByPath.get(object.path))) {
      unchanged += 1;
      unchangedBytes += object.size;
    } else {
      toCopy.push(object);
    }
  }
  const stagingOnly = staging.filter((object) => !productionPaths.has(object.path)).map((object) => object.path);
  return { bucket, toCopy, stagingOnly, unchanged, unchangedBytes };
}
