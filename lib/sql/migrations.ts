// supasync's migrations, read from this checkout or the installed package:
// what install-rpcs.ts installs, and the one source of the SQL both paths
// run (shared.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../invocation.ts';

const migrationsDir = () => join(packageRoot(), 'supabase', 'migrations');

/** The SQL of one of our migrations, found by its name's ending (the timestamp varies). */
export function readMigration(suffix: string): { file: string; sql: string } {
  const file = migrationFiles().find((name) => name.endsWith(`${suffix}.sql`));
  if (!file) throw new Error(`supabase/migrations/*${suffix}.sql is missing from this checkout`);
  return { file, sql: readFileSync(join(migrationsDir(), file), 'utf8') };
}

export function migrationFiles(): string[] {
  return readdirSync(migrationsDir())
    .filter((name) => name.endsWith('.sql'))
    .sort();
}

/** Read once per process: a run asks for several bodies, some many times. */
let migrationTexts: string[] | undefined;
const texts = () => (migrationTexts ??= migrationFiles().map((file) => readFileSync(join(migrationsDir(), file), 'utf8')));

/** The migration file that creates function `public.<name>`, or null when none of ours does. */
export function migrationDefining(name: string): string | null {
  const creates = new RegExp(`CREATE (?:OR REPLACE )?FUNCTION public\\.${name}\\(`);
  const index = texts().findIndex((sql) => creates.test(sql));
  return index < 0 ? null : (migrationFiles()[index] ?? null);
}
const bodies = new Map<string, string>();

/**
 * The body of the function whose dollar-quote tag is `tag` (AS $tag$ ... $tag$),
 * in whichever migration defines it. Tags are unique across the files.
 */
export function functionBody(tag: string): string {
  const known = bodies.get(tag);
  if (known !== undefined) return known;
  for (const sql of texts()) {
    const body = new RegExp(`\\bAS \\$${tag}\\$([\\s\\S]*?)\\$${tag}\\$`).exec(sql)?.[1];
    if (body) {
      bodies.set(tag, body);
      return body;
    }
  }
  throw new Error(`no migration in supabase/migrations/ defines a function body between $${tag}$ markers`);
}
