// The report's files section: what --storage copied per bucket (or, in a dry
// run, would copy) and what verify found there, built from the results the
// files step returns. A bucket name and a path are the user's data, like a
// table's name: values to escape, never markup.
import type { BucketCopyResult } from '../../storage/copy.ts';
import type { BucketVerdict } from '../../storage/verify.ts';
import { copyColumnNames, differingPaths, fileStatus, settingsAction } from '../storage.ts';
import { countOf, formatCount } from '../../counts.ts';
import { byteSize } from './units.ts';

/** What the files step returned; each part absent when the run did not get that far or did not ask. */
export interface FilesFacts {
  /** sync --storage: per bucket, what was copied (a dry run: what would be). */
  copied?: BucketCopyResult[];
  /** sync --storage --verify, verify --storage. */
  verdicts?: BucketVerdict[];
  /** What the terminal said under the files' tables: whom the files belong to not carried or not compared, and why. */
  notes?: string[];
}

export interface FilesSection {
  /** Nothing was changed: the copy's numbers are what a run would do. */
  dryRun: boolean;
  /** The copy's line ("Files: 2 buckets, 120 copied (4.2 MB), …"); null when the run only verified. */
  summary: string | null;
  buckets: CopiedBucket[];
  verify: FilesVerify | null;
  /** Said under the files' tables, as on the terminal. */
  notes: string[];
}

export interface CopiedBucket {
  bucket: string;
  /** created, updated, unchanged; "to be created" in a dry run. */
  settings: string;
  objects: number;
  bytes: number;
  copied: number;
  copiedBytes: number;
  unchanged: number;
  removed: number;
  /** Files whose owner was set (a dry run: would be); null where owners were not carried. */
  owners: number | null;
  /** null in a dry run: nothing was timed. */
  seconds: number | null;
}

export interface FilesVerify {
  equal: boolean;
  summary: string;
  buckets: VerifiedBucket[];
}

export interface VerifiedBucket {
  bucket: string;
  status: string;
  equal: boolean;
  production: { objects: number; bytes: number };
  staging: { objects: number; bytes: number };
  /** Each kind of differing path (missing in staging, only in staging, different): up to 10 listed, and how many more. */
  differences: { what: string; paths: string[]; more: number }[];
}

export function filesSection(files: FilesFacts | undefined, dryRun: boolean): FilesSection | null {
  if (!files || !(files.copied || files.verdicts)) return null;
  return {
    dryRun,
    summary: files.copied ? copySummary(files.copied, dryRun) : null,
    buckets: (files.copied ?? []).map((result) => ({
      bucket: result.bucket,
      settings: settingsAction(result, dryRun),
      objects: result.objects,
      bytes: result.bytes,
      copied: result.copied,
      copiedBytes: result.copiedBytes,
      unchanged: result.unchanged,
      removed: result.removed,
      owners: result.owners ? result.owners.set : null,
      seconds: dryRun ? null : result.seconds,
    })),
    verify: files.verdicts ? filesVerify(files.verdicts) : null,
    notes: files.notes ?? [],
  };
}

/** What the copy's columns are called, in both formats, as on the terminal. */
export function copyColumns(section: FilesSection): { copied: string; removed: string; owners: string } {
  return copyColumnNames(section.dryRun);
}

function copySummary(results: BucketCopyResult[], dryRun: boolean): string {
  if (!results.length) return 'Files: no bucket chosen.';
  const sum = (count: (result: BucketCopyResult) => number) => results.reduce((total, result) => total + count(result), 0);
  const removed = sum((result) => result.removed);
  const owners = sum((result) => result.owners?.set ?? 0);
  return (
    `Files: ${countOf(results.length, 'bucket')}, ` +
    `${formatCount(sum((result) => result.copied))} ${dryRun ? 'to copy' : 'copied'} (${byteSize(sum((result) => result.copiedBytes))}), ` +
    `${formatCount(sum((result) => result.unchanged))} unchanged` +
    `${removed ? `, ${formatCount(removed)} ${dryRun ? 'to remove' : 'removed'}` : ''}` +
    `${owners ? `, owners ${dryRun ? 'to set' : 'set'} on ${countOf(owners, 'file')}` : ''}.`
  );
}

function filesVerify(verdicts: BucketVerdict[]): FilesVerify {
  const missing = verdicts.filter((verdict) => verdict.status === 'missing-bucket').map((verdict) => verdict.bucket);
  const differing = verdicts.filter((verdict) => verdict.status === 'differs').map((verdict) => verdict.bucket);
  const said = [
    ...(differing.length ? [`Files differ in ${differing.join(', ')}.`] : []),
    ...(missing.length ? [`Staging has no bucket ${missing.join(', ')}.`] : []),
  ];
  return {
    equal: !said.length,
    summary: said.length ? said.join(' ') : verdicts.length ? `Files equal in ${countOf(verdicts.length, 'bucket')}.` : 'Files: no bucket chosen.',
    buckets: verdicts.map((verdict) => ({
      bucket: verdict.bucket,
      status: fileStatus(verdict),
      equal: verdict.status === 'equal',
      production: verdict.production,
      staging: verdict.staging,
      differences: differingPaths(verdict),
    })),
  };
}
