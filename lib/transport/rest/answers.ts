// The shapes of the REST functions' answers, checked as they arrive: a
// function of another version stops the run with its name and the fix,
// instead of flowing on as wrong numbers. Loaded with the REST path only.
import * as z from 'zod';
import type { Side } from '../../config/env.ts';
import { DatabaseError } from '../../errors.ts';
import { commandLine } from '../../invocation.ts';

export const ANSWERS = {
  // Counts come as jsonb numbers, or as strings from functions of an older version.
  references: z.record(z.string(), z.coerce.number()),
  /** Positions (from 0) of the keys asked about that no row holds. */
  missingKeys: z.array(z.number().int().nonnegative()),
  orphans: z.array(z.object({ rows: z.coerce.number(), keys: z.array(z.string()) })),
  sequenceValues: z.array(z.object({ schema: z.string(), name: z.string(), lastValue: z.string(), isCalled: z.boolean() })),
  count: z.coerce.number().int().nonnegative(),
  /** supasync_table_sizes': per table asked, [blocks, largest leaf's blocks, live rows], or null where it is no table. */
  tableSizes: z.array(z.tuple([z.number(), z.number(), z.number()]).nullable()),
  checksum: z.union([
    z.object({ rows: z.string(), hash: z.string() }),
    z.array(z.object({ bucket: z.number(), rows: z.string(), hash: z.string() })),
    z.array(z.object({ key: z.string(), hash: z.string() })),
  ]),
  // "range:rows:hash,...": compact, these answers are bytes on the user's link.
  rangeSums: z.string().regex(/^(\d+:\d+:[0-9a-f]+(,\d+:\d+:[0-9a-f]+)*)?$/),
  rangeFilter: z.string(),
  rangeRows: z.array(z.tuple([z.array(z.string().nullable()), z.string()])),
  clock: z.object({
    since: z.string(),
    now: z.string(),
    oldestTransaction: z.string().nullable(),
    xmin: z.string().regex(/^\d+$/),
    system: z.string().nullable(),
  }),
  watermarks: z.array(
    z.object({
      schema: z.string(),
      name: z.string(),
      column: z.string(),
      since: z.string(),
      system: z.string().nullable().optional(),
      columns: z.string().nullable().optional(),
    }),
  ),
  extensionRows: z.array(z.object({ schema: z.string(), name: z.string(), rows: z.number().nullable(), hash: z.string().nullable() })),
  /** supasync_clashing_rows' (functions version 41; transport/clashing-rows.ts): null where the index cannot be matched. */
  clashingRows: z
    .object({
      columns: z.array(z.string()),
      pairs: z.array(z.object({ staging: z.array(z.string().nullable()), production: z.array(z.string().nullable()) })),
    })
    .nullable(),
  jsonKeys: z.array(z.string()),
  maskedTables: z.array(z.object({ schema: z.string(), name: z.string(), columns: z.record(z.string(), z.string()), maskedAt: z.string() })),
  /** heldBy: absent from functions before version 22. */
  mark: z.object({ markedAt: z.string(), markedBy: z.string().nullable(), heldBy: z.string().nullable().optional() }).nullable(),
  /** supasync_private.put_back_held's, per table; an entry with only `error` is a put-back that failed as a whole (put_back_once). */
  putBack: z.array(
    z.object({
      table: z.string().default(''),
      held: z.coerce.number().default(0),
      putBack: z.coerce.number().default(0),
      left: z.coerce.number().default(0),
      error: z.string().nullable().default(null),
    }),
  ),
  viewRefreshes: z.array(z.object({ view: z.string(), refreshed: z.boolean(), reason: z.string().nullable() })),
  fileOwners: z.array(
    z.object({ name: z.string(), owner: z.string().nullable().optional(), owner_id: z.string().nullable().optional(), user_metadata: z.unknown().optional() }),
  ),
  ownersSet: z.object({ updated: z.coerce.number().int().nonnegative(), unmatched: z.coerce.number().int().nonnegative() }),
  dependentViews: z.array(z.object({ view: z.string(), populated: z.boolean(), owner: z.string(), mayRefresh: z.boolean() })),
};

/** An answer checked against its shape; `what` names the question in the error. */
export function parseAnswer<T>(schema: z.ZodType<T>, value: unknown, what: string, side: Side): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new DatabaseError(
    `${what} in ${side}: the answer came in a shape supasync does not know (${z.prettifyError(parsed.error).replace(/\n/g, '; ')}). ` +
      `Are its supasync functions from another version? Update them: ${commandLine('install-rpcs')} --${side}`,
  );
}
