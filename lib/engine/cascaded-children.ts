// Rows a foreign key's action rewrites, which a re-sync's first comparison
// cannot see:
//
// - Production's: ON DELETE SET NULL (CASCADE, SET DEFAULT) and ON UPDATE
//   CASCADE rewrite a child row without moving its updated_at (Prisma's
//   optional relations are all SET NULL). An incremental run that follows
//   that column misses them, and deleting the parent in staging with checks
//   off leaves the child naming it. So an incremental child whose staging
//   rows name a key the run deletes from their parent is compared whole, as
//   a mirror compares it (compareChildrenOfRemovedKeys), before anything is
//   written.
// - Staging's, where foreign-key checks are on: an upsert rewrites a
//   parent's key that production changed only in spelling (citext 'ABC' to
//   'abc', numeric 1 to 1.0: equal, so the same row) and staging's ON UPDATE
//   CASCADE rewrites the children's copies, compared before. Those children
//   are compared again once their parents are in, and what differs is
//   copied (copyCascadedChildren).
//
// Both go round after round: a child compared again may be a parent (of
// itself, too).
import type { ForeignKeyLink } from '../catalog/links.ts';
import { qualifiedName } from '../catalog/types.ts';
import { deletesMissing, TRANSACTION_IDS } from '../plan/mode.ts';
import type { TablePlan } from '../plan/types.ts';
import type { SyncSession, TableCopy } from '../transport/session.ts';
import { compareTables, copyChangedRanges, type Comparison, type RangedCopy } from './ranged-copy.ts';
import type { PreparedRun } from './prepare.ts';

/**
 * Before the writes: each incremental table compared by its column's
 * watermark (not whole, not by transaction ids, which every write moves)
 * that a link whose action rewrites its rows on delete or update ties to a
 * parent whose keys the run deletes, and whose staging rows name one of
 * them, compared again whole; `comparisons` takes the new comparison, with
 * the first one's watermark.
 */
export async function compareChildrenOfRemovedKeys(
  run: PreparedRun,
  tables: TablePlan[],
  comparisons: Map<string, Comparison>,
  overlapSeconds: number,
  clearsFirst: boolean,
): Promise<void> {
  const compared = new Set<string>();
  const followsColumn = (name: string) => {
    const table = tables.find((candidate) => qualifiedName(candidate.table) === name);
    const watermark = comparisons.get(name)?.watermark;
    return table?.mode === 'incremental' && table.changedColumn !== TRANSACTION_IDS && watermark?.from != null && !compared.has(name);
  };
  let parents = namesWhere(comparisons, (comparison) => comparison.ranges.rows.remove.length > 0);
  for (let round = 0; round <= tables.length && parents.size; round++) {
    const links = run.plan.stagingLinks.filter(
      (link) =>
        (link.rewritesChildOnDelete || link.rewritesChildOnUpdate) && parents.has(qualifiedName(link.parent)) && followsColumn(qualifiedName(link.child)),
    );
    const named = await Promise.all(links.map((link) => namesRemovedKeys(run, link, tables, comparisons)));
    const children = [...new Set(links.filter((_, i) => named[i]).map((link) => qualifiedName(link.child)))];
    const again = await compareAsMirror(run, tablesNamed(tables, children), comparisons, overlapSeconds, clearsFirst);
    for (const [name, comparison] of again) {
      comparisons.set(name, comparison);
      compared.add(name);
    }
    parents = namesWhere(again, (comparison) => comparison.ranges.rows.remove.length > 0);
  }
}

/**
 * After the load, where staging's foreign-key checks are on: the children
 * that a link rewriting its child on update ties to a parent whose rows the
 * run wrote (`written`), compared again and copied, until a round writes
 * nothing such a link follows. Per table, what the rounds copied. Only
 * mirror and incremental tables: insert-missing touches no existing row.
 */
