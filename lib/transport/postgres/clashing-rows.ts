// An upsert refused for a unique value names the value (PostgreSQL's
// "Key (email)=(...) already exists"), not the rows: staging's own row that
// holds it (a user who signed up in staging alone, a row production re-keyed)
// is what the person at the terminal must change or remove. Asked in the run's
// transaction, back at the savepoint before the refused INSERT, from the rows
// the run was writing (its temporary table) and staging's table, by the
// columns of the unique index PostgreSQL named. An index on expressions or
// with a predicate, or an exclusion constraint, is left to PostgreSQL's words.
import type pg from 'pg';
import type { TableRef } from '../../catalog/types.ts';
import { quoteIdent, quoteTable } from '../../sql/ident.ts';

/** Pairs named at most: the first few tell the cause. */
const NAMED = 3;

interface RefusedByIndex {
  code?: string;
  constraint?: string;
  schema?: string;
  table?: string;
}

/**
 * `staging's public.users (id=1) holds the value production's row (id=300) brings`, for up to three pairs; null where
 * the index cannot be matched so or no pair is found.
 */
export async function clashingRows(
  staging: pg.ClientBase,
  error: unknown,
  target: { table: TableRef; keyColumns: string[] },
  temp: string,
): Promise<string | null> {
  const refused = (error ?? {}) as RefusedByIndex;
  if (refused.code !== '23505' || !refused.constraint) return null;
  // A partition's index is named with the partition: the rows are read through the table the run writes.
  const indexed = refused.schema && refused.table ? { schema: refused.schema, name: refused.table } : target.table;
  const { rows } = await staging.query<{ columns: string[] | null }>(
    `SELECT CASE WHEN i.indpred IS NULL AND pg_catalog.bool_and(a.attname IS NOT NULL) THEN pg_catalog.array_agg(a.attname::text ORDER BY k.ord) END AS columns
     FROM pg_catalog.pg_index i
     JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
     CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
     LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum AND k.attnum > 0
     WHERE i.indrelid = $1::regclass AND ic.relname = $2 AND k.ord <= i.indnkeyatts
     GROUP BY i.indpred`,
    [quoteTable(indexed), refused.constraint],
  );
  const columns = rows[0]?.columns;
  if (!columns?.length) return null;
  const keyRow = (alias: string) => `ROW(${target.keyColumns.map((column) => `${alias}.${quoteIdent(column)}`).join(', ')})`;
  const keyOf = (alias: string) => target.keyColumns.map((column, index) => `${alias}.${quoteIdent(column)}::text AS ${alias}${index}`);
  const { rows: pairs } = await staging.query<Record<string, string | null>>(
    `SELECT ${[...keyOf('s'), ...keyOf('t')].join(', ')}
     FROM ${quoteTable(target.table)} s JOIN ${temp} t ON ${columns.map((column) => `s.${quoteIdent(column)} = t.${quoteIdent(column)}`).join(' AND ')}
     WHERE ${keyRow('s')} IS DISTINCT FROM ${keyRow('t')}
     LIMIT ${NAMED}`,
  );
  if (!pairs.length) return null;
  const key = (row: Record<string, string | null>, alias: string) =>
    `(${target.keyColumns.map((column, index) => `${column}=${row[`${alias}${index}`] ?? 'NULL'}`).join(', ')})`;
  const name = `${target.table.schema}.${target.table.name}`;
  return pairs.map((row) => `staging's ${name} ${key(row, 's')} holds the ${columns.join(', ')} production's row ${key(row, 't')} brings`).join('; ');
}
