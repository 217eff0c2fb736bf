// What every side answers, whichever way it is reached (postgres/database.ts,
// rest/database.ts), and the shapes of those answers, checked as they arrive:
// a function of another version, or a database that is not what it seems,
// stops the run with its name instead of flowing on as wrong numbers.
import { z } from 'zod';
import type { ForeignKeyLink } from '../catalog/links.ts';
import type { Catalog, SequenceState, TableRef } from '../catalog/types.ts';
import type { Side } from '../config/env.ts';
import { DatabaseError } from '../errors.ts';
import type { ChecksumLevel, ChecksumTarget } from './checksum.ts';

export interface DatabaseReads {
  side: Side;
  /** Where it is, safe to print (no password, no key). */
  location: string;
  /** Whether a run's reads of it all see one moment (one snapshot), or each request its own. */
  oneSnapshot: boolean;
  readCatalog(): Promise<Catalog>;
  /** Whether it carries the sync-target mark (sync-target.ts). */
  readSyncTarget(): Promise<SyncTargetMark>;
  countRows(table: TableRef): Promise<number>;
  /** The distinct values of `columns` (as ROW(...)::text, NULLs left out) with how many rows hold each. */
  references(table: TableRef, columns: string[], rowFilter: string | null): Promise<Record<string, number>>;
  /** Which of these ROW(...)::text values no row of `table` (of those `rowFilter` matches) has in `columns`. */
  missingKeys(table: TableRef, columns: string[], keys: string[], rowFilter: string | null): Promise<string[]>;
  /** Per link, in order: rows of its child whose key finds no parent row (MATCH SIMPLE: a NULL in the key is no reference), with a few of their keys. */
  orphans(links: ForeignKeyLink[]): Promise<Orphans[]>;
  /** Where these sequences stand now; a name that is no sequence here is left out. */
  sequenceValues(sequences: TableRef[]): Promise<SequenceState[]>;
  /** One level of a content checksum, computed in the database (supasync_private.checksum_query). */
  checksum(target: ChecksumTarget, level: ChecksumLevel): Promise<unknown>;
  close(): Promise<void>;
}

/** Whether a database carries the sync-target mark (sync-target.ts). */
export type SyncTargetMark =
  | { kind: 'marked'; markedAt: string; markedBy: string | null }
  | { kind: 'unmarked' }
  /** The mark exists but this role may not read it, or the functions that read it are missing. */
  | { kind: 'unknown'; why: string };

export const ANSWERS = {
  // Counts come as jsonb numbers, or as strings from functions of an older version.
  references: z.record(z.string(), z.coerce.number()),
  missingKeys: z.array(z.string()),
  orphans: z.array(z.object({ rows: z.coerce.number(), keys: z.array(z.string()) })),
  sequenceValues: z.array(z.object({ schema: z.string(), name: z.string(), lastValue: z.string(), isCalled: z.boolean() })),
  count: z.coerce.number().int().nonnegative(),
  mark: z.object({ markedAt: z.string(), markedBy: z.string().nullable() }).nullable(),
};

export type Orphans = z.infer<typeof ANSWERS.orphans>[number];

/** An answer checked against its shape; `what` names the question in the error. */
export function parseAnswer<T>(schema: z.ZodType<T>, value: unknown, what: string, side: Side): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new DatabaseError(
    `${what} in ${side}: the answer came in a shape supasync does not know (${z.prettifyError(parsed.error).replace(/\n/g, '; ')}). ` +
      `Are its supasync functions from another version? Update them: npx tsx scripts/install-rpcs.ts --${side}`,
  );
}

/** A link as supasync_private.orphans_query takes it, on either path. */
export function orphanLinkArgument(link: ForeignKeyLink) {
  return {
    child_schema: link.child.schema,
    child_table: link.child.name,
    columns: link.columns,
    child_rows: link.childRows,
    parent_schema: link.parentRelation.schema,
    parent_table: link.parentRelation.name,
    parent_columns: link.parentColumns,
  };
}
