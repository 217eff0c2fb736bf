// Flags shared by the scripts. node:util's parseArgs is all a handful of
// flags needs; unknown flags are usage errors (exit 2), not ignored.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Via } from '../config/env.ts';
import { MAX_CONCURRENCY } from '../connect/request-limit.ts';
import { UsageError } from '../errors.ts';
import type { ProjectConfig } from '../config/file.ts';
import type { Selection } from '../plan/select.ts';
import { SYNC_MODE_HELP, SYNC_MODES, type SyncMode } from '../plan/mode.ts';

export const COMMON_OPTIONS = {
  tables: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  schemas: { type: 'string', multiple: true },
  via: { type: 'string' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** The flags of a script that asks before it writes and chooses no tables (install-rpcs, restore-staging). */
export const CONFIRM_OPTIONS = {
  yes: { type: 'boolean', short: 'y' },
  debug: COMMON_OPTIONS.debug,
  help: COMMON_OPTIONS.help,
} as const satisfies ParseArgsConfig['options'];

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(options: T, argv = process.argv.slice(2)) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}. See --help.`);
  }
}

/**
 * `--tables a,b --tables c`-style lists, flattened. A flag given with nothing
 * in it (`--tables "$UNSET"`, `--tables ,`) is refused: read as "no choice",
 * it would select every table.
 */
export function listFlag(flag: string, values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const list = values.flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
  if (!list.length) throw emptyFlag(flag);
  return list;
}

/** A string flag given as blank, refused like an empty list. */
export function nameFlag(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!value.trim()) throw emptyFlag(flag);
  return value.trim();
}

function emptyFlag(flag: string): UsageError {
  return new UsageError(
    `--${flag} was given nothing (an empty or unset shell variable?). Name what you mean, or leave --${flag} out. Nothing was changed.`,
  );
}

export function viaFlag(value: string | undefined): Via | undefined {
  if (value === undefined) return undefined;
  if (value === 'rest' || value === 'postgres') return value;
  throw new UsageError(`--via ${value}: use --via rest or --via postgres`);
}

export const SYNC_OPTIONS = {
  ...COMMON_OPTIONS,
  mode: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  'allow-drift': { type: 'boolean' },
  strict: { type: 'boolean' },
  'with-parents': { type: 'boolean' },
  'allow-orphans': { type: 'boolean' },
  group: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'no-backup': { type: 'boolean' },
  concurrency: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Requests at once to each project over REST; undefined: the default. */
export function concurrencyFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_CONCURRENCY) {
    throw new UsageError(
      `--concurrency ${value}: use a whole number from 1 to ${MAX_CONCURRENCY} (requests at once to each project over REST; the direct path holds one connection to each side)`,
    );
  }
  return n;
}

/** Which tables: the flags, else the config's schemas and exclusions. */
export function selectionFrom(
  values: { schemas?: string[]; exclude?: string[] },
  config: ProjectConfig,
  tables: string[] | undefined,
): Selection {
  return {
    schemas: listFlag('schemas', values.schemas) ?? config.schemas,
    tables,
    exclude: listFlag('exclude', values.exclude) ?? (tables ? undefined : config.exclude),
    options: config.tables,
  };
}

export function modeFlag(value: string | undefined, fallback: SyncMode): SyncMode {
  if (value === undefined) return fallback;
  const mode = SYNC_MODES.find((known) => known === value);
  if (mode) return mode;
  throw new UsageError(`--mode ${value}: use ${SYNC_MODES.map((known) => `--mode ${known} (${SYNC_MODE_HELP[known]})`).join(' or ')}`);
}
