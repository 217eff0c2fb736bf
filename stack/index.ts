// A Supabase-like stack on one throwaway PostgreSQL server: each "project"
// is a database with the app's schema, a real PostgREST, a Storage stand-in
// and a gateway at /rest/v1 and /storage/v1 that checks API keys. Tests, the
// demo and benchmarks share it.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startCluster } from './cluster.ts';
import { fillProduction, type FixtureCounts, type FixtureSize } from './fixture/generate.ts';
import { startGateway, type Gateway } from './gateway.ts';
import { closeKeptClients, withClient } from './kept-clients.ts';
import { projectKeys, type ProjectKeys } from './jwt.ts';
import { startPostgrest, type PostgrestServer } from './postgrest.ts';
import { startStorageServer } from './storage-server.ts';

export { withClient };

export const OWNER_PASSWORD = 'postgres-password';
const AUTHENTICATOR_PASSWORD = 'authenticator-password';
const STORAGE_ADMIN_PASSWORD = 'storage-admin-password';
const TEMPLATE_DB = 'supasync_template';

export interface Project {
  /** Database name, also used as the project ref. */
  name: string;
  /** Direct connection as the tables' owner `postgres`, what SUPABASE_*_DB_URL holds. */
  dbUrl: string;
  /** Superuser connection, for test setup only. */
  adminUrl: string;
  /** What SUPABASE_*_URL holds: the gateway in front of PostgREST (/rest/v1) and Storage (/storage/v1). */
  apiUrl: string;
  serviceRoleKey: string;
  anonKey: string;
  /** The opaque keys newer projects have: a secret key (service_role's rights) and a publishable one (anon's). */
  secretKey: string;
  publishableKey: string;
  /** Where the project's Storage keeps its files: one per storage.objects.version. */
  storageDir: string;
  /** Rows per table when the project was filled with fixture data. */
  counts?: FixtureCounts;
  /** The API gateway, whose faults and network profile tests and benchmarks set. */
  gateway: Gateway;
  stop(): Promise<void>;
}

/** What a test worker needs to use a stack started elsewhere. */
export interface StackInfo {
  adminUrl: string;
  jwtSecret: string;
}

export interface Stack {
  info: StackInfo;
  majorVersion: number;
  createProject(name: string, options?: ProjectOptions): Promise<Project>;
  /** Stops the projects made through this handle and not stopped yet (their PostgREST, Storage and gateway), then, for startStack's, the server. */
  stop(): Promise<void>;
}

export interface ProjectOptions {
  fill?: FixtureSize;
  /**
   * Hand the app's tables to another NOSUPERUSER role, one that may not set
   * session_replication_role (the grant `postgres` has stands in for
   * Supabase's supautils): dbUrl then connects as that role, and supasync's
   * functions belong to it, as if it had installed them.
   */
  owner?: string;
  /**
   * Mark the database as a supasync sync target, so the write functions
   * work there. Default: true for empty projects (staging), false for filled
   * ones (production).
   */
  syncTarget?: boolean;
  /**
   * Start PostgREST on the project's first request to /rest/v1 instead of
   * with the project: tests make hundreds of projects, many reached only
   * directly, and each PostgREST reads its schema cache as it starts. Off
   * where the first request's time is measured (the benchmarks).
   */
  restOnFirstRequest?: boolean;
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export function migrationFiles(): string[] {
  const dir = here('../supabase/migrations/');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => `${dir}${file}`);
}

