// Every flag a script takes, declared once: its help, its type, its choices
// and its check. A script names the flags it takes (command.ts); its --help
// is generated from these declarations, so the two cannot drift apart.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option } from 'commander';
import { DEFAULT_BACKUPS_KEPT } from '../config/file.ts';
import type { Via } from '../config/env.ts';
import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY } from '../connect/request-limit.ts';
import { UsageError } from '../errors.ts';
import { reportFormat } from '../report/document/format.ts';
import { MASK_PRESETS, type MaskPreset } from '../config/mask-presets.ts';
import { SYNC_MODE_HELP, SYNC_MODES, type SyncMode } from '../plan/mode.ts';

// Keyed by the name commander gives each value (command.ts checks it): `--dry-run` is dryRun, `--no-backup` backup.
export const FLAGS = {
  mode: () =>
    new Option('--mode <mode>', SYNC_MODES.map((mode) => `${mode}: ${SYNC_MODE_HELP[mode]}${mode === 'replace' ? ' (emptied first)' : ''}`).join('; ')).choices(
      SYNC_MODES,
    ),
  tables: () => new Option('--tables <a,b>', 'only these tables (name or schema.name); repeatable').argParser(listOf('tables')),
  group: () => new Option('--group <name>', 'a group of tables from supasync.config.json (chat, missing, ...)').argParser(nameOf('group')),
  exclude: () => new Option('--exclude <a,b>', 'leave these tables out').argParser(listOf('exclude')),
  schemas: () => new Option('--schemas <public,x>', "schemas to copy or compare (default: public, or supasync.config.json's)").argParser(listOf('schemas')),
  via: () =>
    new Option('--via <path>', 'how to reach the databases (default: postgres when both SUPABASE_*_DB_URL are set, else rest)').choices(['rest', 'postgres']),
  concurrency: () =>
    new Option(
      '--concurrency <n>',
      `at most n requests at once to each project over REST, so at most n connections (1-${MAX_CONCURRENCY}, default ${DEFAULT_CONCURRENCY}: up to six tables at a time); the direct path always holds one connection to each side. With --storage also the files in flight at once (default 16)`,
    ).argParser(concurrency),
  withParents: () => new Option('--with-parents', 'also copy the rows the chosen rows reference, and only those'),
  allowOrphans: () => new Option('--allow-orphans', 'copy even when staging lacks referenced rows'),
  unmask: () =>
    new Option(
      '--unmask',
      "write production's raw values into columns staging holds masked (an earlier sync masked them); without it such a run is refused, naming them",
    ),
  dryRun: () =>
    new Option(
      '--dry-run',
      "print the plan (tables, order, keys, drift, sequences), make the checks the run makes before writing (parents, orphans a replace would leave, what staging's role may do), exit as it would, and change nothing",
    ),
  backup: () =>
    new Option(
      '--no-backup',
      `do not first save the staging tables a replace empties or an upsert overwrites to .supasync/backups/ (private to you; the newest ${DEFAULT_BACKUPS_KEPT} of a staging kept, supasync.config.json backups.keep; restore with restore-staging.ts or supasync restore, --list shows them)`,
    ),
  mask: () =>
    new Option(
      '--mask <preset>',
      "mask personal data with a preset's rules, besides supasync.config.json's \"mask\" (supabase: auth.users and auth.identities, every user's password set to one test password, and the tables keyed by a user's id such as public.profiles; needs SUPASYNC_MASK_SECRET; docs/masking.md)",
    ).choices(MASK_PRESETS),
  allowDrift: () => new Option('--allow-drift', 'when the schemas differ, copy (sync) or compare (verify) the columns both sides share'),
  strict: () => new Option('--strict', 'stop at the first row staging rejects (REST); without it such rows are reported by key and the rest is written'),
  report: () =>
    new Option(
      '--report <file>',
      "also write the run to a file to read or share, Markdown (.md) or a self-contained HTML page (.html): the plan, each table's rows, time and rows/s, backups, verify's differing keys, a timing chart; written also when the run fails (docs/report.md)",
    ).argParser(reportFile),
  auditMasking: () =>
    new Option(
      '--audit-masking',
      "instead of comparing, check that no raw production value of a masked column is in staging's column: every value compared through hashes, each found named by table, column and key (exit 1)",
    ),
  countsOnly: () => new Option('--counts-only', 'compare row counts only (faster, blind to changed values)'),
  keys: () => new Option('--keys <n>', 'differing keys to list per table').default(10).argParser(wholeNumber('keys')),
  list: () =>
    new Option(
      '--list',
      'the backups under .supasync/backups/, newest first: when, via which path, of which staging, tables and rows; one without manifest.json is flagged incomplete (not restorable)',
    ),
  production: () => new Option('--production', 'the read-only functions (catalog, row pages, counts), through SUPABASE_PROD_DB_URL'),
  staging: () =>
    new Option(
      '--staging',
      'those plus the write functions, and marks staging as a sync target, through SUPABASE_STAGING_DB_URL. supasync writes (sync, restore) only into a database with that mark, on both paths, and never reads a marked database as production',
    ),
  markOnly: () => new Option('--mark-only', 'with --staging: only mark it, install no function (enough for the direct path, SUPABASE_*_DB_URL)'),
  uninstall: () =>
    new Option(
      '--uninstall',
      "remove supasync's functions (and, from staging, the sync-target mark and the private schema): the database as before supasync, its data untouched",
    ),
  print: () => new Option('--print', "print the SQL instead, to paste into the dashboard's SQL editor"),
  yes: () => new Option('-y, --yes', 'do not ask first; the question names what would change (needed when not at a terminal)'),
  json: () => new Option('--json', 'machine-readable output on stdout, errors included'),
  storage: () => [
    new Option(
      '--storage',
      "also copy the files of every bucket through the Storage API (needs both projects' URL and service key, on either path): buckets made like production's, missing and changed files streamed, staging's extra files removed in replace and mirror; storage.objects' and storage.buckets' rows are then Storage's to write, not the row copy's, and each file's owner and custom metadata are then set to production's (verify: compare the files and their owners too). Default: supasync.config.json's \"storage\" section",
    ),
    new Option('--no-storage', 'leave the files alone this once, though supasync.config.json\'s "storage" section asks for them'),
  ],
  buckets: () => new Option('--buckets <a,b>', 'only these buckets (implies --storage)').argParser(listOf('buckets')),
  excludeBuckets: () => new Option('--exclude-buckets <a,b>', 'leave these buckets out (implies --storage)').argParser(listOf('exclude-buckets')),
  verify: () => new Option('--verify', 'then verify the synced tables as verify does (exit 1 when staging differs)'),
  envFile: () =>
    new Option(
      '--env-file <path>',
      'read the variables from this file instead of .env.local and .env (one pair of projects per file); repeatable, the first file wins',
    ).argParser(pathsOf('env-file')),
  config: () =>
    new Option('--config <path>', 'the configuration file (default: supasync.config.json here); rule modules are found beside it').argParser(pathOf('config')),
  color: () => new Option('--no-color', 'no colour in the output (as does NO_COLOR=1), even at a terminal or with FORCE_COLOR'),
  debug: () => new Option('--debug', 'stack traces on errors'),
} satisfies Record<string, () => Option | Option[]>;

