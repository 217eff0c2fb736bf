// Copy production into staging: every table, chosen tables or a group.
import { SYNC_DESCRIPTION } from '../lib/cli/commands.ts';
import { runScript } from '../lib/cli/run.ts';
import { runSyncCommand } from '../lib/cli/sync-command.ts';

await runScript(() => runSyncCommand({ name: 'npx tsx scripts/sync.ts', description: SYNC_DESCRIPTION, mode: 'replace', verify: false, choosesTables: true }));
