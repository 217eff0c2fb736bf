// The rules an index of staging's holds rows to and production has no index
// for: a unique index (partial, on expressions: `UNIQUE (lower(email))`) or
// an exclusion constraint (`EXCLUDE USING gist (room WITH =, during WITH &&)`)
// staging's migrations added. Production is asked, as a condition over each
// row's own columns (the way every StricterRule is), for the rows that
// another of its rows would clash with.
import type { EnforcedIndex, Table } from '../catalog/types.ts';
import { sameSpacing } from './drift.ts';
import type { StricterRule } from './types.ts';

/**
 * Pairs of rows an exclusion constraint with no `=` among its operators
 * compares one by one: past this many rows (production's estimate), it is
 * said and not asked, as the load would find the clash anyway.
 */
export const EXCLUSION_PAIRS_ROWS = 20_000;

/** Null: either side's catalog does not list its indexes (REST functions before version 25). */
export function indexRules(production: Table, staging: Table, ownRows: string): StricterRule[] | null {
  const [held, ours] = [production.enforcedIndexes, staging.enforcedIndexes];
  if (!held || !ours) return null;
  // Over a column production lacks (staging's ahead, copied with --allow-drift) production cannot say: staging's own values fill it.
  const lacking = staging.columns.filter((column) => !production.columns.some((ours) => ours.name === column.name)).map((column) => column.name);
  return ours
    .filter((index) => !held.some((candidate) => holds(candidate, index)))
    .filter(
      (index) => ![...index.elements.map((element) => element.expression), index.predicate ?? ''].some((text) => lacking.some((name) => mentions(text, name))),
    )
    .map((index) => ruleOf(index, ownRows, production.rowEstimate));
}

/** `text` (SQL as pg_get_indexdef prints it) names the column: quoted, or bare where it needs no quotes. */
function mentions(text: string, column: string): boolean {
  if (text.includes(`"${column.replace(/"/g, '""')}"`)) return true;
  return /^[a-z_][a-z0-9_$]*$/.test(column) && new RegExp(`(^|[^a-z0-9_$."])${column.replace(/\$/g, '\\$')}($|[^a-z0-9_$"])`).test(text);
}

/** `production`'s index lets no rows through that `staging`'s refuses. */
function holds(production: EnforcedIndex, staging: EnforcedIndex): boolean {
  const same = signature(production) === signature(staging);
  if (same || staging.kind === 'exclusion' || production.kind === 'exclusion' || production.predicate) return same;
  // Unique over fewer of the same elements is stricter: UNIQUE (email) holds UNIQUE (email, tenant), and any partial one of them.
  const within = new Set(staging.elements.map(elementOf));
  return production.elements.every((element) => within.has(elementOf(element))) && (production.nullsNotDistinct || !staging.nullsNotDistinct);
}

const elementOf = (element: EnforcedIndex['elements'][number]) => `${sameSpacing(element.expression)} ${element.operator ?? ''}`;

/** Primary and unique enforce the same thing; elements in any order. */
function signature(index: EnforcedIndex): string {
  return JSON.stringify([
    index.kind === 'exclusion' ? 'exclusion' : 'unique',
    index.elements.map(elementOf).sort(),
    sameSpacing(index.predicate ?? ''),
    index.nullsNotDistinct,
  ]);
}

function ruleOf(index: EnforcedIndex, ownRows: string, productionRows: number): StricterRule {
  const where = index.predicate ? ` WHERE ${index.predicate}` : '';
  const applies = index.predicate ? `(${index.predicate})` : 'true';
  const expressions = index.elements.map((element) => `(${element.expression})`);
  const alias = (position: number) => `"supasync·${position}"`;
  if (index.kind === 'exclusion') {
    const compared = index.elements.map((element) => `${element.expression} WITH ${(element.operator ?? '=').replace(/^pg_catalog\./, '')}`);
    const equality = index.elements.some((element) => /\.=$/.test(element.operator ?? ''));
    return {
      rule: `EXCLUDE ${index.name} (${compared.join(', ')})${where}`,
      // The other rows of the index, by place: a derived table shows no system column, so tableoid and ctid here are the asked row's.
      breaking:
        `${applies} AND EXISTS (SELECT FROM (SELECT tableoid AS "supasync·oid", ctid AS "supasync·ctid", ` +
        `${expressions.map((expression, i) => `${expression} AS ${alias(i)}`).join(', ')} FROM ${ownRows} WHERE ${applies}) AS supasync_other ` +
        `WHERE (supasync_other."supasync·oid", supasync_other."supasync·ctid") <> (tableoid, ctid) AND ` +
        index.elements.map((element, i) => `supasync_other.${alias(i)} OPERATOR(${element.operator ?? 'pg_catalog.='}) ${expressions[i]}`).join(' AND ') +
        ')',
      notAsked: equality
        ? undefined
        : productionRows < 0
          ? "with no `=` among its operators, asking would compare each pair of production's rows, of which the table was never analyzed to say how many"
          : productionRows > EXCLUSION_PAIRS_ROWS
            ? `with no \`=\` among its operators, asking would compare each pair of production's ${productionRows} rows`
            : undefined,
    };
  }
  const listed = `(${expressions.join(', ')})`;
  const rule = `${index.kind === 'primary' ? 'PRIMARY KEY' : 'UNIQUE'} ${index.name} (${index.elements.map((element) => element.expression).join(', ')})${where}`;
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
