// The rules an index of staging's holds rows to and production has no index
// for: a unique index (partial, on expressions: `UNIQUE (lower(email))`) or
// an exclusion constraint (`EXCLUDE USING gist (room WITH =, during WITH &&)`)
// staging's migrations added. Production is asked, as a condition over each
// row's own columns (the way every StricterRule is), for the rows that
// another of its rows would clash with.
import type { EnforcedIndex, Table } from '../catalog/types.ts';
import { sameSpacing } from './drift.ts';
import { quoteIdent } from '../sql/ident.ts';
import type { StricterRule } from './types.ts';

/**
 * Pairs of rows an exclusion constraint with no `=` among its operators
 * compares one by one: past this many rows (production's estimate), it is
 * said and not asked, as the load would find the clash anyway.
 */
export const EXCLUSION_PAIRS_ROWS = 20_000;

/** An index's key, element by element: a column quoted, or an expression as pg_get_expr prints it. */
interface Keyed {
  index: EnforcedIndex;
  /** `shown`: as the person at the terminal reads it, a plain name bare. */
  elements: { expression: string; shown: string; operator: string | null }[];
}

/** Null: either side's catalog does not list its indexes (REST functions before version 25). */
export function indexRules(production: Table, staging: Table, ownRows: string): StricterRule[] | null {
  if (!production.enforcedIndexes || !staging.enforcedIndexes) return null;
  const held = production.enforcedIndexes.flatMap(keyed);
  // Over a column production lacks (staging's ahead, copied with --allow-drift) production cannot say: staging's own values fill it.
  const lacking = staging.columns.filter((column) => !production.columns.some((ours) => ours.name === column.name)).map((column) => column.name);
  return staging.enforcedIndexes
    .flatMap(keyed)
    .filter((ours) => !held.some((candidate) => holds(candidate, ours)))
    .filter(
      (ours) =>
        ![...ours.elements.map((element) => element.expression), ours.index.predicate ?? ''].some((text) => lacking.some((name) => mentions(text, name))),
    )
    .map((ours) => ruleOf(ours, ownRows, production.rowEstimate));
}

/** None where its expressions do not split into as many as its key holds (then not asked: the load finds out). */
function keyed(index: EnforcedIndex): Keyed[] {
  const expressions = index.expressions === null ? [] : splitTopLevel(index.expressions);
  if (expressions.length !== index.columns.filter((element) => element.column === null).length) return [];
  let next = 0;
  const elements = index.columns.map((element) => {
    const expression = element.column === null ? (expressions[next++] as string) : quoteIdent(element.column);
    return {
      expression,
      shown: element.column !== null && /^[a-z_][a-z0-9_]*$/.test(element.column) ? element.column : expression,
      operator: element.operator,
    };
  });
  return [{ index, elements }];
}

/** The parts of a comma-separated list of SQL expressions: commas outside parentheses, brackets and quotes. */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const character = text[i];
    if (quote) {
      if (character === quote && text[i + 1] === quote) i++;
      else if (character === quote) quote = null;
    } else if (character === "'" || character === '"') quote = character;
    else if (character === '(' || character === '[') depth++;
    else if (character === ')' || character === ']') depth--;
    else if (character === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  return [...parts, text.slice(start).trim()];
}

/** `text` (SQL as PostgreSQL prints it) names the column: quoted, or bare where it needs no quotes. */
function mentions(text: string, column: string): boolean {
  if (text.includes(`"${column.replace(/"/g, '""')}"`)) return true;
  return /^[a-z_][a-z0-9_$]*$/.test(column) && new RegExp(`(^|[^a-z0-9_$."])${column.replace(/\$/g, '\\$')}($|[^a-z0-9_$"])`).test(text);
}

/** `production`'s index lets no rows through that `staging`'s refuses. */
function holds(production: Keyed, staging: Keyed): boolean {
  const same = signature(production) === signature(staging);
  if (same || staging.index.kind === 'exclusion' || production.index.kind === 'exclusion' || production.index.predicate) return same;
  // Unique over fewer of the same elements is stricter: UNIQUE (email) holds UNIQUE (email, tenant), and any partial one of them.
  const within = new Set(staging.elements.map(elementOf));
  return production.elements.every((element) => within.has(elementOf(element))) && (production.index.nullsNotDistinct || !staging.index.nullsNotDistinct);
}

