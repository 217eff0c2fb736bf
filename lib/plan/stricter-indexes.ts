// The rules an index of staging's holds rows to and production has no index
// as strict as: a unique index or an exclusion constraint
// (`EXCLUDE USING gist (room WITH =, during WITH &&)`) staging's migrations
// added. Production is asked, as a condition over each row's own columns
// (the way every StricterRule is), for the rows another of its rows would
// clash with. An index on expressions or with a predicate is compared by
// its deparsed text (by its stored tree where its table was locked as the
// catalog was read: deparsing would wait for the lock) but not asked: it is
// said instead.
import type { EnforcedIndex, Table } from '../catalog/types.ts';
import { identAsWritten, quoteIdent } from '../sql/ident.ts';
import type { StricterRule } from './types.ts';

/**
 * Pairs of rows an exclusion constraint with no `=` among its operators
 * compares one by one: past this many rows (production's estimate), or
 * where the table was never analyzed, it is said and not asked, as the load
 * would find the clash anyway.
 */
export const EXCLUSION_PAIRS_ROWS = 5_000;

/**
 * Where a rule's own subquery reads the table's rows: the engine puts the
 * table's row filter (a `where`, rows carried down) in its place, so rows
 * the run does not copy clash with none (engine/stricter-staging.ts).
 */
export const ROWS_COPIED = '/*supasync:rows copied*/true';

/** Null: either side's catalog does not list its indexes (REST functions before version 25). */
export function indexRules(production: Table, staging: Table, ownRows: string): StricterRule[] | null {
  if (!production.enforcedIndexes || !staging.enforcedIndexes) return null;
  const held = production.enforcedIndexes.filter((index) => index.valid);
  // Over a column production lacks (staging's ahead, copied with --allow-drift) production cannot say: staging's own values fill it.
  const lacking = new Set(staging.columns.filter((column) => !production.columns.some((ours) => ours.name === column.name)).map((column) => column.name));
  return staging.enforcedIndexes
    .filter((ours) => !held.some((candidate) => holds(candidate, ours)))
    .filter((ours) => !ours.columns.some((element) => element.column !== null && lacking.has(element.column)))
    .map((ours) => ruleOf(ours, ownRows, production.rowEstimate));
}

/** `production`'s index lets no rows through that `staging`'s refuses. */
function holds(production: EnforcedIndex, staging: EnforcedIndex): boolean {
  const same = signature(production) === signature(staging) && sameExpressions(production, staging);
  if (same || staging.kind === 'exclusion' || production.kind === 'exclusion' || production.predicate || production.expressions) return same;
  // Unique over fewer of the same columns is stricter: UNIQUE (email) holds UNIQUE (email, tenant), and any partial one of them.
  const within = new Set(staging.columns.map(elementOf));
  return production.columns.every((element) => within.has(elementOf(element))) && (production.nullsNotDistinct || !staging.nullsNotDistinct);
}

const elementOf = (element: EnforcedIndex['columns'][number]) => JSON.stringify([element.column, element.operator, element.collation]);

/** Primary and unique enforce the same thing; plain columns in any order. */
function signature(index: EnforcedIndex): string {
  const plain = !index.expressions;
  return JSON.stringify([
    index.kind === 'exclusion' ? 'exclusion' : 'unique',
    plain ? index.columns.map(elementOf).sort() : index.columns.map(elementOf),
    index.expressions !== null,
    index.predicate !== null,
    index.nullsNotDistinct,
  ]);
}

/**
 * The same expressions and predicate: by their deparsed texts where both
 * sides have them (a tree's object ids differ between two databases), else
 * by their trees (functions before version 26, or a table locked as the
 * catalog was read), which may call two equal ones different.
 */
function sameExpressions(production: EnforcedIndex, staging: EnforcedIndex): boolean {
  const same = (texts: [string | null | undefined, string | null | undefined], trees: [string | null, string | null]) =>
    typeof texts[0] === 'string' && typeof texts[1] === 'string' ? texts[0] === texts[1] : trees[0] === trees[1];
  return (
    same([production.expressionsText, staging.expressionsText], [production.expressions, staging.expressions]) &&
    same([production.predicateText, staging.predicateText], [production.predicate, staging.predicate])
  );
}

