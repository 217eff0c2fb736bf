// The report as one HTML page that needs nothing else: styles inline, the
// timing chart as inline SVG, no script, no font, no image. Its Content
// Security Policy forbids any request, so a value that got past escaping
// still could not fetch anything; every value is escaped all the same.
import { formatCount } from '../../counts.ts';
import { duration, filesAndBytes, rowsPerSecond } from './units.ts';
import { copyColumns, type FilesSection } from './files.ts';
import type { CopySection, PlanSection, RunReport, TimingChart, VerifySection } from './model.ts';
import { moreKeysHint } from '../verify.ts';

const STYLE = `
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif, "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji"; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1f2328; }
  h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; } h3 { font-size: 1rem; }
  table { border-collapse: collapse; margin: .5rem 0; } th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
  th { background: #f6f8fa; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
  code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 90%; }
  pre { background: #f6f8fa; padding: .75rem; overflow-x: auto; white-space: pre-wrap; }
  .ok { color: #1a7f37; } .bad { color: #cf222e; } .outcome { font-size: 1.1rem; }
  svg text { font: 12px ui-monospace, Menlo, Consolas, monospace; fill: #1f2328; } svg rect.bar { fill: #0969da; }
`;

export function renderHtml(report: RunReport): string {
  const title = `${report.title}: ${report.outcome.ok ? 'done' : 'failed'}`;
  const body = [
    `<h1>${esc(report.title)}</h1>`,
    `<p class="outcome ${report.outcome.ok ? 'ok' : 'bad'}">${report.outcome.ok ? '✅' : '❌'} ${esc(report.outcome.headline)}</p>`,
    definitions([
      ['Command', `<code>${esc(report.command)}</code>`],
      ['Production', `<code>${esc(report.production)}</code>`],
      ['Staging', `<code>${esc(report.staging)}</code>`],
      ['Via', esc(report.via)],
      ['Started', esc(report.startedAt)],
      ['Finished', `${esc(report.finishedAt)} (${duration((Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000)})`],
      ['Exit code', String(report.outcome.exitCode)],
    ]),
    report.outcome.failure ? `<h2>What failed</h2><pre class="bad">${esc(report.outcome.failure)}</pre>` : '',
    planHtml(report.plan),
    report.copy ? copyHtml(report.copy) : '',
    report.chart ? `<h2>${esc(report.chart.title)}</h2>${svgChart(report.chart)}` : '',
    report.verify ? verifyHtml(report.verify) : '',
    report.files ? filesHtml(report.files) : '',
    report.audit ? auditHtml(report.audit) : '',
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body.filter(Boolean).join('\n')}
</body>
</html>
`;
}

function planHtml(plan: PlanSection): string {
  const writes = plan.tables.some((t) => t.mode);
  const out = [`<h2>Plan${plan.dryRun ? ' (dry run: nothing was written)' : ''}</h2>`];
  if (plan.modes.length)
    out.push(`<ul>${plan.modes.map(({ mode, description }) => `<li>Mode <strong>${esc(mode)}</strong>: ${esc(description)}.</li>`).join('')}</ul>`);
  out.push(
    table(
      ['Level', 'Table', 'Key', 'Rows (est.)', ...(writes ? ['Mode'] : []), 'Notes'],
      plan.tables.map((t) => [
        num(String(t.level)),
        cell(`<code>${esc(t.table)}</code>`),
        cell(t.key === null ? 'none (replace only)' : `<code>${esc(t.key)}</code>`),
        num(formatCount(t.rowEstimate)),
        ...(writes ? [cell(esc(t.mode ?? ''))] : []),
        cell(esc(t.notes.join('; '))),
      ]),
    ),
  );
  if (plan.sequences) out.push(`<p>Sequences set in staging once the rows are in: ${plan.sequences}.</p>`);
  if (plan.drift.length) out.push('<h3>Schema drift</h3>', list(plan.drift.map((d) => `<code>${esc(d.table)}</code>: ${esc(d.description)}`)));
  if (plan.notCopied.length) out.push('<h3>Not copied</h3>', list(plan.notCopied.map((t) => `<code>${esc(t.table)}</code>: ${esc(t.reason)}`)));
  return out.join('\n');
}

function copyHtml(copy: CopySection): string {
  const out = [`<h2>${copy.beforeFailure ? 'Copied before the failure' : 'Copy'}</h2>`, `<p>${esc(copy.summary)}</p>`];
  out.push(
    table(
      ['Table', 'Rows', 'Inserted or updated', 'Deleted', 'Rejected', 'Time', 'Rows/s'],
      copy.tables.map((t) => [
        cell(`<code>${esc(t.table)}</code>`),
        num(formatCount(t.rows)),
        num(formatCount(t.changed)),
        num(formatCount(t.deleted)),
        num(formatCount(t.rejected)),
        num(duration(t.seconds)),
        num(rowsPerSecond(t.rowsPerSecond)),
      ]),
    ),
  );
  if (copy.backup) out.push(`<p><strong>Backup</strong>: ${esc(copy.backup)}</p>`);
  if (copy.notes.length) out.push(list(copy.notes.map(esc)));
  if (copy.rejected.length) {
    out.push(
      '<h3>Rows staging rejected</h3>',
      list(copy.rejected.map((row) => `<code>${esc(row.table)}</code> <code>${esc(row.key)}</code>: ${esc(row.message)}`)),
    );
  }
  return out.join('\n');
}

function verifyHtml(verify: VerifySection): string {
  const out = ['<h2>Verify</h2>', `<p class="${verify.equal ? 'ok' : 'bad'}">${verify.equal ? '✅' : '❌'} ${esc(verify.summary)}</p>`];
  out.push(
    table(
      ['Table', 'Production', 'Staging', 'Status', 'Time'],
      verify.tables.map((t) => [
        cell(`<code>${esc(t.table)}</code>`),
        num(formatCount(t.production)),
        num(t.staging === null ? '-' : formatCount(t.staging)),
        `<td class="${t.equal ? 'ok' : 'bad'}">${esc(t.status)}</td>`,
        num(t.seconds === null ? '-' : duration(t.seconds)),
      ]),
    ),
  );
  const differing = verify.tables.filter((t) => t.differences);
  if (differing.length) {
    out.push('<h3>Differing keys</h3>');
    for (const t of differing) {
      const d = t.differences;
      if (!d) continue;
      const items = [
        ...(d.changed.length ? [`differ from production: ${keys(d.changed)}`] : []),
        ...(d.missing.length ? [`missing in staging: ${keys(d.missing)}`] : []),
        ...(d.extra.length ? [`extra in staging: ${keys(d.extra)}`] : []),
        ...(d.more ? [`… and more (${moreKeysHint(t.table)})`] : []),
      ];
      out.push(`<p><code>${esc(t.table)}</code> (key: <code>${esc(t.key)}</code>):</p>`, list(items));
    }
  }
  if (verify.sequences.length) {
    out.push(
      `<h3>Sequences (${verify.sequencesEqual} equal; the others)</h3>`,
      table(
        ['Sequence', 'Production', 'Staging', 'Status'],
        verify.sequences.map((s) => [cell(`<code>${esc(s.sequence)}</code>`), num(esc(s.production)), num(esc(s.staging)), cell(esc(s.status))]),
      ),
    );
  }
  if (verify.orphans.length) out.push('<h3>Rows without their parent</h3>', list(verify.orphans.map(esc)));
  if (verify.largeObjects.length) out.push('<h3>Large objects</h3>', list(verify.largeObjects.map(esc)));
  return out.join('\n');
}

function filesHtml(files: FilesSection): string {
  const out = [`<h2>Files${files.dryRun ? ' (dry run: nothing changed)' : ''}</h2>`];
  if (files.summary) out.push(`<p>${esc(files.summary)}</p>`);
  if (files.buckets.length) {
    const { copied, removed, owners } = copyColumns(files);
    out.push(
      table(
        ['Bucket', 'Settings', 'Objects', copied, 'Unchanged', removed, owners, 'Time'],
        files.buckets.map((b) => [
          cell(`<code>${esc(b.bucket)}</code>`),
          cell(esc(b.settings)),
          num(filesAndBytes(b.objects, b.bytes)),
          num(filesAndBytes(b.copied, b.copiedBytes)),
          num(formatCount(b.unchanged)),
          num(formatCount(b.removed)),
          num(b.owners === null ? '-' : formatCount(b.owners)),
          num(b.seconds === null ? '-' : duration(b.seconds)),
        ]),
      ),
    );
  }
  for (const note of files.notes) out.push(`<p>${esc(note)}</p>`);
  const verify = files.verify;
  if (!verify) return out.join('\n');
  out.push('<h3>Files verified</h3>', `<p class="${verify.equal ? 'ok' : 'bad'}">${verify.equal ? '✅' : '❌'} ${esc(verify.summary)}</p>`);
  if (verify.buckets.length) {
    out.push(
      table(
        ['Bucket', 'Production', 'Staging', 'Status'],
        verify.buckets.map((b) => [
          cell(`<code>${esc(b.bucket)}</code>`),
          num(filesAndBytes(b.production.objects, b.production.bytes)),
          num(filesAndBytes(b.staging.objects, b.staging.bytes)),
          `<td class="${b.equal ? 'ok' : 'bad'}">${esc(b.status)}</td>`,
        ]),
      ),
    );
  }
  for (const b of verify.buckets.filter((v) => v.differences.length)) {
    out.push(
      `<p><code>${esc(b.bucket)}</code>:</p>`,
      list(b.differences.map(({ what, paths, more }) => `${esc(what)}: ${keys(paths)}${more ? ` and ${formatCount(more)} more` : ''}`)),
    );
  }
  return out.join('\n');
}

function auditHtml(audit: NonNullable<RunReport['audit']>): string {
  const out = ['<h2>Masking audit</h2>', `<p class="${audit.clean ? 'ok' : 'bad'}">${esc(audit.summary)}</p>`];
  out.push(
    table(
      ['Table', 'Staging rows', 'Masked columns', 'Raw values found'],
      audit.tables.map((t) => [
        cell(`<code>${esc(t.table)}</code>`),
        num(formatCount(t.rows)),
        cell(t.columns.map((column) => `<code>${esc(column)}</code>`).join(', ')),
        num(t.leaks.length ? `${t.leaks.length}${t.more ? '+' : ''}` : 'none'),
      ]),
    ),
  );
  for (const t of audit.tables.filter((a) => a.leaks.length)) {
    out.push(
      `<p><code>${esc(t.table)}</code>: production's raw value in staging at</p>`,
      list(t.leaks.map((leak) => `<code>${esc(leak.column)}</code> at <code>${esc(leak.key)}</code>`)),
    );
  }
  return out.join('\n');
}

