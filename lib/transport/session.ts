// What the engine asks of a transport while it writes staging. The direct
// and REST paths both implement it; the engine never asks which it holds.
import type { SequenceFloor, SequenceState, TableRef } from '../catalog/types.ts';
import type { TableLoad } from './load.ts';
import type { KeyRangeSet } from './reads.ts';
import type { MaskedTableChanges } from './masked-tables.ts';
import type { Watermark } from './watermarks.ts';
import type { RunBackup } from '../backup/run-backup.ts';
import type { Masker } from '../mask/apply.ts';
import type { PutBack } from './staging-hold.ts';

/** Requests of a run sent again after one passing failure (REST), counted by what failed. */
export interface RetryReason {
  /** In a few words: "HTTP 503", "the connection was reset", "HTTP 500 40P01: deadlock". */
  reason: string;
  requests: number;
}

export interface SessionOptions {
  /** Stop at the first row staging rejects, instead of reporting it and writing the rest. */
  strict: boolean;
  /** Where staging's rows are saved before a replace empties or an upsert overwrites them; null: no backup (--no-backup). */
  backup: RunBackup | null;
  /** Requests at once to each project over REST (the clients enforce it); the default when undefined. */
  concurrency?: number;
  /** Masks the rows of tables whose TableLoad has a mask, between reading and writing; null or absent: none are masked. */
  masker?: Masker | null;
  /**
   * Given for a session that will write: over REST it first waits for the writes of an earlier run still running in
   * staging (rest/settle-writes.ts), and says so through this when it finds one. Absent: a session that only asks.
   */
  settleEarlierWrites?: (line: string) => void;
}

/** What a run saved of staging before changing it. */
export interface StagingBackup {
  /** null when every table to save was empty: nothing to save. */
  directory: string | null;
  tables: number;
  rows: number;
  /** How many of the tables were saved because the run upserts into them; the others it empties. */
  upserted: number;
  /** The run changed no row, so its backup, which would restore nothing, was removed (directory null). */
  unchanged?: boolean;
}

/** What a backup writer reports; the session adds why each table was saved. */
export type WrittenBackup = Omit<StagingBackup, 'upserted'>;

/**
 * The tables a run saves before it writes: those a replace empties, and
 * `alsoEmptied` (staging's sign-in state, emptied with a replace or with a
 * mirror's deletes: plan/supabase.ts), and those every other mode writes into
 * (upsert, mirror, insert-missing, incremental). Those are saved whole, a
 * superset of the rows the run changes, so a restore can empty them and put
 * back exactly what staging held, the rows the run inserted gone too.
 */
export function tablesToSave(tables: TableLoad[], alsoEmptied: TableRef[]): { emptied: TableRef[]; upserted: TableRef[] } {
  const replaced = tables.filter((table) => table.mode === 'replace').map((table) => table.table);
  const upserted = tables.filter((table) => table.mode !== 'replace').map((table) => table.table);
  return { emptied: [...replaced, ...alsoEmptied], upserted };
}

/**
 * The only staging rows a re-sync of a table writes or deletes: those whose
 * key hash (hashed as the comparison hashed it) falls in these ranges.
 */
export interface TouchedRanges extends KeyRangeSet {
  keyColumns: string[];
  /** The key hashed from its binary form (the table's binarySafe), else from its text. */
  binary: boolean;
}

export interface PreparedStaging {
  backup: StagingBackup | null;
  warnings: string[];
}

export interface LoadMethod {
  /** replica: triggers and FK checks off; foreign-key order: parents first, user triggers disabled. */
  kind: 'replica' | 'foreign-key order';
  warnings: string[];
}

export interface RejectedRow {
  table: string;
  /** The row's key as `column=value` pairs. */
  key: string;
  message: string;
  /** Not refused itself: held back for a row it names that staging refused (rest/held-back.ts). */
  heldBack?: boolean;
}

