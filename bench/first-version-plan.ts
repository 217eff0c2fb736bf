// Which tables the user's first version (shared/seeds/production-staging-sync-guide.md)
// can copy, in which order, and why it cannot copy the others. It reached
// both projects through supabase-js alone, so it inherits PostgREST's limits.
import { qualifiedName, type Catalog, type Table } from '../lib/catalog/types.ts';

export interface FirstVersionTable {
  table: Table;
  /** What `.upsert(page, { onConflict })` gets: the primary key's columns joined by ','. */
  onConflict: string;
  /** Generated columns: read with `select('*')`, deleted from every row before the upsert. */
  generated: string[];
}

export interface FirstVersionPlan {
  /** Parents before children, by foreign-key level, as the guide's script sorted them. */
  copy: FirstVersionTable[];
  skipped: { table: string; reason: string }[];
}

/** `requested`: `name` (in public) or `schema.name`; none means every table in public. */
export function planFirstVersion(catalog: Catalog, requested?: string[]): FirstVersionPlan {
  const wanted = requested?.length
    ? requested.map((name) => {
        const key = name.includes('.') ? name : `public.${name}`;
        const table = catalog.tables.find((t) => qualifiedName(t) === key);
        if (!table) throw new Error(`--tables ${name}: production has no such table`);
        return table;
      })
    : catalog.tables.filter((table) => table.schema === 'public');

  const skipped: FirstVersionPlan['skipped'] = [];
  const candidates = wanted.filter((table) => {
    const reason = whyNot(table);
    if (reason) skipped.push({ table: qualifiedName(table), reason });
    return !reason;
  });

  // A foreign-key cycle between tables (not a self-reference: one upsert of a
  // page is one statement, checked at its end) has no table that can go first:
  // PostgREST cannot defer constraints or switch the checks off.
  const inCycle = cycles(candidates);
  const copyable = candidates.filter((table) => {
    const partners = inCycle.get(qualifiedName(table));
    if (partners)
      skipped.push({
        table: qualifiedName(table),
        reason: `foreign-key cycle with ${partners.join(', ')}: whichever goes first violates the other's foreign key`,
      });
    return !partners;
  });

  const level = levels(copyable);
  const copy = copyable
    .map((table) => ({
      table,
      onConflict: table.primaryKey?.columns.join(',') ?? '',
      generated: table.columns.filter((c) => c.generated).map((c) => c.name),
    }))
    .sort(
      (a, b) =>
        (level.get(qualifiedName(a.table)) ?? 0) - (level.get(qualifiedName(b.table)) ?? 0) || qualifiedName(a.table).localeCompare(qualifiedName(b.table)),
    );
  return { copy, skipped };
}

function whyNot(table: Table): string | undefined {
  if (table.schema !== 'public') return `schema ${table.schema}: PostgREST exposes public only, supabase-js cannot reach it`;
  const always = table.columns.find((c) => c.identity === 'always');
  if (always) return `identity ALWAYS column ${always.name}: PostgREST cannot insert it (428C9, no OVERRIDING SYSTEM VALUE)`;
  if (!table.primaryKey) return 'no primary key: the upsert has no onConflict';
  if (table.inheritedBy?.length)
    return `${table.inheritedBy.join(', ')} INHERIT from it: PostgREST reads their rows as its own, and the upsert writes them into it`;
  const hidden = table.foreignKeys.find((fk) => fk.referencedSchema !== 'public');
  if (hidden) {
    return `references ${hidden.referencedSchema}.${hidden.referencedTable}, which PostgREST does not expose: it cannot copy those rows first, and the upsert violates ${hidden.name}`;
  }
  return undefined;
}

const parentsOf = (table: Table, among: Map<string, Table>): string[] =>
  table.foreignKeys.map((fk) => `${fk.referencedSchema}.${fk.referencedTable}`).filter((parent) => parent !== qualifiedName(table) && among.has(parent));

/** Tables that can reach themselves through other tables' foreign keys, with the tables of their cycle. */
function cycles(tables: Table[]): Map<string, string[]> {
  const byName = new Map(tables.map((t) => [qualifiedName(t), t]));
  const reach = (from: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [from];
    for (let name = stack.pop(); name !== undefined; name = stack.pop()) {
      for (const parent of parentsOf(byName.get(name)!, byName)) {
        if (!seen.has(parent)) {
          seen.add(parent);
          stack.push(parent);
        }
      }
    }
    return seen;
  };
  const reaches = new Map([...byName.keys()].map((name) => [name, reach(name)]));
  const result = new Map<string, string[]>();
  for (const [name, reached] of reaches) {
    if (!reached.has(name)) continue;
    result.set(name, [...reached].filter((other) => other !== name && reaches.get(other)?.has(name)).sort());
  }
  return result;
}

/** 0 for a table with no parents among `tables`, else one more than its highest parent. */
function levels(tables: Table[]): Map<string, number> {
  const byName = new Map(tables.map((t) => [qualifiedName(t), t]));
  const level = new Map<string, number>();
  const of = (name: string): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    const parents = parentsOf(byName.get(name)!, byName);
    const value = parents.length ? 1 + Math.max(...parents.map(of)) : 0;
    level.set(name, value);
    return value;
  };
  for (const name of byName.keys()) of(name);
  return level;
}
