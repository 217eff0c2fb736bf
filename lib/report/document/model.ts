// What a --report file tells, as one plain object built from what the run
// already holds (its plan, the sync's result, verify's verdicts):
// markdown.ts and html.ts render the same object, so the two formats cannot
// say different things. Every string in it is a value to escape, never markup.
import { countOf } from '../../counts.ts';
import { qualifiedName, type SequenceState } from '../../catalog/types.ts';
import type { PreparedRun } from '../../engine/prepare.ts';
import type { SyncResult, TableResult } from '../../engine/sync.ts';
import { describeOrphans } from '../../engine/orphans.ts';
import { describeDrift } from '../../plan/drift.ts';
import type { FoundOrphans } from '../../plan/links.ts';
import type { SyncPlan } from '../../plan/types.ts';
import type { MaskAudit } from '../../verify/audit-masking.ts';
import type { SequenceVerdict } from '../../verify/sequences.ts';
import type { LargeObjectVerdict } from '../../verify/large-objects.ts';
import type { KeyDifferences, TableVerdict } from '../../verify/verify.ts';
import { foundEqual } from '../../verify/verdict.ts';
import { describeMode, tableNotes } from '../plan.ts';
import { backupLine, prunedLine, rangesLine, retriesLine, syncSummary, viewLines, watermarkLines } from '../sync.ts';
import { largeObjectsLine, sequenceStatus, verdictStatus, verdictsSummary } from '../verify.ts';
import { filesSection, type FilesFacts, type FilesSection } from './files.ts';

export interface RunReport {
  /** "supasync sync", "supasync verify": the page's title, with the outcome. */
  title: string;
  /** The script as run: npx tsx scripts/sync.ts */
  command: string;
  startedAt: string;
  finishedAt: string;
  /** Where each side is, passwords already left out (Database.location). */
  production: string;
  staging: string;
  via: string;
  outcome: Outcome;
  plan: PlanSection;
  copy: CopySection | null;
  verify: VerifySection | null;
  /** --storage's buckets: null when the run had no files step. */
  files: FilesSection | null;
  audit: AuditSection | null;
  /** Seconds per table: the copy's, or the comparison's for a verify run. */
  chart: TimingChart | null;
}

export interface Outcome {
  ok: boolean;
  exitCode: number;
  headline: string;
  /** What stopped the run, as it was printed; null when it ran to its end. */
  failure: string | null;
}

export interface PlanSection {
  dryRun: boolean;
  /** Each mode the tables are written in, with what it does; none for verify. */
  modes: { mode: string; description: string }[];
  tables: PlannedTable[];
  /** Tables of the chosen schemas the run leaves out, and why. */
  notCopied: { table: string; reason: string }[];
  drift: { table: string; description: string }[];
  sequences: number;
}

export interface PlannedTable {
  level: number;
  table: string;
  /** The key rows are matched and paged on; null: none (replace only). */
  key: string | null;
  rowEstimate: number;
  mode: string | null;
  notes: string[];
}

export interface CopySection {
  /** The closing line the terminal shows, or what the failure interrupted. */
  summary: string;
  tables: CopiedTable[];
  /** A failed run's tables: finished before the failure, which says whether staging kept them. */
  beforeFailure: boolean;
  /** What was saved of staging first, and how to restore it; null when the run stopped before. */
  backup: string | null;
  notes: string[];
  rejected: { table: string; key: string; message: string }[];
}

export interface CopiedTable {
  table: string;
  rows: number;
  changed: number;
  deleted: number;
  rejected: number;
  seconds: number;
  rowsPerSecond: number | null;
}

export interface VerifySection {
  equal: boolean;
  summary: string;
  tables: VerifiedTable[];
  /** The sequences that do not stand where production's do (the others are counted in `sequencesEqual`). */
  sequences: { sequence: string; production: string; staging: string; status: string }[];
  sequencesEqual: number;
  orphans: string[];
  /** Per oid column naming large objects: compared, differing, or not compared (verify/large-objects.ts). */
  largeObjects: string[];
}

export interface VerifiedTable {
  table: string;
  production: number;
  staging: number | null;
  status: string;
  equal: boolean;
  /** The key columns differences are named by. */
  key: string;
  differences: KeyDifferences | null;
  seconds: number | null;
}

export interface AuditSection {
  clean: boolean;
  summary: string;
  tables: { table: string; rows: number; columns: string[]; leaks: { column: string; key: string }[]; more: boolean }[];
}

export interface TimingChart {
  title: string;
  bars: { label: string; seconds: number }[];
}

