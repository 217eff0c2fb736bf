// A table that references itself (chat_messages.parent_message_id: replies
// to replies) where staging's functions may not switch foreign-key checks
// off. Over REST every batch is checked as it commits, and a reply may come
// in an earlier batch than the message it answers, so the load takes two
// passes: every row with its self-referencing columns left NULL, then those
// columns set by key once every row is in.
import type { SupabaseClient } from '@supabase/supabase-js';
import { qualifiedName } from '../../catalog/types.ts';
import { describeKey } from '../../catalog/partition-keys.ts';
import type { LoadPlan, TableLoad } from '../load.ts';
import { quoteIdent } from '../../sql/ident.ts';
import { readPages, setColumns, type WriteOutcome } from './rows.ts';
import type { RowMask } from '../../mask/apply.ts';
import type { OnRetry } from './rpc.ts';

export interface SecondPasses {
  /** Per qualified table name: the columns the first pass leaves NULL and the second sets. */
  columns: Map<string, string[]>;
  /** Why a table cannot load in two passes, one sentence each, naming the table and its columns. */
  refused: string[];
}

/**
 * A foreign key stops checking a row once one of its columns is NULL (MATCH
 * SIMPLE, the default; MATCH FULL only when all are), so the first pass
 * leaves out the ones staging lets an insert leave NULL, key columns never.
 */
export function planSecondPasses(plan: LoadPlan, inCycles: Set<string>): SecondPasses {
  const columns = new Map<string, string[]>();
  const refused: string[] = [];
  for (const { table, foreignKey, nullableColumns } of plan.selfReferences) {
    const name = qualifiedName(table);
    // A cycle's tables go in one request, whose checks wait for its end: no second pass.
    if (inCycles.has(name)) continue;
    const key = plan.tables.find((t) => qualifiedName(t.table) === name)?.key;
    const fk = describeKey(foreignKey);
    if (!key) {
      refused.push(
        `${name} references itself (${fk}) and has no key: its second pass would set ${foreignKey.columns.join(', ')} on rows matched by key. ` +
          'Give it a primary key (staging too).',
      );
      continue;
    }
    const leftNull = nullableColumns.filter((column) => !key.columns.includes(column));
    const matchFull = /\bMATCH FULL\b/i.test(foreignKey.definition);
    const blocking = foreignKey.columns.filter((column) => !leftNull.includes(column));
    if (!leftNull.length || (matchFull && blocking.length)) {
      refused.push(
        `${name} references itself (${fk}), and staging cannot store ${blocking.join(', ')} as NULL for a first pass ` +
          '(NOT NULL, a default, or part of the key), so its rows cannot be written before the rows they reference.',
      );
      continue;
    }
    columns.set(name, [...new Set([...(columns.get(name) ?? []), ...leftNull])]);
  }
  return { columns, refused };
}

export function describeSecondPasses(passes: SecondPasses): string[] {
  return [...passes.columns].map(
    ([table, columns]) =>
      `${table} references itself: its rows are written with ${columns.join(', ')} NULL, then a second pass sets ${columns.length > 1 ? 'them' : 'it'}.`,
  );
}

/** The first pass writes every copied column but these. */
export function withoutColumns(table: TableLoad, columns: string[]): TableLoad {
  return { ...table, columns: table.columns.filter((column) => !columns.includes(column)) };
}

/**
 * The second pass: production's key and self-referencing values, read with
 * the same keyset paging and row filter as the first, set in staging by key.
 * A reference to a row added to production after the first pass read past
 * it is rejected by staging's foreign key and reported with its key, as a
 * row of the first pass would be; running again converges. In replace mode
 * the rows are fresh and already NULL there, so only non-NULL values are
 * read; an upsert also clears references production no longer has.
 * Pages are sized as the first pass's (at most 5,000 rows): an UPDATE of
 * 5,000 rows by key, foreign key checked, takes about 0.1 s on a 200,000-row
 * table, far inside service_role's 8 s statement timeout, and one that runs
 * out of time is split in two (rows.ts).
 */
export async function setSelfReferences(
  clients: { production: SupabaseClient; staging: SupabaseClient },
  table: TableLoad,
  columns: string[],
  options: { strict: boolean; onRetry: OnRetry; mask?: (columns: string[]) => RowMask | null },
): Promise<WriteOutcome> {
  const keyColumns = table.key?.columns ?? [];
  const anySet = columns.map((column) => `${quoteIdent(column)} IS NOT NULL`).join(' OR ');
  const pass: TableLoad = {
    ...table,
    columns: [...keyColumns, ...columns],
    rowFilter: table.mode === 'replace' ? `(${table.rowFilter ?? 'true'}) AND (${anySet})` : table.rowFilter,
  };
  const outcome: WriteOutcome = { written: 0, rejected: [], conflicted: [] };
  // Key and references masked alike: a masked key's references carry its rule (plan/mask.ts), so they still match.
  const mask = options.mask?.(pass.columns) ?? null;
  for await (const read of readPages(clients.production, pass, options.onRetry)) {
    const page = mask ? read.map(mask) : read;
    const set = await setColumns(clients.staging, table, columns, page, options);
    outcome.written += set.written;
    outcome.rejected.push(...set.rejected);
  }
  return outcome;
}
