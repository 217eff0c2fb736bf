// Schemas Supabase runs itself. Their data is the platform's, not the app's:
// copying it would break the staging project (keys, jobs, migrations state).
export const MANAGED_SCHEMAS: Record<string, string> = {
  extensions: 'holds extensions, which each project installs itself',
  vault: "holds secrets encrypted with the project's own key: they cannot be decrypted in another project",
  realtime: "is Realtime's own state",
  _realtime: "is Realtime's own state",
  graphql: 'belongs to the pg_graphql extension',
  graphql_public: 'belongs to the pg_graphql extension',
  pgsodium: "holds the project's encryption keys",
  pgsodium_masks: 'belongs to pgsodium',
  supabase_migrations: 'records which migrations ran in that project: copying it would lie to `supabase db push`',
  supabase_functions: "is Supabase's record of database webhooks",
  _analytics: "is Supabase's log storage",
  _supavisor: "is the connection pooler's state",
  net: "is the pg_net extension's request queue",
  cron: "is pg_cron's job list: jobs would run twice against the wrong project",
  pgbouncer: "is the pooler's own schema",
  information_schema: "is PostgreSQL's own catalog",
  pg_catalog: "is PostgreSQL's own catalog",
};

export function managedSchemaReason(schema: string): string | undefined {
  if (schema.startsWith('pg_')) return "is PostgreSQL's own";
  // Own keys only: a schema named "__proto__" or "constructor" is the app's.
  return Object.hasOwn(MANAGED_SCHEMAS, schema) ? MANAGED_SCHEMAS[schema] : undefined;
}
