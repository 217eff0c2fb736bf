// Masking applied to rows as they pass: the plan's TableMask made into one
// function per column list, which both transports call between reading a
// row from production and writing it to staging. Rows are arrays of text
// values (null for NULL) in the order of the columns being copied.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { qualifiedName } from '../catalog/types.ts';
import { DatabaseError, UsageError } from '../errors.ts';
import type { MaskKey } from './key.ts';
import { JsonSyntaxError, maskAtPath, parseJson, serializeJson } from './json.ts';
import { makeTransform, MaskFitError, type CustomTransformer, type Transform } from './transformers.ts';
import { describeRule, type ColumnMask, type MaskRule, type TableMask } from './types.ts';

export type MaskedRow = (string | null)[];
/** `reads`: the positions the mask looks at (masked columns and the key, for messages); the others may hold anything. */
export type RowMask = ((row: MaskedRow) => MaskedRow) & { reads: number[] };

const moduleId = (rule: MaskRule) => `${rule.options.module ?? ''}#${rule.options.export ?? 'default'}`;

export class Masker {
  private readonly compiled = new Map<string, RowMask | null>();

  constructor(
    private readonly key: MaskKey,
    private readonly custom: Map<string, CustomTransformer>,
  ) {}

  /**
   * The function that masks rows of `table` holding `columns` (in that
   * order); null when none of them is masked: such rows go as they are, by
   * the table's usual path. `keyColumns` name a row in messages.
   */
  forColumns(table: TableMask | null | undefined, columns: string[], keyColumns: string[] = []): RowMask | null {
    if (!table) return null;
    const id = `${qualifiedName(table.table)}\0${columns.join('\0')}`;
    if (!this.compiled.has(id)) this.compiled.set(id, this.compile(table, columns, keyColumns));
    return this.compiled.get(id) ?? null;
  }

  private compile(table: TableMask, columns: string[], keyColumns: string[]): RowMask | null {
    const masked = columns.flatMap((name, index) => {
      const column = table.columns.find((c) => c.column === name);
      return column ? [{ index, column, mask: this.columnTransform(table, column) }] : [];
    });
    if (!masked.length) return null;
    const keyAt = keyColumns.map((name) => columns.indexOf(name));
    const where = (row: MaskedRow) =>
      keyAt.every((i) => i >= 0) && keyAt.length ? keyColumns.map((name, i) => `${name}=${row[keyAt[i] as number] ?? 'NULL'}`).join(', ') : 'a row';
    const mask = (row: MaskedRow) => {
      const out = row.slice();
      for (const { index, column, mask } of masked) {
        const value = row[index];
        if (value === null || value === undefined) continue;
        try {
          out[index] = mask(value);
        } catch (error) {
          throw maskFailure(table, column, where(row), error);
        }
      }
      return out;
    };
    return Object.assign(mask, { reads: [...new Set([...masked.map((m) => m.index), ...keyAt.filter((i) => i >= 0)])] });
  }

  private columnTransform(table: TableMask, column: ColumnMask): Transform {
    const name = `${qualifiedName(table.table)}.${column.column}`;
    const steps = column.rules.map(({ path, rule }) => {
      const shape = path.length ? { ...column, kind: 'text' as const, maxLength: null, unique: false } : column;
      const transform = makeTransform(rule, shape, this.key, this.custom.get(moduleId(rule)), [name, ...path].join('.'));
      return { path, transform };
    });
    const whole = steps.find((step) => !step.path.length);
    if (whole) return whole.transform;
    return (value) => {
      let json;
      try {
        json = parseJson(value);
      } catch (error) {
        if (error instanceof JsonSyntaxError) throw new MaskFitError(`its value is not JSON (${error.message}), so no path can be masked in it`);
        throw error;
      }
      for (const { path, transform } of steps) json = maskAtPath(json, path, transform);
      return serializeJson(json);
    };
  }
}

