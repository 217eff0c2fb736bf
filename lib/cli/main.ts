// `supasync <command> [options]`: the installed bin. A known command gets the
// rest of the line as its own script would; anything else (no command, a
// mistyped one, --help, --version) is answered here, by commander, which
// knows the commands' names and summaries and nothing more.
import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors.ts';
import { packageVersion, runningAsInstalledCommand, type CommandName } from '../invocation.ts';
import { commanderSentence } from './command.ts';
import { COMMANDS } from './commands.ts';
import { FLAGS } from './flags.ts';

const AFTER = `Each command's flags: supasync <command> --help. Configuration: .env.local,
then .env (or --env-file), and supasync.config.json (or --config).
The user's targeted syncs are groups of supasync.config.json:
  supasync sync --group chat --mode upsert
The docs: docs/ in the package (node_modules/supasync/docs/).`;

export async function runMain(argv: string[]): Promise<number> {
  runningAsInstalledCommand();
  const [first, ...rest] = argv;
  if (first && first in COMMANDS) return COMMANDS[first as CommandName].run(`supasync ${first}`, rest);
  const program = new Command('supasync')
    .usage('<command> [options]')
    .description('Copies a Supabase production database into staging, and proves staging equals production.')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  for (const [name, command] of Object.entries(COMMANDS)) program.command(name).description(command.summary);
  program.helpCommand(false);
  // Read by runScript before any parsing, so accepted (and listed) here too.
  program.addOption(FLAGS.color()).addOption(FLAGS.debug());
  program.version(packageVersion(), '--version', "print supasync's version").helpOption('-h, --help', 'this text');
  program.addHelpText('after', `\n${AFTER}`);
  if (!first) {
    console.error(program.helpInformation());
    throw new UsageError('Name a command: supasync sync, verify, restore or install-rpcs (supasync <command> --help).');
  }
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
    throw new UsageError(`${commanderSentence(error.message)} See supasync --help.`);
  }
  // Only global flags were given (supasync --debug): no command to run.
  throw new UsageError('Name a command: supasync sync, verify, restore or install-rpcs (supasync <command> --help).');
}
