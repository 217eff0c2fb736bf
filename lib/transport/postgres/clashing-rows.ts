// The rows a direct upsert's unique value was refused between
// (transport/clashing-rows.ts), asked in the run's transaction back at the
// savepoint before the refused INSERT: the rows being written are still in
// its temporary table.
import type pg from 'pg';
import type { TableRef } from '../../catalog/types.ts';
import { quoteTable } from '../../sql/ident.ts';
import { runShared } from '../../sql/shared.ts';
import { describeClashingRows, type ClashingRows } from '../clashing-rows.ts';

export async function clashingRows(
  staging: pg.ClientBase,
  error: unknown,
  target: { table: TableRef; columns: string[]; keyColumns: string[] },
  temp: string,
): Promise<string | null> {
  const refused = (error ?? {}) as { code?: string; constraint?: string };
  if (refused.code !== '23505' || !refused.constraint) return null;
  const query = await runShared<string | null>(staging, 'clashing_rows_query', [
    quoteTable(target.table),
    refused.constraint,
    target.columns,
    target.keyColumns,
    temp,
  ]);
  if (!query) return null;
  const { rows } = await staging.query<unknown[]>({ text: query, rowMode: 'array' });
  return describeClashingRows(target.table, target.keyColumns, (rows[0]?.[0] ?? null) as ClashingRows | null);
}
