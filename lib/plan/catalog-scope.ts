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
  const schemaOf = (name: string): string | undefined => {
    try {
      // `a.b` unquoted is schema a's table b, or a table "a.b" of --schemas (listed already).
      return tableName(name).schema;
    } catch {
      // Not a table name: the selection says so, by name, once the catalogs are read.
      return undefined;
    }
  };
  // A bare --tables or --exclude name is looked up in --schemas, listed already.
  for (const name of [...(selection.tables ?? []), ...(selection.exclude ?? [])]) {
    const schema = schemaOf(name);
    if (schema) schemas.add(schema);
  }
  // A bare `tables` key of supasync.config.json names a table of public, whatever --schemas says.
  for (const key of Object.keys(selection.options ?? {})) schemas.add(schemaOf(key) ?? 'public');
  // A rule is keyed `schema.table.column` (a jsonb path may follow), or `table.column` of public (plan/mask.ts resolveKey).
  for (const key of Object.keys(mask?.rules ?? {})) schemas.add(key.slice(0, key.indexOf('.'))).add('public');
  return [...schemas];
}
