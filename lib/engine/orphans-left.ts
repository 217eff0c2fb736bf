// The failure of a run whose rows leave staging rows pointing nowhere
// (orphans-after-load.ts found them): the rows, why they are there where the
// plan can tell, and the ways out.
import { qualifiedName, type TableRef } from '../catalog/types.ts';
import { DatabaseError } from '../errors.ts';
import { tablesArgument } from '../sql/ident.ts';
import type { FoundOrphans } from '../plan/links.ts';
import { TRANSACTION_IDS } from '../plan/mode.ts';
import type { TablePlan } from '../plan/types.ts';
import { describeOrphans, orphanWaysOut } from './orphans.ts';

/** `oneSnapshot`: production was read in one snapshot (the direct path), so it cannot have moved between two tables' reads. */
export function orphansLeft(tables: TablePlan[], orphans: FoundOrphans[], oneSnapshot: boolean): DatabaseError {
  const stagingOnly = orphans.filter(({ link }) => !link.heldInProduction);
  const moving = !oneSnapshot && !stagingOnly.length && orphans.every(({ link }) => copiedWhole(tables, link.child) && copiedWhole(tables, link.parent));
  return new DatabaseError(
    [
      'The copied rows leave rows of staging pointing nowhere:',
      ...describeOrphans(orphans),
      ...keysStagingAlone(stagingOnly),
      ...incrementalChildren(tables, orphans),
      ...(moving ? PRODUCTION_MOVED : orphanWaysOut(orphans, tables)),
    ].join('\n'),
    1,
    { sameOnRerun: !moving },
  );
}

/** Orphans along keys production does not hold its rows to: its rows are as they are there, the key staging's alone. */
function keysStagingAlone(orphans: FoundOrphans[]): string[] {
  if (!orphans.length) return [];
  const names = [...new Set(orphans.map(({ link }) => `${link.name} (${qualifiedName(link.child)})`))].join(', ');
  return [
    `Staging has ${names}, which production lacks or has NOT VALID: production's rows are not held to it, and name parents ` +
      'staging does not have after this run. Copy those parents too where production has them; else fix the rows in production and add the key there too ' +
      '(the migration staging has ahead), or leave the key off staging.',
  ];
}

/** Orphans in a child an incremental run read in part: what it could not see, and the mode that sees it. */
function incrementalChildren(tables: TablePlan[], orphans: FoundOrphans[]): string[] {
  const names = new Set(orphans.map(({ link }) => qualifiedName(link.child)));
  const partial = tables.filter((table) => table.mode === 'incremental' && table.changedColumn !== TRANSACTION_IDS && names.has(qualifiedName(table.table)));
  if (!partial.length) return [];
  return [
    `${partial.map((table) => `${qualifiedName(table.table)} (by ${table.changedColumn})`).join(', ')}: an incremental run reads the rows whose column moved since the last run, ` +
      "and a row changed without moving it (by an app that does not set it, or a foreign key's action) is not read. " +
      `Run --mode mirror --tables ${tablesArgument(partial.map((table) => table.table))} once: it compares every row.`,
  ];
}

/** Every production row was read into it: replaced, mirrored or upserted, without a `where` (not an incremental or insert-missing run, which reads some). */
function copiedWhole(tables: TablePlan[], table: TableRef): boolean {
  const planned = tables.find((candidate) => qualifiedName(candidate.table) === qualifiedName(table));
  return Boolean(planned && !planned.rowFilter && (planned.mode === 'replace' || planned.mode === 'mirror' || planned.mode === 'upsert'));
}

/**
 * Over REST each table is read at its own moment: a parent production
 * deleted, or children it added, between two reads leave rows pointing
 * nowhere that no choice of tables explains. The next run reads again.
 */
const PRODUCTION_MOVED = [
  'Both ends of these keys were copied whole in this run. Over REST each table is read at its own moment, not from one snapshot,',
  'so production most likely changed while the run read it (a parent deleted, or children added, between the two reads).',
  'Run the same command again when production is quieter: each run converges. The direct path (SUPABASE_*_DB_URL) reads one snapshot.',
];