export type FlagName = keyof typeof FLAGS;

/** What the flags hold once parsed and checked: each key as commander names it (camelCase, `--no-x` as `x: false`). */
export interface FlagValues {
  mode?: SyncMode;
  tables?: string[];
  group?: string;
  exclude?: string[];
  schemas?: string[];
  via?: Via;
  concurrency?: number;
  withParents?: boolean;
  allowOrphans?: boolean;
  unmask?: boolean;
  dryRun?: boolean;
  backup?: boolean;
  allowDrift?: boolean;
  mask?: MaskPreset;
  strict?: boolean;
  report?: string;
  countsOnly?: boolean;
  auditMasking?: boolean;
  keys?: number;
  list?: boolean;
  production?: boolean;
  staging?: boolean;
  markOnly?: boolean;
  uninstall?: boolean;
  print?: boolean;
  yes?: boolean;
  json?: boolean;
  verify?: boolean;
  storage?: boolean;
  buckets?: string[];
  excludeBuckets?: string[];
  envFile?: string[];
  config?: string;
  color?: boolean;
  debug?: boolean;
}

// FlagValues names the same flags as FLAGS: this stops compiling when one is added to one and not the other.
const sameFlags: [keyof FlagValues, FlagName] extends [FlagName, keyof FlagValues] ? true : never = true;
void sameFlags;

/**
 * `--tables a,b --tables c`-style lists, flattened. A flag given with nothing
 * in it (`--tables "$UNSET"`, `--tables ,`) is refused: read as "no choice",
 * it would select every table.
 */
export function listOf(flag: string): (value: string, previous?: string[]) => string[] {
  return (value, previous) => {
    const list = splitOutsideQuotes(value)
      .map((item) => item.trim())
      .filter(Boolean);
    if (!list.length) throw emptyFlag(flag);
    return [...(previous ?? []), ...list];
  };
}

/** `a,"b,c",d` into its items: a comma inside double quotes (a table named with one, written as SQL quotes it) is the name's. */
function splitOutsideQuotes(value: string): string[] {
  const items = [''];
  let quoted = false;
  for (const char of value) {
    if (char === '"') quoted = !quoted;
    if (char === ',' && !quoted) items.push('');
    else items[items.length - 1] += char;
  }
  return items;
}

/** A name given as blank, refused like an empty list. */
function nameOf(flag: string): (value: string) => string {
  return (value) => {
    if (!value.trim()) throw emptyFlag(flag);
    return value.trim();
  };
}

function emptyFlag(flag: string): UsageError {
  return new UsageError(`--${flag} was given nothing (an empty or unset shell variable?). Name what you mean, or leave --${flag} out. Nothing was changed.`);
}

/** Requests at once to each project over REST. */
function concurrency(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_CONCURRENCY) {
    throw new UsageError(
      `--concurrency ${value}: use a whole number from 1 to ${MAX_CONCURRENCY} (requests at once to each project over REST; the direct path holds one connection to each side)`,
    );
  }
  return n;
}

/** A --report file: its name says the format, checked now rather than once the run is over. */
function reportFile(value: string): string {
  const file = nameOf('report')(value);
  reportFormat(file);
  return file;
}

function wholeNumber(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new UsageError(`--${flag} ${value}: give a whole number`);
    return Number(value);
  };
}

/** A file the run reads: it must be there, or the run would quietly fall back to another. */
function pathOf(flag: string): (value: string) => string {
  return (value) => {
    const path = resolve(nameOf(flag)(value));
    if (!existsSync(path)) throw new UsageError(`--${flag} ${value}: no such file (looked for ${path}). Nothing was changed.`);
    return path;
  };
}

function pathsOf(flag: string): (value: string, previous?: string[]) => string[] {
  return (value, previous) => [...(previous ?? []), pathOf(flag)(value)];
}
