// Reading the sync-target mark over a direct connection. No supasync function
// need be installed (a direct-only user marks with --mark-only), so the table
// is looked up in the catalog first: a production without it costs one round
// trip and leaves no error in its server log. The mark is readable by every
// role (its migration grants it), so a read-only production role sees it too.
import type pg from 'pg';
import type { SyncTargetMark } from '../reads.ts';
import { heldByPostgres } from './lease.ts';

export async function readSyncTargetPostgres(client: pg.ClientBase): Promise<SyncTargetMark> {
  // Looked up in pg_class, which every role may read: to_regclass() raises
  // instead of answering when the role may not use the schema.
  const { rows } = await client.query<{ present: boolean; readable: boolean }>(
    `SELECT c.oid IS NOT NULL AS present,
            CASE WHEN c.oid IS NULL THEN false
                 ELSE pg_catalog.has_schema_privilege(n.oid, 'USAGE') AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
            END AS readable
     FROM pg_catalog.pg_namespace n
     LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = 'sync_target'
     WHERE n.nspname = 'supasync_private'`,
  );
  const { present, readable } = rows[0] ?? { present: false, readable: false };
  if (!present) return { kind: 'unmarked' };
  if (!readable) {
    return {
      kind: 'unknown',
      why: 'this role may not read supasync_private.sync_target (GRANT USAGE ON SCHEMA supasync_private and SELECT on it to the role, or connect as its owner)',
    };
  }
  const mark = await client.query<{ marked_at: Date; marked_by: string | null }>('SELECT marked_at, marked_by FROM supasync_private.sync_target');
  const row = mark.rows[0];
  return row ? { kind: 'marked', markedAt: row.marked_at.toISOString(), markedBy: row.marked_by, heldBy: await heldByPostgres(client) } : { kind: 'unmarked' };
}
