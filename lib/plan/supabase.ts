// Supabase's Auth and Storage keep their rows in the `auth` and `storage`
// schemas of the same database. Their users, identities, buckets and object
// rows are the app's data and sync like any table; the services' own
// bookkeeping, each project's sign-in state and Storage's work in progress
// (and what lives outside the database) do not.
import { qualifiedName, type Catalog, type Column, type ForeignKey, type Table, type TableRef } from '../catalog/types.ts';
import { jobQueueReason } from './job-queues.ts';
import { migrationHistoryReason } from './migration-history.ts';
import type { SyncMode } from './mode.ts';

/** Never copied, even when named: each service records its own migrations in its own project. */
const NEVER_COPIED: Record<string, string> = {
  'auth.schema_migrations':
    "is Auth's (GoTrue's) record of the migrations it ran on this project: staging's Auth keeps its own, and production's list would make it skip or repeat migrations",
  'storage.migrations':
    "is Storage's record of the migrations it ran on this project: staging's Storage keeps its own, and production's list would make it skip or repeat migrations",
};

const SIGN_IN_STATE = new Set(['sessions', 'refresh_tokens', 'one_time_tokens', 'flow_state', 'audit_log_entries']);
/** Second factors and passkeys (bound to production's domain), SSO, SCIM provisioning, OAuth clients and grants. */
const SIGN_IN_PREFIXES = ['mfa_', 'webauthn_', 'saml_', 'sso_', 'scim_', 'oauth_'];
/** Auth's per-project provider settings: each project its own, their secrets production's. */
const PROVIDER_SETTINGS = new Set(['custom_oauth_providers']);

/** The Supabase service whose own migrations make a table, for those in `auth` and `storage`: no migration of the app's changes them. */
export function serviceOf(table: TableRef): 'Auth' | 'Storage' | undefined {
  return table.schema === 'auth' ? 'Auth' : table.schema === 'storage' ? 'Storage' : undefined;
}

/** Why a table of a synced schema is never copied, if it never is. */
export function neverCopiedReason(table: TableRef): string | undefined {
  return NEVER_COPIED[qualifiedName(table)];
}

/**
 * Copied only when named with --tables: each project's own state in Auth and
 * Storage (projectStateReason), an app's migration tool's record of what
 * ran (migration-history.ts), and a job queue's work still to do
 * (job-queues.ts).
 */
export function onRequestReason(
  table: TableRef & { columns?: Pick<Column, 'name'>[]; foreignKeys?: Pick<ForeignKey, 'referencedTable'>[] },
  referenced: ReadonlySet<string> = new Set(),
): string | undefined {
  return projectStateReason(table) ?? migrationHistoryReason({ ...table, referenced: referenced.has(qualifiedName(table)) }) ?? jobQueueReason(table);
}

/** The tables other tables' foreign keys name (a table's keys to itself aside). */
export function referencedTables(tables: readonly Table[]): Set<string> {
  return new Set(
    tables.flatMap((table) =>
      table.foreignKeys.map((fk) => qualifiedName({ schema: fk.referencedSchema, name: fk.referencedTable })).filter((name) => name !== qualifiedName(table)),
    ),
  );
}

function projectStateReason(table: TableRef): string | undefined {
  return signInReason(table) ?? storageStateReason(table);
}

const UPLOADS_IN_PROGRESS =
  "is production's S3 multipart uploads in progress, whose parts are in its own bucket store: staging could neither finish nor abort them";
const OUTSIDE_THE_DATABASE = (what: string) =>
  `describes production's ${what}, whose data lives in its own storage service, not in this database: staging has none of it`;

/** Storage's tables that hold the project's work in progress, or describe buckets kept outside the database. */
const STORAGE_STATE: Record<string, string> = {
  s3_multipart_uploads: UPLOADS_IN_PROGRESS,
  s3_multipart_uploads_parts: UPLOADS_IN_PROGRESS,
  event_log: "is Storage's queue of events still to send: staging's Storage would send production's again",
  buckets_analytics: OUTSIDE_THE_DATABASE('analytics buckets (Iceberg catalogs)'),
  iceberg_namespaces: OUTSIDE_THE_DATABASE('analytics buckets (Iceberg catalogs)'),
  iceberg_tables: OUTSIDE_THE_DATABASE('analytics buckets (Iceberg catalogs)'),
  buckets_vectors: OUTSIDE_THE_DATABASE('vector buckets'),
  vector_indexes: OUTSIDE_THE_DATABASE('vector buckets'),
};

function storageStateReason(table: TableRef): string | undefined {
  return table.schema === 'storage' && Object.hasOwn(STORAGE_STATE, table.name) ? STORAGE_STATE[table.name] : undefined;
}

/**
 * Auth's per-project sign-in state (sessions, refresh tokens, second factors
 * and passkeys, SSO and SCIM, its audit log): tied to production's Auth and
 * its JWT secret, so of no use in staging; and its provider settings, which
 * carry production's secrets.
 */
function signInReason(table: TableRef): string | undefined {
  if (table.schema !== 'auth') return undefined;
  if (table.name === 'audit_log_entries') return "is production's Auth log";
  if (PROVIDER_SETTINGS.has(table.name)) return "is production's Auth settings for its sign-in providers, their client secrets included: staging keeps its own";
  if (SIGN_IN_STATE.has(table.name) || SIGN_IN_PREFIXES.some((prefix) => table.name.startsWith(prefix))) {
    return "is production's sign-in state (sessions, tokens, second factors and passkeys, SSO and SCIM), tied to its Auth and JWT secret";
  }
  return undefined;
}

