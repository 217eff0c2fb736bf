// One model of what a database holds, whichever way it was read.

export interface TableRef {
  schema: string;
  name: string;
}

export interface Column {
  name: string;
  /** As format_type() prints it, e.g. `numeric(12,2)`, `public.email_address`, `real[]`. */
  type: string;
  typeSchema: string;
  typeName: string;
  typeKind: 'base' | 'composite' | 'domain' | 'enum' | 'range' | 'multirange' | 'other';
  /**
   * COPY's binary format reads back exactly what it wrote for this type, in
   * any database: a built-in type of the catalog's list (its migration says
   * why each), an array of one, a domain over one, or an enum.
   */
  binaryPortable: boolean;
  nullable: boolean;
  /**
   * The column's collation, as SQL names it (`public.case_blind`), where it is
   * nondeterministic (equal values need not be equal bytes); null where it
   * compares bytes; undefined from REST functions before version 19.
   */
  collation?: string | null;
  default: string | null;
  /** Generated columns can never be written: they are left out of every copy. */
  generated: 'stored' | 'virtual' | null;
  /** A generated column's expression; null for one on a table another session held an ACCESS EXCLUSIVE lock on (functions version 26: not compared). */
  generationExpression: string | null;
  identity: 'always' | 'by default' | null;
}

export interface Key {
  name: string;
  columns: string[];
}

export interface UniqueKey extends Key {
  nullsNotDistinct: boolean;
}

/** A partition that declares a foreign key itself, and the name its constraint has there. */
export interface PartitionConstraint extends TableRef {
  constraint: string;
}

/**
 * A foreign key of a table, declared on the table itself or on its
 * partitions: either way its rows reference the parent, so the parent loads
 * first. The referenced table is the one the catalog lists, a partitioned
 * table when the key references one of its partitions.
 */
export interface ForeignKey {
  /** The constraint's name; on partitions, the first one's (each one's own is in `declaredOn`). */
  name: string;
  /** The columns a parent is found by; a key with PERIOD's last pair left out (see `period`). */
  columns: string[];
  referencedSchema: string;
  referencedTable: string;
  referencedColumns: string[];
  /**
   * A key with PERIOD (PostgreSQL 18; functions version 31): its last
   * column's range must lie within its parents' ranges, a containment the
   * checks of parents cannot ask by equality. That pair is left out of
   * `columns` and `referencedColumns`, so a row is checked for a parent with
   * the columns before it alone. Absent before version 31.
   */
  period?: boolean;
  /** The partition of the referenced table that the key names, when it names one rather than the table. */
  referencedPartition: TableRef | null;
  deferrable: boolean;
  initiallyDeferred: boolean;
  /** As pg_get_constraintdef() prints it, to restore the constraint exactly. */
  definition: string;
  /**
   * Empty when the key is declared on the table. Otherwise the partitions
   * that declare it, each its own constraint with this definition: DDL
   * names them, and the key governs only their rows.
   */
  declaredOn: PartitionConstraint[];
}

/**
 * Whether PostgreSQL has checked every row against the key: false for one
 * added NOT VALID and never validated, whose older rows may name parents
 * that do not exist, and for one declared NOT ENFORCED (PostgreSQL 18),
 * which is never checked (pg_get_constraintdef says either at its end).
 */
export function isValidated(foreignKey: Pick<ForeignKey, 'definition'>): boolean {
  return !foreignKey.definition.endsWith(' NOT VALID') && !foreignKey.definition.endsWith(' NOT ENFORCED');
}

export interface OwnedSequence {
  schema: string;
  name: string;
  /** The serial or identity column the sequence feeds. */
  column: string;
}

/** A sequence, whichever columns draw from it. */
export interface Sequence extends TableRef {
  /** As text: negative for a descending sequence. */
  increment: string;
  /** The role that read the catalog may read where it stands. */
  readable: boolean;
  /** What CREATE SEQUENCE makes it again with; absent before functions version 22. */
  definition?: SequenceDefinition;
  /** Columns that own it (serial, identity) or call nextval() on it in their default; none: a function's counter. */
  usedBy: { schema: string; table: string; column: string; owned: boolean }[];
}

