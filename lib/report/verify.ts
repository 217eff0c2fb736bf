// The seed's status table, now backed by content checksums, and the keys
// behind every difference.
import chalk from 'chalk';
import { qualifiedName, type SequenceState, type TableRef } from '../catalog/types.ts';
import type { ExternalParent } from '../plan/types.ts';
import type { ForeignKeyLink } from '../catalog/links.ts';
import { ASKED_OF_ROWS_NOTE } from '../plan/drift.ts';
import { describeOrphans } from '../engine/orphans.ts';
import type { FoundOrphans } from '../plan/links.ts';
import type { SequenceStatus, SequenceVerdict } from '../verify/sequences.ts';
import type { TableVerdict, VerifyStatus } from '../verify/verify.ts';
import { renderTable } from './table.ts';
import { leftOutLine, stagingOnlyLine } from './left-out.ts';
import type { LeftOutTable } from '../plan/supabase.ts';
import { commandLine } from '../invocation.ts';
import { tablesArgument } from '../sql/ident.ts';
import { countOf, formatCount } from '../counts.ts';
import type { MaskAudit } from '../verify/audit-masking.ts';
import type { LargeObjectVerdict } from '../verify/large-objects.ts';
import { describeExtensionTable, type ExtensionTableVerdict } from '../verify/extension-tables.ts';

const STATUS: Record<VerifyStatus, string> = {
  perfect: '✅ Perfect',
  'counts-equal': '✅ counts equal',
  'counts-differ': '⚠️ counts differ',
  'content-differs': '❌ content differs',
  'missing-table': '❌ missing in staging',
  'columns-differ': '⚠️ columns differ',
};

/**
 * How to list more of a table's differing keys: verify's --keys, which a sync's own --verify does not take, of that
 * table by its qualified name (a verify of the default schemas would not compare it).
 */
export function moreKeysHint(table: string): string {
  return `${commandLine('verify', `--keys 100 --tables ${tablesArgument([table])}`)} lists more`;
}

export interface VerdictsToRender {
  tables: TableVerdict[];
  sequences: SequenceVerdict[];
  /** Staging's rows whose foreign key finds no parent. */
  orphans: FoundOrphans[];
  /**
   * Tables whose only difference is rows staging has and production does
   * not, after an upsert, which keeps them by design, and sequences staging's
   * rows keep ahead of production's: shown as such, and not counted as
   * differing (nor as Perfect).
   */
  kept?: ReadonlySet<string>;
  /** --allow-drift: a table whose common columns are equal is as equal as the run could make it, not counted as differing. */
  acceptsDrift?: boolean;
  /** The large objects production's oid columns name, compared where they could be read (verify/large-objects.ts). */
  largeObjects?: LargeObjectVerdict[];
  /** The app's rows in production's extension tables, compared (verify/extension-tables.ts). */
  extensionTables?: ExtensionTableVerdict[];
  /** Tables of the selected schemas a schema-wide verify leaves out, as a sync does (plan/supabase.ts). */
  leftOut?: readonly LeftOutTable[];
  /** Staging's tables of the selected schemas production lacks. */
  stagingOnly?: readonly (TableRef & { inherits?: string })[];
  /** Foreign keys from a compared table to one not compared: a mirror of the table alone cannot tell staging has those parents. */
  externalParents?: readonly ExternalParent[];
  /** `--mask supabase` where verify ran with it: the syncs offered take it too (staging holds those tables masked). */
  maskFlag?: string;
  /** Staging's foreign keys around the compared tables (the plan's stagingLinks): a mirror offered of a child whose parent a sync refuses. */
  links?: readonly Pick<ForeignKeyLink, 'child' | 'parent'>[];
}

