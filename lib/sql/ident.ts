// Every identifier that reaches SQL goes through here; values go as parameters.
import { shellWord } from '../invocation.ts';

/** A schema-qualified name: a table's, a sequence's. */
type QualifiedName = { schema: string; name: string };

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A name as the person at the terminal would write it in SQL: bare where it
 * needs no quotes (lowercase letters, digits, _ and $, not first), else
 * quoted; a list of names with a comma or capitals in one stays unambiguous.
 */
export function identAsWritten(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoteIdent(name);
}

/**
 * A name as SQL text writes it (`public.profiles`, `"Team"`, `app . "Users"`,
 * `Updated_At`): its parts as SQL reads them, quoted ones as they are, the
 * others folded to lowercase. For names read out of a function's body.
 */
export function partsAsSqlReads(written: string): string[] {
  return [...written.matchAll(/"((?:[^"]|"")+)"|([^\s."]+)/g)].map((part) =>
    part[1] !== undefined ? part[1].replace(/""/g, '"') : (part[2] ?? '').toLowerCase(),
  );
}

export function quoteTable(table: QualifiedName): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

/**
 * A table as a query names its own rows: `ONLY` it where other tables
 * INHERIT from it, whose rows every query of it reads too and every DELETE
 * or TRUNCATE of it empties (never for a partitioned table: its rows are
 * its partitions').
 */
export function quoteOwnRows(table: QualifiedName, inherited: boolean): string {
  return `${inherited ? 'ONLY ' : ''}${quoteTable(table)}`;
}

export function columnList(columns: string[], prefix?: string): string {
  return columns.map((column) => (prefix ? `${prefix}.${quoteIdent(column)}` : quoteIdent(column))).join(', ');
}

/**
 * The column list a COPY into a table takes, in parentheses. None where no
 * column is copied (a table without columns, or with generated ones only):
 * COPY has no empty list, and without one it writes the table's columns but
 * its generated ones, here none, so each row is written whole by default.
 */
export function copyColumns(columns: string[]): string {
  return columns.length ? ` (${columnList(columns)})` : '';
}

/** A table's name as a regclass constant, for SQL text that travels without parameters (row filters). */
export function regclassLiteral(table: QualifiedName): string {
  return `'${quoteTable(table).replace(/'/g, "''")}'::regclass`;
}

/** A string as the person at the terminal reads it and pastes it into a statement (standard_conforming_strings on, as by default). */
export function shownLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * A text value as a SQL string constant, for SQL text that travels without
 * parameters (row filters): an escape string, read the same whatever
 * standard_conforming_strings says.
 */
export function quoteLiteral(value: string): string {
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * Tables as --tables (or --exclude) reads them back: SQL's quotes where a part
 * keeps capitals or characters, the whole quoted for the shell. A name as
 * the reports hold it (schema.name) is split at its first dot.
 */
export function tablesArgument(tables: readonly ({ schema: string; name: string } | string)[]): string {
  const refs = tables.map((table) => {
    if (typeof table !== 'string') return table;
    const dot = table.indexOf('.');
    return { schema: table.slice(0, dot), name: table.slice(dot + 1) };
  });
  return shellWord(refs.map((ref) => `${identAsWritten(ref.schema)}.${identAsWritten(ref.name)}`).join(','));
}
