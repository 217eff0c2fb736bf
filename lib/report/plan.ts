// The plan as a person reads it: tables in load order, then everything that
// needs a decision before the run writes.
import chalk from 'chalk';
import { qualifiedName } from '../catalog/types.ts';
import { describeDrift } from '../plan/drift.ts';
import { readsFromEarlier } from '../plan/changed-column.ts';
import { comparesRanges, SYNC_MODE_HELP, TRANSACTION_IDS, type SyncMode } from '../plan/mode.ts';
import type { SyncPlan, TablePlan } from '../plan/types.ts';
import { sequencesMissingInStaging, sequencesToCreate } from '../plan/sequences.ts';
import { supabaseNotes } from '../plan/supabase.ts';
import { untriggeredNotes } from '../plan/untriggered-rows.ts';
import { snapshotNotes, type Database } from '../transport/database.ts';
import type { DependentView } from '../transport/reads.ts';
import type { Watermark } from '../transport/watermarks.ts';
import { renderTable } from './table.ts';
import { countOf, formatCount } from '../counts.ts';
import { describeTableMask, testPasswordWarning } from '../plan/mask.ts';
import { personalColumnsWarning } from '../plan/personal-columns.ts';

/** `watermarks`: staging's, for the incremental tables' notes. */
export function renderPlan(plan: SyncPlan, heading: string, watermarks: Watermark[] = []): string {
  const out: string[] = [chalk.bold(heading), ''];
  out.push(
    renderTable(
      ['Level', 'Table', 'Key', 'Rows (est.)', 'Notes'],
      plan.tables.map((table) => [
        String(table.level),
        qualifiedName(table.table),
        table.key ? table.key.columns.join(', ') : chalk.yellow('none'),
        formatCount(table.rowEstimate),
        notes(table, watermarks),
      ]),
    ),
  );

  const uncounted = plan.tables.filter((table) => table.rowEstimate < 0);
  if (uncounted.length) {
    const one = uncounted.length === 1;
    out.push(
      '',
      `Rows (est.) ?: ${one ? `${qualifiedName(uncounted[0]!.table)} was` : `${uncounted.length} tables were`} never analyzed in production, ` +
        `so PostgreSQL holds no estimate of ${one ? 'its' : 'their'} rows yet (autovacuum's first ANALYZE, or yours, makes one). Every row is copied all the same.`,
    );
  }

  const modes = [...new Set(plan.tables.map((table) => table.mode))];
  out.push('', ...modes.map((mode) => `${chalk.bold(`Mode ${mode}`)}: ${describeMode(mode)}.`));

  out.push(...maskLines(plan));
  const personal = personalColumnsWarning(plan.personalColumnsRaw);
  if (personal) out.push('', chalk.yellow(personal));

  const together = [
    ...plan.cycles.map(
      (cycle) =>
        `cycle: ${cycle.tables.map(qualifiedName).join(' <-> ')} (${cycle.foreignKeys
          .map(({ table, foreignKey }) => `${table.name}.${foreignKey.columns.join(',')}`)
          .join(', ')})`,
    ),
    ...plan.selfReferences.map(
      ({ table, foreignKey }) =>
        `self-reference: ${qualifiedName(table)}.${foreignKey.columns.join(',')} -> ${table.name}.${foreignKey.referencedColumns.join(',')}`,
    ),
  ];
  if (together.length) {
    out.push('', chalk.bold('Loaded with foreign-key checks off, in the same transaction as their level:'));
    out.push(...together.map((line) => `  ${line}`));
  }
  if (plan.externalParents.length) {
    out.push('', chalk.bold('References to tables this run does not copy (staging must already hold those rows):'));
    for (const { table, foreignKey, parent } of plan.externalParents) {
      out.push(`  ${qualifiedName(table)}.${foreignKey.columns.join(',')} -> ${qualifiedName(parent)}`);
    }
  }
  if (plan.sequences.length) {
    const counters = plan.sequences.filter((sequence) => !sequence.usedBy.length).map((sequence) => qualifiedName(sequence.sequence));
    const shared = plan.sequences.filter((sequence) => sequence.alsoUsedOutside).map((sequence) => qualifiedName(sequence.sequence));
    out.push(
      '',
      chalk.bold(`Sequences set in staging once the rows are in: ${plan.sequences.length}, each to production's`) +
        (plan.mode !== 'replace' ? ' or left where staging has it, if further along' : '') +
        '.',
    );
    if (counters.length) out.push(`  used by no column (counters that functions draw from): ${counters.join(', ')}`);
    if (shared.length) out.push(`  also used by tables this run does not copy, so never moved back: ${shared.join(', ')}`);
    const made = sequencesToCreate(plan.sequences);
    if (made.length) out.push(`  made in staging first, which lacks them (production's app made them as it ran): ${made.join(', ')}`);
    const missing = sequencesMissingInStaging(plan.sequences);
    if (missing.length) out.push(chalk.red(`  missing in staging (drift): ${missing.join(', ')}`));
  }
  const drifted = plan.tables.filter((table) => table.drift.length);
  if (drifted.length) {
    out.push('', chalk.bold.red('Schema drift (these tables are not copied unless --allow-drift copies the common columns):'));
    for (const table of drifted) {
      for (const drift of table.drift) out.push(chalk.red(`  ${qualifiedName(table.table)}: ${describeDrift(drift)}`));
    }
  }
  if (plan.leftOut.length) {
    out.push('', chalk.bold('Not copied from the selected schemas:'));
    out.push(
      ...plan.leftOut.map(
        ({ table, reason, onRequest, excluded }) =>
          `  ${qualifiedName(table)}: ${excluded ? 'not copied' : onRequest ? 'only when named with --tables' : 'never copied'}: it ${reason}`,
      ),
    );
  }
  if (plan.parentsAdded && !plan.parentsAdded.length) {
    out.push(
      '',
      chalk.yellow(
        '--with-parents brings no table: no foreign key leads from the chosen tables to another. ' +
          'Where the app keeps relations without declaring them (Prisma\'s relationMode = "prisma", Rails without foreign keys), name the parents with --tables.',
      ),
    );
  }
  const supabase = [...supabaseNotes(plan), ...untriggeredNotes(plan.untriggered)];
  if (supabase.length) out.push('', ...supabase.map((note) => chalk.yellow(note)));
  if (plan.stagingOnlyTables.length) {
    out.push('', `Only in staging (left alone): ${plan.stagingOnlyTables.map(qualifiedName).join(', ')}`);
  }
  const unkeyed = plan.tables.filter((table) => !table.key && !table.drift.some((d) => d.kind === 'missing-table'));
  if (unkeyed.length) {
    out.push(
      '',
      chalk.yellow(
        `No primary key or NOT NULL unique key: ${unkeyed.map((t) => `${qualifiedName(t.table)}${t.overlapsKey ? ` (${t.overlapsKey} is WITHOUT OVERLAPS)` : ''}`).join(', ')}. ` +
          // Their own mode (supasync.config.json) or the run's replaces them: said as what happens, not as a refusal.
          (unkeyed.every((table) => table.mode === 'replace')
            ? 'This run replaces them as a whole, the one way to copy them: an upsert, a mirror, insert-missing and an incremental run have no key to match rows on.'
            : 'These can only be replaced as a whole (mode replace): an upsert, a mirror, insert-missing and an incremental run have no key to match rows on.'),
      ),
    );
  }
  return out.join('\n');
}

