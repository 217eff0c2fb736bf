// Rows whose foreign key finds no parent, over a direct connection; over
// REST the same query is supasync_orphans. MATCH SIMPLE, as PostgreSQL
// checks a foreign key by default: a key with a NULL in it references nothing.
import type pg from 'pg';
import type { ForeignKeyLink } from '../../plan/links.ts';
import { columnList, quoteIdent, quoteTable } from '../../sql/ident.ts';

export interface Orphans {
  rows: number;
  /** A few of the keys that find no parent, as ROW(...)::text. */
  keys: string[];
}

export const ORPHAN_KEYS_SHOWN = 5;

export async function orphansPostgres(client: pg.ClientBase, link: ForeignKeyLink): Promise<Orphans> {
  const notNull = link.columns.map((column) => `c.${quoteIdent(column)} IS NOT NULL`).join(' AND ');
  const { rows } = await client.query<{ rows: string; keys: string[] | null }>(
    `SELECT count(*) AS rows, (array_agg(DISTINCT k ORDER BY k))[1:${ORPHAN_KEYS_SHOWN}] AS keys FROM (
       SELECT ROW(${columnList(link.columns, 'c')})::text AS k FROM ${quoteTable(link.child)} c
       WHERE ${notNull} AND (${link.childRows ?? 'true'}) AND NOT EXISTS (
         SELECT FROM ${quoteTable(link.parentRelation)} p WHERE (${columnList(link.parentColumns, 'p')}) = (${columnList(link.columns, 'c')}))) orphan`,
  );
  return { rows: Number(rows[0]?.rows ?? 0), keys: rows[0]?.keys ?? [] };
}
