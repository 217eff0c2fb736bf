// Where supasync's own files are, and how the person at the terminal runs
// it. The same code runs from a clone (npx tsx scripts/sync.ts) and bundled
// into the installed package (npx supasync sync): a message that says what
// to run next names the command that person would type.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type CommandName = 'sync' | 'verify' | 'restore' | 'install-rpcs';

const SCRIPT: Record<CommandName, string> = {
  sync: 'scripts/sync.ts',
  verify: 'scripts/verify-sync-status.ts',
  restore: 'scripts/restore-staging.ts',
  'install-rpcs': 'scripts/install-rpcs.ts',
};

let installed = false;

/** Called by the `supasync` bin before anything else: messages then name its subcommands. */
export function runningAsInstalledCommand(): void {
  installed = true;
}

/** `npx tsx scripts/install-rpcs.ts --staging`, or `npx supasync install-rpcs --staging` from the installed package. */
export function commandLine(command: CommandName, args = ''): string {
  const rest = args ? ` ${args}` : '';
  return installed ? `npx supasync ${command}${rest}` : `npx tsx ${SCRIPT[command]}${rest}`;
}

/**
 * One argument as a shell reads it back whole: bare where it holds nothing a
 * shell reads otherwise, else in single quotes. A suggested command names
 * tables and paths the person pastes as they are.
 */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_.,/:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

let root: string | undefined;

/**
 * The directory holding supasync's package.json: from lib/ in a clone, from
 * dist/ (or a chunk below it) once bundled, so found by walking up rather
 * than by a fixed number of `..`.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'supasync') return (root = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`supasync's package.json not found above ${fileURLToPath(import.meta.url)}: is the package installed whole?`);
    dir = parent;
  }
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
