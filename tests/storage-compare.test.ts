// Which files a bucket's copy writes, and which staging alone has: by size
// and ETag, a multipart upload's ETag never taken as proof of sameness.
import { describe, expect, it } from 'vitest';
import type { StoredObject } from '../lib/storage/api.ts';
import { compareBucket, isMultipartEtag } from '../lib/storage/compare.ts';
import { chooseBuckets } from '../lib/storage/copy.ts';

const file = (path: string, size: number, eTag: string, lastModified = ''): StoredObject => ({
  path,
  size,
  eTag,
  mimetype: 'image/png',
  cacheControl: 'max-age=3600',
  lastModified,
  id: '',
});

describe('comparing a bucket', () => {
  it('copies what staging lacks or holds differently, keeps what is equal (multipart ETags too), and lists what only staging has', () => {
    const production = [
      file('a/1.png', 10, '"aa"'),
      file('a/2.png', 20, '"bb"'),
      file('b/3.png', 30, '"cc"'),
      file('big.bin', 40, '"dd-3"'),
      file('huge.bin', 50, '"gg-10"'),
    ];
    const staging = [
      file('a/1.png', 10, '"aa"'),
      file('a/2.png', 20, '"XX"'),
      file('big.bin', 40, '"ee"'),
      file('huge.bin', 50, '"gg-10"'),
      file('old.png', 5, '"ff"'),
    ];
    const comparison = compareBucket('photos', production, staging);
    expect(comparison.toCopy.map((object) => object.path)).toEqual(['a/2.png', 'b/3.png', 'big.bin']);
    expect(comparison.stagingOnly).toEqual(['old.png']);
    expect(comparison).toMatchObject({ unchanged: 2, unchangedBytes: 60 });
  });

  it("copies an object whose staging row is production's own, copied with the rows: the same id and upload time, or the one both sides have", () => {
    const at = (object: StoredObject, lastModified: string, id: string): StoredObject => ({ ...object, lastModified, id });
    const production = [
      at(file('copied.png', 10, '"aa"'), '2026-01-01T10:00:00.000Z', 'p1'),
      at(file('uploaded.png', 10, '"bb"'), '2026-01-01T10:00:00.000Z', 'p2'),
      at(file('no-time-copied.png', 10, '"cc"'), '', 'p3'),
      at(file('no-time-uploaded.png', 10, '"dd"'), '', 'p4'),
      at(file('same-second.png', 10, '"ee"'), '2026-01-01T10:00:00.000Z', 'p5'),
    ];
    const staging = [
      at(file('copied.png', 10, '"aa"'), '2026-01-01T10:00:00.000Z', 'p1'),
      // Storage wrote the file into the copied row: its id kept, the time its own.
      at(file('uploaded.png', 10, '"bb"'), '2026-02-02T08:00:00.000Z', 'p2'),
      at(file('no-time-copied.png', 10, '"cc"'), '', 'p3'),
      at(file('no-time-uploaded.png', 10, '"dd"'), '', 's4'),
      // Copied by staging's Storage within the second production took it: its time is production's, its row staging's own.
      at(file('same-second.png', 10, '"ee"'), '2026-01-01T10:00:00.000Z', 's5'),
    ];
    expect(compareBucket('photos', production, staging).toCopy.map((object) => object.path)).toEqual(['copied.png', 'no-time-copied.png']);
  });

  it('tells a multipart ETag from a plain md5', () => {
    expect(isMultipartEtag('"9b2cf535f27731c974343645a3985328-3"')).toBe(true);
    expect(isMultipartEtag('"9b2cf535f27731c974343645a3985328"')).toBe(false);
  });

  it('refuses a bucket production lacks, naming the ones it has', () => {
    const buckets = [
      { id: 'avatars', name: 'avatars', public: true, file_size_limit: null, allowed_mime_types: null },
      { id: 'docs', name: 'docs', public: false, file_size_limit: 1024, allowed_mime_types: ['application/pdf'] },
    ];
    expect(chooseBuckets(buckets, undefined, ['docs']).map((bucket) => bucket.id)).toEqual(['avatars']);
    expect(() => chooseBuckets(buckets, ['avatar'])).toThrow('No bucket "avatar" in production. Its buckets: avatars, docs.');
  });
});
