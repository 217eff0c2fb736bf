// Which columns a run masks, and how: supasync.config.json's "mask" rules
// and the preset resolved against production's catalog, checked against
// each column's type, length, NOT NULL and uniqueness in staging, and
// carried along foreign keys so a masked key still joins (docs/masking.md).
import { findTable, qualifiedName, type Catalog, type Column, type Table } from '../catalog/types.ts';
import type { MaskPreset, MaskRuleInput } from '../config/mask-schema.ts';
import { UsageError } from '../errors.ts';
import { comparesRanges } from './mode.ts';
import type { SyncPlan } from './types.ts';
import { authProfileTables, PROFILE_COLUMN_RULES, SUPABASE_PRESET, TEST_PASSWORD, TEST_PASSWORD_HASH } from '../mask/preset.ts';
import { EMAIL_MIN_LENGTH, templateIsUnique, UNIQUE_HEX } from '../mask/transformers.ts';
import { describeRule, type ColumnMask, type MaskedColumnShape, type MaskRule, type TableMask } from '../mask/types.ts';

export interface MaskSettings {
  rules: Record<string, MaskRuleInput>;
  preset: MaskPreset | null;
}

export function masksAsked(settings: MaskSettings | undefined): boolean {
  return !!settings && (settings.preset !== null || Object.keys(settings.rules).length > 0);
}

interface Target {
  table: Table;
  column: Column;
  path: string[];
}

/** Per qualified table name, its masked columns. Every problem is listed at once, each with its rule and fix. */
export function planMasks(production: Catalog, staging: Catalog, settings: MaskSettings): Map<string, TableMask> {
  const problems: string[] = [];
  const chosen = new Map<string, { target: Target; rule: MaskRule }>();
  const add = (key: string, input: MaskRuleInput, origin: string, quiet: boolean) => {
    const target = resolveKey(production, key);
    if (!target) {
      if (!quiet) {
        problems.push(
          `mask "${key}": production has no column it names. Key a rule table.column (a table of public), schema.table.column, ` +
            'or either followed by a jsonb path (auth.users.raw_user_meta_data.full_name).',
        );
      }
      return;
    }
    chosen.set(targetId(target), { target, rule: normalRule(input, origin) });
  };
  // The preset names tables and columns a project may not have (an older Auth, no auth schema): those are skipped.
  if (settings.preset === 'supabase') for (const [key, rule] of Object.entries(SUPABASE_PRESET)) add(key, rule, 'preset supabase', true);
  for (const [key, rule] of Object.entries(settings.rules)) add(key, rule, `mask "${key}"`, false);
  const unmasked = new Map<string, { column: string; reason: string }[]>();
  if (settings.preset === 'supabase') addProfileRules(production, staging, chosen, unmasked);
  const columns = resolveColumns(production, staging, chosen, problems);
  if (problems.length)
    throw new UsageError(`supasync.config.json's masking rules cannot be applied; no row was read or written:\n${problems.map((p) => `  ${p}`).join('\n')}`);

  const tables = new Map<string, TableMask>();
  for (const { table, ...column } of columns.values()) {
    const name = qualifiedName(table);
    const mask = tables.get(name) ?? { table: { schema: table.schema, name: table.name }, columns: [] };
    mask.columns.push(column);
    tables.set(name, mask);
  }
  for (const [name, columns] of unmasked) {
    const mask = tables.get(name);
    if (mask) mask.unmasked = columns;
  }
  return tables;
}

const PROFILE_ORIGIN = (table: Table) => `preset supabase: ${qualifiedName(table)} is a profile of auth.users`;

/**
 * The preset's rules for the profiles of Auth's users (preset.ts), each where it holds: on a text column no CHECK
 * reads (a masked value would break it), and with every rule already chosen and the columns referencing it
 * (a shorter varchar there) still applicable. One that cannot hold is left out, and said in the plan with why: the
 * preset adds what it can, it never stops a run the rules of the config would let through. A rule of the config's
 * own for the column (`keep` included) wins.
 */
