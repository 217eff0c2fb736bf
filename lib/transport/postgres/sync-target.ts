// Reading the sync-target mark over a direct connection. No supasync function
// need be installed (a direct-only user marks with --mark-only), so the table
// is looked up in the catalog first (private-table.ts). The mark is readable by every
// role (its migration grants it), so a read-only production role sees it too.
import type pg from 'pg';
import type { SyncTargetMark } from '../reads.ts';
import { heldByPostgres } from './lease.ts';
import { privateTable } from './private-table.ts';

export async function readSyncTargetPostgres(client: pg.ClientBase): Promise<SyncTargetMark> {
  const { present, readable } = await privateTable(client, 'sync_target');
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
