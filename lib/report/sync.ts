import chalk from 'chalk';
import type { SyncResult, TableResult } from '../engine/sync.ts';
import { TRANSACTION_IDS, unwrittenRowAdvice, type SyncMode } from '../plan/mode.ts';
import { readsFromEarlier } from '../plan/changed-column.ts';
import { printablePath } from '../backup/manifest.ts';
import type { PrunedBackups } from '../backup/store.ts';
import type { RejectedRow, StagingBackup } from '../transport/session.ts';
import type { KeyValues } from '../transport/reads.ts';
import { describeRetries, retriedRequests } from '../transport/rest/retry-tally.ts';
import { renderTable } from './table.ts';
import { countOf, formatCount } from '../counts.ts';
import { commandLine, shellWord } from '../invocation.ts';
import { leftOutLine } from './left-out.ts';

export function renderSyncResult(result: SyncResult): string {
  const ranged = result.tables.some((table) => table.ranges);
  const merged = result.mode !== 'replace' || ranged;
  const mirrored = result.mode === 'mirror' || result.tables.some((table) => table.deleted);
  const rows = result.tables.map((table) => [
    table.table,
    formatCount(table.copied),
    ...(merged ? [formatCount(table.changed)] : []),
    ...(mirrored ? [formatCount(table.deleted)] : []),
    ...(ranged ? [describeRanges(table)] : []),
    `${table.seconds.toFixed(2)}s`,
  ]);
  const rejected = result.tables.flatMap((table) => table.rejected);
  const rejections = rejected.length
    ? [
        '',
        chalk.red(`${countOf(rejected.length, 'row')} rejected by staging, the rest written:`),
        ...rejectedLines(rejected).map((line) => chalk.red(line)),
        ...clearedFirstLines(result),
        ...unwrittenRowLines(result),
      ]
    : [];
  return [
    renderTable(
      [
        'Table',
        'Rows copied',
        ...(merged ? ['Inserted or updated'] : []),
        ...(mirrored ? ['Deleted'] : []),
        ...(ranged ? ['Key ranges that differ'] : []),
        'Time',
      ],
      rows,
    ),
    '',
    chalk.green(syncSummary(result)),
    ...retriesLine(result),
    ...(ranged ? [rangesLine(result)] : []),
    ...keptDifferentLines(result),
    ...(result.masked.length
      ? [
          `Masked on the way (${result.masked.reduce((sum, table) => sum + table.columns.length, 0)} columns): ` +
            result.masked.map((table) => `${table.table} (${table.columns.join(', ')})`).join(', '),
        ]
      : []),
    ...watermarkLines(result),
    ...viewLines(result),
    ...(result.backup ? [backupLine(result.backup, result.mode)] : []),
    ...(result.pruned?.removed.length ? [prunedLine(result.pruned)] : []),
    ...result.notes.map((note) => chalk.yellow(note)),
    ...leftOutLine(result.leftOut, 'copied'),
    ...rejections,
    // Said last: they are why a run that wrote every row it could exits 1.
    ...(result.skipped.length
      ? ['', chalk.red(`Not copied, so the run exits 1: ${result.skipped.map(({ table, reason }) => `${table} (${reason})`).join('; ')}.`)]
      : []),
  ].join('\n');
}

/** Past this many, the rows held back for a refused one are counted per table, with a few named. */
const HELD_BACK_LISTED = 5;

/** Rows of one table refused with one message listed one by one up to this many; past it, once, with a few keys. */
const REFUSED_ALIKE_LISTED = 5;

/**
 * The refused rows, each with its message, in order; where many of a table were refused with one message (every
 * row against a column staging types otherwise), that message once with their number and a few keys.
 */
function refusedLines(refused: RejectedRow[], line: (row: RejectedRow) => string): string[] {
  const alike = new Map<string, RejectedRow[]>();
  for (const row of refused) {
    const group = JSON.stringify([row.table, row.message]);
    alike.set(group, [...(alike.get(group) ?? []), row]);
  }
  const lines: string[] = [];
  for (const rows of alike.values()) {
    const [first] = rows as [RejectedRow];
    if (rows.length <= REFUSED_ALIKE_LISTED) lines.push(...rows.map(line));
    else {
      lines.push(
        `  ${first.table}: ${countOf(rows.length, 'row')} refused alike, e.g. ${rows
          .slice(0, 3)
          .map((row) => `(${row.key})`)
          .join(' ')}: ${first.message.replace(/\n/g, '\n    ')}`,
        '    Every row is listed by --json and in --report FILE.',
      );
    }
  }
  return lines;
}

