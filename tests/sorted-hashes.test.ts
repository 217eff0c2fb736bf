// A re-sync's (key hash, row hash) pairs sorted in Node instead of by
// PostgreSQL's ORDER BY: the same order (bigints, signed), every pair kept,
// rows sharing a key hash by their row hash, and a table past the limit
// handed back to the server with its connection free.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../lib/connect/postgres.ts';
import { copyOut } from '../lib/transport/postgres/copy-out.ts';
import { readRowHashes } from '../lib/transport/postgres/row-hashes.ts';
import { sortHere, sortPairs } from '../lib/transport/postgres/sorted-hashes.ts';
import { sharedStack } from './setup/stack.ts';

const { production } = sharedStack();

/** Pairs of 64-bit values as 4 words each (high signed, low unsigned), from BigInts. */
function words(pairs: [bigint, bigint][]): Int32Array {
  const out = new Int32Array(pairs.length * 4);
  pairs.forEach(([k, h], i) => {
    out[i * 4] = Number(BigInt.asIntN(32, k >> 32n));
    out[i * 4 + 1] = Number(BigInt.asIntN(32, k));
    out[i * 4 + 2] = Number(BigInt.asIntN(32, h >> 32n));
    out[i * 4 + 3] = Number(BigInt.asIntN(32, h));
  });
  return out;
}

function pairsOf(rows: Int32Array): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  const at64 = (at: number) => (BigInt(rows[at]!) << 32n) | BigInt(rows[at + 1]! >>> 0);
  for (let at = 0; at < rows.length; at += 4) out.push([at64(at), at64(at + 2)]);
  return out;
}

const byBoth = (a: [bigint, bigint], b: [bigint, bigint]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

/** Deterministic 64-bit values spread over the whole signed range, with edge values and repeats mixed in. */
function values(n: number, seed: number): [bigint, bigint][] {
  let state = BigInt(seed) | 1n;
  const next = () => {
    state = BigInt.asUintN(64, state * 6364136223846793005n + 1442695040888963407n);
    return BigInt.asIntN(64, state);
  };
  const edges = [0n, -1n, 1n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 32n, -(2n ** 32n), 0xffffffffn];
  const out: [bigint, bigint][] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 17 === 0 ? edges[i % edges.length]! : i % 13 === 0 && out.length ? out[out.length - 1]![0] : next();
    out.push([k, i % 5 === 0 ? edges[(i >> 3) % edges.length]! : next()]);
  }
  return out;
}

describe('sorting row hashes in Node', () => {
  it.each([0, 1, 2, 300, 70_000])('orders %i pairs as ORDER BY k, h orders bigints, keeping every pair', (n) => {
    const pairs = values(n, n + 7);
    const sorted = pairsOf(sortPairs(words(pairs)));
    expect(sorted).toEqual([...pairs].sort(byBoth));
  });
});

describe('sortHere, on a real COPY stream', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = await connectPostgres('production', production.dbUrl);
  });
  afterAll(async () => {
    await client.end();
  });

  // Keys that collide on purpose (i % 50), row hashes both signs: the server's ORDER BY is the reference.
  const query = (ordered: boolean) =>
    `SELECT hashint8extended(i % 50, 7) AS k, hashint8extended(i, 0) AS h FROM generate_series(1, 2000) i${ordered ? ' ORDER BY 1, 2' : ''}`;
  const stream = (ordered: boolean) => readRowHashes(client.query(copyOut(`COPY (${query(ordered)}) TO STDOUT (FORMAT binary)`, { binary: true })));

  async function readAll(hashes: { next(): Promise<Int32Array | null>; close(): Promise<void> }): Promise<[bigint, bigint][]> {
    const all: [bigint, bigint][] = [];
    for (let chunk = await hashes.next(); chunk; chunk = await hashes.next()) all.push(...pairsOf(chunk));
    await hashes.close();
    return all;
  }

  it("yields the server's order", async () => {
    const sorted = await sortHere(await stream(false));
    expect(sorted).not.toBeNull();
    const here = await readAll(sorted!);
    expect(here).toHaveLength(2000);
    expect(here).toEqual(await readAll(await stream(true)));
  });

  it('gives up past its limit, having read the stream to its end: the connection answers the next query', async () => {
    expect(await sortHere(await stream(false), 1999)).toBeNull();
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});
