// A sync writes with staging's triggers off (the replica role), so a trigger
// that makes rows elsewhere as a row is inserted (Supabase's
// on_auth_user_created, a profile for each user) makes none for the rows a
// sync copies, and one that keeps counts elsewhere (a post's author's
// post_count, a community's member count, Lemmy's statement triggers) keeps
// none for them. Where the tables they fill or update are in the run,
// production's own rows of them come with it; where they are not (`--schemas
// auth` alone, `--tables lemmy.post`), production's users arrive without
// profiles, staging's counts stay staging's, and the run exits 0. The plan
// says so, naming the tables to add: those an AFTER INSERT row trigger's
// function inserts into (the catalog reads the names after INSERT INTO in its
// body, functions version 37) that also reference the copied table, or one of
// those tables (a profile's role), so an audit log it appends to is not named;
// and those any of the table's triggers' functions update (the names after
// UPDATE, version 42), whatever they fire on: what they hold is kept from the
// copied rows.
import { qualifiedName, type Catalog, type Table, type TableRef, type Trigger } from '../catalog/types.ts';
import { partsAsSqlReads } from '../sql/ident.ts';

export interface UntriggeredRows {
  /** A table the run copies that staging's triggers add rows elsewhere for. */
  table: TableRef;
  /** Staging's triggers on it that insert into `children` or update `updated`. */
  triggers: string[];
  /** Staging's tables outside the run that its AFTER INSERT row triggers insert into and whose foreign keys name it, or name another of them. */
  children: TableRef[];
  /** Staging's tables outside the run that its triggers update (counts, totals kept from its rows). */
  updated?: TableRef[];
  /** Some of `children` are in the run, copied in part (--with-parents' rows, a `where`). */
  partly?: boolean;
}

/** An enabled row trigger that fires after an INSERT, alone or with other events (`AFTER UPDATE OR INSERT`). */
function firesAfterInsert(trigger: Trigger): boolean {
  if (!trigger.enabled || trigger.firesInSessions === false || !trigger.definition) return false;
  return /\bAFTER\s+(?:\w+(?:\s+OF\s+[^]+?)?\s+OR\s+)*INSERT\b/i.test(trigger.definition) && /\bFOR\s+EACH\s+ROW\b/i.test(trigger.definition);
}

/** A name as a function's body writes it (`public.profiles`, `"Team"`, `app . "Users"`): its parts as SQL reads them. */
function writtenName(name: string): { schema?: string; table: string } {
  const parts = partsAsSqlReads(name);
  return parts.length > 1 ? { schema: parts[0], table: parts[1] ?? '' } : { table: parts[0] ?? '' };
}

/**
 * Of the tables a run copies, those with such triggers in staging that
 * insert into tables outside the run which reference the copied one, or
 * update tables outside the run. A name without a schema is taken for the
 * trigger's table's schema's table of that name, else public's (the
 * function's search path is not followed). `leftAlone`: staging's own state
 * a run never fills from production (sign-ins), not named.
 */