/**
 * Each row staging refused, with its message; then the rows held back for
 * them (children naming a refused parent): a few refused users can hold
 * back hundreds of rows, which listed one by one buried the refusals
 * that are the cause. --json and --report keep every row.
 */
function rejectedLines(rejected: RejectedRow[]): string[] {
  const line = (row: RejectedRow) => `  ${row.table} (${row.key}): ${row.message.replace(/\n/g, '\n    ')}`;
  const heldBack = rejected.filter((row) => row.heldBack);
  const refused = refusedLines(
    rejected.filter((row) => !row.heldBack),
    line,
  );
  if (heldBack.length <= HELD_BACK_LISTED) return [...refused, ...heldBack.map(line)];
  const perTable = new Map<string, number>();
  for (const row of heldBack) perTable.set(row.table, (perTable.get(row.table) ?? 0) + 1);
  return [
    ...refused,
    `  and ${countOf(heldBack.length, 'row')} held back, each naming a row staging rejected in this run (they go in with it, once staging takes it): ` +
      `${[...perTable].map(([table, rows]) => `${table} ${formatCount(rows)}`).join(', ')}; for example:`,
    ...heldBack.slice(0, 3).map((row) => `  ${line(row)}`),
    `  Every row is listed by --json and in --report FILE.`,
  ];
}

/**
 * Over REST with checks off, a mirror or an incremental run clears the
 * staging rows it rewrites before writing production's version (values
 * swapped between rows then land). Staging keeps them and puts back one it
 * then refused (functions version 23): said, or, where one could not go
 * back (a table read whole, older functions, another row holding a value of
 * its now), where the old version is.
 */
function clearedFirstLines(result: SyncResult): string[] {
  // A table upserted instead (staging has columns of its own) keeps its version of a refused row: nothing to say.
  const refused = result.tables.filter((table) => table.ranges && table.cleared && table.rejected.length);
  if (result.via !== 'rest' || result.method !== 'replica' || !refused.length) return [];
  if (result.mode !== 'mirror' && result.mode !== 'incremental') return [];
  const kept = refused.filter((table) => table.putBack && !table.putBack.left && !table.putBack.error);
  const gone = refused.filter((table) => !kept.includes(table));
  // The unique-value advice where staging refused a row for a unique value, not for a check or a type.
  const uniqueClash = refused.some((table) => table.rejected.some((row) => UNIQUE_CLASH.test(row.message)));
  const advice =
    result.mode === 'incremental' && uniqueClash
      ? ` ${unwrittenRowAdvice(
          result.mode,
          refused.map((table) => table.table),
        )}`
      : '';
  const directory = result.backup?.directory ? printablePath(result.backup.directory) : null;
  const putBack = kept.reduce((sum, table) => sum + (table.putBack?.putBack ?? 0), 0);
  return [
    ...(kept.length
      ? [
          chalk.red(
            `Where staging held those rows (${kept.map((table) => table.table).join(', ')}), it keeps its own version: a re-sync over REST clears the rows ` +
              `it rewrites before writing them, so that values swapped between rows can land, and put back the ${countOf(putBack, 'row')} staging then refused.` +
              (gone.length ? '' : advice),
          ),
        ]
      : []),
    ...(gone.length
      ? [
          chalk.red(
            `Where staging held those rows (${gone.map(describeGone).join(', ')}), its own version is gone too: a re-sync over REST clears the rows ` +
              'it rewrites before writing them, so that values swapped between rows can land, and these could not be put back. ' +
              (directory
                ? `The old version is in this run's backup: ${commandLine('restore', shellWord(directory))} puts the ranges back; or fix the cause and run again.`
                : 'With --no-backup there is no copy of it: fix the cause and run again.') +
              advice,
          ),
        ]
      : []),
  ];
}

/** PostgreSQL's words for a unique or exclusion constraint refusing a row (23505, 23P01). */
const UNIQUE_CLASH = /^(duplicate key value violates unique constraint|conflicting key value violates exclusion constraint)/m;

