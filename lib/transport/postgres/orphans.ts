// Rows whose foreign key finds no parent, over a direct connection; over
// REST the same query is supasync_orphans. MATCH SIMPLE, as PostgreSQL
// checks a foreign key by default: a key with a NULL in it references nothing.
// Every key in one statement: to a remote project each is a round trip.
import type pg from 'pg';
import type { ForeignKeyLink } from '../../plan/links.ts';
import { columnList, quoteIdent, quoteTable } from '../../sql/ident.ts';

export interface Orphans {
  rows: number;
  /** A few of the keys that find no parent, as ROW(...)::text. */
  keys: string[];
}

const ORPHAN_KEYS_SHOWN = 5;

/** One answer per link, in the links' order. */
export async function orphansPostgres(client: pg.ClientBase, links: ForeignKeyLink[]): Promise<Orphans[]> {
  if (!links.length) return [];
  const { rows } = await client.query<{ link: number; rows: string; keys: string[] | null }>(
    links
      .map((link, index) => {
        const notNull = link.columns.map((column) => `c.${quoteIdent(column)} IS NOT NULL`).join(' AND ');
        return `SELECT ${index} AS link, count(*) AS rows, (array_agg(DISTINCT k ORDER BY k))[1:${ORPHAN_KEYS_SHOWN}] AS keys FROM (
           SELECT ROW(${columnList(link.columns, 'c')})::text AS k FROM ${quoteTable(link.child)} c
           WHERE ${notNull} AND (${link.childRows ?? 'true'}) AND NOT EXISTS (
             SELECT FROM ${quoteTable(link.parentRelation)} p WHERE (${columnList(link.parentColumns, 'p')}) = (${columnList(link.columns, 'c')}))) orphan`;
      })
      .join('\nUNION ALL '),
  );
  const byLink = new Map(rows.map((row) => [Number(row.link), { rows: Number(row.rows), keys: row.keys ?? [] }]));
  return links.map((_, index) => byLink.get(index) ?? { rows: 0, keys: [] });
}
