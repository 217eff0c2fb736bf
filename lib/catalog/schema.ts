// The catalog's shape as it arrives from either path (a jsonb document the
// $catalog$ query builds), checked before anything trusts it. types.ts says
// what each field means; this stops compiling when the two part ways.
import * as z from 'zod';
import type { Catalog } from './types.ts';

/** A CHECK constraint, its expression as pg_get_expr prints it. */
const check = z.object({ name: z.string(), expression: z.string(), validated: z.boolean() });
/** A table's: its expression null where the table was locked, and the columns it reads (functions version 26). */
const tableCheck = check.extend({ expression: z.string().nullable(), columns: z.array(z.string()).optional() });

const tableRef = { schema: z.string(), name: z.string() };
const key = z.object({ name: z.string(), columns: z.array(z.string()) });

const column = z.object({
  name: z.string(),
  type: z.string(),
  typeSchema: z.string(),
  typeName: z.string(),
  typeKind: z.enum(['base', 'composite', 'domain', 'enum', 'range', 'multirange', 'other']),
  binaryPortable: z.boolean(),
  nullable: z.boolean(),
  /** Absent from functions before version 19. */
  collation: z.string().nullable().optional(),
  default: z.string().nullable(),
  generated: z.enum(['stored', 'virtual']).nullable(),
  generationExpression: z.string().nullable(),
  identity: z.enum(['always', 'by default']).nullable(),
});

const foreignKey = z.object({
  name: z.string(),
  columns: z.array(z.string()),
  referencedSchema: z.string(),
  referencedTable: z.string(),
  referencedColumns: z.array(z.string()),
  /** Absent from functions before version 31. */
  period: z.boolean().optional(),
  referencedPartition: z.object(tableRef).nullable(),
  deferrable: z.boolean(),
  initiallyDeferred: z.boolean(),
  definition: z.string(),
  declaredOn: z.array(z.object({ ...tableRef, constraint: z.string() })),
});

const table = z.object({
  ...tableRef,
  kind: z.enum(['table', 'partitioned']),
  /** Absent from functions before version 20; null for a table not partitioned. */
  partitions: z
    .array(z.object({ name: z.string(), parent: z.string(), bound: z.string() }))
    .nullable()
    .optional(),
  rlsEnabled: z.boolean(),
  rlsHidesRows: z.boolean(),
  readable: z.boolean(),
  /** Absent from functions before version 25. */
  unreadableColumns: z.array(z.string()).nullable().optional(),
  /** Absent from functions before version 26. */
  schemaUsable: z.boolean().optional(),
  rowEstimate: z.number(),
  /** Absent from functions before this field; null for a partitioned table. */
  pages: z.number().nullable().optional(),
  columns: z.array(column),
  primaryKey: key.nullable(),
  // Absent from functions before version 24.
  checks: z.array(tableCheck).optional(),
  uniqueKeys: z.array(key.extend({ nullsNotDistinct: z.boolean() })),
  /** Absent from functions before version 20. */
  uniqueColumns: z.array(z.string()).optional(),
  /** Absent from functions before version 25. */
  enforcedIndexes: z
    .array(
      z.object({
        name: z.string(),
        kind: z.enum(['primary', 'unique', 'exclusion']),
        valid: z.boolean(),
        columns: z.array(z.object({ column: z.string().nullable(), operator: z.string().nullable(), collation: z.string().nullable() })),
        expressions: z.string().nullable(),
        predicate: z.string().nullable(),
        /** Absent from functions before version 26. */
        expressionsText: z.string().nullable().optional(),
        predicateText: z.string().nullable().optional(),
        nullsNotDistinct: z.boolean(),
        /** Absent from functions before version 31. */
        withoutOverlaps: z.boolean().optional(),
      }),
    )
    .optional(),
  foreignKeys: z.array(foreignKey),
  sequences: z.array(z.object({ schema: z.string(), name: z.string(), column: z.string() })),
  /** Absent from functions before version 26; null for a table not partitioned. */
  leavesStampedOnUpdate: z.boolean().nullable().optional(),
  triggers: z.array(
    z.object({
      name: z.string(),
      enabled: z.boolean(),
      definition: z.string().nullable(),
      /** Absent from functions before version 26. */
      beforeEachUpdate: z.boolean().optional(),
      firesInSessions: z.boolean().optional(),
      conditional: z.boolean().optional(),
      /** Absent from functions before version 37. */
      inserts: z.array(z.string()).optional(),
      updates: z.array(z.string()).optional(),
      /** Absent from functions before version 38. */
      stamps: z.array(z.string()).nullable().optional(),
    }),
  ),
  /** Absent from functions before version 10. */
  inheritedBy: z.array(z.string()).optional(),
});

export const CATALOG = z.object({
  database: z.string(),
  /** Absent from functions before version 26. */
  text: z
    .object({ encoding: z.string(), collate: z.string(), ctype: z.string(), provider: z.enum(['libc', 'icu', 'builtin']), locale: z.string().nullable() })
    .optional(),
  systemIdentifier: z.string(),
  databaseOid: z.string(),
  serverVersion: z.number(),
  role: z.string(),
  /** Absent from functions before version 19. */
  schemas: z.array(z.string()).optional(),
  /** Absent from functions before version 20. */
  otherRelations: z
    .array(
      z.object({
        ...tableRef,
        kind: z.enum(['view', 'materialized view', 'foreign table', 'partition', 'extension table']),
        partitionOf: z.object(tableRef).nullable(),
        /** An extension's table (version 40): the extension, and whether its condition picks rows of the app's. */
        extension: z.string().nullable().optional(),
        configRows: z.boolean().nullable().optional(),
      }),
    )
    .optional(),
  tables: z.array(table),
  /** Absent from functions before version 18. */
  types: z
    .array(
      z.object({
        name: z.string(),
        labels: z.array(z.string()).nullable(),
        attributes: z.array(z.object({ name: z.string(), type: z.string() })).nullable(),
        /** A domain's chain of base types; absent from functions before version 22. */
        base: z.string().nullable().optional(),
        /** A domain's own CHECKs and NOT NULL; absent from functions before version 24. */
        checks: z.array(check).nullable().optional(),
        notNull: z.boolean().nullable().optional(),
      }),
    )
    .optional(),
  sequences: z.array(
    z.object({
      ...tableRef,
      increment: z.string(),
      readable: z.boolean(),
      /** Absent from functions before version 22. */
      definition: z
        .object({ type: z.string(), increment: z.string(), min: z.string(), max: z.string(), start: z.string(), cache: z.string(), cycle: z.boolean() })
        .optional(),
      usedBy: z.array(z.object({ schema: z.string(), table: z.string(), column: z.string(), owned: z.boolean() })),
    }),
  ),
});

type Parsed = z.infer<typeof CATALOG>;
const sameShape: [Parsed, Catalog] extends [Catalog, Parsed] ? true : never = true;
void sameShape;

/** What a catalog that failed CATALOG lacks or holds otherwise, on one line. */
export const describeMismatch = (error: z.ZodError): string => z.prettifyError(error).replace(/\n/g, '; ');
