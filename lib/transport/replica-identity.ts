// A staging table that one of staging's publications sends the updates and
// deletes of (Supabase Realtime's supabase_realtime, a FOR ALL TABLES one)
// needs a replica identity: without one (keyed by a UNIQUE NOT NULL column
// rather than a primary key, or REPLICA IDENTITY NOTHING) PostgreSQL refuses
// every UPDATE and DELETE of it, an upsert's ON CONFLICT DO UPDATE included.
// Both paths ask staging (supasync_private.unidentified_published) and refuse
// before writing: over REST a replace would otherwise empty the table first.
import { DatabaseError } from '../errors.ts';
import type { TableLoad } from './load.ts';

/** What supasync_private.unidentified_published answers for one table or partition. */
export interface UnidentifiedPublished {
  /** The table of the load, schema.name as qualifiedName writes it. */
  of: string;
  /** It, or the partition of it without an identity, quoted. */
  table: string;
  publication: string;
  /** A unique index over NOT NULL columns that could serve, if one exists. */
  index: string | null;
}

/** The tables a load would UPDATE or DELETE rows of: every mode's but a direct replace (COPY) and insert-missing (ON CONFLICT DO NOTHING). */
function updates(load: Pick<TableLoad, 'mode'>, direct: boolean): boolean {
  return load.mode !== 'insert-missing' && !(direct && load.mode === 'replace');
}

export function refuseUnidentifiedPublished(found: UnidentifiedPublished[], tables: Pick<TableLoad, 'table' | 'mode'>[], direct: boolean): void {
  const writing = new Set(tables.filter((load) => updates(load, direct)).map((load) => `${load.table.schema}.${load.table.name}`));
  const refused = found.filter((table) => writing.has(table.of));
  if (!refused.length) return;
  throw new DatabaseError(
    "Staging's publications send the updates and deletes of tables with no replica identity (no primary key), " +
      'so PostgreSQL would refuse every UPDATE and DELETE of them; nothing was changed:\n' +
      refused
        .map(
          (table) =>
            `  ${table.table} (publication ${table.publication}): ALTER TABLE ${table.table} REPLICA IDENTITY ` +
            `${table.index ? `USING INDEX "${table.index.replaceAll('"', '""')}"` : 'FULL'};`,
        )
        .join('\n') +
      "\nRun that in staging's SQL editor (REPLICA IDENTITY FULL works for any table), or leave the table out of the publication or of this run (--exclude).",
  );
}
