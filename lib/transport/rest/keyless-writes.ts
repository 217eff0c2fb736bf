// A table without a key is written with plain inserts, so a request sent
// again after a lost answer would repeat its rows. A sync's rows and a
// restore's alike go one request at a time, and when one fails in a way that
// leaves its fate unknown (no answer in time included: on Supabase the
// statement timeout has ended the write by then), staging's row count says
// whether it landed before it is sent again. A page that holds a large row is
// several requests: each is counted.
import type { SupabaseClient } from '@supabase/supabase-js';
import { qualifiedName } from '../../catalog/types.ts';
import { DatabaseError } from '../../errors.ts';
import { ANSWERS } from './answers.ts';
import { callRpc, RpcFailure, type OnRetry } from './rpc.ts';
import { requestsOf, type Row } from './row-size.ts';
import { writeRows, type WriteOutcome, type WrittenTable } from './rows.ts';

const ATTEMPTS = 7;

export async function writeKeylessRows(
  staging: SupabaseClient,
  table: WrittenTable,
  rows: Row[],
  options: { strict: boolean; onRetry: OnRetry },
): Promise<WriteOutcome> {
  const outcome: WriteOutcome = { written: 0, rejected: [], conflicted: [] };
  for (const request of requestsOf(rows)) {
    const sent = await writeKeylessRequest(staging, table, request, options);
    outcome.written += sent.written;
    outcome.rejected.push(...sent.rejected);
  }
  return outcome;
}

async function writeKeylessRequest(
  staging: SupabaseClient,
  table: WrittenTable,
  rows: Row[],
  options: { strict: boolean; onRetry: OnRetry },
): Promise<WriteOutcome> {
  const { onRetry } = options;
  const count = () =>
    callRpc(staging, 'supasync_count_rows', { table_schema: table.table.schema, table_name: table.table.name }, { onRetry, answer: ANSWERS.count });
  const before = await count();
  for (let attempt = 1; ; attempt++) {
    try {
      return await writeRows(staging, table, rows, { strict: options.strict, onRetry, retries: 0 });
    } catch (error) {
      if (!(error instanceof RpcFailure) || error.kind !== 'transient' || attempt >= ATTEMPTS) throw error;
      onRetry(error);
      const now = await count();
      if (now === before + rows.length) return { written: rows.length, rejected: [], conflicted: [] };
      if (now !== before) {
        throw new DatabaseError(
          `${qualifiedName(table.table)} has no key, and a batch whose answer was lost landed in part (${now - before} of ${rows.length} rows): run again (a replace or a restore empties it first).`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
    }
  }
}
