// Reading a catalog, directly or over REST. Both run the same query (see
// the $catalog$ function of *_supasync_read.sql: lib/sql/shared.ts), so the
// two results are equal for the same database.
import type { SupabaseClient } from '@supabase/supabase-js';
import type pg from 'pg';
import { refusedKeyMessage, type Side } from '../config/env.ts';
import { DatabaseError, describeError, describeUnreachable } from '../errors.ts';
import { readMigration } from '../sql/migrations.ts';
import { runShared } from '../sql/shared.ts';
import type { Catalog } from './types.ts';
import { commandLine } from '../invocation.ts';

/**
 * Which tables a catalog lists (functions version 32): those of `schemas`,
 * the tables they reach along foreign keys and inheritance in any schema,
 * and Auth's and Storage's; null, every table.
 */
export type CatalogScope = readonly string[] | null;

export async function readCatalogPostgres(side: Side, client: pg.ClientBase, scope: CatalogScope = null): Promise<Catalog> {
  try {
    await client.query('BEGIN READ ONLY');
    // The RPC runs with search_path = '' too: names print fully qualified either way.
    await client.query(`SET LOCAL search_path = ''`);
    const catalog = await queryCatalog(side, client, scope);
    await client.query('COMMIT');
    return catalog;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (error instanceof DatabaseError) throw error;
    throw new DatabaseError(describeError(`Reading ${side}'s schema`, error), 1, { cause: error });
  }
}

/** The catalog query alone, inside whatever transaction the caller holds (a backup reads it in the sync's). */
export async function queryCatalog(side: Side, client: pg.ClientBase, scope: CatalogScope = null): Promise<Catalog> {
  // This checkout's own query: its answer has the shape this checkout declares (types.ts).
  return runShared<Catalog>(client, 'catalog', [scope]);
}

export async function readCatalogRest(side: Side, supabase: SupabaseClient, url: string, scope: CatalogScope = null, keyVariable?: string): Promise<Catalog> {
  let { data, error, status } = scope ? await supabase.rpc('supasync_catalog', { schemas: scope }) : await supabase.rpc('supasync_catalog');
  // Functions before version 32 take no schemas and list every table: what the run reads from them is the same.
  if (scope && error?.code === 'PGRST202') ({ data, error, status } = await supabase.rpc('supasync_catalog'));
  if (error) {
    const unreachable = describeUnreachable(error, url);
    if (unreachable) throw new DatabaseError(`Reading ${side}'s schema over REST: ${unreachable}`);
    const { file } = readMigration('_supasync_read');
    const fixes: Record<string, string> = {
      PGRST202: `supasync's functions are not installed in ${side}: apply supabase/migrations/${file} (supabase db push, or paste it into the SQL editor)`,
      '42501': `the key for ${side} may not call supasync_catalog: use the service_role key, not the anon key`,
    };
    // Supabase's gateway (and ours) answers a key of another project, or no key at all, so.
    if (error.message === 'Invalid API key') {
      throw new DatabaseError(`Reading ${side}'s schema over REST: ${refusedKeyMessage(side, url, keyVariable)}`);
    }
    const known = error.code ? fixes[error.code] : undefined;
    // An answer's details are PostgreSQL's DETAIL, said as every other function's failure says it (rpc.ts); without an
    // answer (status 0) supabase-js puts its stack there.
    const said = status ? { message: error.message, code: error.code, hint: error.hint, detail: error.details } : error;
    throw new DatabaseError(known ?? describeError(`Reading ${side}'s schema over REST`, said));
  }
  return parseCatalog(side, data, url);
}

/**
 * Through the installed supasync_catalog(), which may be of another
 * version: checked whole (schema.ts) before anything trusts it. zod loads
 * only here, on the REST path.
 */
async function parseCatalog(side: Side, value: unknown, url: string): Promise<Catalog> {
  // Something at the URL answered in JSON, but not as any version of supasync_catalog does (every one listed tables).
  if (value === null || typeof value !== 'object' || !Array.isArray((value as Partial<Catalog>).tables)) {
    throw new DatabaseError(
      `Reading ${side}'s schema over REST: ${url} answered supasync_catalog with ${value === null ? 'nothing' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object of other fields' : `a ${typeof value}`}, ` +
        "not a schema: is it the project's API URL (https://<project-ref>.supabase.co, the dashboard's Settings > API), and not another service's?",
    );
  }
  if (!Array.isArray((value as Partial<Catalog>).sequences)) {
    throw new DatabaseError(
      `${side}'s supasync_catalog is older than this supasync (it lists no sequences): update supasync's functions with ${commandLine('install-rpcs')} --${side}`,
    );
  }
  // A namespace import of zod (import('zod')) would keep all of it, every locale's messages, in a bundle.
  const { CATALOG, describeMismatch } = await import('./schema.ts');
  const parsed = CATALOG.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new DatabaseError(
    `${side}'s schema came back in a shape supasync does not know (${describeMismatch(parsed.error)}): ` +
      `are its supasync functions from another version? Update them: ${commandLine('install-rpcs')} --${side}`,
  );
}
