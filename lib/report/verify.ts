// The seed's status table, now backed by content checksums, and the keys
// behind every difference.
import chalk from 'chalk';
import type { TableVerdict, VerifyStatus } from '../verify/verify.ts';
import { formatCount, renderTable } from './table.ts';

const STATUS: Record<VerifyStatus, string> = {
  perfect: '✅ Perfect',
  'counts-differ': '⚠️ counts differ',
  'content-differs': '❌ content differs',
  'missing-table': '❌ missing in staging',
  'columns-differ': '⚠️ columns differ',
};

/**
 * `keptByUpsert`: tables whose only difference is rows staging has and
 * production does not, after an upsert, which keeps them by design: shown as
 * such, and not counted as differing (nor as Perfect).
 */
export function renderVerdicts(verdicts: TableVerdict[], keptByUpsert: ReadonlySet<string> = new Set()): string {
  const status = (v: TableVerdict) =>
    keptByUpsert.has(v.table) ? `✅ upserted, ${formatCount((v.staging ?? 0) - v.production)} staging-only row(s) kept` : STATUS[v.status];
  const out = [
    renderTable(
      ['Table', 'Production', 'Staging', 'Status'],
      verdicts.map((v) => [v.table, formatCount(v.production), v.staging === null ? '-' : formatCount(v.staging), status(v)]),
    ),
  ];
  for (const verdict of verdicts) {
    const differences = keptByUpsert.has(verdict.table) ? undefined : verdict.differences;
    if (verdict.status === 'columns-differ') {
      out.push(chalk.yellow(`\n${verdict.table}: the common columns are equal, but the two sides' columns differ (see scripts/sync.ts --dry-run).`));
    }
    if (!differences) continue;
    const key = verdict.keyColumns.length ? verdict.keyColumns.join(', ') : 'whole row (no key)';
    out.push(chalk.red(`\n${verdict.table} (key: ${key}):`));
    const list = (label: string, keys: string[]) => {
      if (keys.length) out.push(chalk.red(`  ${label}: ${keys.join(' ')}`));
    };
    list('changed in staging', differences.changed);
    list('missing in staging', differences.missing);
    list('extra in staging', differences.extra);
    if (differences.more) out.push(chalk.red('  ... and more (raise --keys to list them)'));
  }
  const perfect = verdicts.filter((v) => v.status === 'perfect').length;
  const kept = verdicts.filter((v) => keptByUpsert.has(v.table)).length;
  const differing = verdicts.length - perfect - kept;
  out.push(
    '',
    differing
      ? chalk.red(`${differing} of ${verdicts.length} tables differ.`)
      : kept
        ? chalk.green(
            `Staging holds every production row as production has it: ${perfect} of ${verdicts.length} tables Perfect, ` +
              `${kept} with staging-only rows the upsert kept.`,
          )
        : chalk.green(`Staging equals production: ${perfect} of ${verdicts.length} tables Perfect.`),
  );
  return out.join('\n');
}
