// What a run will copy, in which order, keyed on what, and what stands in
// the way, worked out from both catalogs before anything is written.
import {
  findTable,
  qualifiedName,
  type Catalog,
  type ForeignKey,
  type Key,
  type Table,
  type TableRef,
} from '../catalog/types.ts';
import { compareTables, type Drift } from './drift.ts';
import { orderByDependencies } from './order.ts';
import { carryFiltersDown } from './carry-down.ts';
import { linksTouching, type ForeignKeyLink } from '../catalog/links.ts';
import { planSequences, type SequencePlan } from './sequences.ts';
import { optionsFor, selectTables, type Selection, type TableOptions } from './select.ts';
import type { SyncMode } from './mode.ts';
import type { CycleLoad, LoadPlan, SelfReferenceLoad, TableLoad } from '../transport/load.ts';
import { leftOutOfSchemas, signInStateOf, type EmptiedTable, type LeftOutTable } from './supabase.ts';

export interface SyncKey extends Key {
  kind: 'primary key' | 'unique key';
}

export interface TablePlan extends TableLoad {
  table: TableRef;
  /** A partitioned parent: rows are read and written through it, partitions follow. */
  partitioned: boolean;
  level: number;
  /** The conflict target for upserts and the order for paging; null: replace only. */
  key: SyncKey | null;
  /** Columns copied: present on both sides and generated on neither. */
  columns: string[];
  /** Left out of every copy: the database computes them. */
  generatedColumns: string[];
  /** Identity columns whose production values are kept. */
  identityColumns: { name: string; identity: 'always' | 'by default' }[];
  rowEstimate: number;
  /**
   * Rows may travel in COPY's binary format: every copied column has the
   * same type on both sides, one the catalog knows to read back exactly what
   * it wrote (`binaryPortable`), and both servers are one major version.
   * Otherwise text, as pg_dump copies.
   */
  binarySafe: boolean;
  /** Why this table must be loaded with foreign-key checks off, if it must. */
  loadedTogether: 'cycle' | 'self-reference' | null;
  drift: Drift[];
  /** How the run writes this table: its own mode from supasync.config.json, else the run's. */
  mode: SyncMode;
  /** From supasync.config.json: a mode of its own, a batch size, a row filter. */
  options: TableOptions;
  /**
   * A SQL condition: only matching rows are copied. The config's `where`,
   * the rows children reference (--with-parents), and the `where` of a
   * parent carried down (carry-down.ts).
   */
  rowFilter: string | null;
  /** Copied tables whose `where` this table's rows follow: only rows whose parent is copied come. */
  filteredBy: string[];
}

export interface CyclePlan extends CycleLoad {
  tables: TableRef[];
  foreignKeys: { table: TableRef; foreignKey: ForeignKey }[];
}

export interface SelfReference extends SelfReferenceLoad {
  table: TableRef;
  foreignKey: ForeignKey;
  /**
   * The foreign key's columns an insert may leave out in staging (nullable,
   * no default: they are stored NULL). Where checks stay on, rows are written
   * with these NULL first and the columns set once every row is in.
   */
  nullableColumns: string[];
}

/** A foreign key from a selected table to one the run does not copy. */
export interface ExternalParent {
  table: TableRef;
  foreignKey: ForeignKey;
  parent: TableRef;
}

export interface SyncPlan extends LoadPlan {
  production: string;
  staging: string;
  /** The run's mode (--mode); each table's own is TablePlan.mode. */
  mode: SyncMode;
  /** The schemas the run chose its tables from. */
  schemas: string[];
  /** In load order: by level, then by name. */
  tables: TablePlan[];
  cycles: CyclePlan[];
  selfReferences: SelfReference[];
  externalParents: ExternalParent[];
  /** Staging's foreign keys with a selected table at either end (catalog/links.ts): what a run checks for orphans. */
  stagingLinks: ForeignKeyLink[];
  /** The sequences the run sets in staging once the rows are in (sequences.ts). */
  sequences: SequencePlan[];
  /** Tables in the selected schemas that only staging has. */
  stagingOnlyTables: TableRef[];
  /** Tables of the selected schemas a schema-wide run does not copy (Supabase's own), with why. */
  leftOut: LeftOutTable[];
  /** Staging's Auth sign-in state referencing copied tables: emptied with them when they are replaced. */
  signInState: EmptiedTable[];
  /** Both catalogs came from one database (one server, one database OID). */
  sameDatabase: boolean;
}