export async function copyCascadedChildren(
  run: PreparedRun,
  session: SyncSession,
  tables: TablePlan[],
  comparisons: Map<string, Comparison>,
  written: Iterable<string>,
  overlapSeconds: number,
  onRows: (table: TablePlan, rows: number) => void,
): Promise<Map<string, RangedCopy>> {
  const copied = new Map<string, RangedCopy>();
  let parents = new Set(written);
  // Each round writes only what still differs: a cascade's rewrites settle within as many rounds as there are tables.
  for (let round = 0; round <= tables.length && parents.size; round++) {
    const children = tablesNamed(
      tables,
      childrenOf(run.plan.stagingLinks, parents, (link) => link.rewritesChildOnUpdate),
    ).filter((table) => deletesMissing(table.mode));
    const again = await compareAsMirror(run, children, comparisons, overlapSeconds, false);
    parents = new Set();
    for (const table of children) {
      const name = qualifiedName(table.table);
      const comparison = again.get(name);
      if (!comparison) continue;
      const copy = await copyChangedRanges(run, session, { ...table, mode: 'mirror' }, comparison, (rows) => onRows(table, rows));
      comparisons.set(name, comparison);
      const before = copied.get(name);
      copied.set(name, before ? { ...copy, copy: addCopies(before.copy, copy.copy) } : copy);
      if (copy.copy.changed) parents.add(name);
    }
  }
  return copied;
}

/** Two copies of one table, counted as one. */
export function addCopies(a: TableCopy, b: TableCopy): TableCopy {
  return { rows: a.rows + b.rows, changed: a.changed + b.changed, rejected: [...a.rejected, ...b.rejected] };
}

/**
 * `tables` compared again whole, as a mirror compares them (an incremental
 * table too: what a foreign key's action changed is past no watermark),
 * each keeping its first comparison's watermark: the next run reads from
 * where this one began. `clearsFirst` as compareTables takes it.
 */
async function compareAsMirror(
  run: PreparedRun,
  tables: TablePlan[],
  first: ReadonlyMap<string, Comparison>,
  overlapSeconds: number,
  clearsFirst: boolean,
): Promise<Map<string, Comparison>> {
  if (!tables.length) return new Map();
  const again = await compareTables(
    run,
    tables.map((table) => ({ ...table, mode: 'mirror' as const })),
    overlapSeconds,
    clearsFirst,
  );
  for (const [name, comparison] of again) {
    const watermark = first.get(name)?.watermark;
    if (watermark) again.set(name, { ...comparison, watermark });
  }
  return again;
}

/**
 * Whether a staging row of the link's child names a key the run deletes from its parent: only then can production's
 * action have rewritten it. Asked where the link names the parent by its key (else: assumed so).
 */
async function namesRemovedKeys(run: PreparedRun, link: ForeignKeyLink, tables: TablePlan[], comparisons: ReadonlyMap<string, Comparison>): Promise<boolean> {
  const parent = tables.find((table) => qualifiedName(table.table) === qualifiedName(link.parent));
  const removed = comparisons.get(qualifiedName(link.parent))?.ranges.rows.remove ?? [];
  const keyColumns = parent?.key?.columns ?? [];
  const byKey = keyColumns.length === link.parentColumns.length && keyColumns.every((column) => link.parentColumns.includes(column));
  if (!byKey) return true;
  // The child's columns in the order of the parent's key, which the removed keys are listed in.
  const columns = keyColumns.map((column) => link.columns[link.parentColumns.indexOf(column)] as string);
  const naming = await run.staging.keyFilter(link.child, columns, removed);
  const filter = link.childRows ? `(${link.childRows}) AND (${naming})` : naming;
  return Object.keys(await run.staging.references(link.child, columns, filter)).length > 0;
}

function childrenOf(links: ForeignKeyLink[], parents: ReadonlySet<string>, follows: (link: ForeignKeyLink) => boolean): string[] {
  return [...new Set(links.filter((link) => follows(link) && parents.has(qualifiedName(link.parent))).map((link) => qualifiedName(link.child)))];
}

function tablesNamed(tables: TablePlan[], names: string[]): TablePlan[] {
  return tables.filter((table) => names.includes(qualifiedName(table.table)));
}

function namesWhere(comparisons: ReadonlyMap<string, Comparison>, holds: (comparison: Comparison) => boolean): Set<string> {
  return new Set([...comparisons].filter(([, comparison]) => holds(comparison)).map(([name]) => name));
}