function addProfileRules(
  production: Catalog,
  staging: Catalog,
  chosen: Map<string, { target: Target; rule: MaskRule }>,
  unmasked: Map<string, { column: string; reason: string }[]>,
): void {
  // The config's own rules failing, the run stops on them: the preset adds nothing to that.
  if (hasProblems(production, staging, chosen)) return;
  for (const table of authProfileTables(production)) {
    const left: { column: string; reason: string }[] = [];
    for (const column of table.columns) {
      const input = PROFILE_COLUMN_RULES.get(column.name);
      const target = { table, column, path: [] };
      if (!input || column.generated || chosen.has(targetId(target))) continue;
      const rule = normalRule(input, PROFILE_ORIGIN(table));
      const shape = shapeOf(table, column, staging);
      if (shape.kind !== 'text') continue;
      const check = [...(table.checks ?? []), ...(findTable(staging, table)?.checks ?? [])].find((c) => c.columns?.includes(column.name));
      const problem = check
        ? `its CHECK ${check.name} may refuse a masked value`
        : (ruleProblem(rule, shape, []) ??
          (hasProblems(production, staging, new Map([...chosen, [targetId(target), { target, rule }]]))
            ? 'a column referencing it could not take the masked value'
            : undefined));
      if (problem) left.push({ column: column.name, reason: `${describeRule(rule)} does not fit: ${problem.replace(/\. .*$/, '')}` });
      else chosen.set(targetId(target), { target, rule });
    }
    if (left.length) unmasked.set(qualifiedName(table), left);
  }
}

function hasProblems(production: Catalog, staging: Catalog, chosen: Map<string, { target: Target; rule: MaskRule }>): boolean {
  const problems: string[] = [];
  resolveColumns(production, staging, chosen, problems);
  return problems.length > 0;
}

/** The masked columns the chosen rules make, carried along foreign keys; every rule that cannot hold is added to `problems`. */
function resolveColumns(
  production: Catalog,
  staging: Catalog,
  chosen: Map<string, { target: Target; rule: MaskRule }>,
  problems: string[],
): Map<string, ColumnMask & { table: Table }> {
  const columns = new Map<string, ColumnMask & { table: Table }>();
  for (const { target, rule } of chosen.values()) {
    if (rule.transformer === 'keep') continue;
    const id = `${qualifiedName(target.table)}.${target.column.name}`;
    const column = columns.get(id) ?? { table: target.table, column: target.column.name, ...shapeOf(target.table, target.column, staging), rules: [] };
    column.rules.push({ path: target.path, rule });
    columns.set(id, column);
  }
  carryAlongForeignKeys(production, staging, columns, problems);
  for (const column of columns.values()) {
    // A whole-value rule replaces the value: path rules under it would have nothing left to edit.
    const whole = column.rules.find((r) => !r.path.length);
    if (whole) column.rules = [whole];
    for (const { path, rule } of column.rules) {
      const problem = ruleProblem(rule, column, path);
      if (problem) problems.push(`${rule.origin} (${qualifiedName(column.table)}.${[column.column, ...path].join('.')}, ${column.type}): ${problem}`);
    }
  }
  return columns;
}

const targetId = (target: Target) => [qualifiedName(target.table), target.column.name, ...target.path].join('\0');

/** `schema.table.column[.path]` when production has it, else `table.column[.path]` of public. */
/**
 * The columns the config's rules name, `keep` included, as `schema.table.column`, and the first key of a rule's path
 * as `schema.table.column.key`: a rule's key that names none is refused by planMasks.
 */
export function columnsNamedByRules(production: Catalog, settings: MaskSettings): Set<string> {
  const named = Object.keys(settings.rules).flatMap((key) => {
    const target = resolveKey(production, key);
    if (!target) return [];
    const column = `${qualifiedName(target.table)}.${target.column.name}`;
    return target.path.length ? [column, `${column}.${target.path[0]}`] : [column];
  });
  return new Set(named);
}

