// What a run refuses of the schemas' differences before it writes: drift,
// unless the user chose to copy the common columns (--allow-drift), and even
// then what that copy would get wrong; a table staging lacks can never be
// copied; a mode that matches rows needs a key on every table.
import { qualifiedName } from '../catalog/types.ts';
import { identAsWritten } from '../sql/ident.ts';
import { DatabaseError, UsageError } from '../errors.ts';
import { allowDriftRefusal, ASKED_OF_ROWS_NOTE, describeDrift, driftAskedOfRows } from '../plan/drift.ts';
import { silentChange } from '../plan/lossy-types.ts';
import { SYNC_MODE_VERBS, SYNC_MODES_KEYED } from '../plan/mode.ts';
import { sequencesMissingInStaging } from '../plan/sequences.ts';
import { serviceOf } from '../plan/supabase.ts';
import type { SyncPlan, TablePlan } from '../plan/types.ts';

/**
 * Auth's and Storage's tables differ where the two projects run different
 * versions of the service (a project made later, or upgraded since): no
 * migration of the app's aligns them, so the run says what does.
 */
function servicesDrift(serviceTables: TablePlan[]): string {
  if (!serviceTables.length) return '';
  const services = [...new Set(serviceTables.map((table) => serviceOf(table.table)))];
  const tables = serviceTables.map((table) => qualifiedName(table.table));
  return (
    `${tables.join(', ')} ${tables.length === 1 ? 'is' : 'are'} Supabase ${services.join(' and ')}'s, which ${services.length === 1 ? 'migrates its tables itself' : 'migrate their tables themselves'}: ` +
    "the two projects run different versions of it (columns staging lacks: staging's is older; columns only staging has: staging's is newer), " +
    'which no migration of the app aligns: upgrade the older project (Dashboard > Project Settings > Infrastructure).\n'
  );
}

export function tablesToCopy(plan: SyncPlan, options: { allowDrift: boolean }) {
  const drifted = plan.tables.filter((table) => table.drift.length);
  const sequencesMissing = sequencesMissingInStaging(plan.sequences);
  if ((drifted.length || sequencesMissing.length) && !options.allowDrift) {
    const lines = [
      ...drifted.flatMap((table) => table.drift.map((d) => `  ${qualifiedName(table.table)}: ${describeDrift(d)}`)),
      ...sequencesMissing.map((name) => `  ${name}: sequence missing in staging`),
    ];
    const refusedToo = (table: TablePlan) => table.drift.map(allowDriftRefusal).filter((why) => why !== null);
    const unhelped = drifted.filter((table) => refusedToo(table).length);
    const helped = drifted.some((table) => !refusedToo(table).length) || sequencesMissing.length > 0;
    const serviceTables = drifted.filter((table) => serviceOf(table.table));
    const apps = serviceTables.length < drifted.length || sequencesMissing.length > 0;
    throw new DatabaseError(
      `Production and staging schemas differ; nothing was written:\n${lines.join('\n')}\n` +
        servicesDrift(serviceTables) +
        (apps
          ? `${serviceTables.length ? 'For the others, apply' : 'Apply'} the migrations one side lacks ` +
            '(staging behind production, or production behind a staging a migration ahead), '
          : '') +
        `${apps ? 'leave' : 'Leave'} these tables out with --exclude${helped ? ', or copy the common columns with --allow-drift' : ''}` +
        (helped && drifted.some((table) => table.drift.some(driftAskedOfRows)) ? ASKED_OF_ROWS_NOTE : '') +
        (helped && sequencesMissing.length ? ' (which leaves the sequences staging lacks unset)' : '') +
        (unhelped.length
          ? `. --allow-drift does not help ${unhelped.map((table) => `${qualifiedName(table.table)} (${refusedToo(table).join('; ')})`).join(', ')}`
          : '') +
        '.',
    );
  }
  refuseRequiredExtraColumns(drifted);
  refuseSilentChanges(drifted);
  refuseRedefinedTypes(drifted);
  const skipped = drifted
    .filter((table) => table.drift.some((d) => d.kind === 'missing-table'))
    .map((table) => ({ table: qualifiedName(table.table), reason: 'staging has no such table' }));
  const tables = plan.tables.filter((table) => !skipped.some((s) => s.table === qualifiedName(table.table)));
  refuseUnkeyed(tables);
  for (const name of sequencesMissing) skipped.push({ table: name, reason: 'staging has no such sequence' });
  const sequences = plan.sequences.filter((sequence) => sequence.inStaging || sequence.create);
  return { tables, skipped, sequences };
}

/**
 * With --allow-drift a copied row leaves staging's own columns to their
 * defaults: one NOT NULL without a default refuses every row, the upsert's
 * too (PostgreSQL checks the row proposed for insertion before ON CONFLICT).
 * Found before writing, where over REST the table would be emptied first.
 */
function refuseRequiredExtraColumns(drifted: TablePlan[]): void {
  const required = drifted.flatMap((table) =>
    table.drift.flatMap((drift) =>
      drift.kind === 'extra-columns' && drift.columns.some((column) => column.required)
        ? [{ table: qualifiedName(table.table), columns: drift.columns.filter((column) => column.required).map((column) => column.name) }]
        : [],
    ),
  );
  if (!required.length) return;
  throw new DatabaseError(
    `Staging has columns production lacks that are NOT NULL without a default; every row copied would leave them NULL, and nothing was written:\n` +
      required.map(({ table, columns }) => `  ${table}: ${columns.join(', ')}`).join('\n') +
      '\nGive them a default in staging (ALTER TABLE ... ALTER COLUMN ... SET DEFAULT ...), apply that migration to production too, ' +
      'or leave those tables out with --exclude.',
  );
}

