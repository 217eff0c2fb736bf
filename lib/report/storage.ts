// What the file copy did, and what verify found, per bucket, for the terminal.
import type { BucketCopyResult } from '../storage/copy.ts';
import type { BucketVerdict } from '../storage/verify.ts';
import { renderTable } from './table.ts';

const MB = 1024 * 1024;
const megabytes = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

export function renderFileCopy(results: BucketCopyResult[], dryRun: boolean): string {
  if (!results.length) return 'Files: no bucket chosen.';
  const rows = results.map((result) => [
    result.bucket,
    dryRun && result.settings !== 'unchanged' ? `to be ${result.settings}` : result.settings,
    `${result.objects} (${megabytes(result.bytes)})`,
    `${result.copied} (${megabytes(result.copiedBytes)})`,
    String(result.unchanged),
    String(result.removed),
    dryRun ? '-' : `${result.seconds.toFixed(1)}s`,
  ]);
  const header = ['Bucket', 'Settings', 'Objects', dryRun ? 'To copy' : 'Copied', 'Unchanged', dryRun ? 'To remove' : 'Removed', 'Time'];
  return `Files${dryRun ? ' (dry run: nothing changed)' : ''}:\n${renderTable(header, rows)}`;
}

export function renderFileVerdicts(verdicts: BucketVerdict[]): string {
  const rows = verdicts.map((verdict) => [
    verdict.bucket,
    `${verdict.production.objects} (${megabytes(verdict.production.bytes)})`,
    `${verdict.staging.objects} (${megabytes(verdict.staging.bytes)})`,
    verdict.status === 'equal' ? '✅ Equal' : verdict.status === 'missing-bucket' ? '❌ No such bucket in staging' : '❌ Files differ',
  ]);
  const lines = [renderTable(['Bucket', 'Production', 'Staging', 'Status'], rows)];
  for (const verdict of verdicts.filter((v) => v.status === 'differs')) {
    const list = (what: string, paths: string[]) => (paths.length ? [`  ${what}: ${paths.join(', ')}`] : []);
    lines.push(
      `${verdict.bucket}:`,
      ...list('missing in staging', verdict.missing),
      ...list('only in staging', verdict.extra),
      ...list('different', verdict.changed),
    );
  }
  return `Files:\n${lines.join('\n')}`;
}