/** A table whose cleared rows did not all go back, and why where staging said. */
function describeGone(table: TableResult): string {
  const putBack = table.putBack;
  if (!putBack) return table.table;
  return `${table.table}: ${countOf(putBack.left, 'row')} not put back${putBack.error ? `, ${putBack.error}` : ''}`;
}

/**
 * insert-missing leaves staging's rows as they are, and an upsert those production lacks: a stale one, or one of
 * staging's own, may hold the unique value of a row it writes.
 */
function unwrittenRowLines(result: SyncResult): string[] {
  // Only where staging refused a row for a unique value: a check's refusal is the row's own.
  const refused = result.tables.filter((table) => table.rejected.some((row) => UNIQUE_CLASH.test(row.message)));
  // With checks on (no replica role) an upsert meets values production moved between rows too: said with each row.
  const modes = result.method === 'replica' ? (['insert-missing', 'upsert'] as const) : (['insert-missing'] as const);
  return modes.flatMap((mode) => {
    const tables = refused.filter((table) => (table.mode ?? result.mode) === mode).map((table) => table.table);
    const rows = refused.filter((table) => tables.includes(table.table)).flatMap((table) => table.rejected.filter((row) => UNIQUE_CLASH.test(row.message)));
    const conflict = rows.every((row) => row.message.startsWith('conflicting key value violates exclusion constraint')) ? 'exclusion' : 'unique';
    return tables.length ? [chalk.red(unwrittenRowAdvice(mode, tables, result.mode, conflict))] : [];
  });
}

/** The closing line: how many tables and rows, how long, how. */
export function syncSummary(result: SyncResult): string {
  const total = result.tables.reduce((sum, table) => sum + table.copied, 0);
  const rejected = result.tables.reduce((sum, table) => sum + table.rejected.length, 0);
  return (
    `Synced ${countOf(result.tables.length, 'table')}, ${countOf(total, 'row')}${rejected ? ` (${formatCount(rejected)} rejected, not copied)` : ''}, in ${result.seconds.toFixed(1)}s ` +
    `(${result.mode}, via ${result.via}, ${result.method === 'replica' ? 'triggers and FK checks off' : 'foreign-key order'}` +
    `${result.retries.length ? `, ${countOf(retriedRequests(result.retries), 'request')} retried` : ''}).`
  );
}

/** Why requests were sent again, where any were: the network's, the project's or a lock's doing. */
export function retriesLine(result: SyncResult): string[] {
  if (!result.retries.length) return [];
  return [`Retried after: ${describeRetries(result.retries)}.`];
}

function describeRanges(table: TableResult): string {
  if (!table.ranges) return '';
  const { ranges, unchangedRanges, bits } = table.ranges;
  if (!ranges.length) return 'none: equal';
  // At 64 bits a range is one key's hash: the direct path compares row by row.
  if (bits === 64) return `${formatCount(ranges.length)} of ${formatCount(ranges.length + unchangedRanges)} keys`;
  return `${formatCount(ranges.length)} of ${formatCount(ranges.length + unchangedRanges)} (${bits} bits)`;
}

/** What comparing key ranges spared: the rows a replace would have read and written again. */
export function rangesLine(result: SyncResult): string {
  const compared = result.tables.filter((table) => table.ranges);
  const equal = compared.filter((table) => !table.ranges?.ranges.length).length;
  const skipped = compared.reduce((sum, table) => sum + (table.ranges?.rowsUnchanged ?? 0), 0);
  const deleted = result.tables.reduce((sum, table) => sum + table.deleted, 0);
  return (
    `Compared key ranges of ${countOf(compared.length, 'table')} in ${result.compareSeconds.toFixed(1)}s: ${equal} already equal; ${countOf(skipped, 'unchanged row')} not copied` +
    `${result.mode === 'mirror' || deleted ? `; ${countOf(deleted, 'staging row')} production lacks deleted` : ''}.`
  );
}

/**
 * insert-missing writes the rows staging lacks and leaves the ones it holds otherwise as they are: a stale row, or one
 * of staging's own under a key production gave another row (staging's sequence handed out the same id). Said, with
 * a few keys, as verify would say them: a run that wrote nothing otherwise read as "staging is up to date".
 */
