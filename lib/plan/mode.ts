// How a run writes staging's tables: the user's word for it, resolved per
// table in the plan (a table's own mode from supasync.config.json wins over
// the run's). Transports see only what each table's mode asks of them.
import type { TableOptions } from '../config/file.ts';
import { tablesArgument } from '../sql/ident.ts';

export const SYNC_MODES = ['replace', 'upsert', 'mirror', 'insert-missing', 'incremental'] as const;

export type SyncMode = (typeof SYNC_MODES)[number];

export const SYNC_MODE_HELP: Record<SyncMode, string> = {
  replace: "staging's tables become production's",
  upsert: 'insert and update, keep staging-only rows',
  mirror: "copy only the rows that differ (found by comparing both sides' row hashes), delete staging-only rows",
  'insert-missing': 'add the rows staging lacks, touch no existing row',
  incremental: 'copy the rows changed since the last sync (by updated_at, else by the transaction ids that wrote them), mirror deletes by key ranges',
};

/** The modes that match rows on a key, so refuse a table without one. */
export const SYNC_MODES_KEYED = SYNC_MODES.filter((mode) => mode !== 'replace');

/** What a mode does to a table, for "Cannot ... public.event_log". */
export const SYNC_MODE_VERBS: Record<SyncMode, string> = {
  replace: 'replace',
  upsert: 'upsert',
  mirror: 'mirror',
  'insert-missing': 'insert missing rows into',
  incremental: 'sync incrementally',
};

/** Staging's rows that production lacks stay: nothing of staging's is deleted. */
export function keepsStagingRows(mode: SyncMode): boolean {
  return mode === 'upsert' || mode === 'insert-missing';
}

/**
 * Compares key-range checksums of both sides first and writes only the
 * ranges that differ (lib/engine/changed-ranges.ts): a re-sync costs what
 * changed. Needs a key.
 */
export function comparesRanges(mode: SyncMode): boolean {
  return mode === 'mirror' || mode === 'insert-missing' || mode === 'incremental';
}

/** Deletes, in the key ranges that differ, the staging rows production lacks there. */
export function deletesMissing(mode: SyncMode): boolean {
  return mode === 'mirror' || mode === 'incremental';
}

// supasync.config.json's schema (lib/config, a layer below) lists the modes a
// table may choose: this stops compiling when the two lists differ.
const sameModes: [NonNullable<TableOptions['mode']>, SyncMode] extends [SyncMode, NonNullable<TableOptions['mode']>] ? true : never = true;
void sameModes;

/** What --mode incremental follows in a table with a key and no updated_at: PostgreSQL's xmin, the transaction that wrote each row. */
export const TRANSACTION_IDS = 'xmin';

/**
 * A unique value staging refused in a run that leaves some rows as they
 * are: it is held by one of those, whose production version gave it up.
 * Said where the run fails or a row is rejected, on both paths.
 */
export function unwrittenRowAdvice(mode: SyncMode | undefined, tables: string[], upsertedIn?: SyncMode, conflict: 'unique' | 'exclusion' = 'unique'): string {
  // A run of another mode upserts a table where --with-parents brought its rows, or the config gives it that mode.
  const why =
    mode === 'upsert' && upsertedIn && upsertedIn !== 'upsert'
      ? `this ${upsertedIn} upserts ${tables.join(', ')} (the rows --with-parents brings, or a table whose mode supasync.config.json sets): `
      : '';
  const exclusion = conflict === 'exclusion';
  const value = exclusion ? 'a value that conflicts with' : 'a unique value';
  const held =
    mode === 'insert-missing'
      ? `insert-missing touches no row staging has, and one of them still holds ${value} ${exclusion ? "a new row of production's" : 'production gave a new row'}`
      : mode === 'upsert'
        ? `an upsert keeps the rows staging has and production lacks, and one of them holds ${exclusion ? `${value} one of production's rows` : "a unique value one of production's rows has"}${
            // The usual case in a Supabase project; elsewhere the value is the one PostgreSQL names.
            tables.includes('auth.users') ? " (a user who signed up in staging with an email production's users have)" : ''
          }`
        : exclusion
          ? 'in an incremental run the conflicting value is often held by a row that changed without its updated_at moving, one the run did not read'
          : 'in an incremental run a unique value is often one another row gave up without its updated_at moving, a row the run did not read';
  // The run's own tables mirrored, not the refusing one alone: a mirror of that one would delete staging's rows other
  // tables of staging's reference, and be refused for them (makerkit's accounts, documenso's documents).
  const ways = why
    ? `Remove or change staging's row, or --mode mirror --tables ${tablesArgument(tables)}, which deletes staging's rows production lacks and writes production's.`
    : mode === 'upsert'
      ? "Remove or change staging's row, or run this sync again with --mode mirror, which deletes staging's rows production lacks and writes production's."
      : 'Run this sync again with --mode mirror, which compares every row and writes both.';
  // An exclusion constraint refuses a value that conflicts with another row's (overlapping ranges, areas), not an equal one.
  return `${exclusion ? 'A value an exclusion constraint refused' : 'A unique value refused'}: ${why}${held}. ${ways}`;
}
