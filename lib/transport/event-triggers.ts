// Staging's event triggers enabled ALWAYS fire on the DDL a load runs
// (ALTER TABLE to silence a table's triggers, to drop and add back a NOT
// VALID check), the replica role notwithstanding, and only a superuser may
// disable them: what they write lands in staging. Both paths ask staging
// (supasync_private.always_event_triggers) and say so before the load.

/** The warning for staging's ALWAYS event triggers, if it has any. */
export function alwaysEventTriggerWarnings(names: string[]): string[] {
  if (!names.length) return [];
  return [
    `staging's event trigger${names.length > 1 ? 's' : ''} ${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} enabled ALWAYS: ` +
      "it fires on the ALTER TABLE the load runs to silence a table's triggers or drop a NOT VALID check, and what it writes stays in staging " +
      '(verify shows it). Where it writes to a synced table, disable it for the sync as a superuser (ALTER EVENT TRIGGER ... DISABLE) and enable it again after.',
  ];
}
