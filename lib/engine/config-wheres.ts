// A table's `where` in supasync.config.json is SQL that production runs as
// written, inside supasync's own queries. One that does not parse, or names
// a column the table lacks, failed the first query that used it, under that
// query's name ("Looking up keys in public.hotels") and with PostgreSQL's hint
// naming the query's own alias ("Perhaps you meant ... "p.name""). Each is
// tried first, on a query that reads no row, and a broken one is refused
// naming the config's field.
import { qualifiedName } from '../catalog/types.ts';
import { configFileName } from '../config/file.ts';
import { SupasyncError, UsageError } from '../errors.ts';
import type { SyncPlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';
import { askEach } from '../transport/reads.ts';

/**
 * PostgreSQL's classes of a condition's own mistakes: syntax and names (42), values it cannot read (22), and
 * what a read may not do (0A: over REST a second statement, a transaction command or a write, which the read
 * functions refuse; directly a second statement is a syntax error, 42601).
 */
const CONDITION_MISTAKE = /^(42|22|0A)/;

const PINNED_SETTINGS =
  " (supasync reads production with DateStyle 'ISO, YMD' and TimeZone 'UTC', whatever its defaults: write a date as '2025-04-06', a time with its zone)";

export async function refuseBrokenWheres(production: Database, plan: SyncPlan): Promise<void> {
  const filtered = plan.tables.filter((table) => table.options.where && table.columns.length);
  const tryOne = async (table: (typeof filtered)[number]): Promise<string | null> => {
    const where = table.options.where as string;
    try {
      // No key is looked up: the condition is planned with the table, and nothing is read.
      await production.missingKeys(table.table, table.columns.slice(0, 1), [], where);
      return null;
    } catch (error) {
      const cause = error instanceof SupasyncError ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
      if (typeof cause?.code !== 'string' || !CONDITION_MISTAKE.test(cause.code)) throw error;
      // A date or time supasync's pinned DateStyle cannot read (production's own reads '06/04/2025' day first).
      const settings = cause.code.startsWith('22') && /date|time/i.test(String(cause.message)) ? PINNED_SETTINGS : '';
      return `tables."${qualifiedName(table.table)}".where (${where}): ${String(cause.message)}${settings}`;
    }
  };
  const broken = await askEach(production.asksTogether, filtered, tryOne);
  const said = broken.filter((line): line is string => line !== null);
  if (!said.length) return;
  throw new UsageError(
    [
      `${configFileName()} holds a where that production cannot run as written:`,
      ...said.map((line) => `  ${line}`),
      'Correct it; nothing was read or written.',
    ].join('\n'),
  );
}
