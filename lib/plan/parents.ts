// --with-parents: the rows a targeted sync's tables reference, in tables the
// user did not select, come along, and so do the rows those reference, up
// the chain. Only the referenced rows: each parent is filtered to the keys its
// children hold, as a subquery on the children (with their own filters), so
// production answers it in the same snapshot as the copy. A parent that
// references itself (an employee's manager, a message's thread) brings the
// rows its rows name too, up its own chain, or the first of them would point
// nowhere.
import { findTable, qualifiedName, type Catalog, type Table, type TableRef } from '../catalog/types.ts';
import { columnList, quoteOwnRows } from '../sql/ident.ts';
import { bothFilters, rowsUnderKey } from '../catalog/partition-keys.ts';
import { optionsFor, type Selection, type TableOptions } from './select.ts';

export function selectionWithParents(production: Catalog, selection: Selection, selected: TableRef[]): Selection {
  const chosen = new Set(selected.map(qualifiedName));

  // Every table reachable from the selection through foreign keys, with the
  // foreign keys that point at it from inside that set.
  const selectedByName = new Map(selected.map((table) => [qualifiedName(table), table]));
  const referencedBy = new Map<string, { child: TableRef; columns: string[]; parentColumns: string[]; rows: string | null }[]>();
  const selfReferences = new Map<string, SelfReference[]>();
  const parents = new Map<string, TableRef>();
  const queue: TableRef[] = [...selected];
  const seen = new Set(chosen);
  while (queue.length) {
    const child = queue.shift() as TableRef;
    const table = findTable(production, child);
    for (const fk of table?.foreignKeys ?? []) {
      const parent = { schema: fk.referencedSchema, name: fk.referencedTable };
      const parentName = qualifiedName(parent);
      if (parentName === qualifiedName(child)) {
        if (!chosen.has(parentName))
          selfReferences.set(parentName, [...(selfReferences.get(parentName) ?? []), { columns: fk.columns, parentColumns: fk.referencedColumns }]);
        continue;
      }
      if (chosen.has(parentName)) continue;
      const list = referencedBy.get(parentName) ?? [];
      list.push({ child, columns: fk.columns, parentColumns: fk.referencedColumns, rows: rowsUnderKey(fk) });
      referencedBy.set(parentName, list);
      if (!seen.has(parentName)) {
        seen.add(parentName);
        parents.set(parentName, parent);
        queue.push(parent);
      }
    }
  }

  const filters = new Map<string, string>();
  const filterOf = (name: string, path: Set<string>): string => {
    const own = selectedByName.get(name);
    if (own) return optionsFor(selection, own).where ?? 'true';
    const known = filters.get(name);
    if (known) return known;
    // A loop among parents: take the whole table rather than miss a row.
    if (path.has(name)) return 'true';
    const next = new Set(path).add(name);
    const clauses = (referencedBy.get(name) ?? []).map(
      ({ child, columns, parentColumns, rows }) =>
        `ROW(${columnList(parentColumns)}) IN (SELECT ${columnList(columns)} FROM ${quoteOwnRows(child, Boolean(findTable(production, child)?.inheritedBy?.length))} WHERE ${bothFilters(filterOf(qualifiedName(child), next), rows)})`,
    );
    const referenced = clauses.length ? clauses.map((clause) => `(${clause})`).join(' OR ') : 'true';
    const parent = parents.get(name);
    const table = parent && findTable(production, parent);
    const filter = table ? withOwnAncestors(referenced, table, selfReferences.get(name) ?? []) : referenced;
    filters.set(name, filter);
    return filter;
  };

  const options: Record<string, TableOptions> = { ...selection.options };
  for (const parent of referencedBy.keys()) {
    // Parents are merged into staging, never emptied: the user did not ask to replace them.
    options[parent] = { ...options[parent], mode: 'upsert', where: filterOf(parent, new Set()), referencedRows: true };
  }
  return {
    ...selection,
    tables: [...selected.map(qualifiedName), ...referencedBy.keys()],
    exclude: undefined,
    options,
  };
}

/** A foreign key of a table to itself: its columns, and those they name. */
interface SelfReference {
  columns: string[];
  parentColumns: string[];
}

/**
 * The rows `filter` picks and, up the table's references to itself, every
 * row they name, and every row those name: a recursive walk that UNION
 * stops at a loop. Each reference is one `IN` of an uncorrelated subquery,
 * which PostgreSQL runs once for the whole read, not once a row.
 */
function withOwnAncestors(filter: string, table: Table, references: SelfReference[]): string {
  if (!references.length || filter === 'true') return filter;
  const own = quoteOwnRows(table, Boolean(table.inheritedBy?.length));
  const named = [...new Set(references.flatMap((reference) => reference.columns))];
  const up = references.map((reference) => `ROW(${columnList(reference.parentColumns, 's')}) = ROW(${columnList(reference.columns, 'n')})`).join(' OR ');
  const walk =
    `WITH RECURSIVE needed AS (SELECT ${columnList(named, 's')} FROM ${own} s WHERE ${filter}` +
    ` UNION SELECT ${columnList(named, 's')} FROM ${own} s JOIN needed n ON ${up})`;
  const ancestors = references.map(
    (reference) => `ROW(${columnList(reference.parentColumns)}) IN (${walk} SELECT ${columnList(reference.columns)} FROM needed)`,
  );
  return [filter, ...ancestors].map((clause) => `(${clause})`).join(' OR ');
}
