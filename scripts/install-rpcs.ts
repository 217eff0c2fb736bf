// Installs supasync's SQL functions in a project, or prints them to paste
// into the dashboard's SQL editor; for staging, also marks it as the one
// database supasync may write into.
import { CONFIRM_OPTIONS, parseFlags } from '../lib/cli/args.ts';
import { confirmer } from '../lib/cli/confirm.ts';
import { runScript } from '../lib/cli/run.ts';
import { loadDotenvFiles, readEnvironment, refuseProtectedStaging } from '../lib/config/env.ts';
import { loadProjectConfig } from '../lib/config/file.ts';
import { UsageError } from '../lib/errors.ts';
import { describeInstalled, describeInstallTarget, installInto, installSql, uninstallFrom, type InstallKind } from '../lib/install/migrations.ts';

const HELP = `Usage: npx tsx scripts/install-rpcs.ts --staging|--production [--mark-only|--uninstall] [--print] [--yes]

Installs the SQL functions supasync's REST path calls (supabase/migrations/):
  --production   the read-only functions (catalog, row pages, counts), through SUPABASE_PROD_DB_URL
  --staging      those plus the write functions, and marks staging as a sync
                 target, through SUPABASE_STAGING_DB_URL. supasync writes (sync,
                 restore) only into a database with that mark, on both paths, and
                 never reads a marked database as production
  --mark-only    with --staging: only mark it, install no function (enough for
                 the direct path, SUPABASE_*_DB_URL)
  --uninstall    remove supasync's functions (and, from staging, the sync-target
                 mark and the private schema): the database as before supasync, its
                 data untouched
  --print        print the SQL instead, to paste into the dashboard's SQL editor
  --yes, -y      do not ask before installing (the question names the project)

It says which version of the functions it installs, and whether it upgrades
or reinstalls; it refuses to put older functions over newer ones (exit 2).

With the Supabase CLI, copy the migration files into your project's
supabase/migrations/ and run \`supabase db push\`; for staging, then run
  INSERT INTO supasync_private.sync_target (marked_by) VALUES ('you');

Exit codes: 0 installed (or removed), 1 failed, 2 usage or configuration error.`;

await runScript(async () => {
  const { values } = parseFlags({
    staging: { type: 'boolean' },
    production: { type: 'boolean' },
    'mark-only': { type: 'boolean' },
    uninstall: { type: 'boolean' },
    print: { type: 'boolean' },
    ...CONFIRM_OPTIONS,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (Boolean(values.staging) === Boolean(values.production)) throw new UsageError('Say where: --staging or --production. See --help.');
  if (values['mark-only'] && !values.staging) throw new UsageError('--mark-only marks staging: use it with --staging.');
  if (values.uninstall && (values['mark-only'] || values.print)) throw new UsageError('--uninstall removes what is installed: not with --mark-only or --print.');
  const side = values.staging ? 'staging' : 'production';
  const kind: InstallKind = values['mark-only'] ? 'mark' : side;
  if (values.print) {
    console.log(installSql(kind));
    return 0;
  }
  loadDotenvFiles();
  const environment = readEnvironment();
  if (side === 'staging') refuseProtectedStaging(environment.staging, (await loadProjectConfig()).protectedRefs);
  const variable = side === 'staging' ? 'SUPABASE_STAGING_DB_URL' : 'SUPABASE_PROD_DB_URL';
  const dbUrl = environment[side].dbUrl;
  if (!dbUrl) throw new UsageError(`${variable} is not set: installing needs a connection string, or use --print and paste the SQL.`);
  if (side === 'staging' && dbUrl === environment.production.dbUrl) {
    throw new UsageError('SUPABASE_STAGING_DB_URL and SUPABASE_PROD_DB_URL are the same string: refusing to mark production as a sync target.');
  }
  const where = describeInstallTarget(variable, dbUrl);
  if (values.uninstall) {
    const loses = side === 'staging' ? ' Staging loses its sync-target mark: supasync writes there again only once it is marked.' : '';
    if (!(await confirmer(Boolean(values.yes))(`Remove supasync's functions from ${side}: ${where}?${loses}`))) throw new UsageError('Nothing was removed.');
    const removed = await uninstallFrom(dbUrl, side);
    console.log(`Removed ${removed} supasync function(s)${side === 'staging' ? ' and the sync-target mark' : ''} from ${side}: ${where}.`);
    return 0;
  }
  const what: Record<InstallKind, string> = {
    production: "supasync's read-only functions",
    staging: "supasync's read and write functions, and mark it as a sync target (supasync may then replace its tables)",
    mark: 'the sync-target mark (supasync may then replace its tables), and no function',
  };
  const confirmed = await confirmer(Boolean(values.yes))(`Install ${what[kind]} in ${side}: ${where}?`);
  if (!confirmed) throw new UsageError('Nothing was installed.');
  const installed = await installInto(dbUrl, kind, side);
  const version = kind === 'mark' ? '' : `, ${describeInstalled(installed)}`;
  console.log(`Installed ${what[kind].replace(/ \(supasync may then replace its tables\)/, '')}${version} in ${side}: ${where}.`);
  return 0;
});