export async function startStack(options: { binDir?: string } = {}): Promise<Stack> {
  const cluster = await startCluster(options);
  try {
    const info: StackInfo = { adminUrl: cluster.url('postgres'), jwtSecret: randomBytes(32).toString('hex') };
    await withClient(info.adminUrl, async (client) => {
      await client.query(readFileSync(here('./supabase-roles.sql'), 'utf8'));
      await closeKeptClients(TEMPLATE_DB);
      await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB}`);
      await client.query(`CREATE DATABASE ${TEMPLATE_DB} OWNER postgres`);
    });
    await withClient(urlFor(info.adminUrl, TEMPLATE_DB), async (client) => {
      await client.query(readFileSync(here('./supabase-database.sql'), 'utf8'));
      // Auth's and Storage's schemas exist before any app migration, owned by their services.
      await client.query(readFileSync(here('./supabase-auth-storage.sql'), 'utf8'));
      // The app's schema and our migrations run as the owner, as on Supabase.
      await client.query('SET ROLE postgres');
      await client.query(readFileSync(here('./fixture/schema.sql'), 'utf8'));
      for (const file of migrationFiles()) await client.query(readFileSync(file, 'utf8'));
    });
    // Every project is copied from it, which PostgreSQL refuses while a session is in it.
    await closeKeptClients(TEMPLATE_DB);
    const stack = attachStack(info, cluster.majorVersion);
    return {
      ...stack,
      async stop() {
        await stack.stop();
        await cluster.stop();
      },
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** `defaults` apply to every project made through the handle, under the options each is made with. */
export function attachStack(info: StackInfo, majorVersion = 0, defaults: ProjectOptions = {}): Stack {
  // A project left running holds a PostgREST process and two servers: the stack's stop ends those its caller forgot.
  const running = new Set<Project>();
  return {
    info,
    majorVersion,
    async createProject(name, options) {
      const project = await createProject(info, majorVersion, name, { ...defaults, ...options });
      const stopProject = project.stop;
      let stopped: Promise<void> | undefined;
      running.add(project);
      project.stop = () => {
        running.delete(project);
        return (stopped ??= stopProject());
      };
      return project;
    },
    async stop() {
      await Promise.all([...running].map((project) => project.stop()));
      // A kept connection holds its process open until it is ended.
      await closeKeptClients();
    },
  };
}

async function createProject(
  info: StackInfo,
  majorVersion: number,
  name: string,
  { fill, owner, syncTarget = !fill, restOnFirstRequest }: ProjectOptions,
): Promise<Project> {
  await withClient(info.adminUrl, async (client) => {
    // A database left by a run that stopped is dropped; one in use belongs to another test file on this server
    // (they run at once): dropping it would end that file's connections midway, so two files' names clash loudly.
    // This process's own kept connections to it first: they would read as another file's.
    await closeKeptClients(name);
    const { rows } = await client.query<{ used: boolean }>('SELECT EXISTS (SELECT FROM pg_catalog.pg_stat_activity WHERE datname = $1) AS used', [name]);
    if (rows[0]?.used) throw new Error(`Test project ${name} is in use on this server, by another test file: give this one another name`);
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    // PostgreSQL 15 and later copy a template block by block through the WAL unless told to copy its files,
    // which takes half the time here (60 ms against 125: the throwaway server does not fsync the files).
    // (A handle that does not know the server's version, 0, copies through the WAL, which every version can.)
    const strategy = majorVersion >= 15 ? ' STRATEGY FILE_COPY' : '';
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${TEMPLATE_DB} OWNER postgres${strategy}`);
  });
  const adminUrl = urlFor(info.adminUrl, name);
  const dbUrl = urlFor(info.adminUrl, name, owner ?? 'postgres', OWNER_PASSWORD);
  if (owner) await withClient(adminUrl, (client) => handOver(client, owner));
  if (syncTarget) {
    await withClient(adminUrl, (client) => client.query(`INSERT INTO supasync_private.sync_target (marked_by) VALUES ('supasync test stack')`));
  }
  const counts = fill ? await withClient(adminUrl, (client) => fillProduction(client, fill)) : undefined;

  const keys = projectKeys(info.jwtSecret, name);
  let postgrest: Promise<PostgrestServer> | undefined;
  const startRest = async () => {
    postgrest ??= startPostgrest({ dbUrl: urlFor(info.adminUrl, name, 'authenticator', AUTHENTICATOR_PASSWORD), jwtSecret: info.jwtSecret });
    return (await postgrest).url;
  };
  if (!restOnFirstRequest) await startRest();
  const stopRest = () =>
    postgrest?.then(
      (server) => server.stop(),
      () => undefined,
    );
  const { gateway, storage } = await startServices(info, name, keys, startRest).catch(async (error: unknown) => {
    await stopRest();
    throw error;
  });

  return {
    name,
    dbUrl,
    adminUrl,
    apiUrl: gateway.url,
    gateway,
    ...keys,
    storageDir: storage.dir,
    ...(counts ? { counts } : {}),
    async stop() {
      await gateway.stop();
      await storage.stop();
      await stopRest();
      await closeKeptClients(name);
      await withClient(info.adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`)).catch(() => undefined);
    },
  };
}

/** The project's Storage, logged in as Storage's own role as on Supabase, and the gateway in front of both services. */
async function startServices(info: StackInfo, name: string, keys: ProjectKeys, postgrestUrl: () => Promise<string>) {
  const storage = await startStorageServer({
    dbUrl: urlFor(info.adminUrl, name, 'supabase_storage_admin', STORAGE_ADMIN_PASSWORD),
    jwtSecret: info.jwtSecret,
  });
  try {
    const gateway = await startGateway({
      postgrestUrl,
      storageUrl: storage.url,
      apiKeys: [keys.anonKey, keys.serviceRoleKey],
      opaqueKeys: { [keys.secretKey]: keys.serviceRoleKey, [keys.publishableKey]: keys.anonKey },
    });
    return { gateway, storage };
  } catch (error) {
    await storage.stop();
    throw error;
  }
}

async function handOver(client: pg.Client, owner: string): Promise<void> {
  const role = pg.escapeIdentifier(owner);
  await client.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${pg.escapeLiteral(owner)}) THEN
        CREATE ROLE ${role} LOGIN NOSUPERUSER BYPASSRLS PASSWORD ${pg.escapeLiteral(OWNER_PASSWORD)};
      END IF; END $$`);
  await client.query(`GRANT USAGE, CREATE ON SCHEMA public, analytics TO ${role}`);
  const { rows } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('public', 'analytics') AND c.relkind IN ('r', 'p') ORDER BY c.relkind DESC`,
  );
  // Owned sequences follow their table; the others, as on Supabase where
  // one role owns what the migrations made, go to the owner too.
  for (const { name } of rows) await client.query(`ALTER TABLE ${name} OWNER TO ${role}`);
  const { rows: unowned } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('public', 'analytics') AND c.relkind = 'S'
       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))`,
  );
  for (const { name } of unowned) await client.query(`ALTER SEQUENCE ${name} OWNER TO ${role}`);
  // And the app's domains, whose NOT VALID checks a load drops for its rows as their owner.
  const { rows: domains } = await client.query<{ name: string }>(
    `SELECT t.oid::regtype::text AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname IN ('public', 'analytics') AND t.typtype = 'd'`,
  );
  for (const { name } of domains) await client.query(`ALTER DOMAIN ${name} OWNER TO ${role}`);
  // Auth's and Storage's tables stay their services'; the owner gets what postgres has there.
  await client.query(`GRANT USAGE ON SCHEMA auth, storage TO ${role}`);
  await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA auth, storage TO ${role}`);
  await client.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA auth, storage TO ${role}`);
  // supasync's write functions are SECURITY DEFINER: installed by this role,
  // the REST path has its rights, and may not set session_replication_role either.
  await client.query(`ALTER SCHEMA supasync_private OWNER TO ${role}`);
  // Its tables too (the sync-target mark, incremental watermarks): created by whoever installed the functions.
  const { rows: privateTables } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'supasync_private' AND c.relkind IN ('r', 'p')`,
  );
  for (const { name } of privateTables) await client.query(`ALTER TABLE ${name} OWNER TO ${role}`);
  const { rows: functions } = await client.query<{ signature: string }>(
    `SELECT p.oid::regprocedure::text AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'supasync_private' OR (n.nspname = 'public' AND p.proname LIKE 'supasync\\_%')`,
  );
  for (const { signature } of functions) await client.query(`ALTER FUNCTION ${signature} OWNER TO ${role}`);
}

/** The environment a user's .env.local would hold for these two projects. */
export function projectEnv(
  production: Pick<Project, 'apiUrl' | 'serviceRoleKey' | 'dbUrl'>,
  staging: Pick<Project, 'apiUrl' | 'serviceRoleKey' | 'dbUrl'>,
): Record<string, string> {
  return {
    SUPABASE_PROD_URL: production.apiUrl,
    SUPABASE_PROD_SERVICE_ROLE_KEY: production.serviceRoleKey,
    SUPABASE_PROD_DB_URL: production.dbUrl,
    SUPABASE_STAGING_URL: staging.apiUrl,
    SUPABASE_STAGING_SERVICE_ROLE_KEY: staging.serviceRoleKey,
    SUPABASE_STAGING_DB_URL: staging.dbUrl,
  };
}

export function urlFor(adminUrl: string, database: string, role?: string, password?: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  if (role) {
    url.username = encodeURIComponent(role);
    url.password = password ? encodeURIComponent(password) : '';
  }
  return url.toString();
}
