// What production holds: the tables every contender copies, their columns,
// and how many bytes that data is as COPY text.
import { spawn } from 'node:child_process';
import pg from 'pg';
import { readCatalogPostgres } from '../lib/catalog/read.ts';
import { findTable } from '../lib/catalog/types.ts';
import { neverCopiedReason, onRequestReason } from '../lib/plan/supabase.ts';
import { withClient, type Project } from '../stack/index.ts';
import type { Dataset } from './report.ts';
import type { Tools } from './tools.ts';
import type { Digests } from './verify.ts';

export interface BenchTable {
  /** "schema.name", the key of every per-table figure. */
  key: string;
  /** Quoted, schema-qualified: public."MixedCase". */
  sql: string;
  /** Its own rows in a query: `ONLY` it, for tables others INHERIT from (a partitioned table's rows are its partitions'). */
  rows: string;
  /** Quoted, comma-separated, generated columns left out: they are computed on write, never copied. */
  columns: string;
  /**
   * COPY's format as supasync's direct path picks it: binary only when every
   * column's type reads back what binary COPY wrote (the catalog's
   * binaryPortable; an empty tsquery does not), text otherwise.
   */
  format: 'binary' | 'text';
}

/** The one place identifiers are quoted. */
export const quote = (identifier: string): string => pg.escapeIdentifier(identifier);

/**
 * Ordinary and partitioned tables, not the partitions themselves: a partitioned
 * table is read and written through its parent, which routes rows to partitions.
 */
export async function readTables(url: string, schemas: string[]): Promise<{ copied: BenchTable[]; leftOut: BenchTable[] }> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ schema: string; name: string; partitioned: boolean; columns: string[] }>(
      `SELECT n.nspname AS schema, c.relname AS name, c.relkind = 'p' AS partitioned,
              array_agg(a.attname::text ORDER BY a.attnum) AS columns
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY($1)
        GROUP BY n.nspname, c.relname, c.relkind
        ORDER BY n.nspname, c.relname`,
      [schemas],
    );
    const catalog = await readCatalogPostgres('production', client);
    const portable = (row: (typeof rows)[number]) => {
      const described = findTable(catalog, row)?.columns;
      return row.columns.every((name) => described?.find((column) => column.name === name)?.binaryPortable);
    };
    const tables = rows.map((row) => ({
      key: `${row.schema}.${row.name}`,
      sql: `${quote(row.schema)}.${quote(row.name)}`,
      rows: `${row.partitioned ? '' : 'ONLY '}${quote(row.schema)}.${quote(row.name)}`,
      columns: row.columns.map(quote).join(', '),
      format: portable(row) ? ('binary' as const) : ('text' as const),
      leftOut: neverCopiedReason(row) ?? onRequestReason({ ...row, columns: row.columns.map((name) => ({ name })) }),
    }));
    // What a schema-wide sync leaves out (Auth's migrations and sign-in state)
    // is neither copied nor compared, for any contender.
    const strip = ({ leftOut: _, ...table }: (typeof tables)[number]): BenchTable => table;
    return { copied: tables.filter((t) => !t.leftOut).map(strip), leftOut: tables.filter((t) => t.leftOut).map(strip) };
  });
}

/**
 * Bytes on disk of the tables in these schemas, with their partitions, indexes
 * and TOAST, and how many indexes every load has to maintain (partitioned
 * tables' indexes counted once per partition, as they are built).
 */
export async function describeStorage(url: string, schemas: string[]): Promise<{ diskBytes: number; indexes: number }> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ bytes: string; indexes: string }>(
      `SELECT (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1)) AS bytes,
              (SELECT count(*)
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'r' AND n.nspname = ANY($1)) AS indexes`,
      [schemas],
    );
    return { diskBytes: Number(rows[0]?.bytes ?? 0), indexes: Number(rows[0]?.indexes ?? 0) };
  });
}

export const copyOut = (table: BenchTable): string => `COPY (SELECT ${table.columns} FROM ${table.rows}) TO STDOUT`;

/**
 * The bytes a text COPY of each table moves: psql runs the COPY and we count
 * its output, so escaping and every type's text form are exactly the server's.
 * Undefined without psql.
 */
export async function copyTextBytes(url: string, tables: BenchTable[], psql: string | undefined): Promise<Map<string, number> | undefined> {
  if (!psql) return undefined;
  const bytes = new Map<string, number>();
  for (const table of tables) {
    bytes.set(table.key, await countOutput(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', copyOut(table)]));
  }
  return bytes;
}

function countOutput(file: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let count = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (count += chunk.length));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(count) : reject(new Error(`${file} exited ${code}: ${stderr.trim()}`))));
  });
}

/** Rows and COPY-text bytes of some of production's tables. */
export function copiedFigures(dataset: Dataset, tables: BenchTable[]): { rows: number; copyBytes?: number } {
  const keys = new Set(tables.map((t) => t.key));
  const chosen = dataset.perTable.filter((t) => keys.has(t.table));
  const rows = chosen.reduce((sum, t) => sum + t.rows, 0);
  if (dataset.copyBytes === undefined) return { rows };
  return { rows, copyBytes: chosen.reduce((sum, t) => sum + (t.copyBytes ?? 0), 0) };
}

/** Production's size: rows (from the verification's counts), COPY-text bytes, disk and indexes, per table. */
export async function describeDataset(
  size: string,
  production: Project,
  tables: BenchTable[],
  expected: Digests,
  tools: Tools,
  schemas: string[],
): Promise<Dataset> {
  const bytes = await copyTextBytes(production.adminUrl, tables, tools.psql);
  const perTable = tables.map((t) => ({
    table: t.key,
    rows: expected.get(t.key)?.rows ?? 0,
    ...(bytes ? { copyBytes: bytes.get(t.key) ?? 0 } : {}),
  }));
  return {
    size,
    tables: tables.length,
    rows: perTable.reduce((sum, t) => sum + t.rows, 0),
    ...(bytes ? { copyBytes: [...bytes.values()].reduce((a, b) => a + b, 0) } : {}),
    ...(await describeStorage(production.adminUrl, schemas)),
    perTable,
  };
}
