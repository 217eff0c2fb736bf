// Which tables a run copies: the schemas asked for, narrowed by --tables and
// --exclude. Every name must match a table, so a typo never silently copies
// less (or more) than the user meant. Of Supabase's auth and storage schemas,
// a schema-wide sync leaves out what supabase.ts says.
import { configFileName } from '../config/file.ts';
import { editDistance } from '../config/near-names.ts';
import { UsageError } from '../errors.ts';
import { identAsWritten } from '../sql/ident.ts';
import { qualifiedName, type Catalog, type OtherRelation, type Table, type TableRef } from '../catalog/types.ts';
import { managedSchemaReason } from './managed.ts';
import { tableName } from './table-name.ts';
import type { SyncMode } from './mode.ts';
import { neverCopiedReason, onRequestReason, referencedTables } from './supabase.ts';

export interface Selection {
  schemas: string[];
  /** Table names, `name` (looked up in `schemas`) or `schema.name`. */
  tables?: string[];
  /** Where `tables` came from, as an error about one of them says it: `--tables` (the default), `supasync.config.json's group "chat"`. */
  tablesFrom?: string;
  exclude?: string[];
  /** Of `exclude`, the tables another step writes (Storage's own, when files are copied): not said to be left out. */
  excludedForFiles?: string[];
  /** Options per table (from supasync.config.json), keyed by `name` or `schema.name`. */
  options?: Record<string, TableOptions>;
}

export interface TableOptions {
  mode?: SyncMode;
  /** Rows per REST batch. */
  batchSize?: number;
  /** A SQL condition: only the rows it matches are copied. */
  where?: string;
  /** --mode incremental: the column whose value moves when a row changes. */
  changedColumn?: string;
  /** `where` is --with-parents' own: the rows the copied tables reference (parents.ts), not the user's. */
  referencedRows?: boolean;
}

/** A table's options from the config: by `schema.name`, or by bare name for `public`. */
export function optionsFor(selection: Selection, table: TableRef): TableOptions {
  const options = selection.options ?? {};
  // Own keys only: a table named "constructor" has no options but those the file gives it.
  const own = (key: string) => (Object.hasOwn(options, key) ? options[key] : undefined);
  return own(qualifiedName(table)) ?? (table.schema === 'public' ? own(table.name) : undefined) ?? {};
}

/**
 * supasync.config.json's `tables` entries, each under the production table its
 * key names: `schema.name`, a bare name for public, either quoted as SQL
 * quotes it, case folded where that finds one table, as --tables takes them.
 * A key that names no table would drop its `where`, `mode` or
 * `changedColumn` unsaid (every row copied where a few were meant): refused,
 * with the names meant. Keys of any schema, not only the run's.
 */
export function resolveTableOptions(production: Catalog, selection: Selection): Selection {
  if (!selection.options) return selection;
  const resolved = new Map<string, [key: string, options: TableOptions]>();
  for (const [key, options] of Object.entries(selection.options)) {
    const name = qualifiedName(resolveTable(production, ['public'], key, `${configFileName()}: tables`));
    const earlier = resolved.get(name);
    if (earlier) throw new UsageError(`${configFileName()}: tables "${earlier[0]}" and "${key}" both name ${name}. Keep one of them.`);
    resolved.set(name, [key, options]);
  }
  // fromEntries defines each key as its own property, a table named "__proto__" included.
  return { ...selection, options: Object.fromEntries([...resolved].map(([name, [, options]]) => [name, options])) };
}

export function selectTables(production: Catalog, selection: Selection): Table[] {
  for (const schema of selection.schemas) {
    const reason = managedSchemaReason(schema);
    if (reason) throw new UsageError(`Schema "${schema}" is never synced: it ${reason}. Remove it from --schemas.`);
  }
  // Names in --tables are checked one by one below; the schemas matter then only to a bare name, which says so if they hold no such table.
  if (!selection.tables?.length) refuseSchemasWithoutTables(production, selection.schemas);
  const referenced = referencedTables(production.tables);
  const inSchemas = production.tables.filter(
    (table) => selection.schemas.includes(table.schema) && !neverCopiedReason(table) && !onRequestReason(table, referenced),
  );
  let chosen = selection.tables?.length
    ? unique(selection.tables.map((name) => resolveTable(production, selection.schemas, name, selection.tablesFrom ?? '--tables')))
    : inSchemas;
  for (const table of chosen) {
    const reason = managedSchemaReason(table.schema);
    if (reason) throw new UsageError(`${qualifiedName(table)} is never synced: schema "${table.schema}" ${reason}.`);
    const never = neverCopiedReason(table);
    if (never) throw new UsageError(`${qualifiedName(table)} is never synced: it ${never}.`);
  }
  if (selection.exclude?.length) {
    const excluded = new Set(excludedTables(production, selection).map(qualifiedName));
    chosen = chosen.filter((table) => !excluded.has(qualifiedName(table)));
  }
  if (!chosen.length) {
    throw new UsageError(
      `Nothing to copy: the selection (schemas ${selection.schemas.join(', ')}${selection.exclude?.length ? `, less --exclude ${selection.exclude.join(',')}` : ''}) ` +
        'leaves no table. A run that copies nothing would report success; name what to copy.',
    );
  }
  return chosen;
}