export function renderVerdicts(rendered: VerdictsToRender): string {
  const { tables: verdicts, sequences, orphans, kept: keptByUpsert = new Set() } = rendered;
  const out = [
    renderTable(
      ['Table', 'Production', 'Staging', 'Status'],
      verdicts.map((v) => [v.table, formatCount(v.production), v.staging === null ? '-' : formatCount(v.staging), verdictStatus(v, keptByUpsert)]),
    ),
  ];
  for (const verdict of verdicts) {
    const differences = keptByUpsert.has(verdict.table) ? undefined : verdict.differences;
    if (verdict.drift?.length) {
      const compared = verdict.status === 'columns-differ' ? 'the common columns are equal, but' : 'only the common columns were compared:';
      out.push(chalk.yellow(`\n${verdict.table}: ${compared} the two sides' columns differ: ${verdict.drift.join('; ')}.`));
    }
    if (!differences) continue;
    const key = verdict.keyColumns.length ? verdict.keyColumns.join(', ') : 'whole row (no key)';
    out.push(chalk.red(`\n${verdict.table} (key: ${key}):`));
    if (verdict.generatedDiffer) {
      out.push(
        chalk.red(
          `  the copied columns are equal; the generated ${verdict.generatedDiffer.join(', ')}, which staging computes itself, ${verdict.generatedDiffer.length === 1 ? 'differs' : 'differ'}: ` +
            `staging's functions or settings compute ${verdict.generatedDiffer.length === 1 ? 'it' : 'them'} otherwise (a function defined otherwise there, ` +
            `one that reads the session's time zone), and no sync can write ${verdict.generatedDiffer.length === 1 ? 'it' : 'them'}`,
        ),
      );
    }
    const list = (label: string, keys: string[]) => {
      if (keys.length) out.push(chalk.red(`  ${label}: ${keys.join(' ')}`));
    };
    list('differ from production', differences.changed);
    list('missing in staging', differences.missing);
    list('extra in staging', differences.extra);
    if (differences.more) out.push(chalk.red(`  ... and more (${moreKeysHint(verdict.table)})`));
  }
  if (sequences.length) out.push('', ...renderSequences(sequences, keptByUpsert));
  if (orphans.length) out.push('', chalk.red('Rows of staging whose foreign key finds no parent:'), ...describeOrphans(orphans).map((line) => chalk.red(line)));
  if (rendered.largeObjects?.length) out.push('', ...rendered.largeObjects.map(describeLargeObjects));
  const extensionTables = rendered.extensionTables ?? [];
  if (extensionTables.length) {
    out.push(
      '',
      ...extensionTables.map((verdict) =>
        verdict.equal
          ? chalk.green(
              `${verdict.table} (the extension ${verdict.extension}'s): the rows the app added to it are equal (${countOf(verdict.production, 'row')}).`,
            )
          : chalk.red(describeExtensionTable(verdict)),
      ),
    );
  }
  const summary = verdictsSummary(rendered);
  out.push('', (summary.equal ? chalk.green : chalk.red)(summary.text));
  out.push(...leftOutLine(rendered.leftOut ?? [], 'compared'), ...stagingOnlyLine(rendered.stagingOnly ?? []));
  out.push(...remedies(verdicts, keptByUpsert, rendered.acceptsDrift ?? false, rendered.externalParents ?? [], rendered.links ?? [], rendered.maskFlag ?? ''));
  return out.join('\n');
}

/**
 * The syncs that put differing rows right: a mirror compares every row (a table with a key, not masked), a replace copies them all.
 * `acceptsDrift`: verify ran with --allow-drift, as the syncs it offers then do.
 */
