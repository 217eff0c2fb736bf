// The SQL both paths run, from one source. Each such query is built by a
// function of supasync_private in supabase/migrations/ that returns its
// text; the REST path's functions EXECUTE what it builds. The direct path,
// which needs nothing installed, runs the builder's body as a query, then
// the query it returned: the two paths cannot drift apart.
import type pg from 'pg';
import { quoteTable } from './ident.ts';
import { functionBody } from './migrations.ts';

/** Runs the body of the function tagged `tag` with `args` as $1, $2, ... (a jsonb argument as its JSON text); its one value. */
export async function runShared<T>(client: pg.ClientBase, tag: string, args: unknown[]): Promise<T> {
  const { rows } = await client.query<unknown[]>({ text: functionBody(tag), values: args, rowMode: 'array' });
  return rows[0]?.[0] as T;
}

/** Builds the query with the builder tagged `tag` from `args` (every value in it), runs it; its one value. */
export async function runBuilt<T>(client: pg.ClientBase, tag: string, args: unknown[]): Promise<T> {
  const query = await runShared<string>(client, tag, args);
  const { rows } = await client.query<unknown[]>({ text: query, rowMode: 'array' });
  return rows[0]?.[0] as T;
}

/** `table` as a query names its own rows on this side: `ONLY` it where other tables INHERIT from it (supasync_private.own_rows). */
export async function ownRows(client: pg.ClientBase, table: { schema: string; name: string }): Promise<string> {
  return runShared<string>(client, 'own_rows', [quoteTable(table)]);
}

/** ownRows of each table, asked one after the other: a client runs one query at a time. */
export async function ownRowsOf(client: pg.ClientBase, tables: { schema: string; name: string }[]): Promise<string[]> {
  const named: string[] = [];
  for (const table of tables) named.push(await ownRows(client, table));
  return named;
}
