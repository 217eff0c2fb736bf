// supasync's migrations, read from this checkout: what install-rpcs.ts
// installs, and the one source of the SQL both paths run (shared.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../supabase/migrations/', import.meta.url));

/** The SQL of one of our migrations, found by its name's ending (the timestamp varies). */
export function readMigration(suffix: string): { file: string; sql: string } {
  const file = migrationFiles().find((name) => name.endsWith(`${suffix}.sql`));
  if (!file) throw new Error(`supabase/migrations/*${suffix}.sql is missing from this checkout`);
  return { file, sql: readFileSync(`${MIGRATIONS_DIR}${file}`, 'utf8') };
}

export function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((name) => name.endsWith('.sql'))
    .sort();
}

/** Read once per process: a run asks for several bodies, some many times. */
let migrationTexts: string[] | undefined;
const bodies = new Map<string, string>();

/**
 * The body of the function whose dollar-quote tag is `tag` (AS $tag$ ... $tag$),
 * in whichever migration defines it. Tags are unique across the files.
 */
export function functionBody(tag: string): string {
  const known = bodies.get(tag);
  if (known !== undefined) return known;
  migrationTexts ??= migrationFiles().map((file) => readFileSync(`${MIGRATIONS_DIR}${file}`, 'utf8'));
  for (const sql of migrationTexts) {
    const body = new RegExp(`\\bAS \\$${tag}\\$([\\s\\S]*?)\\$${tag}\\$`).exec(sql)?.[1];
    if (body) {
      bodies.set(tag, body);
      return body;
    }
  }
  throw new Error(`no migration in supabase/migrations/ defines a function body between $${tag}$ markers`);
}