/**
 * Every masked column and its rule, and, loudly, the one password every
 * masked user signs in to staging with.
 */
function maskLines(plan: SyncPlan): string[] {
  const masked = plan.tables.filter((table) => table.mask);
  if (!masked.length) return [];
  const out = ['', chalk.bold('Masked on the way (production value -> masked value; raw values never reach staging, its backups or requests to it):')];
  for (const table of masked) {
    if (!table.mask) continue;
    out.push(`  ${qualifiedName(table.table)}:`, ...describeTableMask(table.mask).map((line) => `    ${line}`));
  }
  const password = testPasswordWarning(plan.tables);
  if (password) out.push(chalk.bold.yellow(`  ${password}`));
  out.push(
    chalk.yellow(
      "  Not masked: every other column, and every other key of a jsonb column masked by keys (an app's own keys in raw_user_meta_data), " +
        'free text included (notes, messages), which can hold personal data no rule sees (docs/masking.md).',
    ),
  );
  return out;
}

/** From where an incremental sync reads the table's changed rows. */
function incrementalNote(table: TablePlan, watermarks: Watermark[]): string {
  if (!table.changedColumn) return 'no key to follow rows by';
  const unstamped = table.changedColumnUnstamped
    ? `; no trigger stamps ${table.changedColumn} on UPDATE, so a change that leaves it alone (an SQL edit, or a trigger of another table keeping a count or total in it) is not seen: "changedColumn": "xmin" sees every write`
    : '';
  return followedFrom(table, watermarks) + unstamped;
}

function followedFrom(table: TablePlan, watermarks: Watermark[]): string {
  const kept = watermarks.find((mark) => mark.schema === table.table.schema && mark.name === table.table.name && mark.column === table.changedColumn);
  const byTransactions = table.changedColumn === TRANSACTION_IDS;
  if (!kept)
    return `first incremental run by ${byTransactions ? 'transaction ids (xmin: no updated_at)' : table.changedColumn}: rows compared by key-range checksums`;
  return byTransactions
    ? `rows written from production's transaction ${kept.since} on (xmin: no updated_at), deletes by key ranges`
    : `${table.changedColumn} >= ${kept.since}${readsFromEarlier(table.changedColumnType)}, deletes by key ranges`;
}

