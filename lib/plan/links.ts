// Which of staging's foreign keys around the tables a run writes
// (catalog/links.ts) the run must check for rows left pointing nowhere.
import type { ForeignKeyLink } from '../catalog/links.ts';
import { qualifiedName } from '../catalog/types.ts';
import { keepsStagingRows, type SyncMode } from './mode.ts';
import type { TablePlan } from './types.ts';

/** Rows of a link's child whose key finds no parent: how many, and a few of their keys as ROW(...)::text. */
export interface FoundOrphans {
  link: ForeignKeyLink;
  rows: number;
  keys: string[];
}

/** Where a link's rows are from after a run: what the engine knows of each end. */
export interface WrittenTable {
  mode: SyncMode;
  /** Only some of production's rows are copied (a `where`, or --with-parents' referenced rows). */
  filtered: boolean;
}

/** Where each table a run writes gets its rows, by qualified name. */
export function writtenTables(tables: TablePlan[]): Map<string, WrittenTable> {
  return new Map(tables.map((table) => [qualifiedName(table.table), { mode: table.mode, filtered: table.rowFilter !== null }]));
}

/**
 * The links whose rows the run may leave pointing nowhere, checked once the
 * rows are in. Not checked: a parent upserted under children the run leaves
 * alone (an upsert deletes nothing), and both ends from one snapshot of
 * production with the parent copied whole and either replaced or mirrored
 * along with its children or upserted (staging's parents all stay), where production holds its rows to the
 * same key (a key staging alone has is checked wherever the run writes its child). `emptied`: tables emptied with the
 * run's (sign-in state), which hold no rows to orphan.
 */
export function linksToCheck(
  links: ForeignKeyLink[],
  written: ReadonlyMap<string, WrittenTable>,
  emptied: ReadonlySet<string>,
  oneSnapshot: boolean,
): ForeignKeyLink[] {
  return links.filter((link) => {
    const [child, parent] = [written.get(qualifiedName(link.child)), written.get(qualifiedName(link.parent))];
    if ((!child && !parent) || emptied.has(qualifiedName(link.child))) return false;
    // Production's rows are held to no such key there: whatever is copied whole may name parents that are nowhere.
    if (!link.heldInProduction && child) return true;
    // An upsert (or insert-missing) deletes no row: the staging rows it leaves alone keep their parents.
    if (parent && keepsStagingRows(parent.mode) && !child) return false;
    // A replaced or mirrored child holds production's rows alone, whose parents a whole parent has. An incremental
    // one holds what its column told: a row a foreign key's action rewrote in production without moving it may still
    // name a parent the run deletes (cascaded-children.ts compares such children whole; this checks that it did).
    const parentWhole = oneSnapshot && parent !== undefined && !parent.filtered;
    const productionAlone = child !== undefined && (child.mode === 'replace' || child.mode === 'mirror');
    return !(parentWhole && child !== undefined && (productionAlone || keepsStagingRows(parent.mode)));
  });
}

/** Links from a table the run leaves alone to one it replaces or mirrors: that would orphan their rows unless production has every parent they name. */
export function linksIntoReplaced(links: ForeignKeyLink[], written: ReadonlyMap<string, WrittenTable>, emptied: ReadonlySet<string>): ForeignKeyLink[] {
  return links.filter((link) => {
    const parent = written.get(qualifiedName(link.parent));
    return parent !== undefined && !keepsStagingRows(parent.mode) && !written.has(qualifiedName(link.child)) && !emptied.has(qualifiedName(link.child));
  });
}
