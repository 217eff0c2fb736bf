// Constraints staging holds a table's rows to and production does not (its
// migrations ahead): a validated CHECK production lacks (or has NOT VALID),
// NOT NULL where production's column may be NULL, a unique index or an
// exclusion constraint production has nothing as strict as
// (stricter-indexes.ts), or a CHECK or NOT NULL of
// the domain a column is of that production's domain lacks. And what staging
// lacks that production's rows may need (its migrations behind, copied past
// with --allow-drift): an enum's labels, a partition. The engine asks
// production for the rows that break them before writing
// (engine/stricter-staging.ts).
import type { Column, Table } from '../catalog/types.ts';
import { labelsLacking, missingPartitions, sameSpacing, type UserTypes } from './drift.ts';
import { quoteIdent, quoteLiteral, shownLiteral } from '../sql/ident.ts';
import { indexRules } from './stricter-indexes.ts';
import type { StricterRule } from './types.ts';

/**
 * `copied`: the columns the run writes; `ownRows`: the table as a query names
 * its own rows (ONLY it where others inherit from it). Checks unknown on
 * either side (REST functions before version 24) are not compared.
 */
export function stricterInStaging(
  production: Table,
  staging: Table | undefined,
  copied: string[],
  ownRows: string,
  types: UserTypes = { production: null, staging: null },
): StricterRule[] {
  if (!staging) return [];
  const nullable = new Set(production.columns.filter((column) => column.nullable).map((column) => column.name));
  const notNull = staging.columns
    .filter((column) => !column.nullable && !column.generated && nullable.has(column.name) && copied.includes(column.name))
    .map((column) => ({ rule: `NOT NULL on ${column.name}`, breaking: `${quoteIdent(column.name)} IS NULL` }));
  const indexes = indexRules(production, staging, ownRows) ?? uniqueKeys(production, staging, copied, ownRows);
  return [
    ...checkRules(production, staging, copied),
    ...notNull,
    ...indexes,
    ...domainRules(production, staging, copied, types),
    ...labelRules(production, staging, copied, types),
    ...partitionRules(production, staging),
  ];
}

/**
 * An enum staging's migrations have not given production's newest labels
 * yet: refused as drift, copied past with --allow-drift, where a row holding
 * such a label would be refused as it is written (a REST replace would have
 * emptied the table by then). Asked of production before writing: only the
 * rows that hold one stop the run.
 */
function labelRules(production: Table, staging: Table, copied: string[], types: UserTypes): StricterRule[] {
  return typedColumns(production, staging, copied, types).flatMap(({ column, name, ours, theirs, of }) => {
    const lacking = ours && theirs ? labelsLacking(ours, theirs) : [];
    if (!lacking.length) return [];
    return [
      {
        rule: `enum ${name} without ${lacking.map(shownLiteral).join(', ')} (column ${column})`,
        // The condition travels as SQL text: its literals read the same whatever standard_conforming_strings says.
        breaking: of((value) => `${value}::text IN (${lacking.map(quoteLiteral).join(', ')})`),
        behind: {
          fix: `add the labels to staging's enum (the migration production ran): ${addValues(name, ours?.labels ?? [], theirs?.labels ?? []).join(' ')}`,
        },
      },
    ];
  });
}

/**
 * The statements that give staging's enum production's labels where production has them: before the next label
 * staging has, or after the one before (a label appended would sort after staging's own, where production's sorts
 * it before: said as drift next, lab8's OpenStreetMap `nwr_enum`).
 */
function addValues(name: string, production: readonly string[], staging: readonly string[]): string[] {
  const has = new Set(staging);
  return production.flatMap((label, index) => {
    if (has.has(label)) return [];
    const next = production.slice(index + 1).find((other) => has.has(other));
    const previous = production.slice(0, index).findLast((other) => has.has(other));
    has.add(label);
    const place = next !== undefined ? ` BEFORE ${shownLiteral(next)}` : previous !== undefined ? ` AFTER ${shownLiteral(previous)}` : '';
    return [`ALTER TYPE ${name} ADD VALUE ${shownLiteral(label)}${place};`];
  });
}

/**
 * Production's partitions staging's tree has no place for (drift, copied past
 * with --allow-drift): the rows in them would find no partition in staging.
 * Asked of production before writing: one created ahead of its rows (a
 * month's, by pg_partman) stops nothing.
 */
function partitionRules(production: Table, staging: Table): StricterRule[] {
  return missingPartitions(production, staging).map(({ name, bound }) => ({
    rule: `no partition for ${name} (${bound})`,
    breaking: `tableoid IN (SELECT relid FROM pg_catalog.pg_partition_tree(${quoteLiteral(name)}::regclass))`,
    behind: { fix: `create or attach the partitions in staging as production has them (${name} ${bound})` },
  }));
}

/**
 * Staging's validated CHECKs production holds no validated one of the same
 * expression. An expression the catalog left out (its table locked as it
 * was read) is matched by the constraint's name instead; staging's own such
 * CHECK, unmatched, cannot be asked. One over columns the run does not copy
 * alone (staging's own, `ADD COLUMN extra text CHECK (...)`, copied with
 * --allow-drift) holds staging's values there, not production's: left out;
 * one over both kinds cannot be asked of production.
 */