function resolveKey(catalog: Catalog, key: string): Target | undefined {
  const parts = key.split('.');
  const at = (schema: string, name: string | undefined, columnName: string | undefined, path: string[]): Target | undefined => {
    if (!name || !columnName) return undefined;
    const table = findTable(catalog, { schema, name });
    const column = table?.columns.find((c) => c.name === columnName);
    return table && column ? { table, column, path } : undefined;
  };
  return (parts.length >= 3 ? at(parts[0] as string, parts[1], parts[2], parts.slice(3)) : undefined) ?? at('public', parts[0], parts[1], parts.slice(2));
}

function normalRule(input: MaskRuleInput, origin: string): MaskRule {
  if (typeof input === 'string') return { transformer: input, options: {}, origin };
  const { transformer, ...options } = input;
  return { transformer: options.module ? 'module' : (transformer ?? 'keep'), options, origin };
}

/** What staging's column takes (the values land there), from production's where staging lacks the table: drift stops that run anyway. */
function shapeOf(table: Table, column: Column, staging: Catalog): MaskedColumnShape {
  const stagingTable = findTable(staging, table) ?? table;
  const target = stagingTable.columns.find((c) => c.name === column.name) ?? column;
  const type = target.type;
  const length = /^(character varying|character|varchar|bpchar)\((\d+)\)$/.exec(type);
  const kind: MaskedColumnShape['kind'] = /^(jsonb?)$/.test(type)
    ? 'json'
    : type === 'uuid'
      ? 'uuid'
      : /^(text|character varying|character|citext|name|bpchar)\b/.test(type) || target.typeKind === 'domain' || target.typeName === 'citext'
        ? 'text'
        : 'other';
  const keys = [stagingTable.primaryKey, ...stagingTable.uniqueKeys].filter((key) => key !== null);
  return {
    type,
    kind,
    maxLength: length ? Number(length[2]) : null,
    nullable: target.nullable,
    unique: keys.some((key) => key.columns.includes(column.name)) || Boolean(stagingTable.uniqueColumns?.includes(column.name)),
  };
}

/**
 * A column that references a masked key column gets the key's rule, so
 * every reference still finds its row; the two share the narrower length
 * and the key's uniqueness, which shape the value. A referencing column
 * with a different rule of its own, or masked while its key is not, would
 * break the reference: refused.
 */
function carryAlongForeignKeys(catalog: Catalog, staging: Catalog, columns: Map<string, ColumnMask & { table: Table }>, problems: string[]): void {
  const wholeRule = (column: ColumnMask | undefined) => column?.rules.find((r) => !r.path.length)?.rule;
  for (let changed = true; changed;) {
    changed = false;
    for (const table of catalog.tables) {
      for (const foreignKey of table.foreignKeys) {
        const parent = findTable(catalog, { schema: foreignKey.referencedSchema, name: foreignKey.referencedTable });
        if (!parent) continue;
        foreignKey.columns.forEach((childName, i) => {
          const parentName = foreignKey.referencedColumns[i] as string;
          const parentId = `${qualifiedName(parent)}.${parentName}`;
          const childId = `${qualifiedName(table)}.${childName}`;
          const parentMask = columns.get(parentId);
          const childMask = columns.get(childId);
          const parentRule = wholeRule(parentMask);
          const childRule = wholeRule(childMask);
          const by = `${qualifiedName(table)}.${childName} -> ${parentId} (${foreignKey.name})`;
          if (parentMask && parentRule && !childMask) {
            const column = table.columns.find((c) => c.name === childName) as Column;
            const rule = { ...parentRule, origin: `carried from ${parentId} by its foreign key ${foreignKey.name}` };
            columns.set(childId, { table, column: childName, ...shapeOf(table, column, staging), rules: [{ path: [], rule }] });
            changed = true;
          } else if (childRule && !parentRule) {
            problems.push(
              `${childRule.origin}: ${by} would no longer find its row: ${parentId} is not masked. Mask ${parentId} with the same rule (its references follow it).`,
            );
          } else if (childRule && parentRule && !sameTransform(childRule, parentRule)) {
            problems.push(
              `${childRule.origin}: ${by}: the column is masked with ${describeRule(childRule)}, its key with ${describeRule(parentRule)} (${parentRule.origin}), ` +
                'so references would no longer match. Remove the rule on the referencing column: it follows its key.',
            );
          }
          const a = columns.get(parentId);
          const b = columns.get(childId);
          if (a && b && wholeRule(a) && wholeRule(b)) {
            const maxLength = a.maxLength === null ? b.maxLength : b.maxLength === null ? a.maxLength : Math.min(a.maxLength, b.maxLength);
            const unique = a.unique || b.unique;
            if (a.maxLength !== maxLength || b.maxLength !== maxLength || a.unique !== unique || b.unique !== unique) {
              Object.assign(a, { maxLength, unique });
              Object.assign(b, { maxLength, unique });
              changed = true;
            }
          }
        });
      }
    }
  }
}