export interface LeftOutTable {
  table: TableRef;
  reason: string;
  /** Copied when named with --tables; otherwise never. */
  onRequest: boolean;
  /** Left out by --exclude, or supasync.config.json's `exclude`. */
  excluded?: boolean;
}

/** Tables of the selected schemas that a schema-wide sync does not copy, with why. */
export function leftOutOfSchemas(tables: Table[], referenced: ReadonlySet<string> = referencedTables(tables)): LeftOutTable[] {
  return tables.flatMap((table): LeftOutTable[] => {
    const ref = { schema: table.schema, name: table.name };
    const never = neverCopiedReason(table);
    if (never) return [{ table: ref, reason: never, onRequest: false }];
    const onRequest = onRequestReason(table, referenced);
    return onRequest ? [{ table: ref, reason: onRequest, onRequest: true }] : [];
  });
}

export interface EmptiedTable {
  table: TableRef;
  /** The tables it references among those copied or emptied: replacing one of them empties it. */
  references: TableRef[];
}

/**
 * Staging's own project state (projectStateReason) that references the
 * tables a run copies, directly or through one another (refresh tokens ->
 * sessions -> users; upload parts -> uploads -> buckets). TRUNCATE refuses
 * to empty auth.users or storage.buckets while these reference it; their
 * rows belong to staging's users and buckets, which a replace deletes
 * anyway, so they are emptied too.
 */
export function projectStateOf(staging: Catalog, copied: TableRef[]): EmptiedTable[] {
  const chosen = new Set(copied.map(qualifiedName));
  const candidates = staging.tables.filter((table) => !chosen.has(qualifiedName(table)) && projectStateReason(table));
  const parentsOf = (table: Table, within: Set<string>) => [
    ...new Map(
      table.foreignKeys
        .map((fk) => ({ schema: fk.referencedSchema, name: fk.referencedTable }))
        .filter((parent) => within.has(qualifiedName(parent)) && qualifiedName(parent) !== qualifiedName(table))
        .map((parent) => [qualifiedName(parent), parent]),
    ).values(),
  ];
  const reached = new Set(chosen);
  for (let grew = true; grew;) {
    grew = false;
    for (const table of candidates) {
      if (reached.has(qualifiedName(table)) || !parentsOf(table, reached).length) continue;
      reached.add(qualifiedName(table));
      grew = true;
    }
  }
  return candidates
    .filter((table) => reached.has(qualifiedName(table)))
    .map((table) => ({ table: { schema: table.schema, name: table.name }, references: parentsOf(table, reached) }));
}

/** What of a plan (types.ts' SyncPlan) the notes below read. */
interface PlannedTables {
  tables: { table: TableRef; mode: SyncMode }[];
  projectState: EmptiedTable[];
  projectStateOrphaned?: TableRef[];
}

/**
 * The project state a run empties: what references a table it replaces, and
 * what a mirror or incremental run would leave naming the keys it deletes, up
 * the chain (refresh tokens -> sessions -> users).
 */
export function emptiedAlongside(plan: PlannedTables): TableRef[] {
  const emptied = new Set(plan.tables.filter((table) => table.mode === 'replace').map((table) => qualifiedName(table.table)));
  const found: TableRef[] = [];
  for (const table of plan.projectStateOrphaned ?? []) {
    if (emptied.has(qualifiedName(table))) continue;
    emptied.add(qualifiedName(table));
    found.push(table);
  }
  for (let grew = true; grew;) {
    grew = false;
    for (const { table, references } of plan.projectState) {
      if (emptied.has(qualifiedName(table)) || !references.some((parent) => emptied.has(qualifiedName(parent)))) continue;
      emptied.add(qualifiedName(table));
      found.push(table);
      grew = true;
    }
  }
  return found;
}

/** What a person should know about a run over Supabase's schemas before and after it. */
export function supabaseNotes(plan: PlannedTables): string[] {
  const notes: string[] = [];
  const emptied = emptiedAlongside(plan);
  const signIns = emptied.filter((table) => table.schema === 'auth');
  const uploads = emptied.filter((table) => table.schema !== 'auth');
  // A mirror or incremental run empties them only where staging's rows name users (buckets) it deletes.
  const replaces = (schema: string) => plan.tables.some((table) => table.mode === 'replace' && table.table.schema === schema);
  const fate = (schema: string) => (replaces(schema) ? 'which this run replaces' : 'some of which this run deletes (production lacks them)');
  if (signIns.length) {
    notes.push(
      `${signIns.map(qualifiedName).join(', ')}: emptied in staging, not copied. Their rows belong to staging's users, ` +
        `${fate('auth')}: staging's sign-ins end and its users sign in again.`,
    );
  }
  if (uploads.length) {
    notes.push(
      `${uploads.map(qualifiedName).join(', ')}: emptied in staging, not copied. Their rows belong to staging's buckets, ` +
        `${fate('storage')}: staging's uploads in progress end and are started again.`,
    );
  }
  if (plan.tables.some((table) => qualifiedName(table.table) === 'storage.objects')) {
    notes.push(
      'storage.objects: only the rows are copied (names, owners, metadata), not the files in Storage. ' +
        "Staging lists production's files but cannot serve them until they are copied through the Storage API.",
    );
  }
  return notes;
}
