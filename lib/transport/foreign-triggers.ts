// A load disables each table's user triggers that would fire as it writes
// (without the replica role those enabled as usual or ALWAYS; with it those
// enabled ALWAYS or REPLICA, which it does not silence), and only a table's
// owner may. Both transports find the tables where the writing role is not
// the owner (on Supabase auth.users and storage.objects belong to the
// services) and refuse them in these words, before anything is written.

export interface ForeignTriggers {
  table: string;
  owner: string;
  triggers: string[];
}

/**
 * With the replica role: the tables whose triggers enabled ALWAYS or REPLICA the role may not disable. `who`: the
 * writing role, in words.
 */
export function describeForeignReplicaTriggers(tables: ForeignTriggers[], who: string): string {
  return (
    `${tables.map((t) => `${t.table} (triggers ${t.triggers.join(', ')}; owned by ${t.owner})`).join(', ')}: ` +
    `these triggers are enabled ALWAYS or REPLICA, so they fire even with session_replication_role = replica, and ${who} may not ` +
    'disable them, not owning the table: they would write rows of their own into staging during the load. ' +
    'Leave those tables out with --exclude, or run as their owner. Nothing was changed.'
  );
}

/** One sentence: the tables, their triggers and owners, who may not set the parameter, and what would go wrong. */
export function describeForeignTriggers(tables: ForeignTriggers[], whoMayNotSet: string): string {
  return (
    `${tables.map((t) => `${t.table} (triggers ${t.triggers.join(', ')}; owned by ${t.owner})`).join(', ')}: ` +
    `${whoMayNotSet} may not SET session_replication_role, nor disable the triggers of tables it does not own, so they would ` +
    'fire during the load (a profile trigger on auth.users would create every profile twice).'
  );
}
