// What the file copy did, and what verify found, per bucket, for the terminal.
// The words for a bucket's settings and status are the report's too
// (document/files.ts), so the two cannot say different things.
import type { BucketCopyResult } from '../storage/copy.ts';
import type { BucketVerdict } from '../storage/verify.ts';
import { renderTable } from './table.ts';
import { countOf } from '../counts.ts';
import { commandLine } from '../invocation.ts';

const MB = 1024 * 1024;
/** The terminal's size of files, in MB of 1,024 KB: the copy's table and its progress line say the same. */
export const megabytes = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;

/** The copy's columns whose names say whether it was done or would be: a dry run's numbers are what it would do. */
export function copyColumnNames(dryRun: boolean): { copied: string; removed: string; owners: string } {
  return dryRun ? { copied: 'To copy', removed: 'To remove', owners: 'Owners to set' } : { copied: 'Copied', removed: 'Removed', owners: 'Owners set' };
}

/** What was done to the bucket itself, or what a dry run would do. */
export function settingsAction(result: BucketCopyResult, dryRun: boolean): string {
  return dryRun && result.settings !== 'unchanged' ? `to be ${result.settings}` : result.settings;
}

export function fileStatus(verdict: BucketVerdict): string {
  return verdict.status === 'equal' ? '✅ Equal' : verdict.status === 'missing-bucket' ? '❌ No such bucket in staging' : '❌ Files differ';
}

/** Each kind of differing path, with the paths listed and how many more there are. */
export function differingPaths(verdict: BucketVerdict): { what: string; paths: string[]; more: number }[] {
  const kinds = [
    { what: 'missing in staging', paths: verdict.missing, count: verdict.counts.missing },
    { what: 'only in staging', paths: verdict.extra, count: verdict.counts.extra },
    { what: 'different', paths: verdict.changed, count: verdict.counts.changed },
    { what: 'owned otherwise (owner, owner_id or user_metadata)', paths: verdict.owners ?? [], count: verdict.counts.owners ?? 0 },
  ];
  return kinds.filter((kind) => kind.count).map(({ what, paths, count }) => ({ what, paths, more: count - paths.length }));
}

export function renderFileCopy(results: BucketCopyResult[], dryRun: boolean, ownersLeft: string | null = null): string {
  if (!results.length) return 'Files: no bucket chosen.';
  const rows = results.map((result) => [
    result.bucket,
    settingsAction(result, dryRun),
    `${result.objects} (${megabytes(result.bytes)})`,
    `${result.copied} (${megabytes(result.copiedBytes)})`,
    String(result.unchanged),
    String(result.removed),
    result.owners ? String(result.owners.set) : '-',
    dryRun ? '-' : `${result.seconds.toFixed(1)}s`,
  ]);
  const { copied, removed, owners } = copyColumnNames(dryRun);
  const header = ['Bucket', 'Settings', 'Objects', copied, 'Unchanged', removed, owners, 'Time'];
  return [
    `Files${dryRun ? ' (dry run: nothing changed)' : ''}:\n${renderTable(header, rows)}`,
    ...ownerNotes(results, ownersLeft),
    ...unservableNotes(results),
  ].join('\n');
}

/** Files production lists and cannot serve, per bucket: not copied, the run's exit 1, and what to do in production. */
export function unservableNotes(results: BucketCopyResult[]): string[] {
  return results
    .filter((result) => result.unservable?.length)
    .map((result) => {
      const paths = result.unservable ?? [];
      const shown = paths.slice(0, 5).map((path) => `${result.bucket}/${path}`);
      return (
        `${result.bucket}: production lists ${countOf(paths.length, 'file')} it has no file for (a storage.objects row without its bytes), not copied: ` +
        `${shown.join(', ')}${paths.length > shown.length ? `, and ${paths.length - shown.length} more (--json lists them)` : ''}. ` +
        "The bucket's other files are copied. Upload them again in production, or delete their rows there."
      );
    });
}

/** Where owners were not carried, or not all of them: said under the copy's table (and in the report), with what to do. */
export function ownerNotes(results: BucketCopyResult[], ownersLeft: string | null): string[] {
  if (ownersLeft) return [`Whom the files belong to was not carried (${ownersLeft}): staging's copies belong to no user.`];
  return results
    .filter((result) => result.owners?.unmatched)
    .map(
      (result) =>
        `${result.bucket}: the owner of ${countOf(result.owners!.unmatched, 'file')} is a user staging lacks, and staging's storage.objects.owner has a foreign key ` +
        `to its users (as older Storage schemas do): left without owner (owner_id is set). Copy the users first (${commandLine('sync', '--schemas public,auth')}), then the files again.`,
    );
}

export function renderFileVerdicts(verdicts: BucketVerdict[]): string {
  const rows = verdicts.map((verdict) => [
    verdict.bucket,
    `${verdict.production.objects} (${megabytes(verdict.production.bytes)})`,
    `${verdict.staging.objects} (${megabytes(verdict.staging.bytes)})`,
    fileStatus(verdict),
  ]);
  const lines = [renderTable(['Bucket', 'Production', 'Staging', 'Status'], rows)];
  for (const verdict of verdicts.filter((v) => v.status === 'differs')) {
    lines.push(
      `${verdict.bucket}:`,
      ...differingPaths(verdict).map(({ what, paths, more }) => `  ${what}: ${paths.join(', ')}${more ? `, and ${more} more` : ''}`),
    );
  }
  return `Files:\n${lines.join('\n')}`;
}

/** Verify's word where it could not compare owners: under its table, and in the report. */
export function ownersNotComparedNote(ownersLeft: string | null): string[] {
  return ownersLeft ? [`Whom the files belong to was not compared (${ownersLeft}).`] : [];
}