function ruleOf(index: EnforcedIndex, ownRows: string, productionRows: number): StricterRule {
  const listed = index.columns.map((element) => (element.column === null ? 'an expression' : identAsWritten(element.column))).join(', ');
  if (index.expressions || index.predicate) {
    const what = index.kind === 'exclusion' ? `EXCLUDE ${index.name}` : `UNIQUE ${index.name}`;
    return {
      rule: `${what} (${listed})${index.predicate ? ' WHERE ...' : ''}`,
      breaking: 'false',
      notAsked: `its ${index.expressions ? 'key holds expressions' : 'rows are those of a predicate'}, which supasync does not ask production about`,
    };
  }
  // A column compared under the index's own collation: a case-insensitive one holds 'a@x' and 'A@X' as one.
  const expressions = index.columns.map(
    (element) => `(${quoteIdent(element.column as string)}${element.collation ? ` COLLATE ${element.collation.split('.').map(quoteIdent).join('.')}` : ''})`,
  );
  const alias = (position: number) => `"supasync·${position}"`;
  if (index.kind === 'exclusion') {
    const compared = index.columns.map(
      (element) => `${identAsWritten(element.column as string)} WITH ${(element.operator ?? '=').replace(/^pg_catalog\./, '')}`,
    );
    const equality = index.columns.some((element) => /\.=$/.test(element.operator ?? ''));
    return {
      rule: `EXCLUDE ${index.name} (${compared.join(', ')})`,
      // The other rows, by place: a derived table shows no system column, so tableoid and ctid here are the asked row's.
      breaking:
        `EXISTS (SELECT FROM (SELECT tableoid AS "supasync·oid", ctid AS "supasync·ctid", ` +
        `${expressions.map((expression, i) => `${expression} AS ${alias(i)}`).join(', ')} FROM ${ownRows} WHERE ${ROWS_COPIED}) AS supasync_other ` +
        `WHERE (supasync_other."supasync·oid", supasync_other."supasync·ctid") <> (tableoid, ctid) AND ` +
        index.columns.map((element, i) => `supasync_other.${alias(i)} OPERATOR(${element.operator ?? 'pg_catalog.='}) ${expressions[i]}`).join(' AND ') +
        ')',
      notAsked:
        equality || (productionRows >= 0 && productionRows <= EXCLUSION_PAIRS_ROWS)
          ? undefined
          : `with no \`=\` among its operators, asking would compare each pair of production's ${productionRows < 0 ? 'rows (the table was never analyzed to count them)' : `${productionRows} rows`}`,
    };
  }
  const rule = `${index.kind === 'primary' ? 'PRIMARY KEY' : 'UNIQUE'} ${index.name} (${listed})`;
  const ordinals = expressions.map((_, i) => i + 1).join(', ');
  if (!index.nullsNotDistinct) {
    // NULLs never clash: a NULL element passes.
    const notNull = expressions.map((expression) => `${expression} IS NOT NULL`).join(' AND ');
    return {
      rule,
      breaking: `(${expressions.join(', ')}) IN (SELECT ${expressions.join(', ')} FROM ${ownRows} WHERE ${ROWS_COPIED} AND ${notNull} GROUP BY ${ordinals} HAVING pg_catalog.count(*) > 1)`,
    };
  }
  // NULLS NOT DISTINCT: NULL equals NULL, which IN does not say.
  const twice = `(SELECT ${expressions.map((expression, i) => `${expression} AS ${alias(i)}`).join(', ')} FROM ${ownRows} WHERE ${ROWS_COPIED} GROUP BY ${ordinals} HAVING pg_catalog.count(*) > 1)`;
  return {
    rule,
    breaking: `EXISTS (SELECT FROM ${twice} AS supasync_twice WHERE ROW(${expressions.map((_, i) => `supasync_twice.${alias(i)}`).join(', ')}) IS NOT DISTINCT FROM ROW(${expressions.join(', ')}))`,
  };
}