function remedies(
  verdicts: TableVerdict[],
  kept: ReadonlySet<string>,
  acceptsDrift: boolean,
  externalParents: readonly ExternalParent[],
  links: readonly Pick<ForeignKeyLink, 'child' | 'parent'>[],
  maskFlag: string,
): string[] {
  // Generated values a sync cannot write: said under the table, no sync offered.
  const differing = verdicts.filter((v) => !kept.has(v.table) && !v.generatedDiffer && (v.status === 'counts-differ' || v.status === 'content-differs'));
  // Compared raw where staging holds masked values: a sync without the masking is refused for them, and should be.
  const maskedInStaging = differing.filter((v) => v.maskedInStaging);
  const rowsDiffer = differing.filter((v) => !v.maskedInStaging);
  // A sync refuses a table whose columns differ until the schemas match, or --allow-drift copies the common columns.
  const syncable = (v: TableVerdict) => (acceptsDrift && !v.driftRefused) || !v.drift?.length;
  const driftedVerdicts = rowsDiffer.filter((v) => !syncable(v));
  const drifted = driftedVerdicts.map((v) => v.table);
  const mirrored = rowsDiffer.filter((v) => v.keyColumns.length && !v.masked && syncable(v)).map((v) => v.table);
  const replaced = rowsDiffer.filter((v) => (!v.keyColumns.length || v.masked) && syncable(v)).map((v) => v.table);
  const driftFlag = `${acceptsDrift && rowsDiffer.some((v) => v.drift?.length) ? ' --allow-drift' : ''}${maskFlag ? ` ${maskFlag}` : ''}`;
  const helped = driftedVerdicts.filter((v) => !v.driftRefused);
  const commonColumns = helped.length
    ? `, or sync with --allow-drift to copy the common columns${helped.some((v) => v.driftAskedOfRows) ? ASKED_OF_ROWS_NOTE : ''}`
    : '';
  const refusals = driftedVerdicts.flatMap((v) => (v.driftRefused ? [`${v.table}: ${v.driftRefused}`] : []));
  const notCopied = refusals.length ? ` (--allow-drift does not help ${refusals.join('; ')})` : '';
  return [
    ...maskedInStaging.map(
      ({ table, maskedInStaging: masked }) =>
        `${table}: staging holds ${masked!.columns.join(', ')} masked (the sync of ${masked!.maskedAt}), compared here with production's raw values: ` +
        `verify with the masking that sync used (${masked!.masking}) to compare what staging should hold. A sync without it is refused for the table; --unmask would write production's raw values.`,
    ),
    ...(drifted.length
      ? [
          `${drifted.join(', ')}: the two sides' columns differ as well (said above), so a sync refuses ${drifted.length === 1 ? 'it' : 'them'}: ` +
            `apply the migrations one side lacks${commonColumns}${notCopied}.`,
        ]
      : []),
    ...(mirrored.length
      ? [
          `A sync with${driftFlag} --mode mirror --tables ${tablesArgument(mirrored)} compares every row of them and copies what differs.`,
          ...parentsNotCompared(mirrored, externalParents),
          ...parentsRefused(mirrored, drifted, links),
        ]
      : []),
    ...(replaced.length
      ? [`A sync with${driftFlag} --mode replace --tables ${tablesArgument(replaced)} copies them whole (no key, or masked: a mirror cannot compare them).`]
      : []),
  ];
}

/**
 * A mirror of some tables alone refuses rows that name a parent staging
 * lacks; verify compared no table those parents are in, so it cannot say
 * whether staging has them, only where they are and the flag that brings them.
 */
function parentsNotCompared(mirrored: readonly string[], externalParents: readonly ExternalParent[]): string[] {
  const chosen = new Set(mirrored);
  const links = externalParents.filter((link) => chosen.has(qualifiedName(link.table)));
  if (!links.length) return [];
  const tables = [...new Set(links.map((link) => qualifiedName(link.table)))];
  const parents = [...new Set(links.map((link) => qualifiedName(link.parent)))];
  return [
    `${tables.join(', ')} ${tables.length === 1 ? 'references' : 'reference'} ${parents.join(', ')}, which this verify did not compare: ` +
      'where staging lacks a row they name, the mirror refuses it; add --with-parents to copy those rows too (only the ones they name).',
  ];
}

/**
 * A mirror offered of a table whose parent differs too and is refused for its columns (not in the mirror): the rows
 * it names there that staging lacks would be refused with it, until the parent's migrations are applied.
 */
function parentsRefused(mirrored: readonly string[], drifted: readonly string[], links: readonly Pick<ForeignKeyLink, 'child' | 'parent'>[]): string[] {
  const refused = new Set(drifted);
  const chosen = new Set(mirrored);
  const found = links.filter((link) => chosen.has(qualifiedName(link.child)) && refused.has(qualifiedName(link.parent)));
  if (!found.length) return [];
  const tables = [...new Set(found.map((link) => qualifiedName(link.child)))];
  const parents = [...new Set(found.map((link) => qualifiedName(link.parent)))];
  return [
    `${tables.join(', ')} ${tables.length === 1 ? 'references' : 'reference'} ${parents.join(', ')}, which ${parents.length === 1 ? 'differs' : 'differ'} too and a sync refuses (above): ` +
      `where staging lacks a row they name there, the mirror refuses it; apply the migrations first, then mirror ${tables.length + parents.length === 2 ? 'both' : 'them all'}.`,
  ];
}

