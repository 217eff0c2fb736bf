// scripts/restore-staging.ts: --list shows the backups; a directory, or
// `latest`, is restored (lib/restore/) after the question.
import { BACKUP_ROOT } from '../backup/manifest.ts';
import { listBackups } from '../backup/store.ts';
import { DEFAULT_BACKUPS_KEPT } from '../config/file.ts';
import { UsageError } from '../errors.ts';
import { renderBackupList } from '../report/backups.ts';
import { restoreStaging } from '../restore/restore-staging.ts';
import { parseCommand } from './command.ts';
import { confirmer } from './confirm.ts';

export interface RestoreCommand {
  name: string;
  description: string;
  /** The command line after the command's name; process.argv's by default. */
  argv?: string[];
}

const AFTER = `\`latest\` restores the newest complete backup of the staging the variables
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
SUPABASE_STAGING_SERVICE_ROLE_KEY (or SUPABASE_STAGING_SECRET_KEY).

Either way the variables (.env.local, .env or the shell) must point at the
database the backup came from; another is refused, and so is a staging
without supasync's sync-target mark or listed in protectedRefs.

Exit codes: 0 restored, 1 failed, 2 usage or configuration error, 130 stopped (Ctrl-C).`;

export async function runRestoreCommand(command: RestoreCommand): Promise<number> {
  const parsed = parseCommand(
    {
      ...command,
      usage: `<backup directory> [--yes]\n       ${command.name} latest [--yes]\n       ${command.name} --list`,
      flags: ['list', 'yes'],
      // Any number, so that a second one is refused in our words, not commander's.
      argument: { name: '[backup...]', description: 'a backup directory (.supasync/backups/<time>-<staging>/), or latest' },
      after: AFTER,
    },
    command.argv,
  );
  if (!parsed) return 0;
  const { flags, args } = parsed;
  if (flags.list) {
    if (args.length) throw new UsageError('--list takes no backup directory. See --help.');
    console.log(renderBackupList(BACKUP_ROOT, await listBackups(BACKUP_ROOT)));
    return 0;
  }
  const [chosen, ...extra] = args;
  if (!chosen || extra.length) {
    throw new UsageError('Give one backup directory (e.g. .supasync/backups/2025-01-31T10-00-00.000Z-postgres), or latest. --list shows them; see --help.');
  }
  const summary = await restoreStaging({ chosen, root: BACKUP_ROOT, confirm: confirmer(Boolean(flags.yes)), say: (line) => console.log(line) });
  console.log(summary);
  return 0;
}
