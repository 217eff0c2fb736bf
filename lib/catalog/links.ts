// Staging's foreign keys around the tables a run writes, as links from child
// rows to parent rows. Staging's own keys, not production's: they are the
// ones its rows must satisfy, and a staging-only table can reference a table
// the run replaces. The plan chooses which to check (plan/links.ts); the
// transports empty tables and find orphans along them.
import { rowsUnderKey } from './partition-keys.ts';
import { isValidated, qualifiedName, type Catalog, type TableRef } from './types.ts';

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
  /** False for a key added NOT VALID: staging's rows from before it, and production's copied as they are, may name no parent. */
  validated: boolean;
  /**
   * Production holds its rows to the same key, validated: from the same columns to the same parent columns. A key
   * staging alone has (a migration ahead) lets production's rows name parents that are nowhere, whole tables copied.
   */
  heldInProduction: boolean;
  /** Production has the child table (in the catalog it read): false for a table of staging's own, whose rows no copy replaces. */
  childInProduction: boolean;
  /** ON UPDATE CASCADE, SET NULL or SET DEFAULT: writing a parent's key anew (other bytes, an equal value) rewrites this child's rows. */
  rewritesChildOnUpdate: boolean;
  /** ON DELETE CASCADE, SET NULL or SET DEFAULT: deleting a parent deletes or rewrites this child's rows. */
  rewritesChildOnDelete: boolean;
}

export function describeLink(link: ForeignKeyLink): string {
  return `${qualifiedName(link.child)}.${link.columns.join(',')} -> ${qualifiedName(link.parent)}.${link.parentColumns.join(',')}`;
}

/**
 * Staging's foreign keys with a selected table at either end, its references
 * to itself among them: a table copied whole holds its own parents (the plan
 * checks none of those), one copied in part (a `where`, --with-parents) may not.
 */
export function linksTouching(staging: Catalog, selected: TableRef[], production: Catalog): ForeignKeyLink[] {
  const names = new Set(selected.map(qualifiedName));
  const heldInProduction = new Set(
    production.tables.flatMap((table) =>
      table.foreignKeys.filter(isValidated).map((fk) => keySignature({ schema: table.schema, name: table.name }, fk.columns, fk, fk.referencedColumns)),
    ),
  );
  const productionTables = new Set(production.tables.map(qualifiedName));
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
        validated: isValidated(fk),
        heldInProduction: heldInProduction.has(keySignature({ schema: table.schema, name: table.name }, fk.columns, fk, fk.referencedColumns)),
        childInProduction: productionTables.has(qualifiedName(table)),
        rewritesChildOnUpdate: / ON UPDATE (CASCADE|SET NULL|SET DEFAULT)\b/.test(fk.definition),
        rewritesChildOnDelete: / ON DELETE (CASCADE|SET NULL|SET DEFAULT)\b/.test(fk.definition),
      }))
      .filter((link) => names.has(qualifiedName(link.child)) || names.has(qualifiedName(link.parent))),
  );
}

/** A foreign key as both sides can compare it: child and its columns, parent and its columns. */
function keySignature(child: TableRef, columns: string[], parent: { referencedSchema: string; referencedTable: string }, parentColumns: string[]): string {
  return JSON.stringify([qualifiedName(child), columns, parent.referencedSchema, parent.referencedTable, parentColumns]);
}

/**
 * Of the tables a run empties, those TRUNCATE refuses: one TRUNCATE must
 * list every table that references one it empties. So a table referenced from
 * outside the list is emptied otherwise (DELETE), and then so is every table
 * it references among the others: they are no longer truncated beside it.
 */
export function deletedNotTruncated(links: ForeignKeyLink[], emptied: TableRef[]): TableRef[] {
  const truncated = new Set(emptied.map(qualifiedName));
  for (let moved = true; moved;) {
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