/** The tables --exclude (or supasync.config.json's `exclude`) names. */
export function excludedTables(production: Catalog, selection: Selection): Table[] {
  return unique((selection.exclude ?? []).map((name) => resolveTable(production, selection.schemas, name, '--exclude')));
}

/**
 * A schema production does not have is a typo more often than not
 * (`--schemas pubic`): run as asked, it would copy nothing and verify would
 * call zero tables Perfect. (Where the catalog does not list schemas, REST
 * functions before version 19, one without a table is taken for a typo.)
 */
function refuseSchemasWithoutTables(production: Catalog, schemas: string[]): void {
  // Supabase's own schemas are refused whatever they hold, and supasync's own is never copied: neither is suggested.
  const suggested = (schema: string) => !managedSchemaReason(schema) && schema !== 'supasync_private';
  const known = [...new Set(production.tables.map((table) => table.schema))].filter(suggested);
  for (const schema of schemas) {
    // One that exists and holds no table yet (or only views) is taken: a run left with no table at all is refused anyway.
    if (known.includes(schema) || production.schemas?.includes(schema)) continue;
    // The catalog's tables are those of the schemas the run names (functions version 32), its schemas every one:
    // where it lists them, those are what production has (before version 19 it lists every table).
    const existing = (production.schemas ?? known).filter(suggested);
    const near = existing.filter((other) => other.toLowerCase() === schema.toLowerCase() || editDistance(other, schema) <= 2);
    throw new UsageError(
      `Schema "${schema}" (--schemas, or supasync.config.json's schemas) ${production.schemas ? 'is not a schema of production' : 'has no table in production'}.` +
        (near.length
          ? ` Did you mean ${near.map((name) => `"${name}"`).join(', ')}?`
          : ` ${production.schemas ? 'Its schemas' : 'Its schemas with tables'}: ${[...existing].sort().join(', ')}. ` +
            "A schema holding only partitions of another schema's table needs no naming: their rows are copied with that table."),
    );
  }
}

function resolveTable(catalog: Catalog, schemas: string[], name: string, flag: string): Table {
  const { schema, table, quoted } = tableName(name);
  // `a.b` unquoted is first a table of that very name in --schemas, then schema a's table b.
  const dotted = !quoted && schema ? catalog.tables.filter((t) => schemas.includes(t.schema) && t.name === name) : [];
  if (dotted.length === 1 && dotted[0]) return dotted[0];
  // An unquoted schema is folded as SQL folds it (`Person.Person` is person.person) where no schema has that very name.
  const foldSchema = Boolean(schema) && !quoted && !catalog.tables.some((t) => t.schema === schema);
  const inSchema = (t: Table) => (schema ? t.schema === schema || (foldSchema && t.schema.toLowerCase() === schema.toLowerCase()) : schemas.includes(t.schema));
  const candidates = catalog.tables.filter(inSchema);
  const exact = preferApps(candidates.filter((t) => t.name === table));
  // Unquoted, `User` is `user` to SQL: where both tables exist, which one is meant is not guessed.
  const lowered = !quoted && table !== table.toLowerCase() ? candidates.filter((t) => t.name === table.toLowerCase()) : [];
  if (exact.length === 1 && exact[0] && lowered.length === 1 && lowered[0]) {
    throw new UsageError(
      `${flag} ${name} matches two tables: ${quotedName(exact[0])} and ${quotedName(lowered[0])}. ` +
        `Write ${quotedName(exact[0])} for the first (SQL reads the unquoted name as ${quotedName(lowered[0])}), or ${quotedName(lowered[0])} for the second.`,
    );
  }
  if (exact.length === 1 && exact[0]) return exact[0];
  // A quoted name means its case: `"Bookings"` is not `bookings`.
  const folded = quoted ? [] : preferApps(candidates.filter((t) => t.name.toLowerCase() === table.toLowerCase()));
  if (exact.length === 0 && folded.length === 1 && folded[0]) return folded[0];
  const where = schema ? `schema "${schema}"` : `schemas ${schemas.join(', ')}`;
  if (exact.length + folded.length > 1) {
    throw new UsageError(
      `${flag} ${name} matches several tables: ${folded.map(qualifiedName).join(', ')}. ` +
        `Write the one meant as SQL quotes it, schema and name: ${folded.map(quotedName).join(', ')}.`,
    );
  }
  refuseOtherRelation(catalog, { schema, table, quoted, foldSchema, schemas }, name, flag);
  // The catalog leaves supasync's own schema out: a name in it is no app table.
  if (schema?.toLowerCase() === 'supasync_private') {
    throw new UsageError(`${flag} ${name}: supasync_private is supasync's own schema (the sync-target mark, watermarks, leases), never copied.`);
  }
  const near = candidates
    .filter(
      (t) =>
        t.name.toLowerCase().includes(table.toLowerCase()) ||
        table.toLowerCase().includes(t.name.toLowerCase()) ||
        editDistance(t.name.toLowerCase(), table.toLowerCase()) <= 2,
    )
    .map(qualifiedName)
    .slice(0, 3);
  // The same name elsewhere: a bare name looked up in --schemas alone, or a schema mistaken.
  for (const elsewhere of catalog.tables.filter((t) => !inSchema(t) && t.name.toLowerCase() === table.toLowerCase()).slice(0, 3)) {
    near.push(qualifiedName(elsewhere));
  }
  // Else a typo in a bare name that is another schema's table: one a run could take (none of Supabase's own schemas).
  if (!near.length) {
    const typoElsewhere = catalog.tables.filter(
      (t) => !inSchema(t) && !managedSchemaReason(t.schema) && editDistance(t.name.toLowerCase(), table.toLowerCase()) <= 2,
    );
    near.push(...typoElsewhere.map(qualifiedName).slice(0, 3));
  }
  throw new UsageError(`${flag} ${name}: production has no such table in ${where}.${near.length ? ` Did you mean ${near.join(', ')}?` : ''}`);
}

