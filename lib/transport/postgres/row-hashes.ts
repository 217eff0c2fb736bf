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
        let bytes: Buffer = rest.length ? Buffer.concat([rest, value]) : value;
        if (headerLeft) {
          const skipped = Math.min(headerLeft, bytes.length);
          headerLeft -= skipped;
          bytes = bytes.subarray(skipped);
        }
        const count = Math.floor(bytes.length / TUPLE_BYTES);
        // A trailer (field count -1) may end the last chunk: count only whole rows with two fields.
        const words = new Int32Array(count * 4);
        let rows = 0;
        for (let at = 0; rows < count; rows++, at += TUPLE_BYTES) {
          if (bytes.readInt16BE(at) !== 2) break;
          words[rows * 4] = bytes.readInt32BE(at + 6);
          words[rows * 4 + 1] = bytes.readInt32BE(at + 10);
          words[rows * 4 + 2] = bytes.readInt32BE(at + 18);
          words[rows * 4 + 3] = bytes.readInt32BE(at + 22);
        }
        rest = bytes.subarray(rows * TUPLE_BYTES);
        if (rows) return rows === count ? words : words.subarray(0, rows * 4);
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
