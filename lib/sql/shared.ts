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

/**
 * runShared for each of `argsList` in one statement, answers in their order:
 * to a remote project a query per table adds up (700 tables, 2 s). Each
 * argument arrives as text, so the body must cast every parameter where it
 * uses it, as the ones run this way do.
 */
export async function runSharedEach<T>(client: pg.ClientBase, tag: string, argsList: unknown[][]): Promise<T[]> {
  const arity = argsList[0]?.length;
  if (!arity) return argsList.length ? Promise.all(argsList.map(() => runShared<T>(client, tag, []))) : [];
  const body = functionBody(tag);
  const uncast = /\$(\d+)(?!\d|::)/.exec(body);
  if (uncast) throw new Error(`supasync_private.${tag} uses $${uncast[1]} without a cast: it cannot be run for many at once`);
  const positions = Array.from({ length: arity }, (_, index) => index + 1);
  const text =
    `SELECT (${body.replace(/\$(\d+)(?=::)/g, (_, position: string) => `each.p${position}`)}) ` +
    `FROM ROWS FROM (${positions.map((position) => `pg_catalog.unnest($${position}::text[])`).join(', ')}) WITH ORDINALITY ` +
    `AS each(${positions.map((position) => `p${position}`).join(', ')}, ord) ORDER BY each.ord`;
  const values = positions.map((position) => argsList.map((args) => (args[position - 1] == null ? null : String(args[position - 1]))));
  const { rows } = await client.query<unknown[]>({ text, values, rowMode: 'array' });
  return rows.map((row) => row[0] as T);
}

/** Builds the query with the builder tagged `tag` from `args` (every value in it), runs it; its one value. */
export async function runBuilt<T>(client: pg.ClientBase, tag: string, args: unknown[]): Promise<T> {
  const query = await runShared<string>(client, tag, args);
  // The extended protocol runs one statement: a config's `where` built into the text cannot end it and start
  // another (`true)); COMMIT; BEGIN READ WRITE; UPDATE ...`), which the simple protocol would run in production.
  const oneStatement: pg.QueryArrayConfig & { queryMode: 'extended' } = { text: query, rowMode: 'array', queryMode: 'extended' };
  const { rows } = await client.query<unknown[]>(oneStatement);
  return rows[0]?.[0] as T;
}

/** `table` as a query names its own rows on this side: `ONLY` it where other tables INHERIT from it (supasync_private.own_rows). */
export async function ownRows(client: pg.ClientBase, table: { schema: string; name: string }): Promise<string> {
  return runShared<string>(client, 'own_rows', [quoteTable(table)]);
}

/** ownRows of each table, in one statement. */
export function ownRowsOf(client: pg.ClientBase, tables: { schema: string; name: string }[]): Promise<string[]> {
  return runSharedEach<string>(
    client,
    'own_rows',
    tables.map((table) => [quoteTable(table)]),
  );
}
