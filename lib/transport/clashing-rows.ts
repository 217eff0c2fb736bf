// A row refused for a unique value is named by the value (PostgreSQL's
// "Key (email)=(...) already exists"), not by the row holding it: staging's
// own (a user who signed up in staging alone, a row production re-keyed),
// which the person at the terminal must change or remove. Both paths ask
// staging which rows (supasync_private.clashing_rows_query, functions version
// 41: directly from the run's temporary table, over REST by
// supasync_clashing_rows from the rows refused) and say it the same way.
import type { TableRef } from '../catalog/types.ts';
import { identAsWritten, shownLiteral } from '../sql/ident.ts';

/** What the query answers: the index's columns, and up to three pairs of keys (text values, in the key's column order). */
export interface ClashingRows {
  columns: string[];
  pairs: { staging: (string | null)[]; production: (string | null)[] }[];
}

/** A key as rows are named in messages: `id=5`, `(tenant_id=1, id=5)` without the parentheses. */
export function keyText(keyColumns: readonly string[], values: readonly (string | null)[]): string {
  return keyColumns.map((column, index) => `${column}=${values[index] ?? 'NULL'}`).join(', ');
}

/** `staging's app.product (id=50) holds the slug production's row (id=5) brings`, for each pair; null where none was found. */
export function describeClashingRows(table: TableRef, keyColumns: readonly string[], answer: ClashingRows | null): string | null {
  if (!answer?.pairs.length) return null;
  const shown = (values: readonly (string | null)[]) =>
    keyColumns.map((column, index) => `${identAsWritten(column)}=${shownValue(values[index] ?? null)}`).join(', ');
  return answer.pairs
    .map(
      ({ staging, production }) =>
        `staging's ${identAsWritten(table.schema)}.${identAsWritten(table.name)} (${shown(staging)}) holds the ${answer.columns.map(identAsWritten).join(', ')} ` +
        `production's row (${shown(production)}) brings`,
    )
    .join('; ');
}

/** A value as SQL writes it where it could be misread (empty, `NULL`, a comma, a quote, a parenthesis, spaces): quoted; else as it is. */
function shownValue(value: string | null): string {
  if (value === null) return 'NULL';
  return value === '' || value === 'NULL' || /[\s,=()'"]/.test(value) ? shownLiteral(value) : value;
}

/** The unique index PostgreSQL's message names (`duplicate key value violates unique constraint "users_email_key"`), if it names one. */
export function refusedIndex(message: string): string | null {
  return /duplicate key value violates unique constraint "(.*)"/.exec(message)?.[1] ?? null;
}
