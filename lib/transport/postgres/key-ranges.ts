// A re-sync's questions on the direct path (changed-ranges.ts), asked with
// the read migration's builders: each builder's body runs alone here, so the
// hash and range expressions it takes are built first (hash_expression,
// range_expression) and kept per table for the run.
import { whyConnectionLost } from '../../connect/postgres.ts';
import type pg from 'pg';
import type { TableRef } from '../../catalog/types.ts';
import { runBuilt, runShared } from '../../sql/shared.ts';
import { keyedHashes, parseRangeSums, type ChecksumTarget } from '../checksum.ts';
import type { DatabaseReads, KeyRangeSet, RowFlags } from '../reads.ts';
import { copyOut } from './copy-out.ts';
import { readRowHashes } from './row-hashes.ts';
import { MAX_ROWS_SORTED_HERE, sortHere } from './sorted-hashes.ts';

/** The questions of reads.ts this module answers, as DatabaseReads declares them. */
export interface KeyRanges extends Pick<DatabaseReads, 'rangeSums' | 'rangeRows'> {
  rowHashes: NonNullable<DatabaseReads['rowHashes']>;
  /** The condition that picks the rows of these ranges (key_range_filter). */
  keyRangeFilter(target: { table: TableRef; keyColumns: string[] }, within: KeyRangeSet, binary: boolean): Promise<string>;
}

export function keyRanges(client: pg.Client): KeyRanges {
  const expressions = new Map<string, Promise<string>>();
  const hashOf = (table: TableRef, columns: string[], binary: boolean, types: ChecksumTarget['columnTypes'] = null) => {
    const args = [table.schema, table.name, columns, binary, types ?? null];
    const cacheKey = JSON.stringify(args);
    let expression = expressions.get(cacheKey);
    if (!expression) expressions.set(cacheKey, (expression = runShared<string>(client, 'hash_expression', args)));
    return expression;
  };
  const rangeOf = async (target: { table: TableRef; keyColumns: string[] }, bits: number, binary: boolean) =>
    runShared<string>(client, 'range_expression', [await hashOf(target.table, target.keyColumns, binary), bits]);
  const keyRangeFilter: KeyRanges['keyRangeFilter'] = async (target, within, binary) =>
    runShared<string>(client, 'key_range_filter', [await rangeOf(target, within.bits, binary), within.ranges]);
  const rowsOf = async (target: ChecksumTarget, rowFilter: string | null, within: KeyRangeSet | null, binary: boolean) => {
    const inRanges = within ? `(${await keyRangeFilter(target, within, binary)})` : null;
    return rowFilter && inRanges ? `(${rowFilter}) AND ${inRanges}` : (rowFilter ?? inRanges);
  };
  return {
    keyRangeFilter,
    async rangeSums(target, bits, rowFilter, binary, within, flagged = null) {
      const { table, keyColumns } = target;
      const args = [
        table.schema,
        table.name,
        keyColumns,
        await rangeOf(target, bits, binary),
        await rowHashOf(target, binary, flagged),
        await rowsOf(target, rowFilter, within, binary),
      ];
      return parseRangeSums(await runBuilt<string>(client, 'range_sums_query', args));
    },
    async rangeRows(target, rowFilter, binary, within, flagged = null) {
      const { table, keyColumns } = target;
      const args = [table.schema, table.name, keyColumns, null, await rowHashOf(target, binary, flagged), await rowsOf(target, rowFilter, within, binary)];
      return keyedHashes(await runBuilt<[string[], string][]>(client, 'range_sums_query', args));
    },
    async rowHashes(target, rowFilter, binary, flagged = null) {
      const { table, keyColumns } = target;
      const args = [table.schema, table.name, await hashOf(table, keyColumns, binary), await rowHashOf(target, binary, flagged), rowFilter];
      const stream = async (ordered: boolean) => {
        const query = await runShared<string>(client, 'row_hashes_query', [...args, ordered]);
        const hashes = readRowHashes(client.query(copyOut(`COPY (${query}) TO STDOUT (FORMAT binary)`, { binary: true })));
        return {
          ...hashes,
          next: () =>
            hashes.next().catch((error: unknown) => {
              throw whyConnectionLost(error, client);
            }),
        };
      };
      // Sorted here where production's estimate (-1: never counted) says the pairs fit; else, or past it after all, by the server.
      const fits = (target.rowEstimate ?? -1) <= MAX_ROWS_SORTED_HERE;
      return (fits ? await sortHere(await stream(false)) : null) ?? stream(true);
    },
  };

  /** A row's hash: of its columns, or (`flagged`) by flag_expression, as supasync_key_ranges hashes it over REST. */
  async function rowHashOf(target: ChecksumTarget, binary: boolean, flagged: RowFlags | null): Promise<string> {
    const { table, keyColumns, columns } = target;
    if (flagged) return runShared<string>(client, 'flag_expression', [await hashOf(table, keyColumns, binary), flagged.rows, flagged.othersByKey]);
    return hashOf(table, columns, binary, target.columnTypes);
  }
}
