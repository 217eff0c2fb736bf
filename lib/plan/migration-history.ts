// The tables where an app's migration tool records which migrations ran
// (Prisma's _prisma_migrations, Rails' schema_migrations, Flyway's history):
// each database's own record, like Supabase's supabase_migrations. Staging is
// often a migration ahead of production; production's record copied over it
// would make the tool apply that migration again. Copied only when named.
import type { Column, ForeignKey, TableRef } from '../catalog/types.ts';

/** By table name, in any schema: each tool's default, and the tool it belongs to. Names no app gives its own data. */
const HISTORY_TABLES: Record<string, string> = {
  _prisma_migrations: 'Prisma',
  __drizzle_migrations: 'Drizzle',
  knex_migrations: 'Knex',
  knex_migrations_lock: 'Knex',
  kysely_migration: 'Kysely',
  kysely_migration_lock: 'Kysely',
  pgmigrations: 'node-pg-migrate',
  SequelizeMeta: 'Sequelize',
  mikro_orm_migrations: 'MikroORM',
  ar_internal_metadata: 'Rails',
  flyway_schema_history: 'Flyway',
  databasechangelog: 'Liquibase',
  databasechangeloglock: 'Liquibase',
  __EFMigrationsHistory: 'Entity Framework',
  _sqlx_migrations: 'SQLx',
  goose_db_version: 'goose',
  gorp_migrations: 'sql-migrate',
  alembic_version: 'Alembic',
  django_migrations: 'Django',
  __diesel_schema_migrations: 'Diesel',
  refinery_schema_history: 'Refinery',
  seaql_migrations: 'SeaORM',
  atlas_schema_revisions: 'Atlas',
  doctrine_migration_versions: 'Doctrine',
  phinxlog: 'Phinx',
  adonis_schema: 'AdonisJS',
  adonis_schema_versions: 'AdonisJS',
  payload_migrations: 'Payload',
  directus_migrations: 'Directus',
  strapi_migrations: 'Strapi',
  strapi_migrations_internal: 'Strapi',
};

/**
 * Names an app may give its own data too (a `migrations` table of bird
 * routes): a tool's record only with the columns that tool gives it, each
 * shape with its tool.
 */
const SHARED_NAMES: Record<string, { columns: string[]; tool: string }[]> = {
  migrations: [
    { columns: ['timestamp', 'name'], tool: 'TypeORM' },
    { columns: ['migration', 'batch'], tool: 'Laravel' },
    { columns: ['name', 'executed_at'], tool: 'MikroORM' },
  ],
  schema_migrations: [
    { columns: ['version'], tool: 'Rails, Ecto, golang-migrate or dbmate' },
    { columns: ['filename'], tool: 'Sequel' },
  ],
  schema_migration: [{ columns: ['version'], tool: 'gobuffalo/pop (Ory Kratos, Hydra, Keto; Buffalo)' }],
  schema_version: [{ columns: ['version'], tool: 'Flyway (before version 5), tern, Synapse or Miniflux' }],
  db_migrations: [{ columns: ['version'], tool: 'Mattermost' }],
  schema_info: [{ columns: ['version'], tool: 'Sequel' }],
  migration_versions: [{ columns: ['version'], tool: 'Doctrine (before version 3)' }],
};

/** `referenced`: another table's foreign key names it. */
type Candidate = TableRef & { columns?: Pick<Column, 'name'>[]; foreignKeys?: Pick<ForeignKey, 'referencedTable'>[]; referenced?: boolean };

/** Why a table is left out of a schema-wide sync as a migration tool's record, if it is one. */
export function migrationHistoryReason(table: Candidate): string | undefined {
  const tool = historyTool(table);
  return (
    tool && `is ${tool}'s record of the migrations run on each database: staging keeps its own, and production's would make the tool skip or repeat migrations`
  );
}

function historyTool(table: Candidate): string | undefined {
  // A record refers to nothing, and nothing refers to it: a table whose rows reference the app's, or that the app's
  // reference (bird sightings naming a migration), is the app's, whatever its name.
  if (table.foreignKeys?.length || table.referenced) return undefined;
  if (Object.hasOwn(HISTORY_TABLES, table.name)) return HISTORY_TABLES[table.name];
  if (!Object.hasOwn(SHARED_NAMES, table.name)) return undefined;
  const columns = new Set(table.columns?.map((column) => column.name));
  return SHARED_NAMES[table.name]?.find((shape) => shape.columns.every((column) => columns.has(column)))?.tool;
}