const ROW_HEIGHT = 22;
const LABEL_WIDTH = 320;
const BAR_SPACE = 420;
const VALUE_WIDTH = 80;
/** A table that took no measurable time still gets a sliver, so every table shows. */
const MIN_BAR = 2;

/** One bar per table, as long as its time against the longest; the full name in a tooltip where the label is cut. */
export function svgChart(chart: TimingChart): string {
  const longest = Math.max(0, ...chart.bars.map((bar) => bar.seconds));
  const width = LABEL_WIDTH + BAR_SPACE + VALUE_WIDTH;
  const height = chart.bars.length * ROW_HEIGHT + 8;
  const rows = chart.bars.map((bar, i) => {
    const y = i * ROW_HEIGHT + 4;
    const length = Math.max(MIN_BAR, longest > 0 ? (bar.seconds / longest) * BAR_SPACE : 0);
    const label = [...bar.label].length > 42 ? `${[...bar.label].slice(0, 41).join('')}…` : bar.label;
    return (
      `<g><title>${esc(bar.label)}: ${duration(bar.seconds)}</title>` +
      `<text x="${LABEL_WIDTH - 8}" y="${y + 15}" text-anchor="end">${esc(label)}</text>` +
      `<rect class="bar" x="${LABEL_WIDTH}" y="${y + 3}" width="${length.toFixed(1)}" height="${ROW_HEIGHT - 6}"/>` +
      `<text x="${(LABEL_WIDTH + length + 6).toFixed(1)}" y="${y + 15}">${duration(bar.seconds)}</text></g>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(chart.title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" style="max-width: 100%; height: auto">` +
    `${rows.join('')}</svg>`
  );
}

function table(headers: string[], rows: string[][]): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((cells) => `<tr>${cells.join('')}</tr>`).join('')}</tbody></table>`;
}

function definitions(rows: [string, string][]): string {
  return `<table>${rows.map(([name, value]) => `<tr><th>${esc(name)}</th><td>${value}</td></tr>`).join('')}</table>`;
}

/** `html` is markup already escaped. */
function cell(html: string): string {
  return `<td>${html}</td>`;
}

function num(html: string): string {
  return `<td class="n">${html}</td>`;
}

function list(items: string[]): string {
  return `<ul>${items.map((item) => `<li>${item}</li>`).join('')}</ul>`;
}

function keys(values: string[]): string {
  return values.map((value) => `<code>${esc(value)}</code>`).join(' ');
}

/** Text as HTML, in an element or a quoted attribute. */
export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