function keptDifferentLines(result: SyncResult): string[] {
  const kept = result.tables.flatMap((table) => {
    const rows = table.mode === 'insert-missing' && table.ranges && !table.ranges.rows.every ? table.ranges.rows : null;
    const missing = new Set(rows?.missing.map((key) => JSON.stringify(key)) ?? []);
    const differing = rows?.write.filter((key) => !missing.has(JSON.stringify(key))) ?? [];
    return differing.length ? [{ table: table.table, differing }] : [];
  });
  if (!kept.length) return [];
  const keys = (differing: KeyValues[]) =>
    `${differing
      .slice(0, 3)
      .map((key) => `(${key.map((value) => value ?? 'NULL').join(', ')})`)
      .join(' ')}${differing.length > 3 ? ' ...' : ''}`;
  return [
    `insert-missing left staging's version of rows production holds otherwise (it touches no row staging has; --mode mirror writes them): ` +
      kept.map(({ table, differing }) => `${table} ${formatCount(differing.length)}, e.g. ${keys(differing)}`).join('; ') +
      '.',
  ];
}

/** `mode`: the run's, naming what the tables it did not empty were saved before. */
/** An incremental run's watermarks: where each table's changed rows were read from, and where the next run's will be. */
export function watermarkLines(result: SyncResult): string[] {
  const marked = result.tables.filter((table) => table.watermark);
  if (!marked.length) return [];
  return [
    'Incremental, by the column each table moves on change (the next run reads from the new watermark, kept in staging):',
    ...marked.map(({ table, watermark, watermarkHeld }) => {
      const by = watermark?.next.column === TRANSACTION_IDS ? "rows written from production's transaction" : `${watermark?.next.column} >=`;
      const from = watermark?.from
        ? `read ${by} ${watermark.from}${readsFromEarlier(watermark.columnType)}`
        : watermark?.wholeBecause
          ? `whole rows compared: ${watermark.wholeBecause}`
          : 'first run: whole rows compared';
      const next = watermarkHeld
        ? `next ${watermark?.from ? `from ${watermark.from} again` : 'compares whole rows again'}: staging rejected some of its rows`
        : `next from ${watermark?.next.since}`;
      return `  ${table}: ${from}; ${next}`;
    }),
  ];
}

/** The materialized views that read the changed tables: those refreshed (the others were warned of as the run ended). */
export function viewLines(result: SyncResult): string[] {
  if (!result.views.length) return [];
  const refreshed = result.views.filter((view) => view.refreshed).map((view) => view.view);
  const left = result.views.length - refreshed.length;
  return [
    `Materialized views that read the changed tables: ${refreshed.length ? `${refreshed.length} refreshed (${refreshed.join(', ')})` : 'none refreshed'}` +
      `${left ? `, ${left} not (see the warnings above)` : ''}.`,
  ];
}

export function backupLine(backup: StagingBackup, mode: SyncMode): string {
  const emptied = backup.tables - backup.upserted;
  const merge = mode === 'replace' ? 'upsert' : mode;
  const into = { upsert: 'upserted into', mirror: 'mirrored', 'insert-missing': 'inserted into', incremental: 'synced incrementally' }[merge];
  const before = !backup.upserted ? 'replaced' : emptied ? `replaced or ${into}` : into;
  if (!backup.directory && backup.unchanged) return 'No backup kept: the run changed no row of staging, so it would restore nothing.';
  if (!backup.directory)
    return `No backup needed: ${backup.tables === 1 ? `the staging table ${before} was` : `the ${backup.tables} staging tables ${before} were`} empty.`;
  const taken = !backup.upserted ? 'before the replace' : emptied ? `before emptying ${emptied} and writing into ${backup.upserted}` : `before the ${merge}`;
  const directory = printablePath(backup.directory);
  return (
    `Backup of ${countOf(backup.tables, 'staging table')} (${countOf(backup.rows, 'row')}) ${taken}: ${directory} ` +
    `— restore with ${commandLine('restore', shellWord(directory))}`
  );
}

export function prunedLine(pruned: PrunedBackups): string {
  const count = pruned.removed.length;
  return `Pruned ${count} older backup${count === 1 ? '' : 's'} (keep ${pruned.keep}): ${pruned.removed.map(printablePath).join(', ')}`;
}
