// What production's reader must be able to see before a run starts: every row
// of every table it copies, and where the sequences it sets stand. A table it may not read would fail part way, after
// a REST replace had already emptied staging's copy; one that row-level
// security filters would be copied short, silently.
import { findTable, qualifiedName, type Catalog, type Table } from '../catalog/types.ts';
import { DatabaseError } from '../errors.ts';
import { identAsWritten, quoteIdent, quoteTable } from '../sql/ident.ts';
import type { SyncPlan } from '../plan/types.ts';

/** Why the role may not read it, where the catalog says (functions version 25), and the GRANTs that let it. */
function whatItLacks(table: Table, role: string): { why: string; grants: string[] } {
  const columns = table.unreadableColumns;
  const usage = `GRANT USAGE ON SCHEMA ${quoteIdent(table.schema)} TO ${quoteIdent(role)};`;
  const select = `GRANT SELECT ON ${quoteTable(table)} TO ${quoteIdent(role)};`;
  if (columns === undefined) return { why: 'no SELECT privilege on the table or its schema', grants: [select] };
  if (columns === null || !columns.length) return { why: `no USAGE on schema ${table.schema}`, grants: [usage] };
  const lacked =
    columns.length === table.columns.length
      ? 'no SELECT on the table'
      : `no SELECT on its column${columns.length === 1 ? '' : 's'} ${columns.map(identAsWritten).join(', ')}`;
  // Functions before version 26 do not say whether the schema may be used as well.
  return table.schemaUsable === false
    ? { why: `no USAGE on schema ${table.schema}, and ${lacked}`, grants: [usage, select] }
    : { why: lacked, grants: [select] };
}

export function refuseUnreadableProduction(catalog: Catalog, plan: SyncPlan): void {
  const planned = plan.tables.map((t) => findTable(catalog, t.table)).filter((table) => table !== undefined);
  const unreadable = planned.filter((table) => !table.readable).sort((a, b) => qualifiedName(a).localeCompare(qualifiedName(b)));
  if (unreadable.length) {
    const lacks = unreadable.map((table) => ({ table, ...whatItLacks(table, catalog.role) }));
    throw new DatabaseError(
      `${catalog.role}, the role production is read as, may not read ${lacks.map(({ table, why }) => `${qualifiedName(table)} (${why})`).join(', ')}: ` +
        "the copy would stop part way. Grant it in production's SQL editor:\n" +
        [...new Set(lacks.flatMap(({ grants }) => grants))].map((grant) => `  ${grant}`).join('\n') +
        '\nor leave those tables out with --exclude. Nothing was changed.',
    );
  }
  const sequences = plan.sequences
    .filter((sequence) => !sequence.readable)
    .map((sequence) => quoteTable(sequence.sequence))
    .sort();
  if (sequences.length) {
    throw new DatabaseError(
      `${catalog.role}, the role production is read as, may not read where ${sequences.join(', ')} ${sequences.length === 1 ? 'stands' : 'stand'} (no SELECT privilege on the sequence): ` +
        "staging's would be left behind its copied rows. Grant it in production's SQL editor:\n" +
        sequences.map((name) => `  GRANT SELECT ON SEQUENCE ${name} TO ${quoteIdent(catalog.role)};`).join('\n') +
        '\nor leave the tables that use them out with --exclude. Nothing was changed.',
    );
  }
  const hidden = planned
    .filter((table) => table.rlsHidesRows)
    .map(qualifiedName)
    .sort();
  if (hidden.length) {
    throw new DatabaseError(
      `Row-level security would hide rows of ${hidden.join(', ')} from ${catalog.role}, the role production is read as ` +
        '(it neither bypasses RLS nor owns them): the copy would be silently short. Read production as a role with BYPASSRLS ' +
        "(on Supabase: postgres; or ALTER ROLE <role> BYPASSRLS), or over REST with supasync's functions installed by such a role.",
    );
  }
}
