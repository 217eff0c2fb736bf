// Runs a plan: checks what must hold before staging is touched, then copies
// table by table in the plan's order inside one staging session, and either
// commits all of it or none.
import { qualifiedName } from '../catalog/types.ts';
import { DatabaseError, describeError, SupasyncError, UsageError } from '../errors.ts';
import { describeDrift } from '../plan/drift.ts';
import type { TablePlan } from '../plan/plan.ts';
import { openSyncSession } from '../transport/open-session.ts';
import type { LoadMethod, SyncMode } from '../transport/session.ts';
import type { PreparedRun } from './prepare.ts';

export interface SyncOptions {
  mode: SyncMode;
  /** Copy the common columns of tables whose schema differs between the sides. */
  allowDrift: boolean;
  /** Ask before a destructive run; resolves false when the user declines. */
  confirm: (question: string) => Promise<boolean>;
}

export interface SyncEvents {
  warning(message: string): void;
  tableStarted(table: TablePlan): void;
  tableProgress(table: TablePlan, rowsSoFar: number): void;
  tableFinished(table: TablePlan, result: TableResult): void;
}

export interface TableResult {
  table: string;
  rows: number;
  /** Rows inserted or updated in staging (equal to rows in replace mode). */
  changed: number;
  seconds: number;
}

export interface SyncResult {
  via: PreparedRun['via'];
  mode: SyncMode;
  method: LoadMethod['kind'];
  tables: TableResult[];
  skipped: { table: string; reason: string }[];
  seconds: number;
}

export async function runSync(run: PreparedRun, options: SyncOptions, events: SyncEvents): Promise<SyncResult> {
  const started = performance.now();
  const { tables, skipped } = tablesToCopy(run, options);
  for (const { table, reason } of skipped) events.warning(`${table} is not copied: ${reason}`);

  const session = await openSyncSession(run, { mode: options.mode });
  const results: TableResult[] = [];
  let current: TablePlan | undefined;
  try {
    for (const warning of session.method.warnings) events.warning(warning);
    if (options.mode === 'replace') {
      const question =
        `Replace the contents of ${tables.length} table(s) in staging (${run.staging.location}) with production's? ` +
        'Staging rows not in production are deleted.';
      if (!(await options.confirm(question))) throw new UsageError('Nothing was changed: the sync was not confirmed.');
    }
    await session.prepare(tables);
    for (const table of tables) {
      current = table;
      events.tableStarted(table);
      const tableStarted = performance.now();
      const copied = await session.copyTable(table, (rows) => events.tableProgress(table, rows));
      const result = { table: qualifiedName(table.table), ...copied, seconds: (performance.now() - tableStarted) / 1000 };
      results.push(result);
      events.tableFinished(table, result);
    }
    current = undefined;
    await session.finish(tables);
  } catch (error) {
    await session.abort();
    if (error instanceof SupasyncError) throw error;
    const where = current ? `Copying ${qualifiedName(current.table)} failed` : 'The sync failed';
    throw new DatabaseError(
      `${describeError(where, error)}\nStaging was left exactly as it was: the whole run is one transaction, now rolled back.`,
      1,
      { cause: error },
    );
  }
  return {
    via: run.via,
    mode: options.mode,
    method: session.method.kind,
    tables: results,
    skipped,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Drift stops a run before it writes, unless the user chose to copy the
 * common columns; a table staging lacks can never be copied. Upserts need a
 * key on every table.
 */
function tablesToCopy(run: PreparedRun, options: SyncOptions) {
  const drifted = run.plan.tables.filter((table) => table.drift.length);
  if (drifted.length && !options.allowDrift) {
    const lines = drifted.flatMap((table) => table.drift.map((d) => `  ${qualifiedName(table.table)}: ${describeDrift(d)}`));
    throw new DatabaseError(
      `Production and staging schemas differ; nothing was written:\n${lines.join('\n')}\n` +
        'Apply the same migrations to staging, leave these tables out with --exclude, or copy the common columns with --allow-drift.',
    );
  }
  const skipped = drifted
    .filter((table) => table.drift.some((d) => d.kind === 'missing-table'))
    .map((table) => ({ table: qualifiedName(table.table), reason: 'staging has no such table' }));
  const tables = run.plan.tables.filter((table) => !skipped.some((s) => s.table === qualifiedName(table.table)));
  if (options.mode === 'upsert') {
    const unkeyed = tables.filter((table) => !table.key).map((table) => qualifiedName(table.table));
    if (unkeyed.length) {
      throw new UsageError(
        `Cannot upsert ${unkeyed.join(', ')}: no primary key or NOT NULL unique key to match rows on. ` +
          'Replace them instead (--mode replace), leave them out (--exclude), or give them a primary key.',
      );
    }
  }
  return { tables, skipped };
}
