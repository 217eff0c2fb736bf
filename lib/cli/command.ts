// A script's command line: the flags it takes (flags.ts), parsed by
// commander, which writes --help from those declarations, answers --version
// and names the nearest flag to a mistyped one. Every mistake on the command
// line is a UsageError (exit 2), printed by runScript like any other.
import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors.ts';
import { packageVersion } from '../invocation.ts';
import { useEnvFiles } from '../config/env.ts';
import { useConfigFile } from '../config/file.ts';
import { FLAGS, type FlagName, type FlagValues } from './flags.ts';

export interface CommandDeclaration {
  /** The script as a user runs it: npx tsx scripts/sync.ts */
  name: string;
  /** What follows the name in the usage line: [options] [table ...] */
  usage: string;
  description: string;
  flags: FlagName[];
  /** A flag's text where this command does something else with it than the others (verify's --storage compares). */
  describe?: Partial<Record<FlagName, string>>;
  /** Of the flags, those taken only to be refused with a sentence of the command's own: left out of --help. */
  refusedFlags?: FlagName[];
  /** Plain arguments, commander's way (`[tables...]`), with what they are; none: plain arguments are refused. */
  argument?: { name: string; description: string };
  /** Paragraphs after the flags: what the flags leave unsaid, and the exit codes. */
  after: string;
}

export interface ParsedCommand {
  flags: FlagValues;
  args: string[];
}

// Every script has these; runScript reads --debug and --no-color before any parsing.
const EVERY_SCRIPT: FlagName[] = ['envFile', 'config', 'color', 'debug'];

/** The flags and arguments given, or null when --help or --version answered (exit 0). */
export function parseCommand(declaration: CommandDeclaration, argv: string[] = process.argv.slice(2)): ParsedCommand | null {
  const command = declare(declaration);
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return null;
    throw new UsageError(`${commanderSentence(error.message)} See --help.`);
  }
  const flags = command.opts<FlagValues>();
  // Where the variables and the configuration come from, settled before anything reads them.
  if (flags.envFile) useEnvFiles(flags.envFile);
  if (flags.config) useConfigFile(flags.config);
  return { flags, args: command.args };
}

function declare(declaration: CommandDeclaration): Command {
  const command = new Command(declaration.name)
    .usage(declaration.usage)
    .description(declaration.description)
    .showSuggestionAfterError(true)
    .exitOverride()
    // runScript prints the error (red, or as JSON with --json): commander only throws it.
    .configureOutput({ outputError: () => undefined });
  if (declaration.argument) command.argument(declaration.argument.name, declaration.argument.description);
  const taken = new Set<FlagName>([...declaration.flags, ...EVERY_SCRIPT]);
  for (const flag of taken) {
    // A flag and its negation (--storage, --no-storage) set one value.
    for (const [index, option] of [FLAGS[flag]()].flat().entries()) {
      const own = declaration.describe?.[flag];
      if (own && index === 0) option.description = own;
      // A declaration whose key is not the value's name would be read as never given.
      if (option.attributeName() !== flag)
        throw new Error(`lib/cli/flags.ts: ${option.flags} is declared as ${flag}, but its value is ${option.attributeName()}`);
      command.addOption(declaration.refusedFlags?.includes(flag) ? option.hideHelp() : option);
    }
  }
  command.version(packageVersion(), '--version', "print supasync's version").helpOption('-h, --help', 'this text');
  command.addHelpText('after', `\n${declaration.after}`);
  return command;
}

/** commander's "error: unknown option '--tabels'\n(Did you mean --tables?)" as one line of ours. */
export function commanderSentence(message: string): string {
  const text = message
    .replace(/^error: /, '')
    .replace(/\n\((Did you mean [^)]*)\)/, '. $1')
    .trim();
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.?)]$/.test(text) ? '' : '.'}`;
}
