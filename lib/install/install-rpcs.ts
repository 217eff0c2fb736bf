// What scripts/install-rpcs.ts does once its flags are parsed: which side
// and what (functions, the sync-target mark alone, or their removal), the
// environment checked, the question that names the project, then the SQL
// applied, and the line that says what was done.
import { loadDotenvFiles, readEnvironment, refuseProtectedStaging } from '../config/env.ts';
import { loadProjectConfig } from '../config/file.ts';
import { UsageError } from '../errors.ts';
import { describeInstalled, describeInstallTarget, installInto, installSql, uninstallFrom, type InstallKind } from './migrations.ts';
import { countOf } from '../counts.ts';
import { commandLine } from '../invocation.ts';
import type pg from 'pg';
import { connectPostgres } from '../connect/postgres.ts';
import { quoteLiteral } from '../sql/ident.ts';
import { readSyncTargetPostgres } from '../transport/postgres/sync-target.ts';

export interface InstallRequest {
  staging?: boolean;
  production?: boolean;
  /** With staging: the mark alone, no function. */
  markOnly?: boolean;
  uninstall?: boolean;
  /** The SQL printed, nothing connected to. */
  print?: boolean;
  confirm: (question: string) => Promise<boolean>;
}

const WHAT: Record<InstallKind, string> = {
  production: "supasync's read-only functions",
  staging: "supasync's read and write functions and the sync-target mark (supasync may then replace its tables)",
  mark: 'the sync-target mark (supasync may then replace its tables), and no function',
};

/** Installs, removes or prints; answers what to print (the SQL, or the line that says what was done). */
export async function installRpcs(request: InstallRequest): Promise<string> {
  if (Boolean(request.staging) === Boolean(request.production)) throw new UsageError('Say where: --staging or --production. See --help.');
  if (request.markOnly && !request.staging) throw new UsageError('--mark-only marks staging: use it with --staging.');
  if (request.uninstall && (request.markOnly || request.print)) throw new UsageError('--uninstall removes what is installed: not with --mark-only or --print.');
  const side = request.staging ? 'staging' : 'production';
  const kind: InstallKind = request.markOnly ? 'mark' : side;
  if (request.print) return installSql(kind);
  const { dbUrl, where } = await target(side);
  if (request.uninstall) {
    const loses = side === 'staging' ? ' Staging loses its sync-target mark: supasync writes there again only once it is marked.' : '';
    if (!(await request.confirm(`Remove supasync's functions from ${side}: ${where}?${loses}`))) throw new UsageError('Nothing was removed.');
    const removed = await uninstallFrom(dbUrl, side);
    return `Removed ${countOf(removed, 'supasync function')}${side === 'staging' ? ' and the sync-target mark' : ''} from ${side}: ${where}.`;
  }
  if (!(await request.confirm(`Install ${WHAT[kind]} in ${side}: ${where}?`))) throw new UsageError('Nothing was installed.');
  const installed = await installInto(dbUrl, kind, side);
  const version = kind === 'mark' ? '' : `, ${describeInstalled(installed)}`;
  return `Installed ${WHAT[kind].replace(/ \(supasync may then replace its tables\)/, '')}${version} in ${side}: ${where}.`;
}

