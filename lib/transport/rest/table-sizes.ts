// How large a table is now, on the side asked: what a REST run cuts a large
// table's questions by (slices.ts). The catalog's statistics
// are production's, missing until a table is first analyzed, and stale after
// a bulk load: a table of three million rows never analyzed was hashed in
// one statement, past the role's statement timeout, and so was a staging
// five times production's size. supasync_table_sizes (functions version 28)
// reads each side's blocks and live rows; the tables asked about in the same
// turn of the event loop go in one request. Older functions: the catalog's.
import * as z from 'zod';
import { qualifiedName, type TableRef } from '../../catalog/types.ts';
import { DatabaseError } from '../../errors.ts';
import { ANSWERS } from './answers.ts';
import { RpcFailure } from './rpc.ts';

const TABLES_PER_REQUEST = 200;

/** A table's blocks (its leaves', for a partitioned one), its largest leaf's, and its live rows. */
export interface TableSize {
  blocks: number;
  widestLeaf: number;
  liveRows: number;
}

type Ask = <T>(what: string, name: string, args: Record<string, unknown>, answer: z.ZodType<T>) => Promise<T>;

/** The size of each table asked about, once a run; null where this side's functions are older, or it is no table here. */
export function restTableSizes(ask: Ask): (table: TableRef) => Promise<TableSize | null> {
  const known = new Map<string, Promise<TableSize | null>>();
  let waiting: { table: TableRef; settle: (size: TableSize | null) => void; fail: (error: unknown) => void }[] = [];
  const send = async (batch: typeof waiting) => {
    try {
      const tables = batch.map(({ table }) => ({ schema: table.schema, name: table.name }));
      const answers = await ask('Reading the sizes of the tables compared', 'supasync_table_sizes', { tables }, ANSWERS.tableSizes.length(batch.length));
      batch.forEach((question, i) => {
        const answer = answers[i];
        question.settle(answer ? { blocks: answer[0], widestLeaf: answer[1], liveRows: answer[2] } : null);
      });
    } catch (error) {
      // Functions older than version 28 lack it (asked without reading their version first: a request saved): the catalog's numbers.
      const missing = error instanceof DatabaseError && error.cause instanceof RpcFailure && error.cause.code === 'PGRST202';
      for (const question of batch) {
        if (missing) question.settle(null);
        else question.fail(error);
      }
    }
  };
  const flush = () => {
    const questions = waiting;
    waiting = [];
    for (let from = 0; from < questions.length; from += TABLES_PER_REQUEST) void send(questions.slice(from, from + TABLES_PER_REQUEST));
  };
  return (table) => {
    const name = qualifiedName(table);
    let size = known.get(name);
    if (!size) {
      size = new Promise((settle, fail) => {
        if (!waiting.length) setImmediate(flush);
        waiting.push({ table, settle, fail });
      });
      known.set(name, size);
    }
    return size;
  };
}
