import chalk from 'chalk';
import type { SyncResult } from '../engine/sync.ts';
import { printablePath } from '../backup/manifest.ts';
import type { PrunedBackups } from '../backup/store.ts';
import type { StagingBackup } from '../transport/session.ts';
import { formatCount, renderTable } from './table.ts';

export function renderSyncResult(result: SyncResult): string {
  const upsert = result.mode === 'upsert';
  const rows = result.tables.map((table) => [
    table.table,
    formatCount(table.copied),
    ...(upsert ? [formatCount(table.changed)] : []),
    `${table.seconds.toFixed(2)}s`,
  ]);
  const total = result.tables.reduce((sum, table) => sum + table.copied, 0);
  const rejected = result.tables.flatMap((table) => table.rejected);
  const rejections = rejected.length
    ? [
        '',
        chalk.red(`${rejected.length} row(s) rejected by staging, the rest written:`),
        ...rejected.map((row) => chalk.red(`  ${row.table} (${row.key}): ${row.message.replace(/\n/g, '\n    ')}`)),
      ]
    : [];
  return [
    renderTable(['Table', 'Rows copied', ...(upsert ? ['Inserted or updated'] : []), 'Time'], rows),
    '',
    chalk.green(
      `Synced ${result.tables.length} tables, ${formatCount(total)} rows${rejected.length ? ` (${formatCount(rejected.length)} rejected, not copied)` : ''}, in ${result.seconds.toFixed(1)}s ` +
        `(${result.mode}, via ${result.via}, ${result.method === 'replica' ? 'triggers and FK checks off' : 'foreign-key order'}` +
        `${result.retries ? `, ${result.retries} request(s) retried` : ''}).`,
    ),
    ...(result.backup ? [backupLine(result.backup)] : []),
    ...(result.pruned?.removed.length ? [prunedLine(result.pruned)] : []),
    ...result.notes.map((note) => chalk.yellow(note)),
    ...rejections,
  ].join('\n');
}

export function backupLine(backup: StagingBackup): string {
  const emptied = backup.tables - backup.upserted;
  const before = !backup.upserted ? 'replaced' : emptied ? 'replaced or upserted into' : 'upserted into';
  if (!backup.directory) return `No backup needed: the ${backup.tables} staging table(s) ${before} were empty.`;
  const taken = !backup.upserted ? 'before the replace' : emptied ? `before emptying ${emptied} and upserting into ${backup.upserted}` : 'before the upsert';
  const directory = printablePath(backup.directory);
  return (
    `Backup of ${formatCount(backup.tables)} staging tables (${formatCount(backup.rows)} rows) ${taken}: ${directory} ` +
    `— restore with npx tsx scripts/restore-staging.ts ${directory}`
  );
}

export function prunedLine(pruned: PrunedBackups): string {
  const count = pruned.removed.length;
  return `Pruned ${count} older backup${count === 1 ? '' : 's'} (keep ${pruned.keep}): ${pruned.removed.map(printablePath).join(', ')}`;
}
