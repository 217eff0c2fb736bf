// The checksum queries of supasync_checksum() (supabase/migrations/
// *_supasync_read.sql), built here for the direct path, which must not need
// anything installed in production. Same text, same answers: a test compares
// the two on one database. The connection pins the formatting settings the
// function pins (lib/connect/postgres.ts).
import { columnList, quoteTable } from '../../sql/ident.ts';
import type { TableRef } from '../../catalog/types.ts';

export interface ChecksumTarget {
  table: TableRef;
  columns: string[];
  keyColumns: string[];
}

export interface ChecksumLevel {
  /** Spread rows over this many buckets by their key's hash; none: the whole table at once. */
  buckets?: number;
  /** List each row's key and hash in these buckets. */
  onlyBuckets?: number[];
  rowLimit?: number;
}

export function checksumQuery(target: ChecksumTarget, level: ChecksumLevel): { text: string; values: unknown[] } {
  const rowText = `ROW(${columnList(target.columns)})::text`;
  const keyText = target.keyColumns.length ? `ROW(${columnList(target.keyColumns)})::text` : rowText;
  const relation = quoteTable(target.table);
  const bucket = `(('x' || left(md5(${keyText}), 4))::bit(16)::int % ${level.buckets ?? 1})`;
  const rowHash = `('x' || left(md5(${rowText}), 15))::bit(60)::bigint`;
  if (level.buckets === undefined) {
    return {
      text: `SELECT jsonb_build_object('rows', count(*)::text, 'hash', COALESCE(sum(${rowHash}), 0)::text) AS result FROM ${relation}`,
      values: [],
    };
  }
  if (!level.onlyBuckets) {
    return {
      text: `SELECT COALESCE(jsonb_agg(jsonb_build_object('bucket', b, 'rows', n::text, 'hash', h::text) ORDER BY b), '[]') AS result FROM (
               SELECT ${bucket} AS b, count(*) AS n, sum(${rowHash}) AS h FROM ${relation} GROUP BY 1) s`,
      values: [],
    };
  }
  return {
    text: `SELECT COALESCE(jsonb_agg(jsonb_build_object('key', k, 'hash', h)), '[]') AS result FROM (
             SELECT ${keyText} AS k, left(md5(${rowText}), 15) AS h FROM ${relation} WHERE ${bucket} = ANY($1) LIMIT $2) s`,
    values: [level.onlyBuckets, level.rowLimit ?? 1000],
  };
}