/** A rule an index holds a table's rows to: no two rows equal under a unique index, none conflicting under an exclusion constraint. */
export interface EnforcedIndex {
  name: string;
  kind: 'primary' | 'unique' | 'exclusion';
  /** False: a CREATE INDEX CONCURRENTLY that failed left it, and it holds nothing of the rows already there. */
  valid: boolean;
  /**
   * Its key in order: a column by name, or null where the key holds an
   * expression; an exclusion's with the operator it is compared by
   * (schema.op), else null; the collation where it is not the column's own
   * (schema.name), else null.
   */
  columns: { column: string | null; operator: string | null; collation: string | null }[];
  /**
   * The key's expressions and a partial index's predicate as PostgreSQL
   * stores them (node trees, without positions). Null: none. Trees name
   * types, functions and enum labels by their object ids, which differ
   * between two databases: the sides are compared by the texts below.
   */
  expressions: string | null;
  predicate: string | null;
  /**
   * The same deparsed, names schema-qualified (functions version 26); null
   * where the index has none, or where another session held an ACCESS
   * EXCLUSIVE lock on the table as the catalog was read (deparsing would
   * have waited for it): then the trees are compared.
   */
  expressionsText?: string | null;
  predicateText?: string | null;
  nullsNotDistinct: boolean;
  /**
   * A PRIMARY KEY or UNIQUE constraint WITHOUT OVERLAPS (PostgreSQL 18;
   * functions version 31): kind `exclusion`, its rows kept apart by
   * overlapping ranges, which no ON CONFLICT matches on, so no key to match
   * rows by (primaryKey and uniqueKeys leave it out).
   */
  withoutOverlaps?: boolean;
}

/** A sequence's options, numbers as text (a bigint passes 2^53). */
export interface SequenceDefinition {
  type: string;
  increment: string;
  min: string;
  max: string;
  start: string;
  cache: string;
  cycle: boolean;
}

/**
 * A staging sequence that a copied table's column draws from where
 * production's column does not (staging's migrations ahead: a serial or
 * identity production lacks, another sequence's name): set once the rows are
 * in past the column's largest value, never backwards.
 */
export interface SequenceFloor extends TableRef {
  beyondColumn: { schema: string; table: string; column: string };
  /** It counts down: moved below the column's smallest value. */
  descending: boolean;
}

/** Where a sequence stands: what setval() takes to put it there. */
export interface SequenceState extends TableRef {
  /** As text: a bigint passes 2^53. */
  lastValue: string;
  isCalled: boolean;
  /** Staging lacks it: made first with these options (supasync_private.create_sequences_query). */
  create?: SequenceDefinition;
}

export interface Trigger {
  name: string;
  enabled: boolean;
  /** As pg_get_triggerdef prints it; null for one with a WHEN clause on a table another session held an ACCESS EXCLUSIVE lock on (functions version 26). */
  definition: string | null;
  /** A row trigger that fires before every UPDATE (not UPDATE OF some columns); undefined from functions before version 26. */
  beforeEachUpdate?: boolean;
  /** Fires in an ordinary session (enabled, not ENABLE REPLICA only); undefined before version 26. */
  firesInSessions?: boolean;
  /** Has a WHEN clause; undefined before version 26. */
  conditional?: boolean;
  /** The tables its function's body names after INSERT INTO, as written there (`public.profiles`, `"Team"`); undefined before version 37. */
  inserts?: string[];
  /** The tables its function's body names after UPDATE, as written there; undefined before version 42. */
  updates?: string[];
  /**
   * The columns its function sets in NEW, as its body writes them (`updated_at`, `"updatedAt"`), or moddatetime's
   * argument; null for a function in a language whose text is not read; undefined before version 38.
   */
  stamps?: string[] | null;
}

/** One partition of a partitioned table's tree, any level. */
export interface Partition {
  /** schema.name, quoted where SQL needs it. */
  name: string;
  /** The partitioned table it is attached to, quoted the same way. */
  parent: string;
  /** As pg_get_expr prints it: `FOR VALUES IN (2)`, `DEFAULT`. */
  bound: string;
}

