// What the plan decides about masking, in the shape the transports apply it:
// per table, the columns whose values change and the rule for each. No
// secret here: a plan is printed (--dry-run --json).
import type { TableRef } from '../catalog/types.ts';
import type { TransformerName } from '../config/mask-schema.ts';

export interface MaskRule {
  /** A built-in transformer, or `module`: the user's own function. */
  transformer: TransformerName | 'module';
  /** fixed's value, template's text, hash's length, email's domain, module's path and export. */
  options: { value?: string; template?: string; length?: number; domain?: string; module?: string; export?: string };
  /** Where it came from, for the plan and messages: the config's key, `preset supabase`, or the foreign key it was carried along. */
  origin: string;
}

/** The column's shape a transformer must respect. */
export interface MaskedColumnShape {
  /** As format_type() prints it. */
  type: string;
  /** What the value is to a transformer: text to replace, a JSON document to edit, a uuid, or anything else. */
  kind: 'text' | 'json' | 'uuid' | 'other';
  /** varchar(n) / char(n): the most characters the column takes; null: no limit we know of. */
  maxLength: number | null;
  nullable: boolean;
  /** In the primary key or a unique key: two rows may not get one value. */
  unique: boolean;
}

export interface ColumnMask extends MaskedColumnShape {
  column: string;
  /** A rule for the whole value (path empty), or one per jsonb path, applied in order. */
  rules: { path: string[]; rule: MaskRule }[];
}

export interface TableMask {
  table: TableRef;
  columns: ColumnMask[];
  /** A profile's columns the Supabase preset would mask and left as they are, with why (plan/mask.ts): said in the plan. */
  unmasked?: { column: string; reason: string }[];
}

/** A rule in messages: `email (from mask "public.guests.email")`. */
export function describeRule(rule: MaskRule): string {
  const name = rule.transformer === 'module' ? `module ${rule.options.module ?? ''}${rule.options.export ? `#${rule.options.export}` : ''}` : rule.transformer;
  const option =
    rule.transformer === 'fixed'
      ? ` ${JSON.stringify(rule.options.value)}`
      : rule.transformer === 'template'
        ? ` ${JSON.stringify(rule.options.template)}`
        : rule.options.length
          ? ` (${rule.options.length} hex)`
          : '';
  return `${name}${option}`;
}
