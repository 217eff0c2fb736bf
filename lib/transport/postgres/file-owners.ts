// Whether this connection's role may read (production) or set (staging)
// whom files belong to in storage.objects: a role made to read the app's
// tables alone, or one under the table's row-level security (which would
// hide rows from the reads and make the updates touch none), leaves owners
// alone with the reason, rather than failing a run whose files are copied.
import type pg from 'pg';
import type { Side } from '../../config/env.ts';

export async function fileOwnersUnavailable(client: pg.ClientBase, side: Side): Promise<string | null> {
  const needs = side === 'staging' ? 'SELECT, UPDATE' : 'SELECT';
  const { rows } = await client.query<{ found: boolean; allowed: boolean; hidden: boolean; role: string }>(
    `SELECT t.relation IS NOT NULL AS found,
            t.relation IS NOT NULL AND pg_catalog.has_table_privilege(t.relation, 'SELECT')
              AND (NOT $1::boolean OR pg_catalog.has_table_privilege(t.relation, 'UPDATE')) AS allowed,
            t.relation IS NOT NULL AND pg_catalog.row_security_active(t.relation) AS hidden,
            current_user AS role
     FROM (SELECT pg_catalog.to_regclass('storage.objects') AS relation) t`,
    [side === 'staging'],
  );
  const state = rows[0]!;
  if (!state.found) return `${side} has no storage.objects`;
  if (!state.allowed) return `${side}'s role ${state.role} may not ${side === 'staging' ? 'update' : 'read'} storage.objects (GRANT ${needs})`;
  if (state.hidden) return `row-level security applies to ${state.role}, ${side}'s role, on storage.objects (use one with BYPASSRLS, as postgres on Supabase)`;
  return null;
}
