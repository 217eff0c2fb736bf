// The tables where an app's migration tool records which migrations ran
// (Prisma's _prisma_migrations, Rails' schema_migrations, Flyway's history):
// each database's own record, like Supabase's supabase_migrations. Staging is
// often a migration ahead of production; production's record copied over it
// would make the tool apply that migration again. Copied only when named.
import type { TableRef } from '../catalog/types.ts';

/** By table name, in any schema: each tool's default, and the tool it belongs to. */
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
  schema_migrations: 'Rails, Ecto, golang-migrate or dbmate',
  schema_migration: 'gobuffalo/pop (Ory Kratos, Hydra, Keto; Buffalo)',
  ar_internal_metadata: 'Rails',
  flyway_schema_history: 'Flyway',
  databasechangelog: 'Liquibase',
  databasechangeloglock: 'Liquibase',
  __EFMigrationsHistory: 'Entity Framework',
  _sqlx_migrations: 'SQLx',
  goose_db_version: 'goose',
  schema_version: 'Flyway (before version 5), tern, Synapse or Miniflux',
  gorp_migrations: 'sql-migrate',
  db_migrations: 'Mattermost',
  schema_info: 'Sequel',
  migration_versions: 'Doctrine (before version 3)',
  alembic_version: 'Alembic',
  django_migrations: 'Django',
  __diesel_schema_migrations: 'Diesel',
  refinery_schema_history: 'Refinery',
  seaql_migrations: 'SeaORM',
  atlas_schema_revisions: 'Atlas',
  migrations: 'TypeORM, Laravel or MikroORM',
  doctrine_migration_versions: 'Doctrine',
  phinxlog: 'Phinx',
  adonis_schema: 'AdonisJS',
  adonis_schema_versions: 'AdonisJS',
  payload_migrations: 'Payload',
  directus_migrations: 'Directus',
  strapi_migrations: 'Strapi',
  strapi_migrations_internal: 'Strapi',
};

/** Why a table is left out of a schema-wide sync as a migration tool's record, if it is one. */
export function migrationHistoryReason(table: TableRef): string | undefined {
  if (!Object.hasOwn(HISTORY_TABLES, table.name)) return undefined;
  return `is ${HISTORY_TABLES[table.name]}'s record of the migrations run on each database: staging keeps its own, and production's would make the tool skip or repeat migrations`;
}
