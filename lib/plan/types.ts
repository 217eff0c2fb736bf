// The plan's shape: what a run will copy, in which order, keyed on what
// (plan.ts works it out). The transports see only the part they need
// (lib/transport/load.ts), which these extend.
import type { ForeignKeyLink } from '../catalog/links.ts';
import type { ForeignKey, Key, SequenceFloor, TableRef } from '../catalog/types.ts';
import type { CycleLoad, LoadPlan, SelfReferenceLoad, TableLoad } from '../transport/load.ts';
import type { Drift } from './drift.ts';
import type { SyncMode } from './mode.ts';
import type { PersonalColumns } from './personal-columns.ts';
import type { SequencePlan } from './sequences.ts';
import type { TableOptions } from './select.ts';
import type { EmptiedTable, LeftOutTable } from './supabase.ts';
import type { UntriggeredRows } from './untriggered-rows.ts';

export interface SyncKey extends Key {
  kind: 'primary key' | 'unique key';
  /** A unique key NULLS NOT DISTINCT over a column that may be NULL: its one NULL is a key, which = never matches. */
  holdsNull: boolean;
}

export interface TablePlan extends TableLoad {
  table: TableRef;
  /** A partitioned parent: rows are read and written through it, partitions follow. */
  partitioned: boolean;
  /** Other tables INHERIT from it, on either side: its own rows are named `ONLY` it (quoteOwnRows; each side's SQL asks its own catalog). */
  inherited: boolean;
  level: number;
  /** The conflict target for upserts and the order for paging; null: replace only. */
  key: SyncKey | null;
  /** Production's key (its name) where staging has no unique index on its columns: why `key` is null though production has one. */
  keyStagingLacks: string | null;
  /** Production's key WITHOUT OVERLAPS (its name) where it has no other: why `key` is null though a key is declared. */
  overlapsKey: string | null;
  /** Columns copied: present on both sides and generated on neither. */
  columns: string[];
  /** Production's type of each of `columns`, as format_type prints it (an incremental watermark keeps what it copied). */
  columnTypes: string[];
  /** Left out of every copy: the database computes them. */
  generatedColumns: string[];
  /** Identity columns whose production values are kept. */
  identityColumns: { name: string; identity: 'always' | 'by default' }[];
  rowEstimate: number;
  /** Production's blocks by its statistics (0 until counted, null where not known): over REST a large table is compared in slices of them. */
  pages?: number | null;
  /**
   * Copied columns of type `oid` (or a domain over it, the `lo` extension's):
   * their values may name large objects (pg_largeobject), which a copy of
   * the rows does not carry (engine/large-objects.ts says so; verify compares them directly).
   */
  largeObjectColumns: string[];
  /**
   * Rows may travel in COPY's binary format: every copied column has the
   * same type on both sides, one the catalog knows to read back exactly what
   * it wrote (`binaryPortable`), and both servers are one major version.
   * Otherwise text, as pg_dump copies.
   */
  binarySafe: boolean;
  /** Why this table must be loaded with foreign-key checks off, if it must. */
  loadedTogether: 'cycle' | 'self-reference' | null;
  drift: Drift[];
  /** Constraints staging holds the table's rows to and production does not: production's rows are asked about them before writing. */
  stricterInStaging: StricterRule[];
  /** How the run writes this table: its own mode from supasync.config.json, else the run's. */
  mode: SyncMode;
  /** What --mode incremental follows: a timestamp column moved on every change (updated_at, or the config's changedColumn), else `xmin` (production's transaction ids) where the table has a key; null: none. */
  changedColumn: string | null;
  /** That column's type as production declares it (timestamptz, timestamp, date: how far back a run reads, changed-column.ts); null for xmin or none. */
  changedColumnType: string | null;
  /** That column is one no row trigger of production's table stamps before an UPDATE (the app sets it, or nothing does): an UPDATE that leaves it alone is not seen. */
  changedColumnUnstamped: boolean;
  /** From supasync.config.json: a mode of its own, a batch size, a row filter. */
  options: TableOptions;
  /**
   * A SQL condition: only matching rows are copied. The config's `where`,
   * the rows children reference (--with-parents), and the `where` of a
   * parent carried down (carry-down.ts).
   */
  rowFilter: string | null;
  /** Copied tables whose `where` this table's rows follow: only rows whose parent is copied come. */
  filteredBy: string[];
}

