// Reading the sync-target mark over a direct connection. No supasync function
// need be installed (a direct-only user marks with --mark-only), so the table
// is looked up in the catalog first (private-table.ts). The mark is readable by every
// role (its migration grants it), so a read-only production role sees it too.
import type pg from 'pg';
import type { SyncTargetMark } from '../reads.ts';
import { heldByPostgres } from './lease.ts';
import { privateTable } from './private-table.ts';
import { DatabaseError } from '../../errors.ts';
import { commandLine } from '../../invocation.ts';

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

/**
 * Inside the write transaction, before its first write: the mark read when the run began is still there, and
 * stays to COMMIT (a DELETE of it waits for the run). A role that may not lock it (FOR KEY SHARE needs UPDATE on
 * the table) still has it read again, in the transaction.
 */
export async function holdSyncTargetMarkPostgres(client: pg.ClientBase): Promise<void> {
  await client.query('SAVEPOINT supasync_mark');
  let marked: number;
  try {
    marked = (await client.query('SELECT FROM supasync_private.sync_target FOR KEY SHARE')).rowCount ?? 0;
    await client.query('RELEASE SAVEPOINT supasync_mark');
  } catch (error) {
    if ((error as { code?: unknown }).code !== '42501') throw error;
    await client.query('ROLLBACK TO SAVEPOINT supasync_mark');
    marked = (await client.query('SELECT FROM supasync_private.sync_target')).rowCount ?? 0;
  }
  if (!marked) {
    throw new DatabaseError(
      "Staging's sync-target mark was removed since this run read it (supasync_private.sync_target is empty now): nothing is written " +
        'to a database that is not marked. Nothing was changed. If staging is still meant to be written, mark it again: ' +
        `${commandLine('install-rpcs', '--staging --mark-only')}.`,
    );
  }
}
