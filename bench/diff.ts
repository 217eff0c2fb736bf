// Row by row, what differs between two databases of the same schema (both
// on the benchmark's one server): per table the keys only one side has and
// the keys whose rows differ, found from each row's md5 (of the key's text
// and of the row's text, as bench/verify.ts hashes rows), and how many bytes
// those rows are as COPY text. The re-sync benchmark uses it to say what
// production_after changed, what the bytes that changed are, and whether an
// insert-missing left every key of production in staging.
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { withClient } from '../stack/index.ts';
import { quote, type BenchTable } from './dataset.ts';

/** "schema.table" -> its key's columns, quoted: the primary key, else a unique key of NOT NULL columns. Tables without either are absent. */
export type Keys = Map<string, string[]>;

export async function readKeys(url: string, tables: BenchTable[]): Promise<Keys> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ table: string; columns: string[] }>(
      `SELECT DISTINCT ON (1) n.nspname || '.' || c.relname AS table,
              ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, o)
                    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.o) AS columns
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE i.indisunique AND i.indpred IS NULL AND NOT (0 = ANY (i.indkey::int2[]))
          -- NULLs never conflict, unless NULLS NOT DISTINCT (read through to_jsonb: the column is PostgreSQL 15's).
          AND (to_jsonb(i) ->> 'indnullsnotdistinct' = 'true'
               OR NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = ANY (i.indkey::int2[]) AND NOT a.attnotnull))
          AND n.nspname || '.' || c.relname = ANY ($1)
        ORDER BY 1, i.indisprimary DESC, i.indexrelid`,
      [tables.map((t) => t.key)],
    );
    return new Map(rows.map((row) => [row.table, row.columns.map(quote)]));
  });
}

export interface TableChange {
  table: string;
  /** Keys on both sides whose rows differ. */
  updated: number;
  /** Keys only `after` has. */
  inserted: number;
  /** Keys only `before` has. */
  deleted: number;
  /** `after`'s updated and inserted rows as COPY text (the non-generated columns). */
  changedBytes: number;
  /** The deleted rows' keys as COPY text. */
  deletedKeyBytes: number;
}

/** Per keyed table, what `after` changed of `before`. Superuser URLs: row-level security would hide rows. */
export async function diffTables(beforeUrl: string, afterUrl: string, tables: BenchTable[], keys: Keys): Promise<TableChange[]> {
  return withClient(beforeUrl, (before) =>
    withClient(afterUrl, async (after) => {
      const changes: TableChange[] = [];
      for (const table of tables) {
        const key = keys.get(table.key);
        if (!key) continue;
        const [old, now] = await Promise.all([rowHashes(before, table, key), rowHashes(after, table, key)]);
        const changed: string[] = [];
        const deleted: string[] = [];
        let updated = 0;
        for (const [k, hash] of now) {
          const was = old.get(k);
          if (was === hash) continue;
          changed.push(k);
          if (was !== undefined) updated++;
        }
        for (const k of old.keys()) if (!now.has(k)) deleted.push(k);
        changes.push({
          table: table.key,
          updated,
          inserted: changed.length - updated,
          deleted: deleted.length,
          changedBytes: changed.length ? await copyBytes(after, table, table.columns, key, changed) : 0,
          deletedKeyBytes: deleted.length ? await copyBytes(before, table, key.join(', '), key, deleted) : 0,
        });
      }
      return changes;
    }),
  );
}

/** Per table, how many of `source`'s keys `target` lacks. */
export async function missingKeys(sourceUrl: string, targetUrl: string, tables: BenchTable[], keys: Keys): Promise<Map<string, number>> {
  return withClient(sourceUrl, (source) =>
    withClient(targetUrl, async (target) => {
      const missing = new Map<string, number>();
      for (const table of tables) {
        const key = keys.get(table.key);
        if (!key) continue;
        const [theirs, ours] = await Promise.all([keyHashes(source, table, key), keyHashes(target, table, key)]);
        let count = 0;
        for (const k of theirs) if (!ours.has(k)) count++;
        missing.set(table.key, count);
      }
      return missing;
    }),
  );
}

const keyHash = (key: string[]) => `md5(ROW(${key.join(', ')})::text)`;

async function rowHashes(client: pg.Client, table: BenchTable, key: string[]): Promise<Map<string, string>> {
  const { rows } = await client.query<{ k: string; h: string }>(`SELECT ${keyHash(key)} AS k, md5(ROW(${table.columns})::text) AS h FROM ${table.rows}`);
  return new Map(rows.map((row) => [row.k, row.h]));
}

async function keyHashes(client: pg.Client, table: BenchTable, key: string[]): Promise<Set<string>> {
  const { rows } = await client.query<{ k: string }>(`SELECT ${keyHash(key)} AS k FROM ${table.rows}`);
  return new Set(rows.map((row) => row.k));
}

/** The bytes of `COPY (SELECT <columns> ... the rows whose key hash is one of `hashes`) TO STDOUT`, counted as they arrive. */
async function copyBytes(client: pg.Client, table: BenchTable, columns: string, key: string[], hashes: string[]): Promise<number> {
  await client.query('CREATE TEMP TABLE IF NOT EXISTS bench_keys (k text PRIMARY KEY)');
  await client.query('TRUNCATE bench_keys');
  await client.query('INSERT INTO bench_keys SELECT unnest($1::text[])', [hashes]);
  const stream = client.query(copyTo(`COPY (SELECT ${columns} FROM ${table.rows} WHERE ${keyHash(key)} IN (SELECT k FROM bench_keys)) TO STDOUT`));
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Buffer).length;
  return bytes;
}