const elementOf = (element: Keyed['elements'][number]) => `${sameSpacing(element.expression)} ${element.operator ?? ''}`;

/** Primary and unique enforce the same thing; elements in any order. */
function signature({ index, elements }: Keyed): string {
  return JSON.stringify([
    index.kind === 'exclusion' ? 'exclusion' : 'unique',
    elements.map(elementOf).sort(),
    sameSpacing(index.predicate ?? ''),
    index.nullsNotDistinct,
  ]);
}

function ruleOf({ index, elements }: Keyed, ownRows: string, productionRows: number): StricterRule {
  const where = index.predicate ? ` WHERE ${index.predicate}` : '';
  const applies = index.predicate ? `(${index.predicate})` : 'true';
  const expressions = elements.map((element) => `(${element.expression})`);
  const alias = (position: number) => `"supasync·${position}"`;
  if (index.kind === 'exclusion') {
    const compared = elements.map((element) => `${element.shown} WITH ${(element.operator ?? '=').replace(/^pg_catalog\./, '')}`);
    const equality = elements.some((element) => /\.=$/.test(element.operator ?? ''));
    return {
      rule: `EXCLUDE ${index.name} (${compared.join(', ')})${where}`,
      // The other rows of the index, by place: a derived table shows no system column, so tableoid and ctid here are the asked row's.
      breaking:
        `${applies} AND EXISTS (SELECT FROM (SELECT tableoid AS "supasync·oid", ctid AS "supasync·ctid", ` +
        `${expressions.map((expression, i) => `${expression} AS ${alias(i)}`).join(', ')} FROM ${ownRows} WHERE ${applies}) AS supasync_other ` +
        `WHERE (supasync_other."supasync·oid", supasync_other."supasync·ctid") <> (tableoid, ctid) AND ` +
        elements.map((element, i) => `supasync_other.${alias(i)} OPERATOR(${element.operator ?? 'pg_catalog.='}) ${expressions[i]}`).join(' AND ') +
        ')',
      // Never analyzed (-1): a table too new or too small for autovacuum to have counted; asked.
      notAsked:
        !equality && productionRows > EXCLUSION_PAIRS_ROWS
          ? `with no \`=\` among its operators, asking would compare each pair of production's ${productionRows} rows`
          : undefined,
    };
  }
  const listed = `(${expressions.join(', ')})`;
  const rule = `${index.kind === 'primary' ? 'PRIMARY KEY' : 'UNIQUE'} ${index.name} (${elements.map((element) => element.shown).join(', ')})${where}`;
  const grouped = `SELECT ${expressions.join(', ')} FROM ${ownRows} WHERE ${applies}`;
  const ordinals = expressions.map((_, i) => i + 1).join(', ');
  if (!index.nullsNotDistinct) {
    // NULLs never clash: a NULL element passes.
    const notNull = expressions.map((expression) => `${expression} IS NOT NULL`).join(' AND ');
    return { rule, breaking: `${applies} AND ${listed} IN (${grouped} AND ${notNull} GROUP BY ${ordinals} HAVING pg_catalog.count(*) > 1)` };
  }
  // NULLS NOT DISTINCT: NULL equals NULL, which IN does not say.
  const twice = `(SELECT ${expressions.map((expression, i) => `${expression} AS ${alias(i)}`).join(', ')} FROM ${ownRows} WHERE ${applies} GROUP BY ${ordinals} HAVING pg_catalog.count(*) > 1)`;
  return {
    rule,
    breaking: `${applies} AND EXISTS (SELECT FROM ${twice} AS supasync_twice WHERE ROW(${expressions.map((_, i) => `supasync_twice.${alias(i)}`).join(', ')}) IS NOT DISTINCT FROM ROW${listed})`,
  };
}
