// What the engine asks of a transport while it writes staging. The direct
// and REST paths both implement it; the engine never asks which it holds.
import type { TablePlan } from '../plan/plan.ts';

export type SyncMode = 'replace' | 'upsert';

export interface SessionOptions {
  mode: SyncMode;
}

export interface LoadMethod {
  /** replica: triggers and FK checks off; foreign-key order: parents first, user triggers disabled. */
  kind: 'replica' | 'foreign-key order';
  warnings: string[];
}

export interface SyncSession {
  readonly method: LoadMethod;
  /** Before any table: empty the tables in replace mode, switch triggers off where needed. */
  prepare(tables: TablePlan[]): Promise<void>;
  /** Copy one table; `changed` counts rows inserted or updated in staging. */
  copyTable(table: TablePlan, onRows: (rowsSoFar: number) => void): Promise<{ rows: number; changed: number }>;
  /** After every table: sequences, triggers back on, commit. */
  finish(tables: TablePlan[]): Promise<void>;
  /** Undo everything this session wrote. */
  abort(): Promise<void>;
}
