// supasync.config.json: what a project syncs by default, named groups of
// tables, and options per table. Flags override it. A mistake in it stops the
// script with exit code 2 and the field's path.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.ts';

const tableOptions = z
  .object({
    mode: z.enum(['replace', 'upsert']).optional(),
    batchSize: z.number().int().positive().max(50_000).optional(),
    /** A SQL condition over the table's columns: only these rows are copied. */
    where: z.string().trim().min(1).optional(),
  })
  .strict();

const schema = z
  .object({
    schemas: z.array(z.string().min(1)).min(1).optional(),
    exclude: z.array(z.string().min(1)).optional(),
    groups: z.record(z.string().regex(/^[a-z0-9_-]+$/i, 'group names are letters, digits, _ and -'), z.array(z.string().min(1)).min(1)).optional(),
    tables: z.record(z.string().min(1), tableOptions).optional(),
    /** Supabase project refs supasync must never write to (production, above all). */
    protectedRefs: z.array(z.string().regex(/^[a-z0-9]+$/, 'a project ref is lowercase letters and digits')).optional(),
  })
  .strict();

export type TableOptions = z.infer<typeof tableOptions>;

export interface ProjectConfig {
  schemas: string[];
  exclude: string[];
  groups: Record<string, string[]>;
  tables: Record<string, TableOptions>;
  protectedRefs: string[];
  /** Where it came from, for messages. */
  source: string;
}

export const CONFIG_FILE = 'supasync.config.json';

/** The user's groups from their first scripts, there unless the file says otherwise. */
const DEFAULT_GROUPS: Record<string, string[]> = {
  chat: ['chat_conversations', 'chat_messages'],
  missing: ['code_embeddings', 'muva_content', 'guest_reservations'],
  'guest-reservations': ['guest_reservations'],
};

export function loadProjectConfig(cwd = process.cwd()): ProjectConfig {
  const path = join(cwd, CONFIG_FILE);
  if (!existsSync(path)) return { schemas: ['public'], exclude: [], groups: DEFAULT_GROUPS, tables: {}, protectedRefs: [], source: 'defaults' };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${CONFIG_FILE} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new UsageError(`${CONFIG_FILE} has ${problems.length === 1 ? 'a problem' : 'problems'}:\n${problems.join('\n')}`);
  }
  const config = parsed.data;
  return {
    schemas: config.schemas ?? ['public'],
    exclude: config.exclude ?? [],
    groups: { ...DEFAULT_GROUPS, ...config.groups },
    tables: config.tables ?? {},
    protectedRefs: config.protectedRefs ?? [],
    source: CONFIG_FILE,
  };
}

export function groupTables(config: ProjectConfig, group: string): string[] {
  const tables = config.groups[group];
  if (!tables) {
    throw new UsageError(`--group ${group}: no such group. Known groups: ${Object.keys(config.groups).join(', ')} (define more in ${CONFIG_FILE}).`);
  }
  return tables;
}
