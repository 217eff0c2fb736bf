// The materialized views that read the tables a run wrote, refreshed in the
// staging transaction once the rows are in: until then they hold what they
// held before the run. Which views, in which order, and whether this role
// may refresh them: supasync_private.dependent_views, as over REST.
import type pg from 'pg';
import type { TableRef } from '../../catalog/types.ts';
import { runShared } from '../../sql/shared.ts';
import { viewsArgument, type DependentView } from '../reads.ts';
import type { ViewRefresh } from '../session.ts';

/** The materialized views that read `tables`, as a run would refresh them. */
export async function dependentViews(staging: pg.ClientBase, tables: TableRef[]): Promise<DependentView[]> {
  return runShared<DependentView[]>(staging, 'dependent_views', [JSON.stringify(viewsArgument(tables))]);
}

/**
 * Each view in a savepoint: one that cannot be refreshed (its query fails on
 * the new rows, its unique index refuses them) keeps what it held and is
 * reported, and the run goes on to commit the rows.
 */
export async function refreshViews(staging: pg.ClientBase, written: TableRef[]): Promise<ViewRefresh[]> {
  if (!written.length) return [];
  const views = await dependentViews(staging, written);
  const outcomes: ViewRefresh[] = [];
  for (const { view, populated, owner, mayRefresh } of views) {
    if (!populated) outcomes.push({ view, refreshed: false, reason: 'never populated (WITH NO DATA): left so' });
    else if (!mayRefresh) outcomes.push({ view, refreshed: false, reason: `owned by ${owner}` });
    else outcomes.push(await refreshOne(staging, view));
  }
  return outcomes;
}

async function refreshOne(staging: pg.ClientBase, view: string): Promise<ViewRefresh> {
  await staging.query('SAVEPOINT supasync_refresh');
  try {
    await staging.query(`REFRESH MATERIALIZED VIEW ${view}`);
    return { view, refreshed: true, reason: null };
  } catch (error) {
    await staging.query('ROLLBACK TO SAVEPOINT supasync_refresh');
    return { view, refreshed: false, reason: (error as Error).message };
  } finally {
    await staging.query('RELEASE SAVEPOINT supasync_refresh');
  }
}
