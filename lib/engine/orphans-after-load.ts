// Once a run's rows are in: the staging foreign keys it could have broken
// (plan/links.ts says which), checked in staging before COMMIT (over REST,
// once the rows are written). After a re-sync, only the child rows it could
// have orphaned are looked at: those it wrote and those naming a parent key
// it deleted.
import type { ForeignKeyLink } from '../catalog/links.ts';
import { qualifiedName, type TableRef } from '../catalog/types.ts';
import { linksToCheck, writtenTables, type FoundOrphans, type WrittenTable } from '../plan/links.ts';
import type { TablePlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';
import { askEach, type KeyValues } from '../transport/reads.ts';

/** What a re-sync did to a table it compared by key ranges (ranged-copy.ts), as the check after the load needs it. */
export interface ResyncedTable {
  keyColumns: string[];
  /** Which of its rows it wrote: none, some (by key), or every row (the table was read whole). */
  written: 'none' | 'some' | 'every';
  /** The keys of the staging rows it deleted, as their columns' text. */
  removed: KeyValues[];
}

/** The tables a run re-synced by key ranges, and the staging rows it wrote, written since it began (by xmin, writtenSince). */
export interface Resynced {
  tables: ReadonlyMap<string, ResyncedTable>;
  rowsWritten: string;
}

/**
 * Once the rows are in: every staging foreign key the run could have broken (links.ts says which), checked in staging;
 * not one added NOT VALID, along which production itself may hold rows without a parent.
 * A link between two tables the run re-synced without writing or deleting a row, or between one such and a table
 * outside the run, is as the run found it; along the others only the rows a re-sync could have orphaned are checked
 * (rowsAtRisk), not the whole child table.
 */
export async function orphansAfterLoad(
  staging: Database,
  links: ForeignKeyLink[],
  tables: TablePlan[],
  emptied: TableRef[],
  oneSnapshot: boolean,
  resynced: Resynced | null = null,
  /** Tables the run left without a row (replaced by none): no child row of theirs can point nowhere. */
  empty: ReadonlySet<string> = new Set(),
): Promise<FoundOrphans[]> {
  const written = writtenTables(tables);
  const untouched = (table: TableRef) => {
    const done = resynced?.tables.get(qualifiedName(table));
    return !written.has(qualifiedName(table)) || (done?.written === 'none' && !done.removed.length);
  };
  // A key added NOT VALID promises nothing of production's older rows, copied as they are: its orphans may be production's own.
  const candidates = linksToCheck(links, written, new Set(emptied.map(qualifiedName)), oneSnapshot).filter(
    (link) => link.validated && !empty.has(qualifiedName(link.child)) && !(untouched(link.child) && untouched(link.parent)),
  );
  // A parent's deleted keys, on the same child columns along several links, make one filter (over REST, one round trip).
  const filters = new Map<string, Promise<string>>();
  const deletedParents = (link: ForeignKeyLink, columns: string[], keys: KeyValues[]) => {
    const on = JSON.stringify([qualifiedName(link.parent), qualifiedName(link.child), columns]);
    let filter = filters.get(on);
    if (!filter) filters.set(on, (filter = staging.keyFilter(link.child, columns, keys)));
    return filter;
  };
  const restrict = async (link: ForeignKeyLink): Promise<ForeignKeyLink | null> => {
    const atRisk = resynced ? rowsAtRisk(link, written, resynced, deletedParents) : 'all';
    if (atRisk === 'all') return link;
    if (!atRisk.length) return null;
    const conditions = await Promise.all(atRisk);
    const either = conditions.length === 1 ? (conditions[0] as string) : conditions.map((condition) => `(${condition})`).join(' OR ');
    return { ...link, childRows: link.childRows ? `(${link.childRows}) AND (${either})` : either };
  };
  const restricted = await askEach(staging.asksTogether, candidates, restrict);
  const checked = restricted.filter((link): link is ForeignKeyLink => link !== null);
  const answers = await staging.orphans(checked);
  return checked.flatMap((link, index) => {
    const answer = answers[index];
    return answer?.rows ? [{ link, ...answer }] : [];
  });
}

/**
 * Of a link's child rows, the ones a re-sync could have left pointing nowhere: those it wrote into the child (by
 * xmin: no key list sent again), and those naming a parent key it deleted. 'all' where either table was written
 * otherwise (replaced, upserted, read whole), or where the child names its parent by other columns than the key,
 * which an update of the parent changes.
 */
function rowsAtRisk(
  link: ForeignKeyLink,
  written: ReadonlyMap<string, WrittenTable>,
  resynced: Resynced,
  deletedParents: (link: ForeignKeyLink, columns: string[], keys: KeyValues[]) => Promise<string>,
): 'all' | Promise<string>[] {
  const conditions: Promise<string>[] = [];
  if (written.has(qualifiedName(link.child))) {
    const child = resynced.tables.get(qualifiedName(link.child));
    if (!child || child.written === 'every') return 'all';
    if (child.written === 'some') conditions.push(Promise.resolve(resynced.rowsWritten));
  }
  if (written.has(qualifiedName(link.parent))) {
    const parent = resynced.tables.get(qualifiedName(link.parent));
    if (!parent) return 'all';
    const byKey = parent.keyColumns.length === link.parentColumns.length && parent.keyColumns.every((column) => link.parentColumns.includes(column));
    if (!byKey) return parent.written === 'none' && !parent.removed.length ? conditions : 'all';
    // The child's columns in the order of the parent's key, which the deleted keys are listed in.
    const columns = parent.keyColumns.map((column) => link.columns[link.parentColumns.indexOf(column)] as string);
    if (parent.removed.length) conditions.push(deletedParents(link, columns, parent.removed));
  }
  return conditions;
}
