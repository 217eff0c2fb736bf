// The results: one row per contender, printed as a Markdown table (pasteable
// into docs/benchmarks.md) and written whole as JSON to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GatewayProfile } from '../stack/gateway.ts';
import { Link } from '../stack/link.ts';
import { median } from './measure.ts';
import type { RestDataset } from './rest-contenders.ts';
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

const equalSeconds = (result: ContenderResult | undefined) => (result?.status === 'equal' ? result.seconds : undefined);

/** Ratios only between copies that were both equal: a fast wrong copy gets none. The REST rows have their own. */
export function addRatios(results: ContenderResult[], oursId: string): void {
  const ours = equalSeconds(results.find((result) => result.id === oursId));
  for (const result of results) {
    const theirs = equalSeconds(result);
    if (ours !== undefined && theirs !== undefined && !result.rest) result.vsOurs = ours / theirs;
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

function check(result: ContenderResult): string {
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
  const lines = ['| Contender | Seconds | Rows/s | MB/s | Peak MB | vs ours | Check |', '|-----------|--------:|-------:|-----:|--------:|--------:|-------|'];
  for (const result of results) {
    lines.push(
      row([
        result.label,
        fixed(result.seconds, 2),
        result.rowsPerSecond === undefined ? '—' : thousands(result.rowsPerSecond),
        fixed(result.megabytesPerSecond, 1),
        fixed(result.peakMb, 0),
        fixed(result.vsOurs, 2, 'x'),
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
export function writeReport(report: BenchReport, directory: string): string {
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
