// Every row's (key hash, row hash), streamed out of a database by COPY
// BINARY in the order supasync_private.row_hashes_query sorts them, and read
// chunk by chunk: a re-sync merges two such streams without holding either.
import type { Readable } from 'node:stream';
import type { RowHashes } from '../reads.ts';

// PGCOPY\n\377\r\n\0, then int32 flags and int32 header-extension length (0).
const HEADER_BYTES = 19;
// int16 field count (2), then per field int32 length (8) and an int64.
const TUPLE_BYTES = 2 + 2 * (4 + 8);

/** `stream`: COPY (row_hashes_query's query) TO STDOUT (FORMAT binary), as copyOut reads it. */
export function readRowHashes(stream: Readable): RowHashes {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // The start of a row the last chunk ended in (or of the header, or the trailer).
  let rest: Buffer = Buffer.alloc(0);
  let headerLeft = HEADER_BYTES;
  return {
    async next() {
      for (;;) {
        const { value, done } = await chunks.next();
        if (done) {
          // What is left is the trailer, int16 -1.
          if (rest.length > 2) throw new Error(`row hashes: ${rest.length} bytes left after the last row`);
          return null;
        }
        let bytes: Buffer = value;
        if (headerLeft) {
          const skipped = Math.min(headerLeft, bytes.length);
          headerLeft -= skipped;
          bytes = bytes.subarray(skipped);
        }
        const words = new Int32Array(Math.floor((rest.length + bytes.length) / TUPLE_BYTES) * 4);
        let rows = 0;
        let at = 0;
        // Only the row split across two chunks is put together: copying each chunk onto the last one's end cost more than reading it.
        if (rest.length) {
          const missing = TUPLE_BYTES - rest.length;
          if (bytes.length < missing) {
            rest = Buffer.concat([rest, bytes]);
            continue;
          }
          if (readRow(Buffer.concat([rest, bytes.subarray(0, missing)]), 0, words, 0)) rows++;
          at = missing;
        }
        // A trailer (field count -1) may end the last chunk: only whole rows with both fields are read.
        for (; at + TUPLE_BYTES <= bytes.length && readRow(bytes, at, words, rows * 4); at += TUPLE_BYTES) rows++;
        rest = bytes.subarray(at);
        if (rows) return rows * 4 === words.length ? words : words.subarray(0, rows * 4);
      }
    },
    async close() {
      // Reading to the end frees the connection for the run's next query; a stream that failed has told its error already.
      try {
        for (;;) if ((await chunks.next()).done) return;
      } catch {
        return;
      }
    },
  };
}

/** One row's four words at `word` of `words`; false at the trailer. Decoded by hand: Buffer's readers check their arguments on every call. */
function readRow(bytes: Buffer, at: number, words: Int32Array, word: number): boolean {
  if (bytes[at] !== 0 || bytes[at + 1] !== 2) return false;
  words[word] = int32At(bytes, at + 6);
  words[word + 1] = int32At(bytes, at + 10);
  words[word + 2] = int32At(bytes, at + 18);
  words[word + 3] = int32At(bytes, at + 22);
  return true;
}

/** The big-endian int32 at `at`. */
function int32At(bytes: Buffer, at: number): number {
  return ((bytes[at] as number) << 24) | ((bytes[at + 1] as number) << 16) | ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number);
}
