// Every identifier that reaches SQL goes through here; values go as parameters.
/** What quoteTable needs of a table or sequence (the catalog's TableRef has it; sql/ imports nothing above it). */
type TableRef = { schema: string; name: string };

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteTable(table: TableRef): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

export function columnList(columns: string[], prefix?: string): string {
  return columns.map((column) => (prefix ? `${prefix}.${quoteIdent(column)}` : quoteIdent(column))).join(', ');
}

/** A table's name as a regclass constant, for SQL text that travels without parameters (row filters). */
export function regclassLiteral(table: TableRef): string {
  return `'${quoteTable(table).replace(/'/g, "''")}'::regclass`;
}