/**
 * A table's status as the status table says it. One whose differences the
 * sync's mode keeps (`kept`): staging-only rows an upsert keeps, and, in
 * insert-missing, staging's own versions of rows production has too.
 */
export function verdictStatus(verdict: TableVerdict, kept: ReadonlySet<string> = new Set()): string {
  if (!kept.has(verdict.table)) return STATUS[verdict.status];
  const stale = verdict.differences?.found.changed ?? 0;
  const stagingOnly = `${countOf((verdict.staging ?? 0) - verdict.production, 'staging-only row')} kept`;
  return stale ? `✅ insert-missing: ${countOf(stale, 'row')} left as staging had them, ${stagingOnly}` : `✅ upserted, ${stagingOnly}`;
}

/** The closing line: whether staging holds production's rows, and if not, how much differs. */
export function verdictsSummary({
  tables: verdicts,
  sequences,
  orphans,
  kept: keptByUpsert = new Set(),
  acceptsDrift = false,
  largeObjects,
  extensionTables,
}: VerdictsToRender): {
  equal: boolean;
  text: string;
} {
  const sequencesDiffering = sequences.filter((v) => v.status !== 'equal' && !keptByUpsert.has(v.sequence));
  const perfect = verdicts.filter((v) => v.status === 'perfect').length;
  const counted = verdicts.filter((v) => v.status === 'counts-equal').length;
  const kept = verdicts.filter((v) => keptByUpsert.has(v.table)).length;
  const drifted = acceptsDrift ? verdicts.filter((v) => v.status === 'columns-differ' && !keptByUpsert.has(v.table)).length : 0;
  const differing = verdicts.length - perfect - counted - kept - drifted;
  const sequencesSaid = `${sequencesDiffering.length} of ${sequences.length} sequences differ`;
  const orphansSaid = orphans.length ? ` ${orphanRows(orphans)}.` : '';
  if (differing || orphans.length) {
    return { equal: false, text: `${differing} of ${verdicts.length} tables differ.${sequencesDiffering.length ? ` ${sequencesSaid}.` : ''}${orphansSaid}` };
  }
  const objectsDiffering = (largeObjects ?? []).filter((v) => v.status === 'differ');
  if (objectsDiffering.length) {
    return {
      equal: false,
      text: `Every table's rows are as production's, but large objects their oid columns name differ in staging (${objectsDiffering.map((v) => `${v.table}.${v.column}`).join(', ')}).`,
    };
  }
  const extensionsDiffering = (extensionTables ?? []).filter((v) => !v.equal);
  if (extensionsDiffering.length) {
    return {
      equal: false,
      text: `Every table's rows are as production's, but the rows the app added to extension tables differ (${extensionsDiffering.map((v) => v.table).join(', ')}: said above).`,
    };
  }
  if (sequencesDiffering.length) {
    return { equal: false, text: `Every table's rows are as production's, but ${sequencesSaid}: staging would hand out other numbers next than production.` };
  }
  // insert-missing leaves staging's version of a row production has too: every row is there, not every one as production has it.
  const stale = verdicts.filter((v) => keptByUpsert.has(v.table) && v.differences?.found.changed);
  if (stale.length) {
    const rows = stale.reduce((sum, v) => sum + (v.differences?.found.changed ?? 0), 0);
    return {
      equal: true,
      text:
        `Staging holds every production row: ${perfect} of ${verdicts.length} tables Perfect, ${kept} with rows the sync kept as staging had them ` +
        `(in ${stale.map((v) => v.table).join(', ')}, ${countOf(rows, 'row')} ${rows === 1 ? 'differs' : 'differ'} from production's: insert-missing touches no row staging has; ` +
        '--mode mirror writes them).',
    };
  }
  if (kept) {
    return {
      equal: true,
      text:
        `Staging holds every production row as production has it: ${perfect} of ${verdicts.length} tables Perfect, ` +
        `${kept} with staging-only rows the upsert kept.`,
    };
  }
  if (drifted) {
    return {
      equal: true,
      text:
        `Staging holds production's rows in the columns both sides have: ${perfect} of ${verdicts.length} tables Perfect, ` +
        `${drifted} equal in their common columns (--allow-drift; how their columns differ is said above).`,
    };
  }
  if (counted) {
    return {
      equal: true,
      text:
        `Staging holds as many rows as production: ${counted} of ${verdicts.length} tables with equal counts` +
        `${perfect ? `, ${perfect} Perfect` : ''} (--counts-only compares no value: run without it to prove them equal).`,
    };
  }
  return { equal: true, text: `Staging equals production: ${perfect} of ${verdicts.length} tables Perfect.` };
}

