// The replaced tables production holds no row of, asked in a few statements
// within the run's snapshot. A replace then neither COPYs them nor drops and
// builds again their indexes: two or three statements a table, each a round
// trip to a remote project, where an app's schema often holds hundreds of
// tables its features leave empty.
import type pg from 'pg';
import { qualifiedName } from '../../catalog/types.ts';
import { ownRowsOf } from '../../sql/shared.ts';
import type { TableLoad } from '../load.ts';

/** Above this many rows estimated, a table is taken to hold some: its check could scan far under a `where`. */
const ASKED_BELOW_ROWS = 1000;
/** Tables per statement: one EXISTS each, planned together. */
const PER_STATEMENT = 200;

/** qualifiedName of each table of `tables` whose rows (under its `where`) production has none of. */
export async function emptyInProduction(production: pg.ClientBase, tables: TableLoad[]): Promise<Set<string>> {
  const asked = tables.filter((table) => table.rowEstimate < ASKED_BELOW_ROWS);
  const empty = new Set<string>();
  for (let start = 0; start < asked.length; start += PER_STATEMENT) {
    const chunk = asked.slice(start, start + PER_STATEMENT);
    const named = await ownRowsOf(
      production,
      chunk.map((table) => table.table),
    );
    const holds = chunk.map((table, index) => `EXISTS (SELECT FROM ${named[index]} WHERE ${table.rowFilter ?? 'true'})`);
    const { rows } = await production.query<[boolean[]]>({ text: `SELECT ARRAY[${holds.join(', ')}]`, rowMode: 'array' });
    rows[0]?.[0].forEach((hasRows, index) => {
      const table = chunk[index];
      if (!hasRows && table) empty.add(qualifiedName(table.table));
    });
  }
  return empty;
}