/** `mode`: the run's (--mode); a verify, which writes nothing, plans as for a replace. */
export function planSync(production: Catalog, staging: Catalog, selection: Selection, mode: SyncMode = 'replace'): SyncPlan {
  const selected = selectTables(production, selection);
  const order = orderByDependencies(selected);
  const selectedNames = new Set(selected.map(qualifiedName));
  const inCycle = new Set(order.cycles.flat().map(qualifiedName));
  const selfReferencing = new Set(order.selfReferencing.map(qualifiedName));
  const ref = (table: TableRef): TableRef => ({ schema: table.schema, name: table.name });
  const parentOf = (fk: ForeignKey): TableRef => ({ schema: fk.referencedSchema, name: fk.referencedTable });
  // A binary value means what its version's receive function reads: PostgreSQL
  // 17's infinite interval arrives in 15 as a finite one 178956970 years long,
  // where its text is refused. Across major versions rows go as text.
  const sameMajorVersion = Math.floor(production.serverVersion / 10000) === Math.floor(staging.serverVersion / 10000);

  const ordered = selected
    .map((table): TablePlan => {
      const name = qualifiedName(table);
      const stagingTable = findTable(staging, table);
      const drift = compareTables(table, stagingTable);
      const stagingColumns = new Set(stagingTable?.columns.filter((c) => !c.generated).map((c) => c.name) ?? []);
      const copied = table.columns.filter((c) => !c.generated && stagingColumns.has(c.name));
      const stagingType = new Map(stagingTable?.columns.map((c) => [c.name, c.type]) ?? []);
      const options = optionsFor(selection, table);
      return {
        table: ref(table),
        partitioned: table.kind === 'partitioned',
        level: order.levels.get(name) ?? 0,
        key: chooseKey(table, stagingTable),
        columns: copied.map((c) => c.name),
        generatedColumns: table.columns.filter((c) => c.generated).map((c) => c.name),
        identityColumns: table.columns.flatMap((c) => (c.identity ? [{ name: c.name, identity: c.identity }] : [])),
        rowEstimate: table.rowEstimate,
        binarySafe: sameMajorVersion && copied.every((c) => c.binaryPortable && stagingType.get(c.name) === c.type),
        loadedTogether: inCycle.has(name) ? 'cycle' : selfReferencing.has(name) ? 'self-reference' : null,
        drift,
        mode: options.mode ?? mode,
        options,
        rowFilter: options.where ?? null,
        filteredBy: [],
      };
    })
    .sort((a, b) => a.level - b.level || qualifiedName(a.table).localeCompare(qualifiedName(b.table)));
  const cycleOf = (name: string) => order.cycles.findIndex((members) => members.some((member) => qualifiedName(member) === name));
  const tables = carryFiltersDown(ordered, selected, cycleOf);

  const foreignKeysWithin = (members: Set<string>) =>
    selected.flatMap((table) =>
      members.has(qualifiedName(table))
        ? table.foreignKeys
            .filter((fk) => members.has(qualifiedName(parentOf(fk))) && qualifiedName(parentOf(fk)) !== qualifiedName(table))
            .map((foreignKey) => ({ table: ref(table), foreignKey }))
        : [],
    );

  return {
    production: production.database,
    staging: staging.database,
    mode,
    schemas: selection.schemas,
    tables,
    cycles: order.cycles.map((members) => ({
      tables: members,
      foreignKeys: foreignKeysWithin(new Set(members.map(qualifiedName))),
    })),
    selfReferences: selected.flatMap((table) =>
      table.foreignKeys
        .filter((fk) => qualifiedName(parentOf(fk)) === qualifiedName(table))
        .map((foreignKey) => ({ table: ref(table), foreignKey, nullableColumns: leftOutAsNull(findTable(staging, table) ?? table, foreignKey) })),
    ),
    externalParents: selected.flatMap((table) =>
      table.foreignKeys
        .filter((fk) => !selectedNames.has(qualifiedName(parentOf(fk))))
        .map((foreignKey) => ({ table: ref(table), foreignKey, parent: parentOf(foreignKey) })),
    ),
    stagingLinks: linksTouching(staging, selected),
    sequences: planSequences(production, staging, selection, selected),
    sameDatabase: production.systemIdentifier === staging.systemIdentifier && production.databaseOid === staging.databaseOid,
    stagingOnlyTables: staging.tables
      .filter((table) => selection.schemas.includes(table.schema) && !findTable(production, table))
      .map(ref),
    leftOut: selection.tables?.length
      ? []
      : leftOutOfSchemas(production.tables.filter((table) => selection.schemas.includes(table.schema))),
    signInState: signInStateOf(staging, selected),
  };
}

function leftOutAsNull(table: Table, foreignKey: ForeignKey): string[] {
  return foreignKey.columns.filter((name) => {
    const column = table.columns.find((c) => c.name === name);
    return column?.nullable === true && column.default === null && column.identity === null && column.generated === null;
  });
}

/**
 * The key rows are matched on: production's primary key, else a unique key
 * that cannot hold NULLs (NULLs never conflict, so they cannot identify a
 * row). Staging must have a unique index on the same columns, or ON CONFLICT
 * has nothing to target.
 */
function chooseKey(production: Table, staging: Table | undefined): SyncKey | null {
  const notNull = (columns: string[]) =>
    columns.every((name) => production.columns.find((column) => column.name === name)?.nullable === false);
  const candidates: SyncKey[] = [
    ...(production.primaryKey ? [{ kind: 'primary key' as const, ...production.primaryKey }] : []),
    ...production.uniqueKeys
      .filter((key) => key.nullsNotDistinct || notNull(key.columns))
      .map((key) => ({ kind: 'unique key' as const, name: key.name, columns: key.columns })),
  ];
  if (!staging) return candidates[0] ?? null;
  const stagingKeys = [staging.primaryKey, ...staging.uniqueKeys].filter((key): key is Key => key !== null);
  const sameColumns = (a: string[], b: string[]) => a.length === b.length && a.every((column) => b.includes(column));
  return candidates.find((candidate) => stagingKeys.some((key) => sameColumns(key.columns, candidate.columns))) ?? null;
}
