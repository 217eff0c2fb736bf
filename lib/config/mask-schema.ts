// The shape of supasync.config.json's "mask" rules, checked with zod before
// anything connects. What each transformer does is lib/mask/transformers.ts';
// here only what a rule may say, so a typo is named with its fix.
import * as z from 'zod';
import { MASK_PRESETS, type MaskPreset } from './mask-presets.ts';

export { MASK_PRESETS, type MaskPreset };

/** Every built-in transformer; `module` is the user's own function. */
export const TRANSFORMER_NAMES = ['email', 'phone', 'name', 'first_name', 'last_name', 'address', 'text', 'hash', 'null', 'fixed', 'template', 'keep'] as const;

export type TransformerName = (typeof TRANSFORMER_NAMES)[number];

const nameMessage = `a transformer name: one of ${TRANSFORMER_NAMES.join(', ')}, or an object such as {"transformer": "hash", "length": 24} or {"module": "./mask/passport.mjs"}`;

const transformerName = z.enum(TRANSFORMER_NAMES, { message: nameMessage });

/** A rule with options: which transformer, and what it takes. */
const ruleObject = z
  .object({
    transformer: transformerName.optional(),
    /** fixed: the value written instead, as PostgreSQL would read it as text. */
    value: z.string().optional(),
    /** template: text with {hash}, {hash:N}, {digits:N}, {first_name}, {last_name}, {name}. */
    template: z.string().min(1).optional(),
    /** hash: hex characters kept (8-64; default 16, 64 bits). */
    length: z.number().int().min(8, 'length: at least 8 hex characters (32 bits)').max(64, 'length: at most 64 hex characters').optional(),
    /** email: the domain masked addresses get (default example.com). */
    domain: z
      .string()
      .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'domain: a host name such as example.com')
      .optional(),
    /** Your own transformer: a module path (relative to supasync.config.json) and its export (default: the default export). */
    module: z.string().min(1).optional(),
    export: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((rule, context) => {
    const kind = rule.module ? 'module' : rule.transformer;
    if (!kind) context.addIssue({ code: 'custom', message: 'say which transformer: {"transformer": "email"}, or {"module": "./path.mjs"} for your own' });
    if (rule.module && rule.transformer) context.addIssue({ code: 'custom', message: 'give "transformer" or "module", not both' });
    if (kind === 'fixed' && rule.value === undefined)
      context.addIssue({ code: 'custom', message: 'fixed needs "value": {"transformer": "fixed", "value": "redacted"}' });
    if (kind === 'template' && rule.template === undefined) {
      context.addIssue({ code: 'custom', message: 'template needs "template": {"transformer": "template", "template": "guest-{hash:12}@example.com"}' });
    }
  });

/** A name alone, or an object; a string that names no transformer is told the names, an object its own problem. */
export const maskRule = z.union([transformerName, ruleObject], {
  error: (issue) => (typeof issue.input === 'object' && issue.input !== null ? undefined : nameMessage),
});

export type MaskRuleInput = z.infer<typeof maskRule>;

/** Keys: `table.column` (a table of public), `schema.table.column`, and either followed by a jsonb path (`.full_name`). */
export const maskRules = z.record(z.string(), maskRule).superRefine((rules, context) => {
  for (const key of Object.keys(rules)) {
    if (!/^[^.\s]+(\.[^.\s]+)+$/.test(key)) {
      context.addIssue({
        code: 'custom',
        path: [key],
        message:
          'a rule is keyed `table.column` (a table of public), `schema.table.column`, or either with a jsonb path after it (`auth.users.raw_user_meta_data.full_name`)',
      });
    }
  }
});
