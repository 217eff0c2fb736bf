// A re-sync's key-range questions over REST, gathered: the questions asked
// in the same turn of the event loop (a run asks every table's level at
// once, changed-ranges.ts) go as one request to supasync_key_ranges, a few
// tables per request. Each level of a comparison then costs a round trip or
// two for all tables, not one per table; a few per request still lets the
// project's backends hash tables side by side.
import { z } from 'zod';
import { qualifiedName } from '../../catalog/types.ts';
import type { Side } from '../../config/env.ts';
import { keyedHashes, parseRangeSums, type ChecksumTarget, type RangeSums } from '../checksum.ts';
import type { KeyRangeSet } from '../reads.ts';
import { ANSWERS, parseAnswer } from './answers.ts';

const TABLES_PER_REQUEST = 8;

type Ask = <T>(what: string, name: string, args: Record<string, unknown>, answer: z.ZodType<T>) => Promise<T>;

interface Question {
  request: Record<string, unknown>;
  table: string;
  settle(answer: unknown): void;
  fail(error: unknown): void;
}

export interface RestKeyRanges {
  rangeSums(target: ChecksumTarget, bits: number, rowFilter: string | null, binary: boolean, within: KeyRangeSet | null): Promise<RangeSums>;
  rangeRows(target: ChecksumTarget, rowFilter: string | null, binary: boolean, within: KeyRangeSet): Promise<Map<string, string>>;
}

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
    for (let at = 0; at < questions.length; at += TABLES_PER_REQUEST) void send(questions.slice(at, at + TABLES_PER_REQUEST));
  };
  const askTogether = <T>(
    target: ChecksumTarget,
    fields: { bits: number | null; rowFilter: string | null; binary: boolean; within: KeyRangeSet | null },
    answer: z.ZodType<T>,
  ): Promise<T> =>
    new Promise((resolve, reject) => {
      const table = qualifiedName(target.table);
      if (!waiting.length) setImmediate(flush);
      waiting.push({
        table,
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
    rangeSums: async (target, bits, rowFilter, binary, within) =>
      parseRangeSums(await askTogether(target, { bits, rowFilter, binary, within }, ANSWERS.rangeSums)),
    rangeRows: async (target, rowFilter, binary, within) =>
      keyedHashes(await askTogether(target, { bits: null, rowFilter, binary, within }, ANSWERS.rangeRows)),
  };
}
