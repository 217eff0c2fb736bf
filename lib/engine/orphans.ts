// Rows left pointing nowhere. With foreign-key checks off for the load (the
// replica role), staging would accept a child whose parent a `where`
// filtered out, or a replace of a parent that staging rows outside the run
// still reference; the copy would look complete. Before writing, a replace
// is checked against the staging rows it would orphan (here); once the rows
// are in, every staging foreign key the run could have broken is checked
// (orphans-after-load.ts), and the run fails, rolled back where it can be,
// unless --allow-orphans.
import { countOf } from '../counts.ts';
import { qualifiedName, type TableRef } from '../catalog/types.ts';
import { describeLink, type ForeignKeyLink } from '../catalog/links.ts';
import { linksIntoReplaced, writtenTables, type FoundOrphans } from '../plan/links.ts';
import type { TablePlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';
import type { Masker } from '../mask/apply.ts';
import { maskedCounts } from './parents.ts';

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
  const checked = linksIntoReplaced(links, writtenTables(tables), new Set(emptied.map(qualifiedName)));
  return stagingRowsNamingGoneKeys(production, staging, checked, tables, masker);
}

/** Along each of `links`, staging's rows that name a parent key production (as the run filters it) does not have. */
export async function stagingRowsNamingGoneKeys(
  production: Database,
  staging: Database,
  links: ForeignKeyLink[],
  tables: TablePlan[],
  masker: Masker | null = null,
): Promise<FoundOrphans[]> {
  const check = async (link: ForeignKeyLink): Promise<FoundOrphans | null> => {
    const references = await staging.references(link.child, link.columns, link.childRows);
    const keys = Object.keys(references);
    if (!keys.length) return null;
    const parent = tables.find((table) => qualifiedName(table.table) === qualifiedName(link.parent));
    // Staging's rows hold the masked key: production's keys are masked here and compared, production never asked for a masked one.
    const rowMask = masker?.forColumns(parent?.mask, link.parentColumns) ?? null;
    const missing = rowMask
      ? await missingMaskedKeys(production, link, keys, parent?.rowFilter ?? null, rowMask)
      : await production.missingKeys(link.parentRelation, link.parentColumns, keys, parent?.rowFilter ?? null);
    if (!missing.length) return null;
    return { link, rows: missing.reduce((sum, key) => sum + (references[key] ?? 0), 0), keys: missing.slice(0, 5) };
  };
  // Over REST every link at once, a round trip or two each; directly one after another on each side's one connection.
  const found: (FoundOrphans | null)[] = [];
  if (production.asksTogether && staging.asksTogether) found.push(...(await Promise.all(links.map(check))));
  else for (const link of links) found.push(await check(link));
  return found.filter((one): one is FoundOrphans => one !== null);
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

export function describeOrphans(found: FoundOrphans[]): string[] {
  return found.map(
    ({ link, rows, keys }) =>
      `  ${countOf(rows, 'row')} of ${qualifiedName(link.child)} (${describeLink(link)}, ${link.name}) ${rows === 1 ? 'finds' : 'find'} no parent${keys.length ? `: they name e.g. ${keys.join(' ')}` : ' (masked: keys not shown)'}`,
  );
}

/**
 * The ways out of rows left pointing nowhere, those that apply: a referencing table production has too can be
 * copied with them; one only staging has holds staging's own rows, to delete or point elsewhere; a `where` only
 * where a copied table has one.
 */
export function orphanWaysOut(orphans: readonly FoundOrphans[], tables: readonly TablePlan[]): string[] {
  const children = (inProduction: boolean) => [
    ...new Set(orphans.filter(({ link }) => link.childInProduction === inProduction).map(({ link }) => qualifiedName(link.child))),
  ];
  const [copied, own] = [children(true), children(false)];
  return [
    'Ways out:',
    ...(copied.length ? ['  copy the referencing tables too (--tables, or their schema in --schemas), so both ends come from production'] : []),
    ...(own.length ? [`  delete or change the rows above in ${own.join(', ')}, staging's own table (production has none): no copy replaces them`] : []),
    '  --mode upsert for the parents: staging keeps its own rows of them',
    ...(tables.some((table) => table.rowFilter !== null) ? ['  drop or widen the `where` of a parent in supasync.config.json'] : []),
    '  --allow-orphans  write anyway, leaving those rows pointing nowhere',
  ];
}
