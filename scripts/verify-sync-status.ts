// Is staging equal to production? Row counts and content checksums, table by table.
import { VERIFY_DESCRIPTION } from '../lib/cli/commands.ts';
import { runScript } from '../lib/cli/run.ts';
import { runVerifyCommand } from '../lib/cli/verify-command.ts';

await runScript(() => runVerifyCommand({ name: 'npx tsx scripts/verify-sync-status.ts', description: VERIFY_DESCRIPTION }));
