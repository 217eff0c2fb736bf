// Where the Storage stand-in keeps the bytes: one file per uploaded version,
// named by the version's uuid as Supabase's S3 keys end in it. An overwrite
// writes a new version and removes the old file after the row points at the
// new one, so a download under way keeps reading the bytes it started with.
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errors } from './storage-errors.ts';

/**
 * Supabase's Storage hands a standard upload to @aws-sdk/lib-storage's
 * Upload with its default part size: a body up to 5 MiB becomes one PutObject,
 * a larger one a multipart upload of 5 MiB parts. S3's ETag follows.
 */
export const S3_PART_SIZE = 5 * 1024 * 1024;

export interface StoredFile {
  size: number;
  /** Quoted, as S3 gives it: md5 of the bytes, or md5 of the parts' md5s and "-<parts>". */
  eTag: string;
  /** S3 keeps whole seconds. */
  lastModified: Date;
}

/** S3's ETag of bytes uploaded the way Storage's standard upload sends them. */
export class S3ETag {
  private parts: Buffer[] = [];
  private part: Hash = createHash('md5');
  private partBytes = 0;
  bytes = 0;

  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    for (let offset = 0; offset < chunk.length;) {
      const take = Math.min(S3_PART_SIZE - this.partBytes, chunk.length - offset);
      this.part.update(chunk.subarray(offset, offset + take));
      this.partBytes += take;
      offset += take;
      if (this.partBytes === S3_PART_SIZE) this.closePart();
    }
  }

  digest(): string {
    if (this.partBytes > 0 || this.parts.length === 0) this.closePart();
    const [only] = this.parts;
    if (this.parts.length === 1 && only) return `"${only.toString('hex')}"`;
    return `"${createHash('md5').update(Buffer.concat(this.parts)).digest('hex')}-${this.parts.length}"`;
  }

  private closePart(): void {
    this.parts.push(this.part.digest());
    this.part = createHash('md5');
    this.partBytes = 0;
  }
}

export class FileStore {
  constructor(readonly dir: string) {}

  path(version: string): string {
    return join(this.dir, version);
  }

  /**
   * Streams `body` into the file of `version`, with the writer's
   * backpressure, and refuses past `maxBytes` (a chunked body has no
   * Content-Length to refuse up front). On failure nothing is left on disk
   * and `body` is drained, so the connection can still carry the answer.
   */
  async write(version: string, body: Readable, maxBytes: number): Promise<StoredFile> {
    const partial = `${this.path(version)}.part`;
    const eTag = new S3ETag();
    const counted = async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        eTag.update(chunk);
        if (eTag.bytes > maxBytes) throw errors.entityTooLarge();
        yield chunk;
      }
    };
    const writer = createWriteStream(partial, { flags: 'wx' });
    try {
      // Iterated without destroying `body` on the way out: a refused upload still gets its answer.
      await pipeline(body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>, counted, writer);
      await rename(partial, this.path(version));
    } catch (error) {
      body.resume();
      // The file is opened asynchronously, even by a stream destroyed before: removed once the stream has closed it.
      if (!writer.closed) await once(writer, 'close').catch(() => undefined);
      await rm(partial, { force: true });
      throw error;
    }
    return { size: eTag.bytes, eTag: eTag.digest(), lastModified: new Date(Math.floor(Date.now() / 1000) * 1000) };
  }

  /** The bytes of `version`, or of `range` (inclusive, as HTTP's Range counts), undefined when the file is gone. */
  async read(version: string, range?: { start: number; end: number }): Promise<ReadStream | undefined> {
    const path = this.path(version);
    const found = await stat(path).catch(() => undefined);
    if (!found) return undefined;
    return createReadStream(path, range ?? {});
  }

  async remove(versions: (string | null | undefined)[]): Promise<void> {
    await Promise.all(versions.filter((v): v is string => !!v).map((version) => rm(this.path(version), { force: true })));
  }
}
