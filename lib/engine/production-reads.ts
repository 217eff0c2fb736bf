// What production's reader must be able to see before a run starts: every row
// of every table it copies. A table it may not read would fail part way, after
// a REST replace had already emptied staging's copy; one that row-level
// security filters would be copied short, silently.
import { findTable, qualifiedName, type Catalog } from '../catalog/types.ts';
import { DatabaseError } from '../errors.ts';
import type { SyncPlan } from '../plan/plan.ts';
import type { Database } from '../transport/database.ts';

export function refuseUnreadableProduction(catalog: Catalog, plan: SyncPlan, production: Database): void {
  const planned = plan.tables.map((t) => findTable(catalog, t.table)).filter((table) => table !== undefined);
  const unreadable = planned.filter((table) => !table.readable).map(qualifiedName).sort();
  if (unreadable.length) {
    throw new DatabaseError(
      `${production.role}, the role production is read as, may not read ${unreadable.join(', ')} (no SELECT privilege on the table or its schema): ` +
        "the copy would stop part way. Grant it in production's SQL editor:\n" +
        unreadable.map((name) => `  GRANT SELECT ON ${name} TO ${production.role};`).join('\n') +
        '\n(new Supabase projects no longer grant new tables to service_role), or leave those tables out with --exclude. Nothing was changed.',
    );
  }
  const hidden = planned.filter((table) => table.rlsHidesRows).map(qualifiedName).sort();
  if (hidden.length) {
    throw new DatabaseError(
      `Row-level security would hide rows of ${hidden.join(', ')} from ${production.role}, the role production is read as ` +
        '(it neither bypasses RLS nor owns them): the copy would be silently short. Read production as a role with BYPASSRLS ' +
        '(on Supabase: postgres; or ALTER ROLE <role> BYPASSRLS), or over REST with the service_role key.',
    );
  }
}
