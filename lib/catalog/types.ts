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
  /** PostgreSQL's binary format of this type holds no database-specific OIDs. */
  binaryPortable: boolean;
  nullable: boolean;
  default: string | null;
  /** Generated columns can never be written: they are left out of every copy. */
  generated: 'stored' | 'virtual' | null;
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

export interface ForeignKey {
  name: string;
  columns: string[];
  referencedSchema: string;
  referencedTable: string;
  referencedColumns: string[];
  deferrable: boolean;
  initiallyDeferred: boolean;
  /** As pg_get_constraintdef() prints it, to restore the constraint exactly. */
  definition: string;
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
  /** Columns that own it (serial, identity) or call nextval() on it in their default; none: a function's counter. */
  usedBy: { schema: string; table: string; column: string; owned: boolean }[];
}

/** Where a sequence stands: what setval() takes to put it there. */
export interface SequenceState extends TableRef {
  /** As text: a bigint passes 2^53. */
  lastValue: string;
  isCalled: boolean;
}

export interface Trigger {
  name: string;
  enabled: boolean;
  definition: string;
}

export interface Table extends TableRef {
  kind: 'table' | 'partitioned';
  rlsEnabled: boolean;
  /** Row-level security hides rows of this table from the role that read the catalog. */
  rlsHidesRows: boolean;
  /** The role that read this catalog may read every column (schema USAGE, and SELECT on the table or each column). */
  readable: boolean;
  /** From the planner's statistics; -1 when the table was never analyzed. */
  rowEstimate: number;
  columns: Column[];
  primaryKey: Key | null;
  uniqueKeys: UniqueKey[];
  foreignKeys: ForeignKey[];
  sequences: OwnedSequence[];
  triggers: Trigger[];
}

export interface Catalog {
  database: string;
  /** The server's identity (pg_control_system) and the database's OID: equal on both sides means one database. */
  systemIdentifier: string;
  databaseOid: string;
  serverVersion: number;
  /** The role the catalog was read as, and the rows will be: over REST the owner of supasync's functions. */
  role: string;
  tables: Table[];
  sequences: Sequence[];
}

export function qualifiedName(table: TableRef): string {
  return `${table.schema}.${table.name}`;
}

export function findTable(catalog: Catalog, ref: TableRef): Table | undefined {
  return catalog.tables.find((table) => table.schema === ref.schema && table.name === ref.name);
}