function maskFailure(table: TableMask, column: ColumnMask, row: string, error: unknown): Error {
  if (!(error instanceof MaskFitError)) return error as Error;
  const rules = column.rules.map(({ path, rule }) => `${[column.column, ...path].join('.')}: ${describeRule(rule)} (${rule.origin})`).join('; ');
  return new DatabaseError(
    `Masking ${qualifiedName(table.table)}.${column.column} (${column.type}) failed for ${row}: ${error.message}. ` +
      `No value of this table was written unmasked. Rule: ${rules}. ` +
      'Fix the rule in supasync.config.json "mask": a shorter template or hash length, a transformer that fits the column, or widen the column in both databases.',
    1,
    { cause: error, sameOnRerun: true },
  );
}

/**
 * The masker for a run: the key, and the users' own transformers imported
 * (paths relative to supasync.config.json's directory). A module that does
 * not load, or does not export a function, stops the run before it reads a row.
 */
export async function loadMasker(key: MaskKey, masks: TableMask[], directory: string): Promise<Masker> {
  const custom = new Map<string, CustomTransformer>();
  const rules = masks.flatMap((table) => table.columns.flatMap((column) => column.rules.map(({ rule }) => rule)));
  for (const rule of rules.filter((r) => r.transformer === 'module')) {
    const id = moduleId(rule);
    if (custom.has(id)) continue;
    const path = resolve(directory, rule.options.module ?? '');
    let loaded: Record<string, unknown>;
    try {
      loaded = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(
        `supasync.config.json mask (${rule.origin}): could not load ${path}: ${(error as Error).message}. Give a path relative to supasync.config.json.`,
      );
    }
    const name = rule.options.export ?? 'default';
    const fn = loaded[name];
    if (typeof fn !== 'function') {
      throw new UsageError(
        `supasync.config.json mask (${rule.origin}): ${path} has no function export "${name}" (exports: ${Object.keys(loaded).join(', ') || 'none'}). ` +
          'Export function (value, helpers) => string | null, and name it with "export" unless it is the default.',
      );
    }
    custom.set(id, fn as CustomTransformer);
  }
  return new Masker(key, custom);
}

/** The table's masked columns and their rules, and what to do when staging refuses their values. */
export function maskedColumnsHint(table: TableMask, code?: string): string {
  const rules = table.columns.flatMap((column) =>
    column.rules.map(({ path, rule }) => `${[column.column, ...path].join('.')}: ${describeRule(rule)} (${rule.origin})`),
  );
  // Two rows masked to one value (23505, 23P01): only values that keep the HMAC apart fix that.
  const fix = ['23505', '23P01'].includes(code ?? '')
    ? 'Values a unique index or exclusion constraint holds must stay apart: use hash, or a template with {hash}, for its columns'
    : "Choose rules whose values pass the column's constraints (a template or fixed value that matches its CHECK, your own module)";
  // PostgreSQL's words do not always name the column (a value too long does not): the rows' other columns may be the cause.
  return `Where the value refused is a masked one (the table's masked columns: ${rules.join('; ')}): ${fix}, or "keep" a column that holds no personal data.`;
}

/** What staging refuses of a value: a CHECK, a length, NOT NULL, a unique index. */
export const VALUE_REFUSED = new Set(['23514', '22001', '23502', '23505', '22P02', '23P01']);

/**
 * Staging refused a masked table's rows for a value (a CHECK its masked
 * values break, a length, a uniqueness): the message names the table, its
 * masked columns and their rules, with the fix. Null for other failures.
 * What staging refused was a masked row: nothing raw was written.
 */
export function maskedWriteFailure(table: TableMask, error: unknown): Error | null {
  const code = (error as { code?: string }).code;
  if (!code || !VALUE_REFUSED.has(code)) return null;
  const pg = error as { message?: string; constraint?: string; column?: string; detail?: string };
  return new DatabaseError(
    `Staging refused masked rows of ${qualifiedName(table.table)}: ${pg.message ?? String(error)}${pg.constraint ? ` (constraint ${pg.constraint})` : ''}. ` +
      `${maskedColumnsHint(table, code)} Nothing of it was written (raw values never are).`,
    1,
    { cause: error, sameOnRerun: true },
  );
}
