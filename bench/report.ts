// The results: one row per contender, printed as a Markdown table (pasteable
// into docs/benchmarks.md) and written whole as JSON to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GatewayProfile } from '../stack/gateway.ts';
import { Link } from '../stack/link.ts';
import { median } from './measure.ts';
import type { RestDataset } from './rest-contenders.ts';
import type { TableChange } from './diff.ts';
import { describeDifference, type TableDifference } from './verify.ts';

export interface RunResult {
  seconds: number;
  peakKib?: number;
  exitCode: number | null;
  /** Tables where staging differs from production after the run. */
  differences: TableDifference[];
  /** Why the command failed: the last lines of its output. */
  error?: string;
  /** REST contenders: body bytes through both projects' gateways, as on the wire. */
  traffic?: { bytesUp: number; bytesDown: number };
}

/** What a REST contender's row adds. */
export interface RestFigures {
  profile: GatewayProfile;
  dataset: RestDataset;
  tables: number;
  rows: number;
  /** Medians over the runs. */
  bytesUp?: number;
  bytesDown?: number;
  /** Remote profile only: max(up / 2.5 MB/s, down / 5 MB/s), the least these bytes can take. */
  wireSeconds?: number;
  /** seconds / wireSeconds: 1.10 is 10% above the wire limit. */
  vsWire?: number;
  /** supasync's rows: our seconds / the first version's, same profile and dataset, both copies equal. */
  vsFirstVersion?: number;
  /** Which tables it leaves out, and why. */
  copies?: string;
}

export interface ContenderResult {
  id: string;
  group?: string;
  label: string;
  status: 'equal' | 'differs' | 'failed' | 'unavailable';
  /** Why it is not 'equal', in a line. */
  note?: string;
  runs: RunResult[];
  /** Median over the runs of a contender that never failed (a copy that differs has seconds, no ratio). */
  seconds?: number;
  rowsPerSecond?: number;
  megabytesPerSecond?: number;
  /** The largest peak over the runs. */
  peakMb?: number;
  /** Our time / this contender's time: 0.59 means we take 59% of its time. */
  vsOurs?: number;
  /** The installed bin's seconds over this contender's, in the same run. */
  vsBin?: number;
  rest?: RestFigures;
}

export interface Dataset {
  size: string;
  tables: number;
  rows: number;
  /** Production's rows as COPY text; undefined when psql was not there to count them. */
  copyBytes?: number;
  diskBytes: number;
  /** Indexes on the tables and partitions: every load maintains them. */
  indexes: number;
  perTable: { table: string; rows: number; copyBytes?: number }[];
}

export interface BenchReport {
  date: string;
  repeat: number;
  server: { version: string; binaries: string };
  dataset: Dataset;
  contenders: ContenderResult[];
}

const MB = 1_000_000;

/** `copied`: the rows and COPY-text bytes of the tables the contender copies. */
export function summarize(id: string, label: string, runs: RunResult[], copied: { rows: number; copyBytes?: number }): ContenderResult {
  const failed = runs.find((run) => run.error !== undefined);
  if (failed) return { id, label, status: 'failed', note: failed.error, runs };
  const seconds = median(runs.map((run) => run.seconds));
  const peaks = runs.flatMap((run) => (run.peakKib === undefined ? [] : [run.peakKib]));
  const figures = {
    id,
    label,
    runs,
    seconds,
    rowsPerSecond: copied.rows / seconds,
    ...(copied.copyBytes === undefined ? {} : { megabytesPerSecond: copied.copyBytes / MB / seconds }),
    ...(peaks.length ? { peakMb: Math.max(...peaks) / 1024 } : {}),
  };
  const differing = runs.find((run) => run.differences.length > 0);
  if (differing) {
    const tables = differing.differences.slice(0, 3).map(describeDifference).join(', ');
    const more = differing.differences.length > 3 ? ` and ${differing.differences.length - 3} more` : '';
    return { ...figures, status: 'differs', note: `staging differs: ${tables}${more}` };
  }
  return { ...figures, status: 'equal' };
}

