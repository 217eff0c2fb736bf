// A re-sync's questions on the direct path (changed-ranges.ts), asked with
// the read migration's builders: each builder's body runs alone here, so the
// hash and range expressions it takes are built first (hash_expression,
// range_expression) and kept per table for the run.
import type pg from 'pg';
import { runBuilt, runShared } from '../../sql/shared.ts';
import { keyedHashes, parseRangeSums, type ChecksumTarget, type RangeSums } from '../checksum.ts';
import type { KeyedTable, RowHashes } from '../reads.ts';
import { copyOut } from './copy-out.ts';
import { readRowHashes } from './row-hashes.ts';

export interface KeyRanges {
  rangeSums(target: ChecksumTarget, bits: number, rowFilter: string | null, binary: boolean): Promise<RangeSums>;
  keyRangeFilter(target: KeyedTable, bits: number, ranges: (number | string)[], binary: boolean): Promise<string>;
  rangeRows(target: ChecksumTarget, rowFilter: string, binary: boolean): Promise<Map<string, string>>;
  rowHashes(target: ChecksumTarget, rowFilter: string | null, binary: boolean): Promise<RowHashes>;
}

export function keyRanges(client: pg.Client): KeyRanges {
  const expressions = new Map<string, Promise<string>>();
  const hashOf = (target: KeyedTable, columns: string[], binary: boolean) => {
    const args = [target.table.schema, target.table.name, columns, binary];
    const cacheKey = JSON.stringify(args);
    let expression = expressions.get(cacheKey);
    if (!expression) expressions.set(cacheKey, (expression = runShared<string>(client, 'hash_expression', args)));
    return expression;
  };
  const rangeOf = async (target: KeyedTable, bits: number, binary: boolean) =>
    runShared<string>(client, 'range_expression', [await hashOf(target, target.keyColumns, binary), bits]);
  return {
    async rangeSums(target, bits, rowFilter, binary) {
      const args = [
        target.table.schema,
        target.table.name,
        target.keyColumns,
        await rangeOf(target, bits, binary),
        await hashOf(target, target.columns, binary),
        rowFilter,
      ];
      return parseRangeSums(await runBuilt<string>(client, 'range_sums_query', args));
    },
    async keyRangeFilter(target, bits, ranges, binary) {
      return runShared<string>(client, 'key_range_filter', [await rangeOf(target, bits, binary), ranges]);
    },
    async rangeRows(target, rowFilter, binary) {
      const args = [target.table.schema, target.table.name, target.keyColumns, null, await hashOf(target, target.columns, binary), rowFilter];
      return keyedHashes(await runBuilt<[string[], string][]>(client, 'range_sums_query', args));
    },
    async rowHashes(target, rowFilter, binary) {
      const keyHash = await hashOf(target, target.keyColumns, binary);
      // Keys alone (an incremental run's search for added and deleted rows): a row hash would repeat the key's.
      const keysAlone = target.columns.length === target.keyColumns.length && target.columns.every((column, i) => column === target.keyColumns[i]);
      const args = [target.table.schema, target.table.name, keyHash, keysAlone ? '0::bigint' : await hashOf(target, target.columns, binary), rowFilter];
      const query = await runShared<string>(client, 'row_hashes_query', args);
      return readRowHashes(client.query(copyOut(`COPY (${query}) TO STDOUT (FORMAT binary)`, { binary: true })));
    },
  };
}
