// The results: one row per contender, printed as a Markdown table (pasteable
// into docs/benchmarks.md) and written whole as JSON to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './measure.ts';
import { describeDifference, type TableDifference } from './verify.ts';

export interface RunResult {
  seconds: number;
  peakKib?: number;
  exitCode: number | null;
  /** Tables where staging differs from production after the run. */
  differences: TableDifference[];
  /** Why the command failed: the last lines of its output. */
  error?: string;
}

export interface ContenderResult {
  id: string;
  label: string;
  status: 'equal' | 'differs' | 'failed' | 'unavailable';
  /** Why it is not 'equal', in a line. */
  note?: string;
  runs: RunResult[];
  /** Median over the runs; only for a contender whose every copy was equal. */
  seconds?: number;
  rowsPerSecond?: number;
  megabytesPerSecond?: number;
  /** The largest peak over the runs. */
  peakMb?: number;
  /** Our time / this contender's time: 0.59 means we take 59% of its time. */
  vsOurs?: number;
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

export function summarize(id: string, label: string, runs: RunResult[], dataset: Dataset): ContenderResult {
  const failed = runs.find((run) => run.error !== undefined);
  if (failed) return { id, label, status: 'failed', note: failed.error, runs };
  const differing = runs.find((run) => run.differences.length > 0);
  if (differing) {
    const tables = differing.differences.slice(0, 3).map(describeDifference).join(', ');
    const more = differing.differences.length > 3 ? ` and ${differing.differences.length - 3} more` : '';
    return { id, label, status: 'differs', note: `staging differs: ${tables}${more}`, runs };
  }
  const seconds = median(runs.map((run) => run.seconds));
  const peaks = runs.flatMap((run) => (run.peakKib === undefined ? [] : [run.peakKib]));
  return {
    id,
    label,
    status: 'equal',
    runs,
    seconds,
    rowsPerSecond: dataset.rows / seconds,
    ...(dataset.copyBytes === undefined ? {} : { megabytesPerSecond: dataset.copyBytes / MB / seconds }),
    ...(peaks.length ? { peakMb: Math.max(...peaks) / 1024 } : {}),
  };
}

export function unavailable(id: string, label: string, reason: string): ContenderResult {
  return { id, label, status: 'unavailable', note: reason, runs: [] };
}

/** Ratios only between copies that were both equal: a fast wrong copy gets none. */
export function addRatios(results: ContenderResult[], oursId: string): void {
  const ours = results.find((result) => result.id === oursId)?.seconds;
  for (const result of results) {
    if (ours !== undefined && result.seconds !== undefined) result.vsOurs = ours / result.seconds;
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

export function renderReport(report: BenchReport): string {
  const { dataset } = report;
  const copy = dataset.copyBytes === undefined ? 'COPY text size unknown (no psql)' : `${fixed(dataset.copyBytes / MB, 1)} MB as COPY text`;
  const lines = [
    `supasync benchmark, ${report.date}`,
    `PostgreSQL ${report.server.version} (${report.server.binaries})`,
    `Dataset --size ${dataset.size}: ${thousands(dataset.rows)} rows in ${dataset.tables} tables (${dataset.indexes} indexes), ${copy}, ${fixed(dataset.diskBytes / MB, 1)} MB on disk with indexes`,
    report.repeat > 1 ? `Seconds are the median of ${report.repeat} runs, peak memory the largest.` : 'One run each.',
    '',
    '| Contender | Seconds | Rows/s | MB/s | Peak MB | vs ours | Check |',
    '|-----------|--------:|-------:|-----:|--------:|--------:|-------|',
  ];
  for (const result of report.contenders) {
    lines.push(
      `| ${[
        result.label,
        fixed(result.seconds, 2),
        result.rowsPerSecond === undefined ? '—' : thousands(result.rowsPerSecond),
        fixed(result.megabytesPerSecond, 1),
        fixed(result.peakMb, 0),
        fixed(result.vsOurs, 2, 'x'),
        check(result),
      ]
        .map((cell) => cell.replaceAll('|', '\\|'))
        .join(' | ')} |`,
    );
  }
  const notes = report.contenders.filter((result) => result.status === 'failed' || result.status === 'differs');
  if (notes.length) lines.push('');
  for (const result of notes) lines.push(`${result.label}: ${result.note ?? ''}`);
  return lines.join('\n');
}

/** bench/results/<timestamp>.json; returns the path. */
export function writeReport(report: BenchReport, directory: string): string {
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
