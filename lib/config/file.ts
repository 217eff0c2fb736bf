// supasync.config.json: what a project syncs by default, named groups of
// tables, and options per table. Flags override it. A mistake in it stops the
// script with exit code 2 and the field's path.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { UsageError } from '../errors.ts';
import type { ConfigFile } from './file-schema.ts';
import type { MaskPreset, MaskRuleInput } from './mask-schema.ts';
import { nearNames } from './near-names.ts';

export type TableOptions = NonNullable<ConfigFile['tables']>[string];

export interface ProjectConfig {
  schemas: string[];
  exclude: string[];
  groups: Record<string, string[]>;
  tables: Record<string, TableOptions>;
  protectedRefs: string[];
  /** Backups of one staging kept after a successful run (the newest, its own included). */
  backups: { keep: number };
  /** --mode incremental's safety overlap (docs/usage.md#incremental). */
  incremental: { overlapSeconds: number };
  /** Masking rules as written (docs/masking.md), keyed `table.column` or `schema.table.column` (a jsonb path may follow). */
  mask: Record<string, MaskRuleInput>;
  /** Built-in rules the file asks for under its own ("supabase"); null: none. */
  maskPreset: MaskPreset | null;
  /** The files a sync copies and a verify compares unless flags say otherwise; null: none (docs/storage.md). */
  storage: StorageConfig | null;
  /** The directory a rule's `module` path is relative to: the config file's. */
  directory: string;
  /** Where it came from, for messages. */
  source: string;
}

export interface StorageConfig {
  /** Whether runs copy and compare files without being asked (the section's "files", true unless it says false). */
  files: boolean;
  /** Buckets by id; every bucket of production when absent. */
  buckets?: string[];
  excludeBuckets: string[];
}

export const CONFIG_FILE = 'supasync.config.json';

/** Enough to go back a few runs; few enough that copies of staging's personal data do not pile up. */
export const DEFAULT_BACKUPS_KEPT = 5;
/** Past the longest a transaction writing production usually stays open; see docs/usage.md#incremental. */
export const DEFAULT_OVERLAP_SECONDS = 300;

/** The user's groups from their first scripts, there unless the file says otherwise. */
const DEFAULT_GROUPS: Record<string, string[]> = {
  chat: ['chat_conversations', 'chat_messages'],
  missing: ['code_embeddings', 'muva_content', 'guest_reservations'],
  'guest-reservations': ['guest_reservations'],
};

let configFile: string | undefined;

/** --config: this file (which must exist) instead of supasync.config.json in the working directory. */
export function useConfigFile(path: string): void {
  configFile = path;
}

/** The project's config file as messages name it: supasync.config.json, or the file --config gave. */
export function configFileName(cwd = process.cwd()): string {
  return configFile ? relative(cwd, configFile) || configFile : CONFIG_FILE;
}

export async function loadProjectConfig(cwd = process.cwd()): Promise<ProjectConfig> {
  const path = configFile ?? join(cwd, CONFIG_FILE);
  const name = configFileName(cwd);
  if (!existsSync(path)) {
    return {
      schemas: ['public'],
      exclude: [],
      groups: DEFAULT_GROUPS,
      tables: {},
      protectedRefs: [],
      backups: { keep: DEFAULT_BACKUPS_KEPT },
      incremental: { overlapSeconds: DEFAULT_OVERLAP_SECONDS },
      mask: {},
      maskPreset: null,
      storage: null,
      directory: cwd,
      source: 'defaults',
    };
  }
  let json: unknown;
  try {
    // Windows editors may save UTF-8 with a byte-order mark, which JSON.parse takes for a stray character.
    json = JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new UsageError(`${name} is not valid JSON: ${(error as Error).message}`);
  }
  // zod is loaded only when there is a file to check: most runs have none, and start faster.
  const { configFileSchema, keysAt } = await import('./file-schema.ts');
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) =>
        `  ${issuePath(issue.path) || '(top level)'}: ${issue.code === 'unrecognized_keys' ? unknownKeys(issue.keys, keysAt(issue.path)) : issue.message}`,
    );
    throw new UsageError(`${name} has ${problems.length === 1 ? 'a problem' : 'problems'}:\n${problems.join('\n')}`);
  }
  const config = parsed.data;
  return {
    schemas: config.schemas ?? ['public'],
    exclude: config.exclude ?? [],
    groups: { ...DEFAULT_GROUPS, ...config.groups },
    tables: config.tables ?? {},
    protectedRefs: config.protectedRefs ?? [],
    backups: { keep: config.backups?.keep ?? DEFAULT_BACKUPS_KEPT },
    incremental: { overlapSeconds: config.incremental?.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS },
    mask: config.mask ?? {},
    maskPreset: config.maskPreset ?? null,
    storage: config.storage
      ? {
          files: config.storage.files ?? true,
          ...(config.storage.buckets ? { buckets: config.storage.buckets } : {}),
          excludeBuckets: config.storage.excludeBuckets ?? [],
        }
      : null,
    directory: dirname(path),
    source: name,
  };
}

/**
 * Keys the file may not hold there, each with the one a typo meant
 * (`"changedColum"`: did you mean "changedColumn"?), else with the keys it
 * may hold: a misspelt key left unsaid would drop its option silently.
 */
function unknownKeys(keys: string[], known: string[]): string {
  const meant = keys.map((key) => nearNames(key, known)[0]);
  const named = keys.map((key, i) => (meant[i] ? `"${key}" (did you mean "${meant[i]}"?)` : `"${key}"`));
  const listed = meant.includes(undefined) && known.length ? `. The keys here: ${known.join(', ')}` : '';
  return `unknown ${keys.length === 1 ? 'key' : 'keys'} ${named.join(', ')}${listed}`;
}

/** A field's path as it reads in the file: a key holding dots (a mask rule's `auth.users.email`) quoted. */
function issuePath(path: PropertyKey[]): string {
  return path.map((part, i) => (typeof part === 'string' && /[.\s]/.test(part) ? `["${part}"]` : `${i ? '.' : ''}${String(part)}`)).join('');
}

export function groupTables(config: ProjectConfig, group: string): string[] {
  const tables = Object.hasOwn(config.groups, group) ? config.groups[group] : undefined;
  if (!tables) {
    throw new UsageError(`--group ${group}: no such group. Known groups: ${Object.keys(config.groups).join(', ')} (define more in ${CONFIG_FILE}).`);
  }
  return tables;
}
