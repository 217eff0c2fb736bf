// Installs supasync's SQL functions in a project, or prints them to paste
// into the dashboard's SQL editor.
import pg from 'pg';
import { CONFIRM_OPTIONS, parseFlags } from '../lib/cli/args.ts';
import { confirmer } from '../lib/cli/confirm.ts';
import { runScript } from '../lib/cli/run.ts';
import { loadDotenvFiles, readEnvironment } from '../lib/config/env.ts';
import { redactUrl } from '../lib/connect/postgres.ts';
import { DatabaseError, describeError, UsageError } from '../lib/errors.ts';
import { installMigrations, installSql } from '../lib/install/migrations.ts';

const HELP = `Usage: npx tsx scripts/install-rpcs.ts --staging|--production [--print] [--yes]

Installs the SQL functions supasync's REST path calls (supabase/migrations/):
  --production   the read-only functions (catalog, row pages, counts), through SUPABASE_PROD_DB_URL
  --staging      those plus the write functions, and marks staging as a sync
                 target (the write functions refuse any unmarked database),
                 through SUPABASE_STAGING_DB_URL
  --print        print the SQL instead, to paste into the dashboard's SQL editor
  --yes, -y      do not ask before installing

With the Supabase CLI, copy the migration files into your project's
supabase/migrations/ and run \`supabase db push\`; for staging, then run
  INSERT INTO supasync_private.sync_target (marked_by) VALUES ('you');`;

await runScript(async () => {
  const { values } = parseFlags({
    staging: { type: 'boolean' },
    production: { type: 'boolean' },
    print: { type: 'boolean' },
    ...CONFIRM_OPTIONS,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (Boolean(values.staging) === Boolean(values.production)) throw new UsageError('Say where: --staging or --production. See --help.');
  const target = values.staging ? 'staging' : 'production';
  if (values.print) {
    console.log(installSql(target));
    return 0;
  }
  loadDotenvFiles();
  const variable = target === 'staging' ? 'SUPABASE_STAGING_DB_URL' : 'SUPABASE_PROD_DB_URL';
  const dbUrl = readEnvironment()[target].dbUrl;
  if (!dbUrl) throw new UsageError(`${variable} is not set: installing needs a connection string, or use --print and paste the SQL.`);
  const what = target === 'staging' ? 'read and write functions, and mark it as a sync target' : 'read-only functions';
  const confirmed = await confirmer(Boolean(values.yes))(`Install supasync's ${what} in ${target} (${redactUrl(dbUrl)})?`);
  if (!confirmed) throw new UsageError('Nothing was installed.');
  const client = new pg.Client({ connectionString: dbUrl, application_name: 'supasync install' });
  try {
    await client.connect();
    await installMigrations(client, target);
  } catch (error) {
    throw new DatabaseError(describeError(`Installing in ${target}`, error), 1, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
  console.log(`Installed supasync's ${what} in ${target}.`);
  return 0;
});
