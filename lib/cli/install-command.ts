// scripts/install-rpcs.ts: its flags, then lib/install/ does the rest.
import { installRpcs } from '../install/install-rpcs.ts';
import { parseCommand } from './command.ts';
import { confirmer } from './confirm.ts';

export interface InstallCommand {
  name: string;
  description: string;
  /** The command line after the command's name; process.argv's by default. */
  argv?: string[];
}

const AFTER = `It says which version of the functions it installs, and whether it upgrades
or reinstalls; it refuses to put older functions over newer ones (exit 2).

With the Supabase CLI, copy the migration files into your project's
supabase/migrations/ and run \`supabase db push\`; for staging, then run
  INSERT INTO supasync_private.sync_target (marked_by) VALUES ('you');

Exit codes: 0 installed (or removed), 1 failed, 2 usage or configuration error.`;

export async function runInstallCommand(command: InstallCommand): Promise<number> {
  const parsed = parseCommand(
    {
      ...command,
      usage: '--staging|--production [--mark-only|--uninstall] [--print] [--yes]',
      flags: ['production', 'staging', 'markOnly', 'uninstall', 'print', 'yes'],
      after: AFTER,
    },
    command.argv,
  );
  if (!parsed) return 0;
  console.log(await installRpcs({ ...parsed.flags, confirm: confirmer(Boolean(parsed.flags.yes)) }));
  return 0;
}
