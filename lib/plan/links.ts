// Staging's foreign keys around the tables a run writes, and which of them
// the run must check for rows left pointing nowhere. Staging's own keys, not
// production's: they are the ones its rows must satisfy, and a staging-only
// table can reference a table the run replaces.
import { qualifiedName, type Catalog, type TableRef } from '../catalog/types.ts';
import type { SyncMode } from './mode.ts';
import { rowsUnderKey } from './partition-keys.ts';

export interface ForeignKeyLink {
  name: string;
  child: TableRef;
  columns: string[];
  /** For a key its partitions declare, a condition picking the rows it governs (partition-keys.ts); null: every row. */
  childRows: string | null;
  /** The table the catalog lists; a key to one of its partitions is one to it. */
  parent: TableRef;
  /** Where the key's parent rows live: the parent, or the partition the key names. */
  parentRelation: TableRef;
  parentColumns: string[];
}

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

export function describeLink(link: ForeignKeyLink): string {
  return `${qualifiedName(link.child)}.${link.columns.join(',')} -> ${qualifiedName(link.parent)}.${link.parentColumns.join(',')}`;
}

/** Staging's foreign keys with a selected table at either end, self-references aside (a table copied whole holds its own parents). */
export function linksTouching(staging: Catalog, selected: TableRef[]): ForeignKeyLink[] {
  const names = new Set(selected.map(qualifiedName));
  return staging.tables.flatMap((table) =>
    table.foreignKeys
      .map((fk) => ({
        name: fk.name,
        child: { schema: table.schema, name: table.name },
        columns: fk.columns,
        childRows: rowsUnderKey(fk),
        parent: { schema: fk.referencedSchema, name: fk.referencedTable },
        parentRelation: fk.referencedPartition ?? { schema: fk.referencedSchema, name: fk.referencedTable },
        parentColumns: fk.referencedColumns,
      }))
      .filter((link) => qualifiedName(link.child) !== qualifiedName(link.parent))
      .filter((link) => names.has(qualifiedName(link.child)) || names.has(qualifiedName(link.parent))),
  );
}

/**
 * The links whose rows the run may leave pointing nowhere, checked once the
 * rows are in. Not checked: a parent upserted under children the run leaves
 * alone (an upsert deletes nothing), and both ends from one snapshot of
 * production with the parent copied whole and either replaced along with its
 * children or upserted (staging's parents all stay). `emptied`: tables emptied with the
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
    // An upsert deletes no row: the staging rows it leaves alone keep their parents.
    if (parent?.mode === 'upsert' && !child) return false;
    const parentWhole = oneSnapshot && parent !== undefined && !parent.filtered;
    return !(parentWhole && child !== undefined && (child.mode === 'replace' || parent.mode === 'upsert'));
  });
}

/** Links from a table the run leaves alone to one it replaces: a replace would orphan their rows unless production has every parent they name. */
export function linksIntoReplaced(
  links: ForeignKeyLink[],
  written: ReadonlyMap<string, WrittenTable>,
  emptied: ReadonlySet<string>,
): ForeignKeyLink[] {
  return links.filter(
    (link) =>
      written.get(qualifiedName(link.parent))?.mode === 'replace' &&
      !written.has(qualifiedName(link.child)) &&
      !emptied.has(qualifiedName(link.child)),
  );
}

/**
 * Of the tables a run empties, those TRUNCATE refuses: one TRUNCATE must
 * list every table that references one it empties. So a table referenced from
 * outside the list is emptied otherwise (DELETE), and then so is every table
 * it references among the others: they are no longer truncated beside it.
 */
export function deletedNotTruncated(links: ForeignKeyLink[], emptied: TableRef[]): TableRef[] {
  const truncated = new Set(emptied.map(qualifiedName));
  for (let moved = true; moved; ) {
    moved = false;
    for (const link of links) {
      const [child, parent] = [qualifiedName(link.child), qualifiedName(link.parent)];
      if (truncated.has(parent) && !truncated.has(child) && child !== parent) {
        truncated.delete(parent);
        moved = true;
      }
    }
  }
  return emptied.filter((table) => !truncated.has(qualifiedName(table)));
}
