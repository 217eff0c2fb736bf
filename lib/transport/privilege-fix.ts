// A privilege PostgreSQL refused on a table or schema, said with the GRANT
// that mends it, as it can be run: PostgreSQL names the table bare, so its
// schema is taken from the tables the failed question read.
import { identAsWritten } from '../sql/ident.ts';

/** What a privilege's fix can name beyond PostgreSQL's words: the role refused (the catalog's: over REST the functions' owner), and the tables the failed question read. */
export interface PrivilegeContext {
  role?: string;
  tables?: readonly { schema: string; name: string }[];
}

/**
 * For a permission PostgreSQL refused (42501) on a named table or schema: the GRANT that mends it, as it can be run.
 * PostgreSQL names a table bare: its schema is taken from the tables the question read, where one has that name.
 */
export function privilegeFix(code: string | undefined, message: string | undefined, context: PrivilegeContext = {}): string | null {
  const denied = code === '42501' && /permission denied for (table|relation|sequence|view|materialized view|schema) (.+)$/.exec(message ?? '');
  if (!denied) return null;
  const [, kind, bare] = denied as unknown as [string, string, string];
  const table = context.tables?.find((candidate) => candidate.name === bare);
  const name =
    kind === 'schema' ? identAsWritten(bare) : table ? `${identAsWritten(table.schema)}.${identAsWritten(table.name)}` : `<schema>.${identAsWritten(bare)}`;
  const role = context.role ? identAsWritten(context.role) : '<role>';
  const grant =
    kind === 'schema'
      ? `GRANT USAGE ON SCHEMA ${name} TO ${role};`
      : `GRANT SELECT ON ${name} TO ${role}; (and INSERT, UPDATE, DELETE, TRUNCATE where the run writes it)`;
  return (
    `fix: ${context.role ? `the role ${context.role}` : 'the role this connection signs in as'} has no privilege on ${kind} ${name}: ` +
    `as its owner or a superuser, ${grant}, or connect as a role that has it. A table made by another role (a migration run as another user) has no grants until given some.`
  );
}
