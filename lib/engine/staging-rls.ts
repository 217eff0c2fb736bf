// Staging's side of production-reads.ts' row-level security check. Where
// RLS applies to the role staging is written and read as, a copy is refused
// row by row (or COPY refuses the table), and a comparison sees only the
// rows the policies show: verify and a mirror would call staging equal with
// rows hidden from them. Refused before anything is read or written.
import { findTable, qualifiedName, type Catalog } from '../catalog/types.ts';
import { DatabaseError } from '../errors.ts';
import { quoteIdent } from '../sql/ident.ts';
import type { SyncPlan } from '../plan/types.ts';

export function refuseHiddenStagingRows(staging: Catalog, plan: SyncPlan): void {
  const hidden = plan.tables
    .map((planned) => findTable(staging, planned.table))
    .filter((table) => table?.rlsHidesRows)
    .map((table) => qualifiedName(table!))
    .sort();
  if (!hidden.length) return;
  throw new DatabaseError(
    `Row-level security applies to ${staging.role}, the role staging is written and read as, on ${hidden.join(', ')} ` +
      '(it neither bypasses RLS nor owns them, or they FORCE it): rows it may not write would be refused, and rows its policies hide ' +
      'would be missed by every comparison. Use a role with BYPASSRLS (on Supabase: postgres, which has it; or ' +
      `ALTER ROLE ${quoteIdent(staging.role)} BYPASSRLS), or leave those tables out with --exclude. Nothing was changed.`,
  );
}
