// A sync writes with staging's triggers off (the replica role), so a trigger
// that makes rows elsewhere as a row is inserted (Supabase's
// on_auth_user_created, a profile for each user) makes none for the rows a
// sync copies. Where the tables it fills are in the run, production's own
// rows of them come with it; where they are not (`--schemas auth` alone,
// `--tables auth.users`), production's users arrive without theirs, the app
// breaks for each of them, and the run exits 0. The plan says so, naming the
// tables to add. Which tables a trigger's function writes is not read from
// its body: the tables outside the run whose foreign keys name the copied one
// are what it most likely fills, and those are named.
import { qualifiedName, type Catalog, type TableRef, type Trigger } from '../catalog/types.ts';

export interface UntriggeredRows {
  /** A table the run copies that staging's triggers add rows elsewhere for. */
  table: TableRef;
  /** Staging's row triggers that fire after an INSERT into it. */
  triggers: string[];
  /** Staging's tables outside the run whose foreign keys name it. */
  children: TableRef[];
}

/** An enabled row trigger that fires after an INSERT, alone or with other events (`AFTER UPDATE OR INSERT`). */
function firesAfterInsert(trigger: Trigger): boolean {
  if (!trigger.enabled || trigger.firesInSessions === false || !trigger.definition) return false;
  return /\bAFTER\s+(?:\w+(?:\s+OF\s+[^]+?)?\s+OR\s+)*INSERT\b/i.test(trigger.definition) && /\bFOR\s+EACH\s+ROW\b/i.test(trigger.definition);
}

/**
 * Of the tables a run copies, those with such triggers in staging and
 * children outside the run. `leftAlone`: staging's own state a run never
 * fills from production (sign-ins), not named.
 */
export function untriggeredRows(staging: Catalog, copied: readonly TableRef[], leftAlone: (table: TableRef) => boolean): UntriggeredRows[] {
  const inRun = new Set(copied.map(qualifiedName));
  return copied.flatMap((ref): UntriggeredRows[] => {
    const table = staging.tables.find((candidate) => candidate.schema === ref.schema && candidate.name === ref.name);
    const triggers = (table?.triggers ?? []).filter(firesAfterInsert).map((trigger) => trigger.name);
    if (!triggers.length) return [];
    const children = staging.tables
      .filter((child) => !inRun.has(qualifiedName(child)) && !leftAlone(child))
      .filter((child) => child.foreignKeys.some((fk) => fk.referencedSchema === ref.schema && fk.referencedTable === ref.name))
      .map((child) => ({ schema: child.schema, name: child.name }));
    return children.length ? [{ table: { schema: ref.schema, name: ref.name }, triggers, children }] : [];
  });
}

/** What a person should know before and after such a run: per table, its triggers and the tables to add. */
export function untriggeredNotes(found: readonly UntriggeredRows[]): string[] {
  return found.map(
    ({ table, triggers, children }) =>
      `${qualifiedName(table)}: staging's ${triggers.length === 1 ? 'trigger' : 'triggers'} ${triggers.join(', ')} ` +
      `${triggers.length === 1 ? 'does' : 'do'} not fire for the rows a sync copies, and ${children.map(qualifiedName).join(', ')}, ` +
      `which reference it, ${children.length === 1 ? 'is' : 'are'} not in this run: production's rows come without what ` +
      `${triggers.length === 1 ? 'it makes' : 'they make'} for them there. Copy ${children.length === 1 ? 'that table' : 'those tables'} too ` +
      '(--tables, or their schema in --schemas).',
  );
}