/** What a mode does to staging, in a sentence without its full stop. */
export function describeMode(mode: SyncMode): string {
  return `${SYNC_MODE_HELP[mode]}${modeDetail(mode)}`;
}

function modeDetail(mode: SyncMode): string {
  if (!comparesRanges(mode)) return '';
  return (
    ' (checksums of key ranges are compared in both databases first, narrowed down to ranges of about one row; only the ranges that differ are read and written' +
    (mode === 'mirror' ? ", and staging's rows in them that production lacks deleted" : '') +
    ')'
  );
}

function notes(table: TablePlan, watermarks: Watermark[]): string {
  return tableNotes(table, watermarks)
    .map((note) => (note === DRIFT_NOTE ? chalk.red(note) : note))
    .join('; ');
}

const DRIFT_NOTE = 'drift';

/**
 * What the plan says of a table besides its key and size. `watermarks`:
 * staging's, for an incremental table's note; null leaves that note out (a
 * report after the run tells where each table was read from instead).
 */
export function tableNotes(table: TablePlan, watermarks: Watermark[] | null): string[] {
  const notes: string[] = [];
  if (table.mode === 'incremental' && watermarks) notes.push(incrementalNote(table, watermarks));
  if (table.key?.kind === 'unique key') notes.push(`unique key ${table.key.name}`);
  if (table.generatedColumns.length) notes.push(`generated, left out: ${table.generatedColumns.join(', ')}`);
  const always = table.identityColumns.filter((column) => column.identity === 'always');
  if (always.length) notes.push(`identity ALWAYS kept: ${always.map((column) => column.name).join(', ')}`);
  if (table.loadedTogether) notes.push(table.loadedTogether);
  // A jsonb column masked by paths keeps every other key as it is: said, so "masked: raw_user_meta_data" is not read as all of it.
  if (table.mask)
    notes.push(
      `masked: ${table.mask.columns
        .map((column) => (column.rules.some(({ path }) => !path.length) ? column.column : `${column.column} (${countOf(column.rules.length, 'key')})`))
        .join(', ')}`,
    );
  if (table.options.mode) notes.push(`mode ${table.options.mode}`);
  if (table.options.referencedRows) notes.push('only the rows referenced');
  else if (table.options.where) notes.push(`where ${table.options.where}`);
  if (table.filteredBy.length) notes.push(`only rows whose ${table.filteredBy.join(', ')} row is copied`);
  if (table.drift.length) notes.push(DRIFT_NOTE);
  return notes;
}

/**
 * The materialized views a run would refresh once the rows are in, and those
 * it would leave as they are; null: staging's functions cannot say.
 */
export function describeViews(plan: SyncPlan, views: DependentView[] | null): string[] {
  if (views === null) return ["Materialized views: staging's supasync functions are older than version 17, which lists them without refreshing."];
  if (!views.length) return [];
  const refreshed = views.filter((view) => view.populated && view.mayRefresh).map((view) => view.view);
  const left = views
    .filter((view) => !view.populated || !view.mayRefresh)
    .map((view) => `${view.view} (${view.populated ? `owned by ${view.owner}` : 'never populated'})`);
  const whole = plan.tables.every((table) => table.mode === 'replace');
  return [
    `Materialized views that read these tables${whole ? '' : ', refreshed if the run changes a table they read'}: ` +
      [refreshed.length ? `refreshed after the load: ${refreshed.join(', ')}` : '', left.length ? `left as they are: ${left.join(', ')}` : '']
        .filter(Boolean)
        .join('; ') +
      '.',
  ];
}

/** What --dry-run prints: the plan as a table, or as JSON. */
export function dryRunOutput(
  run: { via: string; production: Pick<Database, 'location' | 'oneSnapshot'>; staging: { location: string }; plan: SyncPlan },
  json: boolean,
  watermarks: Watermark[] = [],
  views: DependentView[] | null = [],
): string {
  const notes = [...describeViews(run.plan, views), ...snapshotNotes(run.production, run.plan.tables.length)];
  if (json) return JSON.stringify({ via: run.via, mode: run.plan.mode, plan: run.plan, watermarks, views, notes }, null, 2);
  const plan = renderPlan(
    run.plan,
    `Plan (dry run, nothing written): ${run.production.location} -> ${run.staging.location}, via ${run.via}, mode ${run.plan.mode}`,
    watermarks,
  );
  return [plan, ...notes.map((note) => chalk.yellow(note))].join('\n\n');
}
