// A table's (key hash, row hash) pairs sorted here rather than by
// PostgreSQL. Its ORDER BY was most of what hashing a table cost the server
// (a 200,000-row table: 40 ms to scan and hash, 90 ms more to sort, often
// spilling past work_mem); a radix sort of the same pairs takes a few
// milliseconds here. It holds the table's pairs in memory, up to 48 bytes a
// row while sorting, so it is used only up to MAX_ROWS_SORTED_HERE rows.
import type { RowHashes } from '../reads.ts';

/** Past this many rows a table's pairs are sorted by the server: at most 48 MB per side while sorting here. */
export const MAX_ROWS_SORTED_HERE = 1_000_000;

const WORDS_PER_ROW = 4;

/**
 * Reads every pair of `unsorted` and yields them sorted as row_hashes_query's
 * ORDER BY 1, 2 sorts them (by key hash, then row hash, each as PostgreSQL
 * orders a bigint). Resolves to null, having read the
 * stream to its end, if it holds more than `maxRows` rows: the caller then
 * asks the server to sort.
 */
export async function sortHere(unsorted: RowHashes, maxRows = MAX_ROWS_SORTED_HERE): Promise<RowHashes | null> {
  const chunks: Int32Array[] = [];
  let words = 0;
  for (let chunk = await unsorted.next(); chunk; chunk = await unsorted.next()) {
    words += chunk.length;
    if (words > maxRows * WORDS_PER_ROW) {
      await unsorted.close();
      return null;
    }
    chunks.push(chunk);
  }
  await unsorted.close();
  let sorted: Int32Array | null = sortPairs(concatenate(chunks, words));
  return {
    async next() {
      const all = sorted;
      sorted = null;
      return all && all.length ? all : null;
    },
    async close() {
      sorted = null;
    },
  };
}

function concatenate(chunks: Int32Array[], words: number): Int32Array {
  if (chunks.length === 1 && chunks[0]!.length === words) return chunks[0]!;
  const all = new Int32Array(words);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

/**
 * Sorts 4-word rows by their key hash (words 0-1), then their row hash
 * (words 2-3), each high word signed and low unsigned: a radix sort by the
 * key hash, then the rare rows that share one (two keys whose hashes
 * collide, or one key twice) put in order of their row hash. LSD, digits of
 * 16 bits (four passes) for a large table, of 8 (eight passes, a smaller
 * count to clear each) for a small one. Returns the sorted rows (`rows`
 * itself or its scratch twin).
 */
export function sortPairs(rows: Int32Array): Int32Array {
  const n = rows.length / WORDS_PER_ROW;
  if (n < 2) return rows;
  const digitBits = n >= 1 << 16 ? 16 : 8;
  const mask = (1 << digitBits) - 1;
  const passesPerWord = 32 / digitBits;
  let from = rows;
  let to: Int32Array = new Int32Array(rows.length);
  const counts = new Uint32Array(1 << digitBits);
  for (let pass = 0; pass < 2 * passesPerWord; pass++) {
    // The low word's digits first, then the high word's; its top digit's sign bit flipped puts negative keys first.
    const word = pass < passesPerWord ? 1 : 0;
    const shift = (pass % passesPerWord) * digitBits;
    const flip = pass === 2 * passesPerWord - 1 ? 1 << (digitBits - 1) : 0;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[((from[i * WORDS_PER_ROW + word]! >>> shift) & mask) ^ flip]!++;
    // A digit every row shares leaves the order as it is.
    if (counts[((from[word]! >>> shift) & mask) ^ flip] === n) continue;
    let total = 0;
    for (let d = 0; d < counts.length; d++) {
      const count = counts[d]!;
      counts[d] = total;
      total += count;
    }
    for (let i = 0; i < n; i++) {
      const at = i * WORDS_PER_ROW;
      const target = counts[((from[at + word]! >>> shift) & mask) ^ flip]!++ * WORDS_PER_ROW;
      to[target] = from[at]!;
      to[target + 1] = from[at + 1]!;
      to[target + 2] = from[at + 2]!;
      to[target + 3] = from[at + 3]!;
    }
    [from, to] = [to, from];
  }
  orderTiesByRowHash(from, n);
  return from;
}

/** Within each run of rows sharing a key hash, an insertion sort by row hash. */
function orderTiesByRowHash(rows: Int32Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const at = i * WORDS_PER_ROW;
    if (rows[at] !== rows[at - WORDS_PER_ROW] || rows[at + 1] !== rows[at - WORDS_PER_ROW + 1]) continue;
    for (let j = i; j > 0; j--) {
      const b = j * WORDS_PER_ROW;
      const a = b - WORDS_PER_ROW;
      if (rows[a] !== rows[b] || rows[a + 1] !== rows[b + 1] || compareWords(rows, a + 2, b + 2) <= 0) break;
      for (let w = 0; w < WORDS_PER_ROW; w++) [rows[a + w], rows[b + w]] = [rows[b + w]!, rows[a + w]!];
    }
  }
}

/** The 64-bit values at words `a` and `b`, as PostgreSQL orders bigints: high words signed, low unsigned. */
function compareWords(rows: Int32Array, a: number, b: number): number {
  return rows[a]! - rows[b]! || (rows[a + 1]! >>> 0) - (rows[b + 1]! >>> 0);
}