/** Bytes each way (medians over the runs) and, in the remote profile, the wire limit. */
export function restFigures(result: ContenderResult, rest: Omit<RestFigures, 'bytesUp' | 'bytesDown' | 'wireSeconds'>): RestFigures {
  const traffic = result.runs.flatMap((run) => (run.traffic ? [run.traffic] : []));
  if (!traffic.length) return rest;
  const bytes = { up: median(traffic.map((t) => t.bytesUp)), down: median(traffic.map((t) => t.bytesDown)) };
  const wireSeconds = rest.profile === 'remote' ? Link.wireSeconds(bytes) : undefined;
  return {
    ...rest,
    bytesUp: bytes.up,
    bytesDown: bytes.down,
    ...(wireSeconds === undefined ? {} : { wireSeconds }),
    ...(wireSeconds && result.status === 'equal' && result.seconds !== undefined ? { vsWire: result.seconds / wireSeconds } : {}),
  };
}

export function unavailable(id: string, label: string, reason: string): ContenderResult {
  return { id, label, status: 'unavailable', note: reason, runs: [] };
}

const equalSeconds = (result: Pick<ContenderResult, 'status' | 'seconds'> | undefined) => (result?.status === 'equal' ? result.seconds : undefined);

/** Ratios only between copies that were both equal: a fast wrong copy gets none. The REST rows have their own. */
/** Ours (the tsx entry point) and the installed bin, each against every direct contender of the same run. */
export function addRatios(results: ContenderResult[], oursId: string, binId: string): void {
  const ours = equalSeconds(results.find((result) => result.id === oursId));
  const bin = equalSeconds(results.find((result) => result.id === binId));
  for (const result of results) {
    const theirs = equalSeconds(result);
    if (theirs === undefined || result.rest) continue;
    if (ours !== undefined) result.vsOurs = ours / theirs;
    if (bin !== undefined) result.vsBin = bin / theirs;
  }
}

/** supasync over REST against the first version in the same profile, on the same dataset. */
export function addRestRatios(results: ContenderResult[], oursGroup: string, baselineGroup: string): void {
  for (const ours of results.filter((r) => r.group === oursGroup && r.rest)) {
    const baseline = results.find((r) => r.group === baselineGroup && r.rest?.profile === ours.rest?.profile && r.rest?.dataset === ours.rest?.dataset);
    const [mine, theirs] = [equalSeconds(ours), equalSeconds(baseline)];
    if (ours.rest && mine !== undefined && theirs !== undefined) ours.rest.vsFirstVersion = mine / theirs;
  }
}

const thousands = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed = (n: number | undefined, digits: number, suffix = '') => (n === undefined ? '—' : `${n.toFixed(digits)}${suffix}`);

function check(result: Pick<ContenderResult, 'status' | 'note' | 'runs'>): string {
  switch (result.status) {
    case 'equal':
      return '✅ equal';
    case 'differs':
      return '❌ differs';
    case 'failed': {
      const exit = result.runs.find((run) => run.error !== undefined)?.exitCode;
      return `❌ failed${exit === null || exit === undefined ? '' : ` (exit ${exit})`}`;
    }
    case 'unavailable':
      return result.note ?? 'not installed';
  }
}

