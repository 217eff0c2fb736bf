// The column an incremental run follows: whether the database stamps it
// (stampedOnUpdate, below), and how far back a run reads by it.
// The watermark is an instant (production's clock, less the
// overlap); a column that cannot hold an instant is read from earlier:
// - timestamp without time zone holds some zone's wall-clock time, and which
//   zone the app wrote it in is not recorded (now() in a session set to
//   another zone, a client's local time): from 14 hours before, the widest
//   offset of any zone;
// - date holds a day: from the day before the watermark's, in UTC (a day in
//   a zone west of UTC is still the day before).
// Rows read again are compared and left alone where equal: the cost is
// reading them, never a change missed. A row whose column is NULL is never
// past a watermark, though a write may have set it so (an UPDATE that clears
// it, an insert that leaves it unset): it is read on every run.
import type { Table } from '../catalog/types.ts';
import { partsAsSqlReads, quoteIdent, quoteLiteral } from '../sql/ident.ts';

type Reach = 'instant' | 'wall-clock' | 'day';

function reachOf(type: string | null): Reach {
  if (type === 'date') return 'day';
  if (type?.startsWith('timestamp') && type.endsWith('without time zone')) return 'wall-clock';
  return 'instant';
}

/**
 * The condition "changed at or after `since`, or NULL" (`since`: an ISO instant read back from staging: a literal,
 * never pasted as SQL). Never NULL itself: a row it does not flag is one whose column is known to be before.
 */
export function changedSinceCondition(column: string, type: string | null, since: string): string {
  const instant = `${quoteLiteral(since)}::timestamptz`;
  const reach = reachOf(type);
  const from =
    reach === 'day' ? `(${instant} AT TIME ZONE 'UTC')::date - 1` : reach === 'wall-clock' ? `(${instant} AT TIME ZONE 'UTC') - interval '14 hours'` : instant;
  return `(${quoteIdent(column)} >= ${from} OR ${quoteIdent(column)} IS NULL)`;
}

/** What the plan and the summary add after "updated_at >= <watermark>" for such a column: the rows where it is NULL, and how far before. */
export function readsFromEarlier(type: string | null): string {
  const reach = reachOf(type);
  if (reach === 'day') return ' or NULL (a date: read from the day before)';
  if (reach === 'wall-clock') return ' or NULL (a timestamp without time zone: read from 14 hours before, its zone unknown)';
  return ' or NULL';
}

/**
 * Whether a row trigger of the table fires before every UPDATE in ordinary
 * sessions and sets `column` there: what stamps updated_at in the database
 * (moddatetime, a set_updated_at()), where the app's own code may not
 * (GoTrue's auth.users, Prisma's @updatedAt). A trigger that only guards the
 * row (raises unless one column changed) stamps nothing: its function's
 * body is read for `NEW.column :=` (functions version 38); where it cannot
 * be (another language, older functions) any such trigger counts. One
 * for `UPDATE OF` some columns, or enabled for replicas only, does not; one
 * with a WHEN clause only where it compares the whole row
 * (`OLD.* IS DISTINCT FROM NEW.*`), or where the catalog could not read it
 * (its table locked). A partitioned table's rows are stamped too where
 * each of its leaf partitions has such a trigger of its own.
 */
export function stampedOnUpdate(table: Table, column: string): boolean {
  if (table.leavesStampedOnUpdate) return true;
  return table.triggers.some((trigger) => {
    if (trigger.stamps && !trigger.stamps.some((name) => partsAsSqlReads(name).join('.') === column)) return false;
    if (trigger.beforeEachUpdate === undefined) {
      // Functions before version 26: the definition alone.
      return trigger.enabled && (trigger.definition === null || /\bBEFORE\b(?:(?!\bON\b).)*\bUPDATE\b.*\bFOR EACH ROW\b/s.test(trigger.definition));
    }
    if (!trigger.beforeEachUpdate || !trigger.firesInSessions) return false;
    return (
      !trigger.conditional || trigger.definition === null || /\bold\.\* IS DISTINCT FROM new\.\*|\bnew\.\* IS DISTINCT FROM old\.\*/i.test(trigger.definition)
    );
  });
}