/**
 * --allow-drift copies a column of another type where staging refuses, by
 * key, a value that does not fit: never cut. A type that takes every value
 * and changes it (lossy-types.ts) would be a copy unlike production that
 * exits 0, re-synced forever by a mirror: refused before writing.
 */
function refuseSilentChanges(drifted: TablePlan[]): void {
  const changes = drifted.flatMap((table) =>
    table.drift.flatMap((drift) =>
      drift.kind === 'type-changes'
        ? drift.columns.flatMap((column) => {
            const change = silentChange(column.production, column.staging);
            return change ? [`  ${qualifiedName(table.table)}.${column.name} (${column.production} -> ${column.staging}): ${change}`] : [];
          })
        : [],
    ),
  );
  if (!changes.length) return;
  throw new DatabaseError(
    "Staging's types would change production's values without refusing them, so --allow-drift does not copy these columns; nothing was written:\n" +
      changes.join('\n') +
      "\nGive staging's columns production's types (or production's the migration staging has), or leave those tables out with --exclude.",
  );
}

/**
 * A composite type whose attributes staging orders or types otherwise, or a
 * domain over another base: --allow-drift would copy the column as it is,
 * and staging refuse its values midway (over REST after emptying a
 * replaced table) or read them into the wrong attributes, or round them.
 * An enum's missing labels are asked of production's rows instead; one
 * whose labels staging orders otherwise takes every value as it is.
 */
function refuseRedefinedTypes(drifted: TablePlan[]): void {
  const redefined = drifted.flatMap((table) =>
    table.drift.flatMap((drift) =>
      drift.kind === 'type-definitions'
        ? drift.types
            .filter((type) => !type.lacking && !type.reordered)
            .map((type) => `  ${qualifiedName(table.table)}: ${type.name} of ${type.columns.join(', ')} (${type.difference})`)
        : [],
    ),
  );
  if (!redefined.length) return;
  throw new DatabaseError(
    "Staging defines these columns' types otherwise, so --allow-drift cannot copy them; nothing was written:\n" +
      redefined.join('\n') +
      '\nDefine the types in staging as production has them (the migration one side lacks), or leave those tables out with --exclude.',
  );
}

/** The `tables` entries that replace these tables whatever the run's mode, ready to paste: each named as the file takes it back. */
function replacedAlone(tables: TablePlan[]): string {
  const names = tables.map((table) => JSON.stringify(`${identAsWritten(table.table.schema)}.${identAsWritten(table.table.name)}`));
  return `{ ${names.map((name) => `${name}: { "mode": "replace" }`).join(', ')} }`;
}

/** Modes that match rows need a key: production's, with a unique index on its columns in staging. */
function refuseUnkeyed(tables: TablePlan[]): void {
  for (const mode of SYNC_MODES_KEYED) {
    const unkeyed = tables.filter((table) => table.mode === mode && !table.key);
    if (!unkeyed.length) continue;
    const lacked = unkeyed.filter((table) => table.keyStagingLacks);
    const overlapping = unkeyed.filter((table) => !table.keyStagingLacks && table.overlapsKey);
    const none = unkeyed.filter((table) => !table.keyStagingLacks && !table.overlapsKey);
    throw new UsageError(
      [
        ...(none.length
          ? [
              `Cannot ${SYNC_MODE_VERBS[mode]} ${none.map((table) => qualifiedName(table.table)).join(', ')}: no primary key or NOT NULL unique key to match rows on. ` +
                'Replace them alone (`"mode": "replace"` for each under `tables` in supasync.config.json) or the whole run (--mode replace), ' +
                'leave them out (--exclude), or give them a primary key.',
              `To replace them alone, supasync.config.json's "tables" holds: ${replacedAlone(none)}`,
            ]
          : []),
        ...(overlapping.length
          ? [
              `Cannot ${SYNC_MODE_VERBS[mode]} ${overlapping.map((table) => `${qualifiedName(table.table)} (${table.overlapsKey})`).join(', ')}: ` +
                'a key WITHOUT OVERLAPS keeps rows apart by overlapping ranges, and no ON CONFLICT matches rows on it, nor has the table another key. ' +
                'Replace them alone (`"mode": "replace"` for each under `tables` in supasync.config.json) or the whole run (--mode replace), ' +
                'or leave them out (--exclude).',
            ]
          : []),
        ...(lacked.length
          ? [
              `Cannot ${SYNC_MODE_VERBS[mode]} ${lacked.map((table) => `${qualifiedName(table.table)} (production's ${table.keyStagingLacks})`).join(', ')}: ` +
                "staging has no primary key or unique index on that key's columns to match rows on. Give both sides the same key " +
                "(the migration one side lacks: production's key to staging, or staging's newer key to production), " +
                'or replace them alone (`"mode": "replace"` under `tables` in supasync.config.json) or the whole run (--mode replace).',
            ]
          : []),
      ].join('\n'),
    );
  }
}