export interface Table extends TableRef {
  kind: 'table' | 'partitioned';
  /** A partitioned table's partitions, every level; null for a table not partitioned, undefined from REST functions before version 20. */
  partitions?: Partition[] | null;
  rlsEnabled: boolean;
  /** Row-level security hides rows of this table from the role that read the catalog. */
  rlsHidesRows: boolean;
  /** The role that read this catalog may read every column (schema USAGE, and SELECT on the table or each column). */
  readable: boolean;
  /** Without SELECT on the table, the columns it may not read either (none: its schema's USAGE is what it lacks); null: it holds SELECT on the table; undefined from REST functions before version 25. */
  unreadableColumns?: string[] | null;
  /** The role that read this catalog may use the table's schema (USAGE); undefined from REST functions before version 26. */
  schemaUsable?: boolean;
  /** From the planner's statistics; -1 when the table was never analyzed. */
  rowEstimate: number;
  /** Its blocks by the same statistics (0 until counted); null for a partitioned table, undefined from older functions. */
  pages?: number | null;
  columns: Column[];
  primaryKey: Key | null;
  /**
   * CHECK constraints, each expression as pg_get_expr prints it (null where
   * another session held an ACCESS EXCLUSIVE lock on the table: deparsing
   * would have waited for it), and the columns it reads (undefined before
   * version 26); undefined from REST functions before version 24.
   */
  checks?: { name: string; expression: string | null; validated: boolean; columns?: string[] }[];
  uniqueKeys: UniqueKey[];
  /** Every column a unique index reads, partial and expression indexes included (a predicate's columns too); absent from REST functions before version 20. */
  uniqueColumns?: string[];
  /** Unique indexes (primary, partial, on expressions) and exclusion constraints; undefined from REST functions before version 25. */
  enforcedIndexes?: EnforcedIndex[];
  foreignKeys: ForeignKey[];
  sequences: OwnedSequence[];
  triggers: Trigger[];
  /** A partitioned table whose every leaf partition has its own row trigger before every UPDATE, with no WHEN; null for a table not partitioned, undefined before functions version 26. */
  leavesStampedOnUpdate?: boolean | null;
  /** Tables that INHERIT from this one (not its partitions), quoted: a query of it reads their rows too. Unknown (absent) from REST functions before version 10. */
  inheritedBy?: string[];
}

/** How a database stores and compares text: its encoding, and its default collation's provider and locale. */
export interface DatabaseText {
  encoding: string;
  /** LC_COLLATE and LC_CTYPE, as the database was created with them. */
  collate: string;
  ctype: string;
  provider: 'libc' | 'icu' | 'builtin';
  /** The ICU or builtin provider's locale; null for libc. */
  locale: string | null;
}

export interface Catalog {
  database: string;
  /** Absent from REST functions before version 26. */
  text?: DatabaseText;
  /** The server's identity (pg_control_system) and the database's OID: equal on both sides means one database. */
  systemIdentifier: string;
  databaseOid: string;
  serverVersion: number;
  /** The role the catalog was read as, and the rows will be: over REST the owner of supasync's functions. */
  role: string;
  /** Every schema but PostgreSQL's own, with tables or without (absent from REST functions before version 19). */
  schemas?: string[];
  /** Views, materialized views, foreign tables and partitions: names a user may give that are no table supasync copies (absent from REST functions before version 20). */
  otherRelations?: OtherRelation[];
  tables: Table[];
  /** Enums and composite types (absent from REST functions before version 18). */
  types?: UserType[];
  sequences: Sequence[];
}

/** A relation that is not copied as a table of its own. */
export interface OtherRelation extends TableRef {
  kind: 'view' | 'materialized view' | 'foreign table' | 'partition' | 'extension table';
  /** A partition's partitioned table, the root of its tree: the table its rows are copied with. */
  partitionOf: TableRef | null;
  /** An extension table's extension (functions version 40). */
  extension?: string | null;
  /**
   * An extension table pg_extension_config_dump marks: the rows its condition picks are the app's (what pg_dump
   * copies), compared by sync and verify though never written (verify/extension-tables.ts).
   */
  configRows?: boolean | null;
}

/** An enum (its labels, in order) or a composite type (its attributes, in order); the other field null. */
export interface UserType {
  /** As format_type writes it, schema-qualified: what a column's `type` says, less any `[]`. */
  name: string;
  labels: string[] | null;
  attributes: { name: string; type: string }[] | null;
  /** A domain's base, down to a type that is not one ('public.amount_d -> numeric(12,4)'); absent before functions version 22. */
  base?: string | null;
  /** A domain's own CHECKs (over VALUE) and NOT NULL; absent before functions version 24. */
  checks?: { name: string; expression: string; validated: boolean }[] | null;
  notNull?: boolean | null;
}

export function qualifiedName(table: TableRef): string {
  return `${table.schema}.${table.name}`;
}

/** Where PostgreSQL holds a foreign key of `table`: the relation (the table or a partition) and the constraint's name there. */
export function constraintsOf(table: TableRef, foreignKey: ForeignKey): { relation: TableRef; name: string }[] {
  if (!foreignKey.declaredOn.length) return [{ relation: { schema: table.schema, name: table.name }, name: foreignKey.name }];
  return foreignKey.declaredOn.map((partition) => ({ relation: { schema: partition.schema, name: partition.name }, name: partition.constraint }));
}

export function findTable(catalog: Catalog, ref: TableRef): Table | undefined {
  return catalog.tables.find((table) => table.schema === ref.schema && table.name === ref.name);
}
