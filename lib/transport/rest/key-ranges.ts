// A re-sync's key-range questions over REST, gathered: the questions asked
// in the same turn of the event loop (a run asks every table's level at
// once, changed-ranges.ts) go as few requests to supasync_key_ranges. Each
// level of a comparison then costs a round trip or two for all tables, not
// one per table. A request answers its questions one after the other in one
// backend, so it takes small tables together, up to about ROWS_PER_REQUEST
// rows, and a large one alone: the project's backends hash large tables side
// by side.
import { z } from 'zod';
import { qualifiedName } from '../../catalog/types.ts';
import type { Side } from '../../config/env.ts';
import { keyedHashes, parseRangeSums, type ChecksumTarget } from '../checksum.ts';
import type { DatabaseReads, KeyRangeSet, RowFlags } from '../reads.ts';
import { ANSWERS, parseAnswer } from './answers.ts';

const ROWS_PER_REQUEST = 100_000;
const TABLES_PER_REQUEST = 16;

type Ask = <T>(what: string, name: string, args: Record<string, unknown>, answer: z.ZodType<T>) => Promise<T>;

interface Question {
  request: Record<string, unknown>;
  table: string;
  rows: number;
  settle(answer: unknown): void;
  fail(error: unknown): void;
}

/** The questions of reads.ts this module answers, as DatabaseReads declares them. */
export type RestKeyRanges = Pick<DatabaseReads, 'rangeSums' | 'rangeRows'>;

export function restKeyRanges(ask: Ask, side: Side): RestKeyRanges {
  let waiting: Question[] = [];
  const send = async (questions: Question[]) => {
    const what = `Comparing key ranges of ${questions.map((q) => q.table).join(', ')}`;
    try {
      const answers = await ask(what, 'supasync_key_ranges', { requests: questions.map((q) => q.request) }, z.array(z.unknown()).length(questions.length));
      questions.forEach((question, i) => question.settle(answers[i]));
    } catch (error) {
      for (const question of questions) question.fail(error);
    }
  };
  const flush = () => {
    const questions = waiting;
    waiting = [];
    let request: Question[] = [];
    let rows = 0;
    for (const question of questions) {
      if (request.length && (rows + question.rows > ROWS_PER_REQUEST || request.length === TABLES_PER_REQUEST)) {
        void send(request);
        [request, rows] = [[], 0];
      }
      request.push(question);
      rows += question.rows;
    }
    if (request.length) void send(request);
  };
  const askTogether = <T>(
    target: ChecksumTarget,
    fields: { bits: number | null; rowFilter: string | null; binary: boolean; within: KeyRangeSet | null; flagged: RowFlags | null },
    answer: z.ZodType<T>,
  ): Promise<T> =>
    new Promise((resolve, reject) => {
      const table = qualifiedName(target.table);
      if (!waiting.length) setImmediate(flush);
      waiting.push({
        table,
        rows: Math.max(target.rowEstimate ?? 0, 0),
        request: {
          table_schema: target.table.schema,
          table_name: target.table.name,
          columns: target.columns,
          key_columns: target.keyColumns,
          use_binary: fields.binary,
          row_filter: fields.rowFilter,
          bits: fields.bits,
          within_bits: fields.within?.bits ?? null,
          within_ranges: fields.within?.ranges ?? null,
          flagged: fields.flagged?.rows ?? null,
          flagged_others_by_key: fields.flagged?.othersByKey ?? null,
        },
        settle: (value) => {
          try {
            resolve(parseAnswer(answer, value, `Comparing key ranges of ${table}`, side));
          } catch (error) {
            reject(error);
          }
        },
        fail: reject,
      });
    });
  return {
    rangeSums: async (target, bits, rowFilter, binary, within, flagged = null) =>
      parseRangeSums(await askTogether(target, { bits, rowFilter, binary, within, flagged }, ANSWERS.rangeSums)),
    rangeRows: async (target, rowFilter, binary, within, flagged = null) =>
      keyedHashes(await askTogether(target, { bits: null, rowFilter, binary, within, flagged }, ANSWERS.rangeRows)),
  };
}