const row = (cells: string[]) => `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;

export function renderReport(report: BenchReport): string {
  const { dataset } = report;
  const copy = dataset.copyBytes === undefined ? 'COPY text size unknown (no psql)' : `${fixed(dataset.copyBytes / MB, 1)} MB as COPY text`;
  const lines = [
    `supasync benchmark, ${report.date}`,
    `PostgreSQL ${report.server.version} (${report.server.binaries})`,
    `Dataset --size ${dataset.size}: ${thousands(dataset.rows)} rows in ${dataset.tables} tables (${dataset.indexes} indexes), ${copy}, ${fixed(dataset.diskBytes / MB, 1)} MB on disk with indexes`,
    report.repeat > 1 ? `Seconds are the median of ${report.repeat} runs, peak memory the largest.` : 'One run each.',
  ];
  const direct = report.contenders.filter((result) => !result.rest);
  const rest = report.contenders.filter((result) => result.rest);
  if (direct.length) lines.push('', ...renderDirect(direct));
  if (rest.length) lines.push('', ...renderRest(rest));
  return lines.join('\n');
}

function renderDirect(results: ContenderResult[]): string[] {
  const lines = [
    'vs ours = supasync run as `npx tsx scripts/sync.ts` over this row; vs bin = the installed `supasync sync` over this row (same run).',
    '',
    '| Contender | Seconds | Rows/s | MB/s | Peak MB | vs ours | vs bin | Check |',
    '|-----------|--------:|-------:|-----:|--------:|--------:|-------:|-------|',
  ];
  for (const result of results) {
    lines.push(
      row([
        result.label,
        fixed(result.seconds, 2),
        result.rowsPerSecond === undefined ? '—' : thousands(result.rowsPerSecond),
        fixed(result.megabytesPerSecond, 1),
        fixed(result.peakMb, 0),
        fixed(result.vsOurs, 2, 'x'),
        fixed(result.vsBin, 2, 'x'),
        check(result),
      ]),
    );
  }
  return [...lines, ...notes(results)];
}

function renderRest(results: ContenderResult[]): string[] {
  const lines = [
    'REST path: both projects behind the gateway. remote = 40 ms per request, gzip, one link of 5 MB/s down and 2.5 MB/s up',
    'shared by all connections; local = none of it. Bytes are request (up) and response (down) bodies as sent;',
    'wire limit = max(up / 2.5 MB/s, down / 5 MB/s); vs wire = seconds / wire limit.',
    '',
    '| Contender | Profile | Copies | Seconds | Rows/s | Up MB | Down MB | Wire limit s | vs wire | vs first version | Peak MB | Check |',
    '|-----------|---------|--------|--------:|-------:|------:|--------:|-------------:|--------:|-----------------:|--------:|-------|',
  ];
  for (const result of results) {
    const figures = result.rest!;
    lines.push(
      row([
        result.label,
        figures.profile,
        `${figures.dataset}: ${figures.tables} ${figures.tables === 1 ? 'table' : 'tables'}, ${thousands(figures.rows)} rows`,
        fixed(result.seconds, 2),
        result.rowsPerSecond === undefined ? '—' : thousands(result.rowsPerSecond),
        figures.bytesUp === undefined ? '—' : fixed(figures.bytesUp / MB, 1),
        figures.bytesDown === undefined ? '—' : fixed(figures.bytesDown / MB, 1),
        fixed(figures.wireSeconds, 2),
        fixed(figures.vsWire, 2, 'x'),
        fixed(figures.vsFirstVersion, 2, 'x'),
        fixed(result.peakMb, 0),
        check(result),
      ]),
    );
  }
  const copies = [...new Set(results.flatMap((r) => (r.rest?.copies ? [`${r.label}, ${r.rest.dataset}: ${r.rest.copies}`] : [])))];
  const below = notes(results);
  if (copies.length) below.push(...(below.length ? [] : ['']), ...copies);
  return [...lines, ...below];
}

function notes(results: ContenderResult[]): string[] {
  const failing = results.filter((result) => result.status === 'failed' || result.status === 'differs');
  return failing.length
    ? ['', ...failing.map((result) => `${result.label}${result.rest ? ` (${result.rest.profile}, ${result.rest.dataset})` : ''}: ${result.note ?? ''}`)]
    : [];
}

/** bench/results/<timestamp>.json; returns the path. */
export function writeReport(report: BenchReport | ResyncReport, directory: string): string {
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

// ---------------------------------------------------------------- re-sync (npm run bench -- --resync)

/** What production_after changed of production, per table (bench/diff.ts). */
export interface ResyncChanges {
  /** production_after's clock just before its changes: the incremental contender's watermarks. */
  startedAt: string;
  /** production_after's oldest running transaction before the changes: the xmin watermark of the tables without an updated_at. */
  xidBefore: string;
  /** Rows of production, and how many were updated, inserted or deleted. */
  rows: number;
  updated: number;
  inserted: number;
  deleted: number;
  /** The changed rows' COPY text, and the deleted rows' keys as COPY text. */
  changedBytes: number;
  deletedKeyBytes: number;
  perTable: TableChange[];
  /** Tables without a key, left unchanged (checked). */
  unkeyed: string[];
  /** What the change script asked for, per table: its statements' own counts differ where triggers added rows. */
  statements: { sql: string; rows: number }[];
}

export interface ResyncRunResult extends RunResult {
  /** insert-missing: per table, production_after's keys staging lacks (all zero when it did its job). */
  missingKeys?: Record<string, number>;
  /** The backup the run wrote to .supasync/backups/, bytes on disk (removed afterwards). */
  backupBytes?: number;
  /** The summary's own lines ("Synced ... in 0.4s (mirror, ...)", "Compared key ranges ..."). */
  summary?: string[];
  /** The seconds the summary gives: the run without the process's start. */
  ownSeconds?: number;
  /** REST: requests through both gateways, per path under /rest/v1. */
  requests?: Record<string, number>;
}

export interface ResyncResult {
  id: string;
  label: string;
  /** What sync.ts was given after `npx tsx scripts/sync.ts` (URLs and keys come from the environment). */
  args: string[];
  path: 'direct' | 'rest';
  /** REST: which tables, and the bytes that changed in them. */
  dataset?: RestDataset;
  /** What decides 'equal': staging equal to production_after, or holding its every key (insert-missing). */
  check: 'equal' | 'keys';
  status: ContenderResult['status'];
  note?: string;
  runs: ResyncRunResult[];
  seconds?: number;
  /** Median of the seconds the runs' summaries gave (without the process's start). */
  ownSeconds?: number;
  peakMb?: number;
  /** Median requests through the gateways, all paths (REST). */
  requests?: number;
  /** Median bytes through the gateways (REST). */
  bytesUp?: number;
  bytesDown?: number;
  /** max(up / 2.5 MB/s, down / 5 MB/s) of the bytes this run moved. */
  wireSeconds?: number;
  /** seconds / the full replace's of the same path and dataset, both correct. */
  vsReplace?: number;
  /** What the issue asks of vsReplace. */
  targetVsReplace?: number;
  /** REST mirror: seconds / the wire time of the bytes that changed. */
  vsChangedWire?: number;
  targetVsChangedWire?: number;
}

/** The bytes that changed in a REST dataset's tables, and the least time they take on the remote profile's link. */
export interface ChangedWire {
  dataset: RestDataset;
  tables: number;
  /** Up: the changed rows and the deleted keys, to staging; down: the changed rows, from production. */
  bytesUp: number;
  bytesDown: number;
  wireSeconds: number;
}

export interface ResyncReport {
  kind: 'resync';
  date: string;
  repeat: number;
  server: { version: string; binaries: string };
  dataset: Dataset;
  changes: ResyncChanges;
  /** The sync that leaves staging one deploy behind (from production), the first of each round, timed. */
  initialSync: ResyncResult;
  contenders: ResyncResult[];
  changedWire: ChangedWire[];
}

/** Status, median seconds, peak memory and traffic of one contender's runs. */
export function summarizeResync(base: Omit<ResyncResult, 'status' | 'runs'>, runs: ResyncRunResult[]): ResyncResult {
  const summary = summarize(base.id, base.label, runs, { rows: 0 });
  const traffic = runs.flatMap((run) => (run.traffic ? [run.traffic] : []));
  const own = runs.flatMap((run) => (run.ownSeconds === undefined ? [] : [run.ownSeconds]));
  const requests = runs.flatMap((run) => (run.requests ? [Object.values(run.requests).reduce((a, b) => a + b, 0)] : []));
  const bytes = traffic.length ? { up: median(traffic.map((t) => t.bytesUp)), down: median(traffic.map((t) => t.bytesDown)) } : undefined;
  const result: ResyncResult = {
    ...base,
    status: summary.status,
    runs,
    ...(summary.note === undefined ? {} : { note: summary.note }),
    ...(summary.seconds === undefined ? {} : { seconds: summary.seconds }),
    ...(summary.peakMb === undefined ? {} : { peakMb: summary.peakMb }),
    ...(own.length ? { ownSeconds: median(own) } : {}),
    ...(requests.length ? { requests: median(requests) } : {}),
    ...(bytes ? { bytesUp: bytes.up, bytesDown: bytes.down, wireSeconds: Link.wireSeconds(bytes) } : {}),
  };
  const lacking = runs.flatMap((run) => Object.entries(run.missingKeys ?? {}).filter(([, n]) => n > 0));
  if (result.status === 'equal' && lacking.length) {
    result.status = 'differs';
    result.note = `staging lacks keys of production_after: ${lacking
      .slice(0, 3)
      .map(([table, n]) => `${table} (${n})`)
      .join(', ')}${lacking.length > 3 ? ` and ${lacking.length - 3} more` : ''}`;
  }
  return result;
}

/** Each run against the full replace of its path (and REST dataset), and the REST mirrors against the wire time of what changed. */
export function addResyncRatios(results: ResyncResult[], replaceIds: Record<string, string>, changedWire: ChangedWire[]): void {
  for (const result of results) {
    const baseline = results.find((r) => r.id === replaceIds[result.id]);
    const [mine, theirs] = [equalSeconds(result), equalSeconds(baseline)];
    if (mine !== undefined && theirs !== undefined) result.vsReplace = mine / theirs;
    const wire = changedWire.find((w) => w.dataset === result.dataset);
    if (result.targetVsChangedWire !== undefined && wire && mine !== undefined) result.vsChangedWire = mine / wire.wireSeconds;
  }
}

const kB = (bytes: number) => (bytes >= MB ? `${fixed(bytes / MB, 2)} MB` : bytes >= 1000 ? `${fixed(bytes / 1000, 1)} kB` : `${bytes} B`);
const againstTarget = (ratio: number | undefined, target: number | undefined) =>
  ratio === undefined ? '—' : `${fixed(ratio, ratio < 0.1 ? 3 : 2, 'x')}${target === undefined ? '' : ratio <= target ? ' ✅' : ' ❌'}`;
const target = (value: number | undefined) => (value === undefined ? '—' : `≤ ${value}x`);
const resyncCheck = (result: ResyncResult) => (result.status === 'equal' && result.check === 'keys' ? '✅ every key present' : check(result));

export function renderResyncReport(report: ResyncReport): string {
  const { dataset, changes } = report;
  const share = changes.rows ? (100 * (changes.updated + changes.inserted + changes.deleted)) / changes.rows : 0;
  const lines = [
    `supasync re-sync benchmark, ${report.date}`,
    `PostgreSQL ${report.server.version} (${report.server.binaries})`,
    `Dataset --size ${dataset.size}: ${thousands(dataset.rows)} rows in ${dataset.tables} tables (${dataset.indexes} indexes)` +
      (dataset.copyBytes === undefined ? '' : `, ${fixed(dataset.copyBytes / MB, 1)} MB as COPY text`),
    `production_after = the same fill, then bench/changes.ts: ${thousands(changes.updated + changes.inserted + changes.deleted)} rows changed ` +
      `(${fixed(share, 2)}% of production's ${thousands(changes.rows)}): ${thousands(changes.updated)} updated, ${thousands(changes.inserted)} inserted, ` +
      `${thousands(changes.deleted)} deleted, in ${changes.perTable.length} tables; ${kB(changes.changedBytes)} of changed rows as COPY text, ` +
      `${kB(changes.deletedKeyBytes)} of deleted keys. Unchanged, no key: ${changes.unkeyed.join(', ') || 'none'}.`,
    report.repeat > 1 ? `Seconds are the median of ${report.repeat} rounds, peak memory the largest.` : 'One round.',
    '',
    '| Table | Updated | Inserted | Deleted | Changed rows (COPY text) | Deleted keys |',
    '|-------|--------:|---------:|--------:|-------------------------:|-------------:|',
    ...changes.perTable.map((t) =>
      row([t.table, thousands(t.updated), thousands(t.inserted), thousands(t.deleted), kB(t.changedBytes), kB(t.deletedKeyBytes)]),
    ),
  ];
  const direct = [report.initialSync, ...report.contenders.filter((r) => r.path === 'direct')];
  lines.push(
    '',
    'Direct path (SUPABASE_*_DB_URL), staging one deploy behind (synced from production), each run from production_after.',
    "Seconds: the whole command (npx tsx included); its own s: the time sync.ts's summary gives for the run itself.",
    '',
    '| Run | sync.ts arguments | Seconds | Its own s | Peak MB | vs full replace | Target | Check |',
    '|-----|-------------------|--------:|----------:|--------:|----------------:|-------:|-------|',
  );
  for (const result of direct) {
    lines.push(
      row([
        result.label,
        `\`${result.args.join(' ')}\``,
        fixed(result.seconds, 2),
        fixed(result.ownSeconds, 2),
        fixed(result.peakMb, 0),
        againstTarget(result.vsReplace, result.targetVsReplace),
        target(result.targetVsReplace),
        resyncCheck(result),
      ]),
    );
  }
  lines.push(...resyncNotes(direct));
  const rest = report.contenders.filter((r) => r.path === 'rest');
  if (rest.length) {
    lines.push(
      '',
      'REST path, remote profile (40 ms per request, gzip, one link of 5 MB/s down and 2.5 MB/s up), staging one deploy behind',
      '(prepared over the direct path, untimed). Requests and bytes (request bodies up, response bodies down) through both gateways.',
      "Changed wire = the bytes that changed at the link's rates: max(up / 2.5 MB/s, down / 5 MB/s), up = changed rows as",
      'COPY text + deleted keys, down = changed rows (uncompressed); the 40 ms per request is not in it.',
      '',
      ...report.changedWire.map(
        (w) =>
          `- ${w.dataset} (${w.tables} ${w.tables === 1 ? 'table' : 'tables'}): ${kB(w.bytesUp)} up, ${kB(w.bytesDown)} down: changed wire ${fixed(w.wireSeconds, 3)} s`,
      ),
      '',
      '| Run | Dataset | Seconds | Its own s | Requests | Up MB | Down MB | Wire limit s | vs full replace | Target | vs changed wire | Target | Peak MB | Check |',
      '|-----|---------|--------:|----------:|---------:|------:|--------:|-------------:|----------------:|-------:|----------------:|-------:|--------:|-------|',
    );
    for (const result of rest) {
      lines.push(
        row([
          result.label,
          result.dataset ?? '—',
          fixed(result.seconds, 2),
          fixed(result.ownSeconds, 2),
          result.requests === undefined ? '—' : thousands(result.requests),
          result.bytesUp === undefined ? '—' : fixed(result.bytesUp / MB, 2),
          result.bytesDown === undefined ? '—' : fixed(result.bytesDown / MB, 2),
          fixed(result.wireSeconds, 2),
          againstTarget(result.vsReplace, result.targetVsReplace),
          target(result.targetVsReplace),
          againstTarget(result.vsChangedWire, result.targetVsChangedWire),
          target(result.targetVsChangedWire),
          fixed(result.peakMb, 0),
          resyncCheck(result),
        ]),
      );
    }
    lines.push(...resyncNotes(rest));
  }
  for (const contender of report.contenders) {
    const backups = contender.runs.flatMap((run) => (run.backupBytes === undefined ? [] : [run.backupBytes]));
    if (backups.length) lines.push('', `${contender.label}: the backup wrote ${kB(median(backups))} to .supasync/backups/ (median; removed after each run).`);
  }
  return lines.join('\n');
}

function resyncNotes(results: ResyncResult[]): string[] {
  const failing = results.filter((result) => result.status === 'failed' || result.status === 'differs');
  return failing.length ? ['', ...failing.map((result) => `${result.label}${result.dataset ? ` (${result.dataset})` : ''}: ${result.note ?? ''}`)] : [];
}
