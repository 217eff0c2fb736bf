// Rows left pointing nowhere. With foreign-key checks off for the load (the
// replica role), staging would accept a child whose parent a `where`
// filtered out, or a replace of a parent that staging rows outside the run
// still reference; the copy would look complete. Before writing, a replace
// is checked against the staging rows it would orphan; once the rows are in,
// every staging foreign key the run could have broken is checked, and the
// run fails, rolled back where it can be, unless --allow-orphans.
import { qualifiedName, type TableRef } from '../catalog/types.ts';
import { describeLink, type ForeignKeyLink } from '../catalog/links.ts';
import { linksIntoReplaced, linksToCheck, type FoundOrphans, type WrittenTable } from '../plan/links.ts';
import type { TablePlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';
import type { Masker } from '../mask/apply.ts';
import { maskedCounts } from './parents.ts';

function writtenTables(tables: TablePlan[]): Map<string, WrittenTable> {
  return new Map(tables.map((table) => [qualifiedName(table.table), { mode: table.mode, filtered: table.rowFilter !== null }]));
}

/**
 * Before writing: the staging rows outside the run that reference a table it
 * replaces, and name a row production (as filtered) does not have. Only
 * those block a replace: an empty referencing table, or one whose every row
 * finds its parent again, does not.
 */
export async function orphansOfReplace(
  production: Database,
  staging: Database,
  links: ForeignKeyLink[],
  tables: TablePlan[],
  emptied: TableRef[],
  masker: Masker | null = null,
): Promise<FoundOrphans[]> {
  const found: FoundOrphans[] = [];
  const emptiedNames = new Set(emptied.map(qualifiedName));
  for (const link of linksIntoReplaced(links, writtenTables(tables), emptiedNames)) {
    const references = await staging.references(link.child, link.columns, link.childRows);
    const keys = Object.keys(references);
    if (!keys.length) continue;
    const parent = tables.find((table) => qualifiedName(table.table) === qualifiedName(link.parent));
    // Staging's rows hold the masked key: production's keys are masked here and compared, production never asked for a masked one.
    const rowMask = masker?.forColumns(parent?.mask, link.parentColumns) ?? null;
    const missing = rowMask
      ? await missingMaskedKeys(production, link, keys, parent?.rowFilter ?? null, rowMask)
      : await production.missingKeys(link.parentRelation, link.parentColumns, keys, parent?.rowFilter ?? null);
    if (!missing.length) continue;
    found.push({ link, rows: missing.reduce((sum, key) => sum + (references[key] ?? 0), 0), keys: missing.slice(0, 5) });
  }
  return found;
}

/** Of staging's keys, those no production row has once masked: production's keys of the parent are all read (memory grows with them). */
async function missingMaskedKeys(
  production: Database,
  link: ForeignKeyLink,
  keys: string[],
  rowFilter: string | null,
  mask: (row: (string | null)[]) => (string | null)[],
): Promise<string[]> {
  const present = maskedCounts(await production.references(link.parentRelation, link.parentColumns, rowFilter), mask);
  return keys.filter((key) => present[key] === undefined).sort();
}

/** What a re-sync did to a table it compared by key ranges (ranged-copy.ts), as the check after the load needs it. */
export interface ResyncedTable {
  keyColumns: string[];
  /** Which of its rows it wrote: none, some (by key), or every row (the table was read whole). */
  written: 'none' | 'some' | 'every';
  /** The keys of the staging rows it deleted, as their columns' text. */
  removed: string[][];
}

/** The tables a run re-synced by key ranges, and the staging rows it wrote, written since it began (by xmin, writtenSince). */
export interface Resynced {
  tables: ReadonlyMap<string, ResyncedTable>;
  rowsWritten: string;
}

/**
 * Once the rows are in: every staging foreign key the run could have broken (links.ts says which), checked in staging.
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
): Promise<FoundOrphans[]> {
  const written = writtenTables(tables);
  const untouched = (table: TableRef) => {
    const done = resynced?.tables.get(qualifiedName(table));
    return !written.has(qualifiedName(table)) || (done?.written === 'none' && !done.removed.length);
  };
  const candidates = linksToCheck(links, written, new Set(emptied.map(qualifiedName)), oneSnapshot).filter(
    (link) => !(untouched(link.child) && untouched(link.parent)),
  );
  // A parent's deleted keys, on the same child columns along several links, make one filter (over REST, one round trip).
  const filters = new Map<string, Promise<string>>();
  const deletedParents = (link: ForeignKeyLink, columns: string[], keys: string[][]) => {
    const on = JSON.stringify([qualifiedName(link.parent), qualifiedName(link.child), columns]);
    let filter = filters.get(on);
    if (!filter) filters.set(on, (filter = staging.keyFilter(link.child, columns, keys)));
    return filter;
  };
  const restricted = await Promise.all(
    candidates.map(async (link) => {
      const atRisk = resynced ? rowsAtRisk(link, written, resynced, deletedParents) : 'all';
      if (atRisk === 'all') return link;
      if (!atRisk.length) return null;
      const conditions = await Promise.all(atRisk);
      const either = conditions.length === 1 ? (conditions[0] as string) : conditions.map((condition) => `(${condition})`).join(' OR ');
      return { ...link, childRows: link.childRows ? `(${link.childRows}) AND (${either})` : either };
    }),
  );
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
  deletedParents: (link: ForeignKeyLink, columns: string[], keys: string[][]) => Promise<string>,
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

export function describeOrphans(found: FoundOrphans[]): string[] {
  return found.map(
    ({ link, rows, keys }) => `  ${rows} row(s) of ${qualifiedName(link.child)} (${describeLink(link)}, ${link.name}) find no parent, e.g. ${keys.join(' ')}`,
  );
}

export const ORPHAN_WAYS_OUT = [
  'Ways out:',
  '  copy the referencing tables too (--tables, or their schema in --schemas), so both ends come from production',
  '  --mode upsert for the parents: staging keeps its own rows of them',
  '  drop or widen the `where` of a parent in supasync.config.json',
  '  --allow-orphans  write anyway, leaving those rows pointing nowhere',
];
