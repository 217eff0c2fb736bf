// What a run will copy, in which order, keyed on what, and what stands in
// the way, worked out from both catalogs before anything is written
// (the shape: types.ts).
import { findTable, qualifiedName, type Catalog, type Column, type ForeignKey, type Key, type Table, type TableRef, type UserType } from '../catalog/types.ts';
import { UsageError } from '../errors.ts';
import { compareTables, userTypesOf } from './drift.ts';
import type { SyncKey, SyncPlan, TablePlan } from './types.ts';
import { orderByDependencies } from './order.ts';
import { carryFiltersDown } from './carry-down.ts';
import { linksTouching } from '../catalog/links.ts';
import { planSequenceFloors, planSequences } from './sequences.ts';
import { stricterInStaging } from './stricter.ts';
import { identAsWritten, quoteOwnRows } from '../sql/ident.ts';
import { excludedTables, FOREIGN_TABLE, optionsFor, selectTables, type Selection, type TableOptions } from './select.ts';
import { TRANSACTION_IDS, type SyncMode } from './mode.ts';
import { textDifferences } from './database-text.ts';
import { roundedOutputWarnings } from './lossy-output.ts';
import { stampedOnUpdate } from './changed-column.ts';
import { leftOutOfSchemas, neverCopiedReason, onRequestReason, projectStateOf, referencedTables } from './supabase.ts';
import { untriggeredRows } from './untriggered-rows.ts';

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

  const userTypes = { production: userTypesOf(production.types), staging: userTypesOf(staging.types) };
  const ordered = selected
    .map((table): TablePlan => {
      const name = qualifiedName(table);
      const stagingTable = findTable(staging, table);
      const stagingHas = stagingTable ? undefined : staging.otherRelations?.find((other) => other.schema === table.schema && other.name === table.name)?.kind;
      const drift = compareTables(table, stagingTable, userTypes).map((d) => (d.kind === 'missing-table' && stagingHas ? { ...d, stagingHas } : d));
      const stagingColumns = new Set(stagingTable?.columns.filter((c) => !c.generated).map((c) => c.name) ?? []);
      const copied = table.columns.filter((c) => !c.generated && stagingColumns.has(c.name));
      const stagingType = new Map(stagingTable?.columns.map((c) => [c.name, c.type]) ?? []);
      const options = optionsFor(selection, table);
      const key = chooseKey(table, stagingTable);
      const keyStagingLacks = !key && stagingTable ? (chooseKey(table, undefined)?.name ?? null) : null;
      const changedColumn = changedColumnOf(table, copied, options, key !== null);
      return {
        table: ref(table),
        partitioned: table.kind === 'partitioned',
        inherited: Boolean(table.inheritedBy?.length || stagingTable?.inheritedBy?.length),
        level: order.levels.get(name) ?? 0,
        key,
        keyStagingLacks,
        overlapsKey: key ? null : (table.enforcedIndexes?.find((index) => index.withoutOverlaps)?.name ?? null),
        columns: copied.map((c) => c.name),
        columnTypes: copied.map((c) => c.type),
        generatedColumns: table.columns.filter((c) => c.generated).map((c) => c.name),
        identityColumns: table.columns.flatMap((c) => (c.identity ? [{ name: c.name, identity: c.identity }] : [])),
        rowEstimate: table.rowEstimate,
        pages: table.pages ?? null,
        largeObjectColumns: copied.filter((c) => namesLargeObjects(c, userTypes.production)).map((c) => c.name),
        binarySafe: sameMajorVersion && copied.every((c) => c.binaryPortable && stagingType.get(c.name) === c.type),
        loadedTogether: inCycle.has(name) ? 'cycle' : selfReferencing.has(name) ? 'self-reference' : null,
        drift,
        // Asked of production, whose own rows are named ONLY where its tables inherit from it.
        stricterInStaging: stricterInStaging(
          table,
          stagingTable,
          copied.map((c) => c.name),
          quoteOwnRows(table, Boolean(table.inheritedBy?.length)),
          userTypes,
        ),
        mode: options.mode ?? mode,
        changedColumn,
        // xmin is no copied column: null.
        changedColumnType: copied.find((c) => c.name === changedColumn)?.type ?? null,
        changedColumnUnstamped: changedColumn !== null && changedColumn !== TRANSACTION_IDS && !stampedOnUpdate(table, changedColumn),
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
    ...(selection.tables ? { tablesNamed: selection.tablesFrom ?? '--tables' } : {}),
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
    stagingLinks: linksTouching(staging, selected, production),
    sequences: planSequences(production, staging, selection, selected),
    sequenceFloors: planSequenceFloors(production, staging, selected),
    sameDatabase: production.systemIdentifier === staging.systemIdentifier && production.databaseOid === staging.databaseOid,
    textDifferences: [...textDifferences(production, staging), ...roundedOutputWarnings(selected)],
    stagingOnlyTables: staging.tables
      .filter((table) => selection.schemas.includes(table.schema) && !findTable(production, table))
      .map((table) => {
        const parent = staging.tables.find(
          (other) => other.inheritedBy?.includes(`${identAsWritten(table.schema)}.${identAsWritten(table.name)}`) && findTable(production, other),
        );
        return parent ? { ...ref(table), inherits: qualifiedName(parent) } : ref(table);
      }),
    extensionConfigTables: selection.tables?.length
      ? []
      : (production.otherRelations ?? []).flatMap((relation) =>
          relation.kind === 'extension table' && relation.configRows && selection.schemas.includes(relation.schema)
            ? [{ ...ref(relation), extension: relation.extension ?? '' }]
            : [],
        ),
    leftOut: [
      // Said whatever the selection: "48 of 48 Perfect" must not read as if an excluded table were among them.
      ...excludedTables(production, selection)
        .filter((table) => !selection.excludedForFiles?.includes(qualifiedName(table)))
        .map((table) => ({ table: ref(table), reason: 'is excluded (--exclude, or "exclude" in supasync.config.json)', onRequest: false, excluded: true })),
      ...(selection.tables?.length
        ? []
        : [
            ...leftOutOfSchemas(
              production.tables.filter((table) => selection.schemas.includes(table.schema)),
              referencedTables(production.tables),
            ),
            ...(production.otherRelations ?? [])
              .filter((relation) => relation.kind === 'foreign table' && selection.schemas.includes(relation.schema))
              .map((relation) => ({ table: ref(relation), reason: `is a foreign table: ${FOREIGN_TABLE}`, onRequest: false })),
          ]),
    ],
    projectState: projectStateOf(staging, selected),
    untriggered: untriggeredRows(
      staging,
      selected,
      (table) => Boolean(neverCopiedReason(table) ?? onRequestReason(table)),
      new Set(tables.filter((table) => table.rowFilter !== null).map((table) => qualifiedName(table.table))),
    ),
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
  const notNull = (columns: string[]) => columns.every((name) => production.columns.find((column) => column.name === name)?.nullable === false);
  const candidates: SyncKey[] = [
    ...(production.primaryKey ? [{ kind: 'primary key' as const, ...production.primaryKey, holdsNull: false }] : []),
    ...production.uniqueKeys
      .filter((key) => key.nullsNotDistinct || notNull(key.columns))
      .map((key) => ({ kind: 'unique key' as const, name: key.name, columns: key.columns, holdsNull: !notNull(key.columns) })),
  ];
  if (!staging) return candidates[0] ?? null;
  const stagingKeys = [staging.primaryKey, ...staging.uniqueKeys].filter((key): key is Key => key !== null);
  const sameColumns = (a: string[], b: string[]) => a.length === b.length && a.every((column) => b.includes(column));
  return candidates.find((candidate) => stagingKeys.some((key) => sameColumns(key.columns, candidate.columns))) ?? null;
}

/**
 * The column --mode incremental follows: the config's changedColumn, else
 * updated_at where the table has one; a timestamp or date, whose value moves
 * forward when the row changes. A changedColumn that cannot be is refused.
 * A table with a key and no such column (or the config's "xmin") follows
 * production's transaction ids instead.
 */
function changedColumnOf(table: Table, copied: Column[], options: TableOptions, keyed: boolean): string | null {
  const named = options.changedColumn;
  if (named === TRANSACTION_IDS) return keyed ? TRANSACTION_IDS : null;
  const column = copied.find((c) => c.name === (named ?? 'updated_at'));
  // One instant or day, not an array of them (timestamptz[]), which no watermark compares with.
  const timed = column !== undefined && /^(timestamp|date)\b/.test(column.type) && !column.type.endsWith(']');
  if (named && !timed) {
    throw new UsageError(
      `supasync.config.json: ${qualifiedName(table)}'s changedColumn "${named}" ${column ? `is ${column.type}, not a timestamp or date` : 'is no column both sides have'}. ` +
        'Name a timestamptz column the app sets on every change (such as updated_at), or remove changedColumn: the table then follows the transaction ids that wrote its rows (xmin).',
    );
  }
  return timed ? column.name : keyed ? TRANSACTION_IDS : null;
}

/** Of type `oid`, or of a domain over it (the `lo` extension's `lo`): its values may be large objects' numbers. */
function namesLargeObjects(column: Column, types: Map<string, UserType> | null): boolean {
  if (column.type === 'oid') return true;
  if (column.typeKind !== 'domain') return false;
  const base = types?.get(column.type)?.base;
  return base ? /(^|-> )oid$/.test(base) : column.typeName === 'lo';
}