export function untriggeredRows(
  staging: Catalog,
  copied: readonly TableRef[],
  leftAlone: (table: TableRef) => boolean,
  partial: ReadonlySet<string> = new Set(),
): UntriggeredRows[] {
  // A table copied in part (--with-parents' rows, a `where`) holds production's rows for some keys only.
  const inRun = new Set(copied.map(qualifiedName).filter((name) => !partial.has(name)));
  return copied.flatMap((ref): UntriggeredRows[] => {
    const table = staging.tables.find((candidate) => candidate.schema === ref.schema && candidate.name === ref.name);
    const inserting = (table?.triggers ?? []).filter((trigger) => firesAfterInsert(trigger) && trigger.inserts?.length);
    const updating = (table?.triggers ?? []).filter((trigger) => fires(trigger) && trigger.updates?.length);
    if (!inserting.length && !updating.length) return [];
    const candidates = staging.tables.filter((child) => !inRun.has(qualifiedName(child)) && !leftAlone(child));
    // A name without a schema: the trigger's table's own schema where it has such a table, else public (the function's
    // search path is not read; a name was taken for a table of that name in every schema, auth.users for app.users).
    const unqualifiedIn = (name: string) => (staging.tables.some((t) => t.schema === ref.schema && t.name === name) ? ref.schema : 'public');
    const named = (names: readonly string[]) =>
      candidates.filter((child) =>
        names.map(writtenName).some((name) => name.table === child.name && (name.schema ?? unqualifiedIn(name.table)) === child.schema),
      );
    // Each trigger with the tables outside the run its body inserts into that reference the copied table, directly or
    // through another it fills (a user's profile, then the profile's role).
    const writing = inserting
      .map((trigger) => {
        const filled = named(trigger.inserts ?? []);
        const into: Table[] = [];
        const reached = (child: Table) =>
          child.foreignKeys.some(
            (fk) =>
              (fk.referencedSchema === ref.schema && fk.referencedTable === ref.name) ||
              into.some((parent) => fk.referencedSchema === parent.schema && fk.referencedTable === parent.name),
          );
        for (let grew = true; grew;) {
          const next = filled.filter((child) => !into.includes(child) && reached(child));
          into.push(...next);
          grew = next.length > 0;
        }
        return { trigger, into };
      })
      .filter(({ into }) => into.length);
    const children = candidates.filter((child) => writing.some(({ into }) => into.includes(child)));
    // The copied table itself is in the run: a trigger keeping a count in its own table (a parent comment's replies) is not named.
    const counting = updating.map((trigger) => ({ trigger, tables: named(trigger.updates ?? []) })).filter(({ tables }) => tables.length);
    const updated = candidates.filter((child) => counting.some(({ tables }) => tables.includes(child)));
    if (!children.length && !updated.length) return [];
    const triggers = [...new Set([...writing, ...counting].map(({ trigger }) => trigger.name))].sort();
    return [
      {
        table: { schema: ref.schema, name: ref.name },
        triggers,
        children: children.map((child) => ({ schema: child.schema, name: child.name })),
        ...(updated.length ? { updated: updated.map((child) => ({ schema: child.schema, name: child.name })) } : {}),
        ...([...children, ...updated].some((child) => partial.has(qualifiedName(child))) ? { partly: true } : {}),
      },
    ];
  });
}

/** An enabled trigger that fires in an ordinary session (not ENABLE REPLICA only), on whatever event. */
function fires(trigger: Trigger): boolean {
  return trigger.enabled && trigger.firesInSessions !== false;
}

/** What a person should know before and after such a run: per table, its triggers and the tables to add. */
export function untriggeredNotes(found: readonly UntriggeredRows[]): string[] {
  return found.map(({ table, triggers, children, updated = [], partly }) => {
    const one = triggers.length === 1;
    const absent = (tables: readonly TableRef[]) => `${tables.length === 1 ? 'is' : 'are'} not ${partly ? 'copied whole by' : 'in'} this run`;
    const parts = [
      ...(children.length
        ? [
            `${children.map(qualifiedName).join(', ')}, which ${children.length === 1 ? 'references' : 'reference'} it, ${absent(children)}: ` +
              `production's rows come without what ${one ? 'it makes' : 'they make'} for them there`,
          ]
        : []),
      ...(updated.length
        ? [
            `${updated.map(qualifiedName).join(', ')}, which ${one ? 'it updates' : 'they update'} as its rows come and go (counts, totals), ${absent(updated)}: ` +
              `what they hold there stays what staging's own rows made it, not production's`,
          ]
        : []),
    ];
    const tables = children.length + updated.length;
    return (
      `${qualifiedName(table)}: staging's ${one ? 'trigger' : 'triggers'} ${triggers.join(', ')} ${one ? 'does' : 'do'} not fire for the rows a sync copies, ` +
      `and ${parts.join('; and ')}. Copy ${tables === 1 ? 'that table' : 'those tables'} too (--tables, or their schema in --schemas).`
    );
  });
}
