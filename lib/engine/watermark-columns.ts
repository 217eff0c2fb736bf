// An incremental run reads only the rows changed since its watermark. What
// it copies of each row may change between runs without a row changing: a
// column added on both sides with a volatile default (each side draws its
// own), one --allow-drift left out until staging gained it, a type, a mask.
// Rows behind the watermark then differ and are never read again. So the
// watermark keeps what its run copied, and a run that copies otherwise, or
// follows a restore that put older rows back, compares the table whole once.
import { createHash } from 'node:crypto';
import type { TablePlan } from '../plan/types.ts';
import { RESTORED, type Watermark } from '../transport/watermarks.ts';

/** What a run copies of the table's rows, as a short hash: its columns (in any order) with production's types, and their masks. */
export function copiedColumns(table: Pick<TablePlan, 'columns' | 'columnTypes' | 'mask'>): string {
  const columns = table.columns.map((name, i) => [name, table.columnTypes[i] ?? '']).sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0));
  const masks = (table.mask?.columns ?? []).map((column) => JSON.stringify(column)).sort();
  return createHash('sha256').update(JSON.stringify({ columns, masks })).digest('hex').slice(0, 16);
}

/** Staging's functions keep what each run copied with its watermark from this version on (the direct path always). */
export const COPIED_COLUMNS_SINCE = 29;

/**
 * Why a table's kept watermark bounds nothing now, if it does not: the table is compared whole, and the run says
 * why. `keepsColumns`: staging keeps what runs copy (else a watermark without it is taken as it is, each run alike).
 */
export function staleWatermarkReason(mark: Watermark, copied: string, keepsColumns: boolean): string | undefined {
  if (mark.system === RESTORED || mark.columns === RESTORED) return 'staging was restored from a backup since the last run';
  if (mark.columns && mark.columns !== copied) return 'the columns copied changed since the last run';
  // Kept before watermarks kept what was copied: what changed since is not known, so compared whole once.
  if (!mark.columns && keepsColumns) return `the watermark predates what runs keep with it (functions version ${COPIED_COLUMNS_SINCE})`;
  return undefined;
}