/** What a sync or verify command knew when it ended, however it ended. */
export interface RunFacts {
  kind: 'sync' | 'verify';
  command: string;
  startedAt: Date;
  finishedAt: Date;
  run: Pick<PreparedRun, 'via' | 'plan'> & { production: { location: string }; staging: { location: string } };
  dryRun?: boolean;
  /** A sync that ran to its end. */
  result?: SyncResult;
  /** The tables a sync finished before it failed. */
  finished?: TableResult[];
  verify?: VerifyFacts;
  files?: FilesFacts;
  audits?: MaskAudit[];
  exitCode: number;
  /** The message the run stopped with. */
  failure?: string;
}

export interface VerifyFacts {
  tables: TableVerdict[];
  sequences: SequenceVerdict[];
  orphans: FoundOrphans[];
  /** Tables and sequences whose only difference an upsert keeps by design (sync-command). */
  kept?: ReadonlySet<string>;
  /** --allow-drift: tables equal in their common columns count as equal (verify.ts verdictsSummary). */
  acceptsDrift?: boolean;
  /** Seconds each table's comparison took, by table. */
  seconds: ReadonlyMap<string, number>;
  largeObjects?: LargeObjectVerdict[];
}

export function buildReport(facts: RunFacts): RunReport {
  const copy = copySection(facts);
  const verify = facts.verify ? verifySection(facts.verify) : null;
  const files = filesSection(facts.files, Boolean(facts.dryRun));
  const audit = facts.audits ? auditSection(facts.audits) : null;
  const outcome = outcomeOf(facts, copy, verify, files, audit);
  return {
    title: `supasync ${facts.kind}${facts.dryRun ? ' (dry run)' : ''}`,
    command: facts.command,
    startedAt: facts.startedAt.toISOString(),
    finishedAt: facts.finishedAt.toISOString(),
    production: facts.run.production.location,
    staging: facts.run.staging.location,
    via: facts.run.via,
    outcome,
    plan: planSection(facts.run.plan, facts),
    copy,
    verify,
    files,
    audit,
    chart: timingChart(copy, verify),
  };
}

function planSection(plan: SyncPlan, facts: RunFacts): PlanSection {
  const writes = facts.kind === 'sync';
  const modes = writes ? [...new Set(plan.tables.map((table) => table.mode))] : [];
  const skipped =
    facts.result?.skipped ??
    plan.tables
      .filter((table) => table.drift.some((d) => d.kind === 'missing-table'))
      .map((table) => ({ table: qualifiedName(table.table), reason: 'staging has no such table' }));
  return {
    dryRun: Boolean(facts.dryRun),
    modes: modes.map((mode) => ({ mode, description: describeMode(mode) })),
    tables: plan.tables.map((table) => ({
      level: table.level,
      table: qualifiedName(table.table),
      key: table.key ? table.key.columns.join(', ') : null,
      rowEstimate: table.rowEstimate,
      mode: writes ? table.mode : null,
      notes: tableNotes(table, null),
    })),
    notCopied: [
      ...skipped,
      ...plan.leftOut.map(({ table, reason, onRequest }) => ({
        table: qualifiedName(table),
        reason: `${onRequest ? 'only when named with --tables' : 'never copied'}: it ${reason}`,
      })),
      ...plan.stagingOnlyTables.map((table) => ({ table: qualifiedName(table), reason: 'only in staging: left alone' })),
    ],
    drift: plan.tables.flatMap((table) => table.drift.map((drift) => ({ table: qualifiedName(table.table), description: describeDrift(drift) }))),
    sequences: plan.sequences.length,
  };
}

function copySection({ result, finished }: RunFacts): CopySection | null {
  if (!result) {
    if (!finished?.length) return null;
    return {
      summary: `${countOf(finished.length, 'table')} finished before the run failed; the failure says what staging kept of them.`,
      tables: finished.map(copiedTable),
      beforeFailure: true,
      backup: null,
      notes: [],
      rejected: finished.flatMap((table) => table.rejected),
    };
  }
  const notes = [
    ...retriesLine(result),
    ...(result.tables.some((table) => table.ranges) ? [rangesLine(result)] : []),
    ...(result.masked.length ? [`Masked on the way: ${result.masked.map((table) => `${table.table} (${table.columns.join(', ')})`).join(', ')}`] : []),
    ...watermarkLines(result),
    ...viewLines(result),
    ...result.views.filter((view) => !view.refreshed).map((view) => `${view.view} not refreshed: ${view.reason}.`),
    ...(result.pruned?.removed.length ? [prunedLine(result.pruned)] : []),
    ...result.notes,
  ];
  return {
    summary: syncSummary(result),
    tables: result.tables.map(copiedTable),
    beforeFailure: false,
    backup: result.backup ? backupLine(result.backup, result.mode) : 'No backup taken (--no-backup).',
    notes,
    rejected: result.tables.flatMap((table) => table.rejected),
  };
}

