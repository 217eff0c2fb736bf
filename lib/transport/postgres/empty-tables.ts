// The replaced tables production holds no row of, asked in a few statements
// within the run's snapshot (supasync_private.holding_rows_query, as over
// REST). A replace then neither COPYs them nor drops and builds again their
// indexes: two or three statements a table, each a round trip to a remote
// project, where an app's schema often holds hundreds of tables its
// features leave empty.
import type pg from 'pg';
import { qualifiedName } from '../../catalog/types.ts';
import { runBuilt } from '../../sql/shared.ts';
import { askedIfEmpty, HOLDING_ROWS_PER_STATEMENT, holdingRowsArgument, type TableLoad } from '../load.ts';

/** qualifiedName of each table of `tables` whose rows (under its `where`) production has none of. */
export async function emptyInProduction(production: pg.ClientBase, tables: TableLoad[]): Promise<Set<string>> {
  const asked = tables.filter(askedIfEmpty);
  const empty = new Set<string>();
  for (let start = 0; start < asked.length; start += HOLDING_ROWS_PER_STATEMENT) {
    const chunk = asked.slice(start, start + HOLDING_ROWS_PER_STATEMENT);
    const holding = await runBuilt<boolean[]>(production, 'holding_rows_query', [JSON.stringify(holdingRowsArgument(chunk))]);
    chunk.forEach((table, index) => {
      if (holding[index] === false) empty.add(qualifiedName(table.table));
    });
  }
  return empty;
}
