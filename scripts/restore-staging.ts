// Put staging's tables back as a sync found them, from the backup it took;
// or list the backups there are.
import { RESTORE_DESCRIPTION } from '../lib/cli/commands.ts';
import { runRestoreCommand } from '../lib/cli/restore-command.ts';
import { runScript } from '../lib/cli/run.ts';

await runScript(() => runRestoreCommand({ name: 'npx tsx scripts/restore-staging.ts', description: RESTORE_DESCRIPTION }));
