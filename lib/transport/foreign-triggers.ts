// Without the replica role a load disables each table's user triggers, and
// only a table's owner may. Both transports find the tables where the writing
// role is not the owner (on Supabase auth.users and storage.objects belong to
// the services) and refuse them in these words, before anything is written.

export interface ForeignTriggers {
  table: string;
  owner: string;
  triggers: string[];
}

/** One sentence: the tables, their triggers and owners, who may not set the parameter, and what would go wrong. */
export function describeForeignTriggers(tables: ForeignTriggers[], whoMayNotSet: string): string {
  return (
    `${tables.map((t) => `${t.table} (triggers ${t.triggers.join(', ')}; owned by ${t.owner})`).join(', ')}: ` +
    `${whoMayNotSet} may not SET session_replication_role, nor disable the triggers of tables it does not own, so they would ` +
    'fire during the load (a profile trigger on auth.users would create every profile twice).'
  );
}
