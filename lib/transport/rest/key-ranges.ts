// A re-sync's key-range questions over REST, gathered: the questions asked
// in the same turn of the event loop (a run asks every table's level at
// once, changed-ranges.ts) go as few requests to supasync_key_ranges. Each
// level of a comparison then costs a round trip or two for all tables, not
// one per table. A request answers its questions one after the other in one
// backend, so it takes small tables together, up to about ROWS_PER_REQUEST
// rows, and a large one alone: the project's backends hash large tables side
// by side. A large table is asked about in slices of its blocks (slices.ts),
// whose answers add up: counts by sum, hashes by xor, listed rows together.
import * as z from 'zod';
import { qualifiedName, type TableRef } from '../../catalog/types.ts';
import type { Side } from '../../config/env.ts';
import { keyedHashes, parseRangeSums, type ChecksumTarget, type RangeSums } from '../checksum.ts';
import type { DatabaseReads, KeyRangeSet, RowFlags } from '../reads.ts';
import { ANSWERS, parseAnswer } from './answers.ts';
import type { TableSize } from './table-sizes.ts';
import type { Limited } from '../../connect/request-limit.ts';
import { slicesOf } from './slices.ts';

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

export function restKeyRanges(ask: Ask, side: Side, sizeOf: (table: TableRef) => Promise<TableSize | null>, slots: Limited): RestKeyRanges {
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
          // Functions before version 36 leave it unread: such a column then differs on every row, as it did.
          ...(target.columnTypes ? { column_types: target.columnTypes } : {}),
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
  type Fields = Parameters<typeof askTogether>[1];
  /** One question per slice of the table's blocks (slicesOf), asked together. */
  const askSliced = async <T>(target: ChecksumTarget, fields: Fields, answer: z.ZodType<T>): Promise<T[]> => {
    const slices = slicesOf(target, fields.rowFilter, await sizeOf(target.table));
    if (slices.length === 1) return [await askTogether(target, fields, answer)];
    return Promise.all(slices.map((slice) => slots(() => askTogether(slice.target, { ...fields, rowFilter: slice.rowFilter }, answer))));
  };
  return {
    rangeSums: async (target, bits, rowFilter, binary, within, flagged = null) =>
      addRangeSums((await askSliced(target, { bits, rowFilter, binary, within, flagged }, ANSWERS.rangeSums)).map(parseRangeSums)),
    rangeRows: async (target, rowFilter, binary, within, flagged = null) =>
      keyedHashes((await askSliced(target, { bits: null, rowFilter, binary, within, flagged }, ANSWERS.rangeRows)).flat()),
  };
}

/** Disjoint rows' sums per range as one: counts added, hashes xor-ed, written as range_sums_query writes them. */
function addRangeSums(parts: RangeSums[]): RangeSums {
  if (parts.length === 1) return parts[0] as RangeSums;
  const total = new Map<number, { rows: bigint; hash: bigint }>();
  for (const part of parts) {
    for (const [range, value] of part) {
      const [rows = '0', hash = '0'] = value.split(':');
      const sum = total.get(range) ?? { rows: 0n, hash: 0n };
      total.set(range, { rows: sum.rows + BigInt(rows), hash: sum.hash ^ BigInt(`0x${hash}`) });
    }
  }
  return new Map([...total].sort(([a], [b]) => a - b).map(([range, sum]) => [range, `${sum.rows}:${sum.hash.toString(16)}`]));
}
