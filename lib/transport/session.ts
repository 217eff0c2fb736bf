// What the engine asks of a transport while it writes staging. The direct
// and REST paths both implement it; the engine never asks which it holds.
import type { TableRef } from '../catalog/types.ts';
import type { TablePlan } from '../plan/plan.ts';

export type SyncMode = 'replace' | 'upsert';

/** A table's own mode (from supasync.config.json) wins over the run's. */
export function modeOf(table: TablePlan, runMode: SyncMode): SyncMode {
  return table.options.mode ?? runMode;
}

export interface SessionOptions {
  mode: SyncMode;
  /** Stop at the first row staging rejects, instead of reporting it and writing the rest. */
  strict: boolean;
  /** Where a replace saves the staging rows it empties (a directory per run); null: no backup (--no-backup). */
  backupRoot: string | null;
  /** Requests at once to each project over REST (the clients enforce it); the default when undefined. */
  concurrency?: number;
}

/** What a replace saved before emptying staging's tables. */
export interface StagingBackup {
  /** null when every table to empty was already empty: nothing to save. */
  directory: string | null;
  tables: number;
  rows: number;
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
}

export interface TableCopy {
  rows: number;
  /** Rows inserted or updated in staging. */
  changed: number;
  /** Rows staging refused, each reported rather than hiding its batch. */
  rejected: RejectedRow[];
}

export interface SyncSession {
  readonly method: LoadMethod;
  /** True when abort() undoes everything; false when each batch commits on its own (REST). */
  readonly atomic: boolean;
  /**
   * Whether staging holds changes abort() cannot take back: never on the
   * direct path, and over REST from its first TRUNCATE or batch on. Until
   * then a failure has changed nothing, and says so.
   */
  readonly changedStaging: boolean;
  /** How many tables may be copied at once. */
  readonly parallelTables: number;
  /** Requests that failed for a passing reason and were sent again (REST). */
  readonly retries: number;
  /**
   * Before any table: empty the tables in replace mode, and with them
   * `alsoEmptied` (tables not copied whose rows reference them: Supabase's
   * sign-in state of the users being replaced), backed up first where the
   * transport can; switch triggers off where needed.
   */
  prepare(tables: TablePlan[], alsoEmptied: TableRef[]): Promise<PreparedStaging>;
  copyTable(table: TablePlan, onRows: (rowsSoFar: number) => void): Promise<TableCopy>;
  /** After every table: sequences, triggers back on, commit. */
  finish(tables: TablePlan[]): Promise<void>;
  /** Undo what can be undone. */
  abort(): Promise<void>;
}
