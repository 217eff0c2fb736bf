// Put staging's tables back as a sync found them, from the backup it took;
// or list the backups there are.
import { CONFIRM_OPTIONS, parseFlags } from '../lib/cli/args.ts';
import { confirmer } from '../lib/cli/confirm.ts';
import { runScript } from '../lib/cli/run.ts';
import { loadDotenvFiles, readEnvironment, refuseProtectedStaging } from '../lib/config/env.ts';
import { DEFAULT_BACKUPS_KEPT, loadProjectConfig } from '../lib/config/file.ts';
import { UsageError } from '../lib/errors.ts';
import { renderBackupList } from '../lib/report/backups.ts';
import { formatCount } from '../lib/report/table.ts';
import { BACKUP_ROOT, readBackup } from '../lib/backup/manifest.ts';
import { latestBackupOf, listBackups } from '../lib/backup/store.ts';
import { refuseUnmarked } from '../lib/transport/sync-target.ts';
import { refuseOtherDatabase, restoreBackup } from '../lib/transport/postgres/restore.ts';

const HELP = `Usage: npx tsx scripts/restore-staging.ts <backup directory> [--yes]
       npx tsx scripts/restore-staging.ts latest [--yes]
       npx tsx scripts/restore-staging.ts --list

Puts staging's tables back as they were before a sync emptied them (replace)
or wrote into them (upsert), from the backup it took
(.supasync/backups/<time>-<staging>/, printed by the sync): tables emptied,
the saved rows written back, sequences set back. Rows written to those tables
since the backup are deleted, the rows an upsert inserted too. Production is
never opened.

\`latest\` restores the newest complete backup of the staging the variables
below point at, taken the way they reach it (see below).

Backups are private to you (directories 0700, files 0600): they hold
staging's personal data. A sync removes its backup when it fails before
staging changed; after one that succeeds, the newest ${DEFAULT_BACKUPS_KEPT} backups of that
staging are kept and older ones removed (supasync.config.json: "backups":
{"keep": N}).

A backup taken over the direct path is restored over it, in one staging
transaction: a failure leaves staging as it was. Needs SUPABASE_STAGING_DB_URL.

A backup taken over REST is restored over REST, batch by batch: NOT one
transaction, so a failure leaves staging part restored (run it again: it
empties the tables first). Needs SUPABASE_STAGING_URL and
SUPABASE_STAGING_SERVICE_ROLE_KEY.

Either way the variables (.env.local, .env or the shell) must point at the
database the backup came from; another is refused, and so is a staging
without supasync's sync-target mark or listed in protectedRefs.

  --list                 the backups under .supasync/backups/, newest first: when,
                         via which path, of which staging, tables and rows; one
                         without manifest.json is flagged incomplete (not restorable)
  --yes, -y              do not ask first (needed when not at a terminal)
  --debug                stack traces on errors
  -h, --help             this text

Exit codes: 0 restored, 1 failed, 2 usage or configuration error.`;

const OPTIONS = { ...CONFIRM_OPTIONS, list: { type: 'boolean' } } as const;

await runScript(async () => {
  const { values, positionals } = parseFlags(OPTIONS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.list) {
    if (positionals.length) throw new UsageError('--list takes no backup directory. See --help.');
    console.log(renderBackupList(BACKUP_ROOT, listBackups(BACKUP_ROOT)));
    return 0;
  }
  const [chosen, ...extra] = positionals;
  if (!chosen || extra.length) {
    throw new UsageError('Give one backup directory (e.g. .supasync/backups/2025-01-31T10-00-00.000Z-postgres), or latest. --list shows them; see --help.');
  }
  // A named directory is checked before the variables: a typo is the likelier mistake.
  const named = chosen === 'latest' ? null : readBackup(chosen);
  loadDotenvFiles();
  const { staging } = readEnvironment();
  const { directory, manifest } = named ? { directory: chosen, manifest: named } : latestBackupOf(BACKUP_ROOT, staging);
  if (!named) console.log(`The newest backup of this staging: ${directory}`);
  const overRest = manifest.via === 'rest';
  if (overRest && !(staging.url && staging.serviceRoleKey)) {
    throw new UsageError(
      'This backup was taken over REST and is restored over REST: set SUPABASE_STAGING_URL and SUPABASE_STAGING_SERVICE_ROLE_KEY (Dashboard > Project Settings > API).',
    );
  }
  if (!overRest && !staging.dbUrl) throw new UsageError('SUPABASE_STAGING_DB_URL is not set: a restore needs staging\'s connection string (Dashboard > Connect).');
  refuseProtectedStaging(staging, (await loadProjectConfig()).protectedRefs);
  await refuseUnmarked(staging, manifest.via ?? 'postgres');
  if (manifest.via === 'rest') {
    const { refuseOtherProject } = await import('../lib/transport/rest/restore.ts');
    refuseOtherProject(manifest, staging.url as string);
  } else {
    refuseOtherDatabase(manifest, staging.dbUrl as string);
  }
  const rows = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
  const question =
    `Restore ${manifest.tables.length} table(s) of staging (${manifest.staging.location}) to the backup of ${manifest.createdAt} ` +
    `(${formatCount(rows)} rows)? Their current rows are deleted.` +
    (overRest ? ' Over REST this is not one transaction: if it stops part way, staging is left part restored until you run it again.' : '');
  if (!(await confirmer(Boolean(values.yes))(question))) throw new UsageError('Nothing was changed: the restore was not confirmed.');
  if (manifest.via === 'rest') {
    // supabase-js is loaded only on this path, as in the sync.
    const { restoreOverRest } = await import('../lib/transport/rest/restore.ts');
    const restored = await restoreOverRest(staging.url as string, staging.serviceRoleKey as string, directory, manifest);
    console.log(
      `Restored ${formatCount(restored.tables)} staging tables (${formatCount(restored.rows)} rows) over REST from ${directory}, as they were at ${manifest.createdAt}` +
        `${restored.retries ? ` (${formatCount(restored.retries)} request(s) retried)` : ''}. Each batch committed on its own: it was not one transaction.`,
    );
    return 0;
  }
  const restored = await restoreBackup(staging.dbUrl as string, directory, manifest);
  console.log(
    `Restored ${formatCount(restored.tables)} staging tables (${formatCount(restored.rows)} rows) from ${directory}, as they were at ${manifest.createdAt}.`,
  );
  return 0;
});