const SEQUENCE_STATUS: Record<SequenceStatus, string> = {
  equal: '✅ equal',
  differs: '❌ differs',
  ahead: '❌ staging ahead',
  missing: '❌ missing in staging',
};

/** A sequence's status as the sequences' table says it. */
export function sequenceStatus(verdict: SequenceVerdict, kept: ReadonlySet<string> = new Set()): string {
  return kept.has(verdict.sequence) ? '✅ staging ahead, its own rows kept' : SEQUENCE_STATUS[verdict.status];
}

function renderSequences(sequences: SequenceVerdict[], kept: ReadonlySet<string>): string[] {
  const shown = (state: SequenceState | null) => (state ? `${state.lastValue}${state.isCalled ? '' : ' (next)'}` : '-');
  const differing = sequences.filter((v) => v.status !== 'equal');
  if (!differing.length) return [chalk.green(`Sequences: all ${sequences.length} stand where production's do.`)];
  return [
    `Sequences (${sequences.length - differing.length} of ${sequences.length} equal; the others):`,
    renderTable(
      ['Sequence', 'Production', 'Staging', 'Status'],
      differing.map((v) => [v.sequence, shown(v.production), shown(v.staging), sequenceStatus(v, kept)]),
    ),
  ];
}

/** --audit-masking: per masked table, what was compared and every raw value found, by column and key. */
export function renderMaskAudits(audits: MaskAudit[]): string {
  const out = [
    renderTable(
      ['Table', 'Staging rows', 'Masked columns', 'Raw values found'],
      audits.map((audit) => [
        audit.table,
        formatCount(audit.rows),
        audit.columns.join(', '),
        audit.leaks.length ? `❌ ${audit.leaks.length}${audit.more ? '+' : ''}` : '✅ none',
      ]),
    ),
  ];
  for (const audit of audits.filter((a) => a.leaks.length)) {
    out.push(chalk.red(`\n${audit.table}: production's raw value in staging:`));
    out.push(...audit.leaks.map((leak) => chalk.red(`  ${leak.column} at ${leak.key}`)));
    if (audit.more) out.push(chalk.red('  ... and more'));
  }
  const leaking = audits.filter((audit) => audit.leaks.length).length;
  out.push(
    '',
    leaking
      ? chalk.red(
          `${leaking} of ${countOf(audits.length, 'masked table')} ${leaking === 1 ? 'holds' : 'hold'} raw production values: sync them again with the same rules (a replace rewrites every row), then audit again.`,
        )
      : chalk.green(
          `No raw production value of a masked column or key found in staging (${countOf(audits.length, 'table')}, every value compared; keys and columns no rule names are not audited).`,
        ),
  );
  return out.join('\n');
}

function orphanRows(orphans: VerdictsToRender['orphans']): string {
  const rows = orphans.reduce((sum, o) => sum + o.rows, 0);
  return `${countOf(rows, 'row')} ${rows === 1 ? 'finds' : 'find'} no parent`;
}

/** A column's large objects as compared: equal, which differ, or why not compared (plain text: the report document says it too). */
export function largeObjectsLine(verdict: LargeObjectVerdict): string {
  const objects = `${verdict.table}.${verdict.column}: ${countOf(verdict.objects, 'large object')} named by production's rows`;
  if (verdict.status === 'equal') return `${objects}, each as production holds it.`;
  if (verdict.status === 'differ') {
    return (
      `${objects}; staging lacks or holds otherwise ${formatCount(verdict.differingCount)} of them, e.g. ${verdict.differing.join(', ')}: ` +
      'a sync copies the numbers, not the objects (copy them with lo_get in production and lo_from_bytea in staging).'
    );
  }
  return `${objects}, not compared (${verdict.reason ?? 'unreadable'}): verify over the direct path compares them.`;
}

function describeLargeObjects(verdict: LargeObjectVerdict): string {
  const color = verdict.status === 'equal' ? chalk.green : verdict.status === 'differ' ? chalk.red : chalk.yellow;
  return color(largeObjectsLine(verdict));
}