function checkRules(production: Table, staging: Table, copied: string[]): StricterRule[] {
  if (!production.checks) return [];
  const uncopied = (check: { columns?: string[] }) => (check.columns ?? []).filter((column) => !copied.includes(column));
  const validated = production.checks.filter((check) => check.validated);
  const heldExpressions = new Set(validated.flatMap((check) => (check.expression === null ? [] : [sameSpacing(check.expression)])));
  const heldNames = new Set(validated.map((check) => check.name));
  const productionUnread = production.checks.some((check) => check.expression === null);
  return (staging.checks ?? [])
    .filter((check) => check.validated)
    .filter((check) => !check.columns?.length || uncopied(check).length < check.columns.length)
    .filter((check) => !(check.expression !== null && heldExpressions.has(sameSpacing(check.expression))))
    .filter((check) => !((check.expression === null || productionUnread) && heldNames.has(check.name)))
    .map((check) =>
      uncopied(check).length
        ? {
            rule: `CHECK ${check.name} (${check.expression ?? '...'})`,
            breaking: 'false',
            notAsked: `it also reads ${uncopied(check).join(', ')}, which the run does not copy (staging's own values stay there)`,
          }
        : check.expression === null
          ? {
              rule: `CHECK ${check.name}`,
              breaking: 'false',
              notAsked: "staging's table was under another session's ACCESS EXCLUSIVE lock as its catalog was read, so its expression is not known",
            }
          : // A CHECK passes where its expression is NULL: only FALSE is refused.
            { rule: `CHECK ${check.name} (${check.expression})`, breaking: `(${check.expression}) IS FALSE` },
    );
}

/**
 * The CHECKs and NOT NULL of a copied column's domain (or its array's
 * elements' domain) that production's domain of that name lacks: a domain
 * made stricter by staging's migrations. Its expression is over VALUE, said
 * here of the column (or of each element). Unknown on either side (functions
 * before version 24): not compared.
 */
function domainRules(production: Table, staging: Table, copied: string[], types: UserTypes): StricterRule[] {
  return typedColumns(production, staging, copied, types).flatMap(({ column, name, ours: looser, theirs: stricter, of }) => {
    if (!looser?.checks || !stricter?.checks) return [];
    const held = new Set(looser.checks.filter((check) => check.validated).map((check) => sameSpacing(check.expression)));
    return [
      ...stricter.checks
        .filter((check) => check.validated && !held.has(sameSpacing(check.expression)))
        .map((check) => ({
          rule: `CHECK ${check.name} (${check.expression}) of domain ${name} on ${column}`,
          breaking: of((value) => `(${overValue(check.expression, value)}) IS FALSE`),
        })),
      ...(stricter.notNull && !looser.notNull ? [{ rule: `NOT NULL of domain ${name} on ${column}`, breaking: of((value) => `${value} IS NULL`) }] : []),
    ];
  });
}

/**
 * The copied columns of one type name on both sides (or arrays of it), with
 * each side's definition of it, and `of`: a condition over its values said
 * of the column, or of each element of an array.
 */
function typedColumns(production: Table, staging: Table, copied: string[], types: UserTypes) {
  return staging.columns.flatMap((column: Column) => {
    const same = production.columns.find((candidate) => candidate.name === column.name);
    if (!same || same.type !== column.type || !copied.includes(column.name) || column.generated) return [];
    const name = column.type.replace(/(\[\])+$/, '');
    const of = (condition: (value: string) => string) =>
      name !== column.type
        ? `EXISTS (SELECT FROM pg_catalog.unnest(${quoteIdent(column.name)}) AS element WHERE ${condition('element')})`
        : condition(quoteIdent(column.name));
    return [{ column: column.name, name, ours: types.production?.get(name), theirs: types.staging?.get(name), of }];
  });
}

/** A domain CHECK's expression with VALUE, outside its string literals, made `value`. */
function overValue(expression: string, value: string): string {
  return expression
    .split("'")
    .map((part, index) => (index % 2 ? part : part.replace(/\bVALUE\b/g, value)))
    .join("'");
}

/**
 * Where a side's catalog does not list its indexes (REST functions before
 * version 25): staging's primary and unique keys over copied columns whose columns no key
 * of production's has: the rows production holds twice under them. NULLs
 * never clash, unless the key says NULLS NOT DISTINCT.
 */
function uniqueKeys(production: Table, staging: Table, copied: string[], ownRows: string): StricterRule[] {
  const sameColumns = (a: string[], b: string[]) => a.length === b.length && a.every((column) => b.includes(column));
  const held = [production.primaryKey, ...production.uniqueKeys].filter((key) => key !== null);
  const keys = [
    ...(staging.primaryKey ? [{ ...staging.primaryKey, kind: 'PRIMARY KEY', nullsNotDistinct: false }] : []),
    ...staging.uniqueKeys.map((key) => ({ ...key, kind: 'UNIQUE' })),
  ];
  return keys
    .filter((key) => key.columns.every((column) => copied.includes(column)) && !held.some((ours) => sameColumns(ours.columns, key.columns)))
    .map((key) => {
      const columns = key.columns.map(quoteIdent).join(', ');
      const notNull = key.nullsNotDistinct ? '' : ` WHERE ${key.columns.map((column) => `${quoteIdent(column)} IS NOT NULL`).join(' AND ')}`;
      return {
        rule: `${key.kind} ${key.name} (${key.columns.join(', ')})`,
        breaking: `(${columns}) IN (SELECT ${columns} FROM ${ownRows}${notNull} GROUP BY ${columns} HAVING pg_catalog.count(*) > 1)`,
      };
    });
}
