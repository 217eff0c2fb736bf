// The report as Markdown (GitHub's flavour), and the shorter status table
// GitHub Actions shows as a job's summary. Names and keys come from the
// databases: each goes in a code span, where nothing is markup, and every
// other value is escaped, so a table called `<img src=...>` is text here too
// and cannot make GitHub's page fetch anything.
import { formatCount } from '../../counts.ts';
import { duration, filesAndBytes, rowsPerSecond } from './units.ts';
import { copyColumns, type FilesSection } from './files.ts';
import type { CopySection, RunReport, TimingChart, VerifySection } from './model.ts';
import { moreKeysHint } from '../verify.ts';

export function renderMarkdown(report: RunReport): string {
  const out: string[] = [`# ${escapeText(report.title)}: ${outcomeMark(report)} ${escapeText(report.outcome.headline)}`, ''];
  out.push(
    `- Command: ${code(report.command, false)}`,
    `- Production: ${code(report.production, false)}`,
    `- Staging: ${code(report.staging, false)}`,
    `- Via: ${escapeText(report.via)}`,
    `- Started: ${escapeText(report.startedAt)}`,
    `- Finished: ${escapeText(report.finishedAt)} (${duration(elapsed(report))})`,
    `- Exit code: ${report.outcome.exitCode}`,
  );
  if (report.outcome.failure) out.push('', '## What failed', '', fenced(report.outcome.failure));
  out.push('', ...planMarkdown(report));
  if (report.copy) out.push('', ...copyMarkdown(report.copy));
  if (report.chart) out.push('', `## ${escapeText(report.chart.title)}`, '', textChart(report.chart));
  if (report.verify) out.push('', ...verifyMarkdown(report.verify));
  if (report.files) out.push('', ...filesMarkdown(report.files));
  if (report.audit) {
    out.push('', '## Masking audit', '', escapeText(report.audit.summary), '');
    out.push(
      table(
        ['Table', 'Staging rows', 'Masked columns', 'Raw values found'],
        report.audit.tables.map((t) => [
          code(t.table),
          formatCount(t.rows),
          t.columns.map((column) => code(column)).join(', '),
          t.leaks.length ? `${t.leaks.length}${t.more ? '+' : ''}` : 'none',
        ]),
      ),
    );
    for (const t of report.audit.tables.filter((a) => a.leaks.length)) {
      out.push(
        '',
        `${code(t.table, false)}: production's raw value in staging at`,
        ...t.leaks.map((leak) => `- ${code(leak.column, false)} at ${code(leak.key, false)}`),
      );
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * For $GITHUB_STEP_SUMMARY: the outcome, one row per table (rows, time,
 * verify's status) and one per bucket with --storage, short enough to read
 * on the run's page.
 */
export function renderStepSummary(report: RunReport): string {
  const out = [`### ${escapeText(report.title)}: ${outcomeMark(report)} ${escapeText(report.outcome.headline)}`, ''];
  out.push(
    `${code(report.production, false)} → ${code(report.staging, false)}, via ${escapeText(report.via)}, ${duration(elapsed(report))}, exit code ${report.outcome.exitCode}`,
    '',
  );
  if (report.outcome.failure) out.push(fenced(report.outcome.failure), '');
  const verdicts = new Map((report.verify?.tables ?? []).map((t) => [t.table, t]));
  if (report.copy?.tables.length) {
    out.push(
      table(
        ['Table', 'Rows', 'Time', 'Rows/s', ...(report.verify ? ['Verify'] : [])],
        report.copy.tables.map((t) => [
          code(t.table),
          formatCount(t.rows),
          duration(t.seconds),
          rowsPerSecond(t.rowsPerSecond),
          ...(report.verify ? [escapeText(verdicts.get(t.table)?.status ?? '-')] : []),
        ]),
        [1, 2, 3],
      ),
    );
  } else if (report.verify) {
    out.push(
      table(
        ['Table', 'Production', 'Staging', 'Status'],
        report.verify.tables.map((t) => [code(t.table), formatCount(t.production), t.staging === null ? '-' : formatCount(t.staging), escapeText(t.status)]),
        [1, 2],
      ),
    );
  } else {
    out.push(
      table(
        ['Table', 'Rows (est.)', 'Mode'],
        report.plan.tables.map((t) => [code(t.table), formatCount(t.rowEstimate), escapeText(t.mode ?? '-')]),
        [1],
      ),
    );
  }
  const buckets = report.files ? bucketSummary(report.files) : null;
  if (buckets) out.push('', buckets);
  return `${out.join('\n')}\n\n`;
}

/** The job summary's files: what each bucket copied (and verify's word on it), or verify's counts alone. */
function bucketSummary(files: FilesSection): string | null {
  const verdicts = new Map((files.verify?.buckets ?? []).map((b) => [b.bucket, b]));
  if (files.buckets.length) {
    const { copied, removed } = copyColumns(files);
    return table(
      ['Bucket', 'Objects', copied, removed, 'Time', ...(files.verify ? ['Verify'] : [])],
      files.buckets.map((b) => [
        code(b.bucket),
        filesAndBytes(b.objects, b.bytes),
        filesAndBytes(b.copied, b.copiedBytes),
        formatCount(b.removed),
        b.seconds === null ? '-' : duration(b.seconds),
        ...(files.verify ? [escapeText(verdicts.get(b.bucket)?.status ?? '-')] : []),
      ]),
      [1, 2, 3, 4],
    );
  }
  if (files.verify?.buckets.length) {
    return table(
      ['Bucket', 'Production', 'Staging', 'Status'],
      files.verify.buckets.map((b) => [
        code(b.bucket),
        filesAndBytes(b.production.objects, b.production.bytes),
        filesAndBytes(b.staging.objects, b.staging.bytes),
        escapeText(b.status),
      ]),
      [1, 2],
    );
  }
  return null;
}

function planMarkdown(report: RunReport): string[] {
  const plan = report.plan;
  const out = [`## Plan${plan.dryRun ? ' (dry run: nothing was written)' : ''}`, ''];
  for (const { mode, description } of plan.modes) out.push(`- Mode **${escapeText(mode)}**: ${escapeText(description)}.`);
  if (plan.modes.length) out.push('');
  const writes = plan.tables.some((t) => t.mode);
  out.push(
    table(
      ['Level', 'Table', 'Key', 'Rows (est.)', ...(writes ? ['Mode'] : []), 'Notes'],
      plan.tables.map((t) => [
        String(t.level),
        code(t.table),
        t.key === null ? 'none (replace only)' : code(t.key),
        formatCount(t.rowEstimate),
        ...(writes ? [escapeText(t.mode ?? '')] : []),
        escapeText(t.notes.join('; ')),
      ]),
      [0, 3],
    ),
  );
  if (plan.sequences) out.push('', `Sequences set in staging once the rows are in: ${plan.sequences}.`);
  if (plan.drift.length) {
    out.push('', '### Schema drift', '', ...plan.drift.map((d) => `- ${code(d.table, false)}: ${escapeText(d.description)}`));
  }
  if (plan.notCopied.length) {
    out.push('', '### Not copied', '', ...plan.notCopied.map((t) => `- ${code(t.table, false)}: ${escapeText(t.reason)}`));
  }
  return out;
}

function copyMarkdown(copy: CopySection): string[] {
  const out = [copy.beforeFailure ? '## Copied before the failure' : '## Copy', '', escapeText(copy.summary), ''];
  out.push(
    table(
      ['Table', 'Rows', 'Inserted or updated', 'Deleted', 'Rejected', 'Time', 'Rows/s'],
      copy.tables.map((t) => [
        code(t.table),
        formatCount(t.rows),
        formatCount(t.changed),
        formatCount(t.deleted),
        formatCount(t.rejected),
        duration(t.seconds),
        rowsPerSecond(t.rowsPerSecond),
      ]),
      [1, 2, 3, 4, 5, 6],
    ),
  );
  if (copy.backup) out.push('', `**Backup**: ${escapeText(copy.backup)}`);
  if (copy.notes.length) out.push('', ...copy.notes.map((note) => `- ${escapeText(note)}`));
  if (copy.rejected.length) {
    out.push(
      '',
      '### Rows staging rejected',
      '',
      ...copy.rejected.map((row) => `- ${code(row.table, false)} ${code(row.key, false)}: ${escapeText(row.message)}`),
    );
  }
  return out;
}

function verifyMarkdown(verify: VerifySection): string[] {
  const out = ['## Verify', '', `${verify.equal ? '✅' : '❌'} ${escapeText(verify.summary)}`, ''];
  out.push(
    table(
      ['Table', 'Production', 'Staging', 'Status', 'Time'],
      verify.tables.map((t) => [
        code(t.table),
        formatCount(t.production),
        t.staging === null ? '-' : formatCount(t.staging),
        escapeText(t.status),
        t.seconds === null ? '-' : duration(t.seconds),
      ]),
      [1, 2, 4],
    ),
  );
  const differing = verify.tables.filter((t) => t.differences);
  if (differing.length) {
    out.push('', '### Differing keys');
    for (const t of differing) {
      const d = t.differences;
      if (!d) continue;
      out.push('', `${code(t.table, false)} (key: ${code(t.key, false)}):`);
      const list = (label: string, keys: string[]) => {
        if (keys.length) out.push(`- ${label}: ${keys.map((key) => code(key, false)).join(' ')}`);
      };
      list('differ from production', d.changed);
      list('missing in staging', d.missing);
      list('extra in staging', d.extra);
      if (d.more) out.push(`- … and more (${moreKeysHint(t.table)})`);
    }
  }
  if (verify.sequences.length) {
    out.push(
      '',
      `### Sequences (${verify.sequencesEqual} equal; the others)`,
      '',
      table(
        ['Sequence', 'Production', 'Staging', 'Status'],
        verify.sequences.map((s) => [code(s.sequence), escapeText(s.production), escapeText(s.staging), escapeText(s.status)]),
      ),
    );
  }
  if (verify.orphans.length) out.push('', '### Rows without their parent', '', ...verify.orphans.map((line) => `- ${escapeText(line)}`));
  if (verify.largeObjects.length) out.push('', '### Large objects', '', ...verify.largeObjects.map((line) => `- ${escapeText(line)}`));
  return out;
}

function filesMarkdown(files: FilesSection): string[] {
  const out = [`## Files${files.dryRun ? ' (dry run: nothing changed)' : ''}`];
  if (files.summary) out.push('', escapeText(files.summary));
  if (files.buckets.length) {
    const { copied, removed, owners } = copyColumns(files);
    out.push(
      '',
      table(
        ['Bucket', 'Settings', 'Objects', copied, 'Unchanged', removed, owners, 'Time'],
        files.buckets.map((b) => [
          code(b.bucket),
          escapeText(b.settings),
          filesAndBytes(b.objects, b.bytes),
          filesAndBytes(b.copied, b.copiedBytes),
          formatCount(b.unchanged),
          formatCount(b.removed),
          b.owners === null ? '-' : formatCount(b.owners),
          b.seconds === null ? '-' : duration(b.seconds),
        ]),
        [2, 3, 4, 5, 6, 7],
      ),
    );
  }
  for (const note of files.notes) out.push('', escapeText(note));
  const verify = files.verify;
  if (!verify) return out;
  out.push('', '### Files verified', '', `${verify.equal ? '✅' : '❌'} ${escapeText(verify.summary)}`);
  if (verify.buckets.length) {
    out.push(
      '',
      table(
        ['Bucket', 'Production', 'Staging', 'Status'],
        verify.buckets.map((b) => [
          code(b.bucket),
          filesAndBytes(b.production.objects, b.production.bytes),
          filesAndBytes(b.staging.objects, b.staging.bytes),
          escapeText(b.status),
        ]),
        [1, 2],
      ),
    );
  }
  for (const b of verify.buckets.filter((v) => v.differences.length)) {
    out.push(
      '',
      `${code(b.bucket, false)}:`,
      ...b.differences.map(
        ({ what, paths, more }) => `- ${what}: ${paths.map((path) => code(path, false)).join(' ')}${more ? ` and ${formatCount(more)} more` : ''}`,
      ),
    );
  }
  return out;
}

/** Bars of block characters, eighths for the last one: readable as plain text and in a rendered page alike. */
export function textChart(chart: TimingChart, width = 40): string {
  const longest = Math.max(0, ...chart.bars.map((bar) => bar.seconds));
  const labels = chart.bars.map((bar) => oneLine(bar.label));
  const labelWidth = Math.min(48, Math.max(0, ...labels.map((label) => [...label].length)));
  const lines = chart.bars.map((bar, i) => {
    const eighths = longest > 0 ? Math.round((bar.seconds / longest) * width * 8) : 0;
    const drawn = '█'.repeat(Math.floor(eighths / 8)) + (eighths % 8 ? (' ▏▎▍▌▋▊▉'[eighths % 8] ?? '') : '');
    const label = fit(labels[i] ?? '', labelWidth);
    return `${label}  ${(drawn || '▏').padEnd(width)}  ${duration(bar.seconds)}`;
  });
  return fenced(lines.join('\n'));
}

function fit(text: string, width: number): string {
  const chars = [...text];
  return chars.length > width ? `${chars.slice(0, width - 1).join('')}…` : text + ' '.repeat(width - chars.length);
}

function table(headers: string[], rows: string[][], rightAligned: number[] = []): string {
  const rule = headers.map((_, i) => (rightAligned.includes(i) ? '---:' : '---'));
  return [headers, rule, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/**
 * A code span that holds any text: a longer fence than any run of backticks
 * in it. In a table GitHub ends the cell at a pipe even there, unless escaped;
 * elsewhere the escape would show.
 */
function code(value: string, inTable = true): string {
  const text = inTable ? oneLine(value).replace(/\|/g, '\\|') : oneLine(value);
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const padded = text.startsWith('`') || text.endsWith('`') || !text.trim() ? ` ${text} ` : text;
  return `${fence}${padded}${fence}`;
}

/** A block of text shown as it is, whatever fences it holds. */
function fenced(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${text}\n${fence}`;
}

/**
 * Markdown's punctuation, inline HTML and a table's pipe escaped; one line.
 * An underscore inside a word is left as it is (GitHub never reads it as
 * emphasis), so names and paths stay as written, to copy from the raw file.
 */
export function escapeText(value: string): string {
  return oneLine(value)
    .replace(/[\\`*[\]<>|&~]|^#/g, (char) => `\\${char}`)
    .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\_');
}

function oneLine(value: string): string {
  return value.replace(/\s*[\r\n]+\s*/g, ' ');
}

function outcomeMark(report: RunReport): string {
  return report.outcome.ok ? '✅' : '❌';
}

function elapsed(report: RunReport): number {
  return (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000;
}