function copiedTable(table: TableResult): CopiedTable {
  return {
    table: table.table,
    rows: table.copied,
    changed: table.changed,
    deleted: table.deleted,
    rejected: table.rejected.length,
    seconds: table.seconds,
    rowsPerSecond: table.seconds > 0 ? table.copied / table.seconds : null,
  };
}

function verifySection(verify: VerifyFacts): VerifySection {
  const kept = verify.kept ?? new Set<string>();
  const summary = verdictsSummary({
    tables: verify.tables,
    sequences: verify.sequences,
    orphans: verify.orphans,
    kept,
    acceptsDrift: verify.acceptsDrift,
    largeObjects: verify.largeObjects,
  });
  const shown = (state: SequenceState | null) => (state ? `${state.lastValue}${state.isCalled ? '' : ' (next)'}` : '-');
  const differing = verify.sequences.filter((sequence) => sequence.status !== 'equal');
  return {
    equal: summary.equal,
    summary: summary.text,
    tables: verify.tables.map((verdict) => ({
      table: verdict.table,
      production: verdict.production,
      staging: verdict.staging,
      status: verdictStatus(verdict, kept),
      equal: foundEqual(verdict.status) || kept.has(verdict.table),
      key: verdict.keyColumns.length ? verdict.keyColumns.join(', ') : 'whole row (no key)',
      differences: kept.has(verdict.table) ? null : (verdict.differences ?? null),
      seconds: verify.seconds.get(verdict.table) ?? null,
    })),
    sequences: differing.map((sequence) => ({
      sequence: sequence.sequence,
      production: shown(sequence.production),
      staging: shown(sequence.staging),
      status: sequenceStatus(sequence, kept),
    })),
    sequencesEqual: verify.sequences.length - differing.length,
    orphans: describeOrphans(verify.orphans).map((line) => line.trim()),
    largeObjects: (verify.largeObjects ?? []).map(largeObjectsLine),
  };
}

function auditSection(audits: MaskAudit[]): AuditSection {
  const leaking = audits.filter((audit) => audit.leaks.length).length;
  return {
    clean: !leaking,
    summary: leaking
      ? `${leaking} of ${countOf(audits.length, 'masked table')} ${leaking === 1 ? 'holds' : 'hold'} raw production values: sync them again with the same rules, then audit again.`
      : `No raw production value of a masked column or key found in staging (${countOf(audits.length, 'table')}, every value compared; keys and columns no rule names are not audited).`,
    tables: audits.map((audit) => ({ table: audit.table, rows: audit.rows, columns: audit.columns, leaks: audit.leaks, more: audit.more })),
  };
}

/** One line for the page's title: the rows, then the files, so a run that failed only on its files says so. */
function outcomeOf(facts: RunFacts, copy: CopySection | null, verify: VerifySection | null, files: FilesSection | null, audit: AuditSection | null): Outcome {
  const ok = facts.exitCode === 0;
  const base = { ok, exitCode: facts.exitCode, failure: facts.failure ?? null };
  if (facts.failure) return { ...base, headline: `Failed: ${firstLine(facts.failure)}` };
  if (facts.dryRun) {
    const planned = `Dry run, nothing written: ${countOf(facts.run.plan.tables.length, 'table')} planned.`;
    return { ...base, headline: files?.summary ? `${planned} ${files.summary}` : planned };
  }
  if (audit) return { ...base, headline: audit.summary };
  const said: string[] = [];
  if (copy) said.push(copy.summary);
  if (copy?.rejected.length) said.push(`${countOf(copy.rejected.length, 'row')} rejected by staging.`);
  if (facts.result?.skipped.length) said.push(`${facts.result.skipped.length} not copied: ${facts.result.skipped.map((s) => s.table).join(', ')}.`);
  if (verify) said.push(verify.summary);
  if (files?.summary) said.push(files.summary);
  if (files?.verify) said.push(files.verify.summary);
  return { ...base, headline: said.join(' ') };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

function timingChart(copy: CopySection | null, verify: VerifySection | null): TimingChart | null {
  if (copy?.tables.length) {
    return {
      title: copy.beforeFailure ? 'Copy time per table, before the failure' : 'Copy time per table',
      bars: copy.tables.map((t) => ({ label: t.table, seconds: t.seconds })),
    };
  }
  const timed = verify?.tables.filter((table) => table.seconds !== null) ?? [];
  if (timed.length) return { title: 'Comparison time per table', bars: timed.map((t) => ({ label: t.table, seconds: t.seconds ?? 0 })) };
  return null;
}