/** Whether two rules give the same output for the same value: the transformer and every option, not where they came from. */
function sameTransform(a: MaskRule, b: MaskRule): boolean {
  const options = (rule: MaskRule) => JSON.stringify(Object.entries(rule.options).sort(([x], [y]) => x.localeCompare(y)));
  return a.transformer === b.transformer && options(a) === options(b);
}

const TEXT_TRANSFORMERS = new Set(['email', 'phone', 'name', 'first_name', 'last_name', 'address', 'text', 'template']);
const READABLE = new Set(['name', 'first_name', 'last_name', 'address', 'text']);

/** Why a rule cannot apply to this column, with the fix; undefined when it can. */
function ruleProblem(rule: MaskRule, column: MaskedColumnShape, path: string[]): string | undefined {
  const t = rule.transformer;
  if (path.length) {
    if (column.kind !== 'json') return `a path (${path.join('.')}) is given, but the column is not json or jsonb. Key the rule by the column alone.`;
    return undefined;
  }
  if (column.kind === 'json' && (TEXT_TRANSFORMERS.has(t) || t === 'hash')) {
    return `${t} would replace the whole JSON document with text it cannot parse as JSON. Name the keys inside it (${rule.origin.replace(/^mask "|"$/g, '')}.full_name), or use null, fixed or your own module.`;
  }
  if ((column.kind === 'uuid' || column.kind === 'other') && TEXT_TRANSFORMERS.has(t)) {
    return `${t} writes text, which a ${column.type} column does not take. Use ${column.kind === 'uuid' ? 'hash (a uuid from the value), ' : ''}null, fixed or your own module.`;
  }
  if (column.kind === 'other' && t === 'hash')
    return `hash writes hex text or a uuid, which a ${column.type} column does not take. Use null, fixed or your own module.`;
  if (t === 'null' && !column.nullable) return 'the column is NOT NULL in staging. Use fixed, or a transformer that writes a value.';
  if (column.unique) {
    if (t === 'fixed' || t === 'null') {
      return t === 'null' && column.nullable
        ? undefined
        : 'the column is unique in staging, and one value for every row would collide. Use hash, or a template with {hash}.';
    }
    if (t === 'hash' && (rule.options.length ?? UNIQUE_HEX) < UNIQUE_HEX && column.kind !== 'uuid') {
      return `the column is unique: ${rule.options.length} hex characters collide too soon. Use a length of ${UNIQUE_HEX} or more (64 bits).`;
    }
    if (t === 'template' && !templateIsUnique(rule.options.template ?? '')) {
      return `the column is unique: a template needs {hash} (${UNIQUE_HEX} hex, 64 bits) to keep its values apart, e.g. "guest-{hash}@example.com".`;
    }
    const max = column.maxLength;
    if (max !== null) {
      const needed = t === 'email' ? EMAIL_MIN_LENGTH : t === 'hash' ? (rule.options.length ?? UNIQUE_HEX) : READABLE.has(t) ? UNIQUE_HEX + 2 : 0;
      if (needed > max && column.kind === 'text') {
        return `the column takes ${max} characters and is unique: ${t} needs ${needed} to keep values apart (64 bits). Use hash with a length that fits, or widen the column.`;
      }
    }
  }
  if (t === 'fixed' && column.maxLength !== null && (rule.options.value ?? '').length > column.maxLength) {
    return `the fixed value has ${(rule.options.value ?? '').length} characters and the column takes ${column.maxLength}. Shorten it.`;
  }
  return undefined;
}

