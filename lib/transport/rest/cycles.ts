// Tables that reference each other (departments <-> employees, NOT NULL both
// ways) where staging's functions may not switch foreign-key checks off. Over
// REST each batch commits and is checked on its own, so such a cycle has no
// table that can go first. Its tables' rows are read whole and sent in one
// request, whose one transaction defers their foreign keys to its end
// (supasync_write_cycle). One request bounds what can load this way; beyond
// that, the direct path or the grant.
import type { SupabaseClient } from '@supabase/supabase-js';
import * as z from 'zod';
import { qualifiedName } from '../../catalog/types.ts';
import { DatabaseError } from '../../errors.ts';
import { formatCount } from '../../counts.ts';
import { updatesExisting, type LoadPlan, type TableLoad } from '../load.ts';
import type { TableCopy } from '../session.ts';
import { callRpc, describeFailure, RpcFailure, type OnRetry } from './rpc.ts';
import type { Row } from './row-size.ts';
import { readPages } from './rows.ts';
import type { RowMask } from '../../mask/apply.ts';

/** What one request may carry: inside Supabase's 8 s statement timeout and its gateway's limits. */
export const CYCLE_MAX_ROWS = 20_000;
const CYCLE_MAX_BYTES = 16 * 1024 * 1024;

/** The plan's cycles as the tables that load together, in the plan's order. */
export function cycleTables(plan: LoadPlan): TableLoad[][] {
  return plan.cycles.map((cycle) => {
    const members = new Set(cycle.tables.map(qualifiedName));
    return plan.tables.filter((table) => members.has(qualifiedName(table.table)));
  });
}

/** Why a cycle cannot load in one request, if it cannot, from the plan alone (before anything is written). */
export function whyNotTogether(tables: TableLoad[]): string | undefined {
  const names = tables.map((table) => qualifiedName(table.table)).join(' <-> ');
  const keyless = tables.find((table) => !table.key);
  if (keyless) {
    return `${names} reference each other and ${qualifiedName(keyless.table)} has no key: their one request could not be retried safely. Give it a primary key (staging too).`;
  }
  const estimate = tables.reduce((sum, table) => sum + Math.max(table.rowEstimate, 0), 0);
  if (estimate > CYCLE_MAX_ROWS) return tooLarge(names, `about ${formatCount(estimate)}`);
  return undefined;
}

const tooLarge = (names: string, rows: string) =>
  `${names} reference each other and hold ${rows} rows: with foreign-key checks on they must arrive in one request, ` +
  `and supasync sends at most ${formatCount(CYCLE_MAX_ROWS)} rows (16 MB) in one. Sync them over the direct path (SUPABASE_*_DB_URL), ` +
  "or let staging's functions SET session_replication_role.";

export async function copyCycle(
  clients: { production: SupabaseClient; staging: SupabaseClient },
  tables: TableLoad[],
  onRetry: OnRetry,
  maskOf: (table: TableLoad) => RowMask | null = () => null,
): Promise<Map<string, TableCopy>> {
  const names = tables.map((table) => qualifiedName(table.table)).join(' <-> ');
  const batches: { table_schema: string; table_name: string; columns: string[]; key_columns: string[]; update_existing: boolean; rows: Row[] }[] = [];
  let rows = 0;
  let bytes = 0;
  for (const table of tables) {
    const batch = {
      table_schema: table.table.schema,
      table_name: table.table.name,
      columns: table.columns,
      key_columns: table.key?.columns ?? [],
      update_existing: updatesExisting(table.mode),
      rows: [] as Row[],
    };
    const mask = maskOf(table);
    for await (const read of readPages(clients.production, table, onRetry)) {
      const page = mask ? read.map(mask) : read;
      batch.rows.push(...page);
      rows += page.length;
      bytes += page.reduce((sum, row) => sum + row.reduce((s, value) => s + (value?.length ?? 4) + 3, 2), 0);
      if (rows > CYCLE_MAX_ROWS || bytes > CYCLE_MAX_BYTES) {
        throw new DatabaseError(`${tooLarge(names, `more than ${formatCount(rows)}`)} Nothing of them was written.`);
      }
    }
    batches.push(batch);
  }
  const written = await callRpc(
    clients.staging,
    'supasync_write_cycle',
    { batches },
    { onRetry, answer: z.array(z.object({ table: z.string(), written: z.coerce.number() })) },
  ).catch((error: unknown) => {
    const detail = error instanceof RpcFailure ? describeFailure(error) : (error as Error).message;
    throw new DatabaseError(
      `Writing ${names} together (one transaction, their foreign keys checked at its end) failed: ${detail}. Nothing of them was written.`,
      1,
      {
        cause: error,
      },
    );
  });
  return new Map(
    tables.map((table, index) => [
      qualifiedName(table.table),
      { rows: batches[index]?.rows.length ?? 0, changed: Number(written[index]?.written ?? 0), rejected: [] },
    ]),
  );
}
