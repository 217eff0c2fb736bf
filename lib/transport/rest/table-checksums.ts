// Verify over REST asked each table's checksum on its own: an app's schema
// of small tables was a round trip per table on each side (over the
// internet 100 ms or more apiece), most of verify's time. The whole-table
// checksums of the small tables now come several tables a request
// (supasync_checksums, functions version 34), asked as verify starts. A
// request is kept to a few rows by this side's own sizes, far from the
// role's statement timeout; a table whose question turns out otherwise,
// and every table of a request that failed, is asked alone: its failure
// then names its table.
import * as z from 'zod';
import { checksumArgs, COLUMN_TYPES_SINCE, type ChecksumTarget, type TableSum } from '../checksum.ts';
import { slicesOf } from './slices.ts';
import type { TableSize } from './table-sizes.ts';
import type { TableRef } from '../../catalog/types.ts';

/** Functions from this version checksum several tables in one request. */
export const CHECKSUMS_SINCE = 34;
const TABLES_A_REQUEST = 16;
/** By this side's live rows and blocks: a request hashes about what one small table's would. */
const ROWS_A_REQUEST = 50_000;
const BLOCKS_A_REQUEST = 1_024;

const SUMS = z.array(z.object({ rows: z.string(), hash: z.string() }).nullable());

type Ask = <T>(what: string, name: string, args: Record<string, unknown>, answer: z.ZodType<T>) => Promise<T>;

export interface TableChecksums {
  /** Asks now for the whole-table checksums of those of `targets` that are small on this side. */
  read(targets: ChecksumTarget[]): void;
  /** The target's whole-table checksum if it was asked with others; undefined: ask it alone. */
  take(target: ChecksumTarget): Promise<TableSum | undefined> | undefined;
}

export function restTableChecksums(ask: Ask, functionsVersion: () => Promise<number>, sizeOf: (table: TableRef) => Promise<TableSize | null>): TableChecksums {
  const asked = new Map<string, Promise<TableSum | undefined>>();
  const keyOf = (target: ChecksumTarget) => JSON.stringify([...checksumArgs(target, {}).slice(0, 4), target.columnTypes ?? null]);

  /** Each target's checksum, as its own request answers it (undefined: ask it alone), once this side's sizes are in. */
  const readGroups = async (targets: ChecksumTarget[]): Promise<Promise<TableSum | undefined>[]> => {
    const answers: Promise<TableSum | undefined>[] = targets.map(() => Promise.resolve(undefined));
    const version = await functionsVersion().catch(() => 0);
    if (version < CHECKSUMS_SINCE) return answers;
    const sizes = await Promise.all(targets.map((target) => sizeOf(target.table).catch(() => null)));
    let group: number[] = [];
    let rows = 0;
    let blocks = 0;
    const send = () => {
      const members = group;
      group = [];
      rows = 0;
      blocks = 0;
      if (members.length < 2) return;
      const wanted = members.map((i) => {
        const target = targets[i] as ChecksumTarget;
        const [table_schema, table_name, columns, key_columns] = checksumArgs(target, {});
        // Functions before version 36 know no column_types: such a column is then compared as each side writes it.
        const typed = target.columnTypes && version >= COLUMN_TYPES_SINCE ? { column_types: target.columnTypes } : {};
        return { table_schema, table_name, columns, key_columns, ...typed };
      });
      const sums = ask(`Checksumming ${members.length} tables`, 'supasync_checksums', { targets: wanted }, SUMS.length(members.length)).catch(() => []);
      for (const [n, i] of members.entries()) answers[i] = sums.then((all) => all[n] ?? undefined);
    };
    targets.forEach((target, i) => {
      const size = sizes[i];
      // Asked alone: a table this side does not have (its question names it), or one hashed in slices.
      if (!size || slicesOf(target, null, size).length > 1 || size.liveRows > ROWS_A_REQUEST || size.blocks > BLOCKS_A_REQUEST) return;
      if (group.length === TABLES_A_REQUEST || rows + size.liveRows > ROWS_A_REQUEST || blocks + size.blocks > BLOCKS_A_REQUEST) send();
      group.push(i);
      rows += size.liveRows;
      blocks += size.blocks;
    });
    send();
    return answers;
  };

  return {
    read(targets) {
      const fresh = targets.filter((target) => !asked.has(keyOf(target)));
      const answers = readGroups(fresh).catch((): Promise<TableSum | undefined>[] => []);
      fresh.forEach((target, i) =>
        asked.set(
          keyOf(target),
          answers.then((all) => all[i]),
        ),
      );
    },
    take(target) {
      const key = keyOf(target);
      const answer = asked.get(key);
      asked.delete(key);
      return answer;
    },
  };
}
