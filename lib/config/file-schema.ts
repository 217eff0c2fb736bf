// The shape of supasync.config.json, checked with zod; see file.ts for what
// each part means to a run.
import * as z from 'zod';
import { projectRefOfUrl } from './connection-string.ts';
import { MASK_PRESETS, maskRules } from './mask-schema.ts';

/** A project ref as the dashboard shows it, in any case, or the project's URL: read as the lowercase ref hosts carry. */
const projectRef = z
  .string()
  .trim()
  .transform((value, context) => {
    const ref = /^[a-z0-9]+$/i.test(value) ? value.toLowerCase() : projectRefOfUrl(value);
    if (ref) return ref;
    context.addIssue({ code: 'custom', message: 'a project ref is letters and digits: the <ref> of https://<ref>.supabase.co' });
    return z.NEVER;
  });

const tableOptions = z
  .object({
    mode: z.enum(['replace', 'upsert', 'mirror', 'insert-missing', 'incremental']).optional(),
    /** --mode incremental: the column whose value moves when a row changes (default updated_at, where the table has one). */
    changedColumn: z.string().min(1).optional(),
    batchSize: z.number().int().positive().max(50_000).optional(),
    /** A SQL condition over the table's columns: only these rows are copied. */
    where: z.string().trim().min(1).optional(),
  })
  .strict();

export const configFileSchema = z
  .object({
    schemas: z.array(z.string().min(1)).min(1).optional(),
    exclude: z.array(z.string().min(1)).optional(),
    groups: z.record(z.string().regex(/^[a-z0-9_-]+$/i, 'group names are letters, digits, _ and -'), z.array(z.string().min(1)).min(1)).optional(),
    tables: z.record(z.string().min(1), tableOptions).optional(),
    /** Supabase project refs supasync must never write to (production, above all). */
    protectedRefs: z.array(projectRef).optional(),
    /** --mode incremental: how far before production's clock (and its oldest open transaction) the next run reads from. */
    incremental: z
      .object({
        overlapSeconds: z
          .number()
          .int('overlapSeconds is a whole number')
          .min(0)
          .max(7 * 24 * 3600)
          .optional(),
      })
      .strict()
      .optional(),
    /** Masking rules (docs/masking.md): `table.column` or `schema.table.column` (a jsonb path may follow) -> a transformer. */
    mask: maskRules.optional(),
    /** Built-in rules added under the file's own: "supabase" masks auth.users and auth.identities. */
    maskPreset: z.enum(MASK_PRESETS, { message: `maskPreset: one of ${MASK_PRESETS.join(', ')}` }).optional(),
    /** How many complete backups of one staging a successful run leaves in .supasync/backups/ (its own included). */
    backups: z
      .object({ keep: z.number().int('keep is a whole number of backups').min(1, 'keep at least 1: the backup a run just took').optional() })
      .strict()
      .optional(),
    /** Files: every sync copies (and every verify compares) these buckets' files, as --storage, --buckets and --exclude-buckets would. */
    storage: z
      .object({
        /** false: the section stays, the files are left alone (--storage still asks for them). */
        files: z.boolean().optional(),
        buckets: z.array(z.string().min(1)).min(1, 'name at least one bucket, or leave "buckets" out for every bucket').optional(),
        excludeBuckets: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof configFileSchema>;

/** The keys an object of the file may hold at `path` (as zod's issues give it): what an unknown key there is compared with. */
export function keysAt(path: readonly PropertyKey[]): string[] {
  let at: z.ZodType | undefined = configFileSchema;
  for (const part of path) at = at && childAt(at, part);
  return at ? objectsOf(at).flatMap((object) => Object.keys(object.shape)) : [];
}

function childAt(schema: z.ZodType, part: PropertyKey): z.ZodType | undefined {
  const [first, ...more] = objectsOf(schema);
  if (first && typeof part === 'string') return [first, ...more].map((object) => object.shape[part] as z.ZodType | undefined).find(Boolean);
  const inner = unwrapped(schema);
  if (inner instanceof z.ZodRecord) return inner.valueType as z.ZodType;
  if (inner instanceof z.ZodArray) return inner.element as z.ZodType;
  return undefined;
}

/** The objects a value at this place may be: itself, or the objects among a union's options. */
function objectsOf(schema: z.ZodType): z.ZodObject[] {
  const inner = unwrapped(schema);
  if (inner instanceof z.ZodObject) return [inner];
  if (inner instanceof z.ZodUnion) return (inner.options as z.ZodType[]).flatMap(objectsOf);
  return [];
}

function unwrapped(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional || schema instanceof z.ZodNullable ? unwrapped(schema.unwrap() as z.ZodType) : schema;
}
