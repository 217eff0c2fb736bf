// The user triggers that would fire as a transaction writes staging's tables
// (supasync_private.user_triggers: under the replica role those enabled
// ALWAYS or REPLICA, which it does not silence; without it the others),
// disabled until the transaction puts each back in the mode it had. As
// pg_dump --disable-triggers does: rows go in as they were, with no trigger
// rewriting them or adding rows of its own.
import type pg from 'pg';
import type { TableRef } from '../../catalog/types.ts';
import { quoteIdent, quoteTable } from '../../sql/ident.ts';
import { runShared } from '../../sql/shared.ts';

export interface SilencedTrigger {
  /** The table, quoted. */
  table: string;
  /** Its mode and name, as user_triggers lists it ('A:audit'). */
  entry: string;
}

export async function silenceTriggers(staging: pg.ClientBase, tables: TableRef[], replica: boolean): Promise<SilencedTrigger[]> {
  const silenced: SilencedTrigger[] = [];
  for (const table of tables) {
    const entries = await runShared<string[]>(staging, 'user_triggers', [quoteTable(table), replica]);
    for (const entry of entries) {
      await staging.query(`ALTER TABLE ${quoteTable(table)} DISABLE TRIGGER ${quoteIdent(entry.slice(2))}`);
      silenced.push({ table: quoteTable(table), entry });
    }
  }
  return silenced;
}

/** Each trigger enabled again as it was (ENABLE, ENABLE ALWAYS, ENABLE REPLICA). */
export async function restoreTriggers(staging: pg.ClientBase, silenced: SilencedTrigger[]): Promise<void> {
  for (const { table, entry } of silenced) await staging.query(await runShared<string>(staging, 'enable_trigger_query', [table, entry]));
}