/** The side's connection string, refused when missing, protected, or (for staging) production's own. */
async function target(side: 'production' | 'staging'): Promise<{ dbUrl: string; where: string }> {
  loadDotenvFiles();
  const environment = readEnvironment();
  if (side === 'staging') refuseProtectedStaging(environment.staging, (await loadProjectConfig()).protectedRefs);
  const variable = side === 'staging' ? 'SUPABASE_STAGING_DB_URL' : 'SUPABASE_PROD_DB_URL';
  const dbUrl = environment[side].dbUrl;
  if (!dbUrl) throw new UsageError(`${variable} is not set: installing needs a connection string, or use --print and paste the SQL.`);
  if (side === 'staging' && dbUrl === environment.production.dbUrl) {
    throw new UsageError('SUPABASE_STAGING_DB_URL and SUPABASE_PROD_DB_URL are the same string: refusing to mark production as a sync target.');
  }
  const productionUrl = environment.production.dbUrl;
  if (side === 'staging' && productionUrl) {
    // Another spelling of production's address (localhost, a port, options) is production all the same.
    const [staging, production] = await Promise.all([
      identityOf('staging', dbUrl),
      identityOf('production', productionUrl).catch((error: unknown) => {
        // Not knowing which database production is, marking might mark it.
        throw new UsageError(
          `Cannot tell that SUPABASE_STAGING_DB_URL is not production: SUPABASE_PROD_DB_URL does not connect (${(error as Error).message.split('\n')[0]}). ` +
            'Correct it, or leave it unset to install without the comparison. Nothing was installed.',
        );
      }),
    ]);
    if (staging === production) {
      throw new UsageError(
        'SUPABASE_STAGING_DB_URL leads to the database SUPABASE_PROD_DB_URL does (the same server and database, under another spelling of its address): ' +
          'refusing to mark production as a sync target. Check SUPABASE_STAGING_DB_URL.',
      );
    }
    await refuseSwappedFirstSetup(dbUrl, productionUrl);
  }
  return { dbUrl, where: describeInstallTarget(variable, dbUrl) };
}

/**
 * Variables swapped on a first setup: neither side is marked yet, so the mark is what would tell them apart. A
 * database to mark that holds the app's rows, where production's holds none, is far likelier production than an
 * empty staging's twin: marked, a sync would empty it. Refused, with the deliberate way to mark it all the same.
 */
async function refuseSwappedFirstSetup(stagingUrl: string, productionUrl: string): Promise<void> {
  const [toMark, production] = await Promise.all([
    // Marked already (functions reinstalled, or upgraded): not a first setup, and the mark says which side it is.
    onConnection('staging', stagingUrl, async (client) => ((await readSyncTargetPostgres(client)).kind === 'marked' ? [] : tablesHoldingRows(client))),
    onConnection('production', productionUrl, tablesHoldingRows),
  ]);
  if (!toMark.length || production.length) return;
  throw new UsageError(
    `SUPABASE_STAGING_DB_URL's database holds rows (${countOf(toMark.length, 'table')}: ${toMark.slice(0, 3).join(', ')}${toMark.length > 3 ? ', ...' : ''}) ` +
      "where SUPABASE_PROD_DB_URL's holds none in the same schemas: the two look swapped, and once marked a sync would replace those rows with " +
      "production's empty tables. Check the variables. If this really is staging and production is empty, mark it yourself: " +
      `${commandLine('install-rpcs', '--staging --mark-only --print')} prints the SQL to run there. Nothing was installed.`,
  );
}

async function onConnection<T>(side: 'production' | 'staging', dbUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectPostgres(side, dbUrl, side === 'production' ? 'sync' : 'install');
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The app's tables (not Supabase's own schemas, nor supasync's) that hold a row, asked in one statement. */
async function tablesHoldingRows(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name FROM pg_catalog.pg_class c
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'supasync_private', 'auth', 'storage', 'realtime',
                             'supabase_functions', 'supabase_migrations', 'extensions', 'graphql', 'graphql_public', 'vault',
                             'pgsodium', 'pgsodium_masks', 'net', 'cron', 'pgbouncer', '_realtime', '_analytics')
       AND n.nspname NOT LIKE 'pg\\_%'
       AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY 1`,
  );
  if (!rows.length) return [];
  const holding = await client.query<{ name: string }>(
    rows.map(({ name }) => `SELECT ${quoteLiteral(name)} AS name WHERE EXISTS (SELECT FROM ${name})`).join(' UNION ALL '),
  );
  return holding.rows.map(({ name }) => name);
}

/** Who a connection string's database is, however its address is spelled: the server's system identifier and the database's oid. */
async function identityOf(side: 'production' | 'staging', dbUrl: string): Promise<string> {
  const client = await connectPostgres(side, dbUrl, side === 'production' ? 'sync' : 'install');
  try {
    const { rows } = await client.query<{ id: string }>(
      `SELECT (SELECT system_identifier::text FROM pg_catalog.pg_control_system()) || '/' || d.oid::text AS id
       FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()`,
    );
    return rows[0]?.id ?? '';
  } finally {
    await client.end().catch(() => undefined);
  }
}
