// Installs supasync's SQL functions in a project, or prints them to paste
// into the dashboard's SQL editor; for staging, also marks it as the one
// database supasync may write into.
import { INSTALL_DESCRIPTION } from '../lib/cli/commands.ts';
import { runInstallCommand } from '../lib/cli/install-command.ts';
import { runScript } from '../lib/cli/run.ts';

await runScript(() => runInstallCommand({ name: 'npx tsx scripts/install-rpcs.ts', description: INSTALL_DESCRIPTION }));
