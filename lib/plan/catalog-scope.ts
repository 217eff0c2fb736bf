// The schemas a run names, which its catalogs list the tables of in full
// (with what those reach along foreign keys and inheritance, and Auth's and
// Storage's tables: lib/catalog/read.ts's CatalogScope). A name may reach
// into another schema than --schemas: a schema-qualified --tables,
// --exclude or config `tables` key, a masking rule. A schema named here by
// mistake only lists more; one missed would hide a table, so every reading
// of a name that could be a schema is taken.
import type { MaskSettings } from './mask.ts';
import type { Selection } from './select.ts';
import { tableName } from './table-name.ts';

export function catalogScope(selection: Selection, mask?: MaskSettings): string[] {
  const schemas = new Set(selection.schemas);
  const names = [...(selection.tables ?? []), ...(selection.exclude ?? []), ...Object.keys(selection.options ?? {})];
  for (const name of names) {
    // `a.b` is schema a's table b, or a table "a.b" of --schemas (already listed).
    const dot = name.indexOf('.');
    if (dot > 0) schemas.add(name.slice(0, dot));
    try {
      const { schema } = tableName(name);
      if (schema) schemas.add(schema);
    } catch {
      // Not a table name: the selection says so, by name, once the catalogs are read.
    }
  }
  // `schema.table.column` (a jsonb path may follow), or `table.column` of public.
  const rules = Object.keys(mask?.rules ?? {});
  for (const key of rules) schemas.add(key.split('.')[0]?.replace(/^"|"$/g, '') ?? 'public');
  // A bare `tables` key or a two-part rule names a table of public, whatever --schemas says.
  if (rules.length || Object.keys(selection.options ?? {}).some((key) => !key.includes('.'))) schemas.add('public');
  return [...schemas];
}