/** A table's masked columns, as the plan shows them: `email: email (mask "guests.email")`. */
export function describeTableMask(mask: TableMask): string[] {
  return [
    ...mask.columns.flatMap((column) =>
      column.rules.map(
        ({ path, rule }) => `${[column.column, ...path].join('.')}: ${describeRule(rule)} (${rule.origin})${column.unique && !path.length ? ', unique' : ''}`,
      ),
    ),
    ...(mask.unmasked ?? []).map(({ column, reason }) => `${column}: NOT masked, copied as it is (preset supabase: ${reason}; a rule of your own masks it)`),
  ];
}

/**
 * The plan with each table's mask. A masked table travels as text (its
 * values are edited as text on both paths); the others keep their path.
 * Modes that compare checksums of production's rows with staging's would
 * find every masked row different: refused for masked tables until verify
 * compares production-as-masked (docs/masking.md).
 */
export function withMasks(plan: SyncPlan, masks: Map<string, TableMask>, run: { writes: boolean } = { writes: true }): SyncPlan {
  // A verify writes nothing and compares masked tables its own way: a table's configured mode does not matter to it.
  const ranged = run.writes ? plan.tables.filter((table) => masks.has(qualifiedName(table.table)) && comparesRanges(table.mode)) : [];
  if (ranged.length) {
    // Masked without a rule of the user's: the preset took the table for a profile of Auth's users.
    const byPreset = ranged.flatMap((table) => {
      const mask = masks.get(qualifiedName(table.table));
      const columns = mask?.columns.filter((column) => column.rules.every(({ rule }) => rule.origin.startsWith('preset supabase: '))) ?? [];
      return columns.length ? [{ table: qualifiedName(table.table), columns: columns.map((column) => column.column) }] : [];
    });
    const [first] = byPreset;
    throw new UsageError(
      `${ranged.map((table) => `${qualifiedName(table.table)} (--mode ${table.mode})`).join(', ')}: masked tables cannot be re-synced by comparing checksums yet: ` +
        "production's raw rows and staging's masked ones always differ. Use --mode replace or upsert for them (a table's own mode in supasync.config.json), or --exclude them." +
        (byPreset.length
          ? `\nMasked by --mask supabase as profiles of auth.users (the names, emails and avatars sign-up copies there): ${byPreset.map((p) => `${p.table}: ${p.columns.join(', ')}`).join('; ')}. ` +
            `To re-sync them unmasked, keep those columns in supasync.config.json's mask ("${first?.table}.${first?.columns[0]}": "keep", one per column).`
          : ''),
    );
  }
  const tables = plan.tables.map((table) => {
    const mask = masks.get(qualifiedName(table.table));
    return mask ? { ...table, mask, binarySafe: false } : table;
  });
  return { ...plan, tables };
}

/**
 * Said loudly wherever a run is described (the plan, the run's warnings):
 * the preset gives every copied user one known password, so anyone who
 * reaches staging's Auth can sign in as any of them. Null when no copied
 * table gets it.
 */
export function testPasswordWarning(tables: { mask?: TableMask | null }[]): string | null {
  const given = tables.some((table) =>
    table.mask?.columns.some((column) => column.column === 'encrypted_password' && column.rules.some(({ rule }) => rule.options.value === TEST_PASSWORD_HASH)),
  );
  return given
    ? `EVERY user copied into staging's auth.users gets the same password: "${TEST_PASSWORD}". Anyone who can reach staging's Auth can sign in as any of them with it.`
    : null;
}
