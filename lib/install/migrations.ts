// Putting supasync's SQL functions into a project: the read-only catalog
// functions anywhere, the write functions in staging only, marked as a sync
// target. The SQL is the migration files themselves.
import type pg from 'pg';
import { readMigration } from '../catalog/query.ts';

export const MARK_SYNC_TARGET = `INSERT INTO supasync_private.sync_target (marked_by) VALUES (current_user) ON CONFLICT (only_row) DO NOTHING;`;

export function installSql(target: 'production' | 'staging'): string {
  const parts = [readMigration('_supasync_catalog')];
  if (target === 'staging') {
    parts.push(
      readMigration('_supasync_write'),
      readMigration('_supasync_write_checks'),
      readMigration('_supasync_write_cycle'),
      readMigration('_supasync_backup'),
      readMigration('_supasync_restore'),
    );
  }
  const body = parts.map(({ file, sql }) => `-- supabase/migrations/${file}\n${sql}`).join('\n');
  return target === 'staging' ? `${body}\n-- mark this database as a sync target\n${MARK_SYNC_TARGET}\n` : body;
}

export async function installMigrations(client: pg.ClientBase, target: 'production' | 'staging'): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(installSql(target));
    // PostgREST learns about new functions when told to reload its schema cache.
    await client.query(`NOTIFY pgrst, 'reload schema'`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
