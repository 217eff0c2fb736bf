// Does staging hold what production holds? Table by table, a row count and a
// hash of the rows computed inside PostgreSQL, so no row crosses the wire.
import pg from 'pg';
import type { BenchTable } from './dataset.ts';

export interface TableDigest {
  rows: number;
  hash: string;
}

/** Per "schema.table". */
export type Digests = Map<string, TableDigest>;

export interface TableDifference {
  table: string;
  production: TableDigest;
  staging: TableDigest;
}

// Hashing each row's text form and then the sorted hashes makes the digest
// independent of physical row order, which no two contenders share. Both
// databases live on one server, so the text forms (floats, timestamps, jsonb)
// come from the same output functions and settings. Generated columns are left
// out: staging computes them itself. Sequences are not compared: they are not
// data, and only pg_dump resets them.
const digestSql = (table: BenchTable): string =>
  `SELECT count(*) AS rows, coalesce(md5(string_agg(h, '' ORDER BY h)), '') AS hash
     FROM (SELECT md5(ROW(${table.columns})::text) AS h FROM ${table.rows}) s`;

/** Connect as a superuser: row-level security would hide rows from anyone else. */
export async function digestTables(url: string, tables: BenchTable[], connections = 2): Promise<Digests> {
  const digests: Digests = new Map();
  const queue = [...tables];
  const worker = async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (let table = queue.shift(); table; table = queue.shift()) {
        const { rows } = await client.query<{ rows: string; hash: string }>(digestSql(table));
        digests.set(table.key, { rows: Number(rows[0]?.rows ?? 0), hash: rows[0]?.hash ?? '' });
      }
    } finally {
      await client.end();
    }
  };
  await Promise.all(Array.from({ length: Math.min(connections, tables.length) }, worker));
  return digests;
}

export function compareDigests(production: Digests, staging: Digests): TableDifference[] {
  const differences: TableDifference[] = [];
  for (const [table, expected] of [...production].sort(([a], [b]) => a.localeCompare(b))) {
    const found = staging.get(table) ?? { rows: 0, hash: '' };
    if (found.rows !== expected.rows || found.hash !== expected.hash) {
      differences.push({ table, production: expected, staging: found });
    }
  }
  return differences;
}

export function describeDifference({ table, production, staging }: TableDifference): string {
  return staging.rows === production.rows
    ? `${table} (same ${production.rows} rows, different content)`
    : `${table} (${staging.rows} of ${production.rows} rows)`;
}
