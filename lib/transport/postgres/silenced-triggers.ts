// The user triggers and rules that would fire as a transaction writes
// staging's tables (supasync_private.user_triggers: on each table and its
// partitions; under the replica role those enabled ALWAYS or REPLICA, which
// it does not silence; without it the others), disabled until the
// transaction puts each back in the mode it had. As pg_dump
// --disable-triggers does: rows go in as they were, with no trigger
// rewriting them or adding rows of its own, and no rule turning a delete
// into an update.
import type pg from 'pg';
import type { TableRef } from '../../catalog/types.ts';
import { quoteTable } from '../../sql/ident.ts';
import { runShared, runSharedEach } from '../../sql/shared.ts';

/** One trigger or rule, as user_triggers lists it: kind, mode, relation and name ('TA:16384:audit'). */
export type SilencedTrigger = string;

export async function silenceTriggers(staging: pg.ClientBase, tables: TableRef[], replica: boolean): Promise<SilencedTrigger[]> {
  const silenced: SilencedTrigger[] = [];
  const listed = await runSharedEach<string[]>(
    staging,
    'user_triggers',
    tables.map((table) => [quoteTable(table), replica]),
  );
  // A partition's triggers are listed with its parent's too: each switched once.
  for (const entry of new Set(listed.flat())) {
    await staging.query(await runShared<string>(staging, 'trigger_switch_query', [entry, false]));
    silenced.push(entry);
  }
  return silenced;
}

/** Each trigger and rule enabled again as it was (ENABLE, ENABLE ALWAYS, ENABLE REPLICA). */
export async function restoreTriggers(staging: pg.ClientBase, silenced: SilencedTrigger[]): Promise<void> {
  for (const entry of silenced) await staging.query(await runShared<string>(staging, 'trigger_switch_query', [entry, true]));
}
