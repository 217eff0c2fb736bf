// Rows whose foreign key finds no parent, over a direct connection: the query
// supasync_orphans runs over REST (supasync_private.orphans_query), every
// key in one statement: to a remote project each is a round trip.
import type pg from 'pg';
import type { ForeignKeyLink } from '../../plan/links.ts';
import { runBuilt } from '../../sql/shared.ts';

export interface Orphans {
  rows: number;
  /** A few of the keys that find no parent, as ROW(...)::text. */
  keys: string[];
}

/** One answer per link, in the links' order. */
export async function orphansPostgres(client: pg.ClientBase, links: ForeignKeyLink[]): Promise<Orphans[]> {
  if (!links.length) return [];
  return runBuilt<Orphans[]>(client, 'orphans_query', [JSON.stringify(links.map(orphanLinkArgument))]);
}

/** A link as supasync_private.orphans_query takes it, on either path. */
export function orphanLinkArgument(link: ForeignKeyLink) {
  return {
    child_schema: link.child.schema,
    child_table: link.child.name,
    columns: link.columns,
    child_rows: link.childRows,
    parent_schema: link.parentRelation.schema,
    parent_table: link.parentRelation.name,
    parent_columns: link.parentColumns,
  };
}
