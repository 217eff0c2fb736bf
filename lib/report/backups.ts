// What `restore-staging.ts --list` shows: the backups under .supasync/backups/,
// newest first, the incomplete ones said to be so.
import type { StoredBackup } from '../backup/store.ts';
import { renderTable } from './table.ts';
import { formatCount } from '../counts.ts';
import { commandLine } from '../invocation.ts';

export function renderBackupList(root: string, backups: StoredBackup[]): string {
  if (!backups.length) return `No backups under ${root}/ (a replace or upsert takes one unless run with --no-backup).`;
  const rows = backups.map((backup) => {
    const when = backup.takenAt
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' UTC');
    const { manifest } = backup;
    if (!manifest) {
      const state =
        backup.state === 'incomplete'
          ? 'INCOMPLETE: no manifest.json (stopped while writing, or still being written); not restorable'
          : `DAMAGED: ${backup.problem}`;
      return [backup.directory, when, '-', state, '-', '-'];
    }
    const rowCount = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
    // A re-sync saves of a table only the key ranges it writes: its rows are those, not the table's.
    const byRange = manifest.tables.filter((table) => table.within).length;
    const tables = `${formatCount(manifest.tables.length)}${byRange ? ` (${formatCount(byRange)} by key range)` : ''}`;
    return [backup.directory, when, manifest.via ?? 'postgres', manifest.staging.location, tables, formatCount(rowCount)];
  });
  return [
    renderTable(['Backup', 'Taken', 'Via', 'Staging', 'Tables', 'Rows'], rows),
    '',
    `Restore one: ${commandLine('restore', '<backup>')}; the newest of the staging your environment points at: ${commandLine('restore', 'latest')}`,
  ].join('\n');
}
