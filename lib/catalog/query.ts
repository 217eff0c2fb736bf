import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../supabase/migrations/', import.meta.url));

/** The SQL of one of our migrations, found by its name's ending (the timestamp varies). */
export function readMigration(suffix: string): { file: string; sql: string } {
  const file = readdirSync(MIGRATIONS_DIR).find((name) => name.endsWith(`${suffix}.sql`));
  if (!file) throw new Error(`supabase/migrations/*${suffix}.sql is missing from this checkout`);
  return { file, sql: readFileSync(`${MIGRATIONS_DIR}${file}`, 'utf8') };
}

/**
 * The catalog query, taken from the body of the migration's function so the
 * direct path and the RPC cannot drift apart.
 */
export function catalogQuery(): string {
  const { file, sql } = readMigration('_supasync_read');
  const body = /\bAS \$catalog\$([\s\S]*?)\$catalog\$/.exec(sql)?.[1];
  if (!body) throw new Error(`${file} has no function body between $catalog$ markers`);
  return body;
}
