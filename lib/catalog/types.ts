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
}

export function qualifiedName(table: TableRef): string {
  return `${table.schema}.${table.name}`;
}

export function findTable(catalog: Catalog, ref: TableRef): Table | undefined {
  return catalog.tables.find((table) => table.schema === ref.schema && table.name === ref.name);
}