export interface CyclePlan extends CycleLoad {
  tables: TableRef[];
  foreignKeys: { table: TableRef; foreignKey: ForeignKey }[];
}

export interface SelfReference extends SelfReferenceLoad {
  table: TableRef;
  foreignKey: ForeignKey;
  /**
   * The foreign key's columns an insert may leave out in staging (nullable,
   * no default: they are stored NULL). Where checks stay on, rows are written
   * with these NULL first and the columns set once every row is in.
   */
  nullableColumns: string[];
}

/** A foreign key from a selected table to one the run does not copy. */
export interface ExternalParent {
  table: TableRef;
  foreignKey: ForeignKey;
  parent: TableRef;
}

export interface SyncPlan extends LoadPlan {
  production: string;
  staging: string;
  /** The run's mode (--mode); each table's own is TablePlan.mode. */
  mode: SyncMode;
  /** The schemas the run chose its tables from. */
  schemas: string[];
  /** Where the run's tables were named, when they were (`--tables`, a group of supasync.config.json): a schema added then adds no table. */
  tablesNamed?: string;
  /** In load order: by level, then by name. */
  tables: TablePlan[];
  cycles: CyclePlan[];
  selfReferences: SelfReference[];
  externalParents: ExternalParent[];
  /** Staging's foreign keys with a selected table at either end (catalog/links.ts): what a run checks for orphans. */
  stagingLinks: ForeignKeyLink[];
  /** The sequences the run sets in staging once the rows are in (sequences.ts). */
  sequences: SequencePlan[];
  /** Staging's sequences that copied columns draw from there alone, set past those columns' largest values once the rows are in. */
  sequenceFloors: SequenceFloor[];
  /** Tables in the selected schemas that only staging has. */
  /** `inherits`: a table of the run it INHERITS from in staging, whose queries read its rows too. */
  stagingOnlyTables: (TableRef & { inherits?: string })[];
  /** Tables of the selected schemas a schema-wide run does not copy (Supabase's own), with why. */
  leftOut: LeftOutTable[];
  /**
   * Production's extension tables in the run's schemas that hold rows of the app's (pg_extension_config_dump):
   * never written, their rows compared before writing and by verify (verify/extension-tables.ts). None for a run of
   * named tables.
   */
  extensionConfigTables: (TableRef & { extension: string })[];
  /** Staging's own Auth and Storage state (sign-ins, uploads in progress) referencing copied tables: emptied with them when they are replaced. */
  projectState: EmptiedTable[];
  /**
   * Of projectState, the tables whose staging rows name a key a mirror or incremental run deletes (a user who signed
   * up in staging alone, still signed in): found by the checks before writing, and emptied as a replace empties them.
   */
  projectStateOrphaned?: TableRef[];
  /** Copied tables staging's triggers make rows elsewhere for, in tables outside the run (untriggered-rows.ts). */
  untriggered: UntriggeredRows[];
  /** Both catalogs came from one database (one server, one database OID). */
  sameDatabase: boolean;
  /** How the two databases' encodings or default locales differ, and columns whose type's text rounds values (lossy-output.ts), each a warning. */
  textDifferences: string[];
  /** A masked run's columns named as personal data that no rule names, copied as they are (personal-columns.ts): said, never refused. */
  personalColumnsRaw?: PersonalColumns[];
  /** --with-parents: the tables it brought (none where no foreign key leaves the selection). */
  parentsAdded?: TableRef[];
}

/** A constraint staging holds a table's rows to and production does not (plan/stricter.ts). */
export interface StricterRule {
  /** As the person at the terminal reads it: `CHECK price_positive ((price > 0))`, `NOT NULL on email`. */
  rule: string;
  /** The rows that break it, as a condition over the table's own columns. */
  breaking: string;
  /** Why production is not asked (said as a warning instead); undefined: asked. */
  notAsked?: string;
  /**
   * What staging lacks that production's rows need (an enum's label, a partition: its migrations behind, which
   * --allow-drift copies past), and the fix said where rows need it; undefined: a constraint staging has ahead.
   */
  behind?: { fix: string };
}
