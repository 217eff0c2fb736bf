// Put staging's tables back as a replace sync found them, from the backup it took.
import { parseFlags } from '../lib/cli/args.ts';
import { confirmer } from '../lib/cli/confirm.ts';
import { runScript } from '../lib/cli/run.ts';
import { loadDotenvFiles, projectRef, readEnvironment } from '../lib/config/env.ts';
import { loadProjectConfig } from '../lib/config/file.ts';
import { UsageError } from '../lib/errors.ts';
import { formatCount } from '../lib/report/table.ts';
import { readBackup, refuseOtherDatabase, restoreBackup } from '../lib/transport/postgres/restore.ts';

const HELP = `Usage: npx tsx scripts/restore-staging.ts <backup directory> [--yes]

Puts staging's tables back as they were before a replace sync emptied them,
from the backup it took (.supasync/backups/<time>-<staging>/, printed by the
sync): in one staging transaction, tables emptied, the saved rows copied back,
sequences set back. A failure leaves staging as it was. Rows written to those
tables since the backup are deleted. Production is never opened.

Needs SUPABASE_STAGING_DB_URL (.env.local, .env or the shell), pointing at the
database the backup came from.

  --yes, -y              do not ask first (needed when not at a terminal)
  --debug                stack traces on errors
  -h, --help             this text

Exit codes: 0 restored, 1 failed (staging unchanged), 2 usage or configuration error.`;

await runScript(async () => {
  const { values, positionals } = parseFlags({
    yes: { type: 'boolean', short: 'y' },
    debug: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [directory, ...extra] = positionals;
  if (!directory || extra.length) throw new UsageError('Give one backup directory, e.g. .supasync/backups/2025-01-31T10-00-00.000Z-postgres. See --help.');
  const manifest = readBackup(directory);
  loadDotenvFiles();
  const { staging } = readEnvironment();
  if (!staging.dbUrl) throw new UsageError('SUPABASE_STAGING_DB_URL is not set: a restore needs staging\'s connection string (Dashboard > Connect).');
  const ref = projectRef(staging);
  if (ref && (await loadProjectConfig()).protectedRefs.includes(ref)) {
    throw new UsageError(`Staging is project ${ref}, which supasync.config.json lists in protectedRefs: supasync never writes to it.`);
  }
  refuseOtherDatabase(manifest, staging.dbUrl);
  const rows = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
  const question =
    `Restore ${manifest.tables.length} table(s) of staging (${manifest.staging.location}) to the backup of ${manifest.createdAt} ` +
    `(${formatCount(rows)} rows)? Their current rows are deleted.`;
  if (!(await confirmer(Boolean(values.yes))(question))) throw new UsageError('Nothing was changed: the restore was not confirmed.');
  const restored = await restoreBackup(staging.dbUrl, directory, manifest);
  console.log(
    `Restored ${formatCount(restored.tables)} staging tables (${formatCount(restored.rows)} rows) from ${directory}, as they were at ${manifest.createdAt}.`,
  );
  return 0;
});