export interface TableCopy {
  rows: number;
  /** Rows inserted or updated in staging. */
  changed: number;
  /** Rows staging refused, each reported rather than hiding its batch. */
  rejected: RejectedRow[];
}

/**
 * A materialized view of staging that reads a table the run wrote: refreshed
 * once the rows are in, or why not (never populated, another role's, its
 * query or unique index refused the new rows). Until refreshed it holds what
 * it held before the run.
 */
export interface ViewRefresh {
  view: string;
  refreshed: boolean;
  reason: string | null;
}

export interface SyncSession {
  readonly method: LoadMethod;
  /** True when abort() undoes everything; false when each batch commits on its own (REST). */
  readonly atomic: boolean;
  /** How many tables may be copied at once. */
  readonly parallelTables: number;
  /** Requests that failed for a passing reason and were sent again (REST), by reason. */
  readonly retries: readonly RetryReason[];
  /**
   * Whether staging may keep a write of this run that abort() cannot undo:
   * from the direct path's COMMIT, from the REST path's TRUNCATE or first
   * batch. Until then a failed run changed nothing, and its backup is removed.
   */
  readonly stagingMayHaveChanged: boolean;
  /**
   * Before any table: save the tables it empties or upserts into
   * (tablesToSave) when options.backup says where; then empty the tables in
   * replace mode, and with them `alsoEmptied` (tables not copied whose rows
   * reference them: Supabase's sign-in state of the users being replaced);
   * switch triggers off where needed. `sequences`: the ones finish() sets,
   * saved in the backup with the tables. `touched`: per table (by qualified
   * name), the key ranges outside which a re-sync writes and deletes no
   * staging row; where the session can, its backup of that table holds
   * those ranges alone.
   */
  prepare(tables: TableLoad[], alsoEmptied: TableRef[], sequences: TableRef[], touched?: ReadonlyMap<string, TouchedRanges>): Promise<PreparedStaging>;
  /**
   * What staging's role would refuse of this load, thrown before anything is
   * written (prepare() makes the same checks): tables whose triggers it may
   * not disable where the replica role is refused. Opening the session has
   * made the others (the load method, a cycle's keys it may not defer).
   */
  refusals(tables: TableLoad[]): Promise<void>;
  copyTable(table: TableLoad, onRows: (rowsSoFar: number) => void): Promise<TableCopy>;
  /**
   * For a mirror or an incremental sync, once every table is written: deletes
   * the rows `keyFilter` picks (supasync_private.key_filter, built in
   * staging). How many it deleted.
   */
  deleteWhere(table: TableLoad, keyFilter: string): Promise<number>;
  /**
   * With checks off, before any row is written: clears the staging rows `keyFilter` picks, which the run then writes
   * afresh (ranged-copy.ts says why). Over REST, where no rollback would bring one back, staging keeps them for the
   * run with `keep` (functions version 23): putBackCleared() and the end of the run's hold put back those it then
   * holds no version of. The direct path's transaction needs none of that.
   */
  clearForRewrite(table: TableLoad, keyFilter: string, keep: boolean): Promise<void>;
  /** Over REST: puts back the table's cleared rows staging holds no version of now (refused); null where none are kept. */
  putBackCleared?(table: TableLoad): Promise<PutBack | null>;
  /** For an incremental sync, once its tables are written: where each now stands (directly, in the run's transaction). */
  setWatermarks(marks: Watermark[]): Promise<void>;
  /**
   * Which tables staging holds masked: a run's masked tables before it writes them (over REST a run stopped part
   * way leaves them marked), the ones it rewrote unmasked once written. Only where staging keeps them (maskedTables).
   */
  setMaskedTables(changes: MaskedTableChanges): Promise<void>;
  /**
   * After every table: the sequences to these values, the materialized views
   * that read the tables in `written` refreshed, triggers back on, commit.
   */
  finish(sequences: SequenceState[], written: TableRef[], floors?: SequenceFloor[]): Promise<ViewRefresh[]>;
  /** Undo what can be undone. */
  abort(): Promise<void>;
}