/**
 * A name that is no table supasync copies but some other relation of
 * production's (a partition, a view, a materialized view, a foreign table)
 * is told as what it is, with what to name instead, not as a typo.
 */
function refuseOtherRelation(
  catalog: Catalog,
  name: { schema?: string; table: string; quoted: boolean; foldSchema: boolean; schemas: string[] },
  given: string,
  flag: string,
): void {
  const inSchema = (relation: OtherRelation) =>
    name.schema
      ? relation.schema === name.schema || (name.foldSchema && relation.schema.toLowerCase() === name.schema.toLowerCase())
      : name.schemas.includes(relation.schema);
  const candidates = (catalog.otherRelations ?? []).filter(inSchema);
  const exact = candidates.filter((relation) => relation.name === name.table);
  const folded = name.quoted ? [] : candidates.filter((relation) => relation.name.toLowerCase() === name.table.toLowerCase());
  const [relation] = exact.length ? exact : folded;
  if (!relation || exact.length > 1 || (!exact.length && folded.length > 1)) return;
  throw new UsageError(`${flag} ${given}: ${qualifiedName(relation)} ${whatItIs(relation, flag)}`);
}

function whatItIs(relation: OtherRelation, flag: string): string {
  switch (relation.kind) {
    case 'partition': {
      const root = relation.partitionOf ? qualifiedName(relation.partitionOf) : 'its partitioned table';
      const rows = flag === '--exclude' ? 'to leave its rows out' : 'to copy only its rows';
      return (
        `is a partition of ${root}, not a table copied on its own: its rows are copied with ${root}. ` +
        `Name ${root}; ${rows}, give ${root} a \`where\` on its partition key in supasync.config.json's tables.`
      );
    }
    case 'view':
      return "is a view, not a table: it holds no rows of its own, and shows staging's once the tables it reads are copied. Name those tables.";
    case 'materialized view':
      return 'is a materialized view, not a table: staging refreshes its own once the tables it reads are copied (docs/usage.md, "Materialized views"). Name those tables.';
    case 'foreign table':
      return `is a foreign table: ${FOREIGN_TABLE}, so supasync does not copy it.`;
    case 'extension table':
      return (
        `belongs to the extension ${relation.extension ?? ''}, which makes and fills it: supasync copies no extension's table. ` +
        (relation.configRows
          ? "The rows an app adds to it (those pg_dump copies) are compared by sync and verify, which say where staging's differ: add them to staging as production's were added (the migration or seed that inserted them)."
          : 'Install the extension in staging too.')
      );
  }
}

/** Why a foreign table is never copied. */
export const FOREIGN_TABLE = "its rows live on the server it reads (postgres_fdw, file_fdw, a wrapper), not in production's database";

/**
 * Of tables of one name in several schemas, the app's: Supabase's services
 * add tables to `auth` and `storage` as they evolve (Storage's `event_log`),
 * and a bare name that meant the app's own table would otherwise stop
 * resolving the day one of theirs shares it.
 */
function preferApps(tables: Table[]): Table[] {
  const apps = tables.filter((t) => !SUPABASE_SERVICE_SCHEMAS.includes(t.schema));
  return apps.length === 1 ? apps : tables;
}

const SUPABASE_SERVICE_SCHEMAS = ['auth', 'storage'];

/** schema.name with SQL's quotes where a part needs them to keep its case or characters: what --tables takes back. */
function quotedName(table: TableRef): string {
  return `${identAsWritten(table.schema)}.${identAsWritten(table.name)}`;
}

function unique(tables: Table[]): Table[] {
  return [...new Map(tables.map((table) => [qualifiedName(table), table])).values()];
}
