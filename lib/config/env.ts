// The six variables a user keeps in .env.local (each side's key under
// either of two names), checked before anything connects. Values are never
// echoed back: they hold keys and passwords.
import { readFileSync } from 'node:fs';
import { config as loadDotenv, parse as parseDotenv } from 'dotenv';
import { UsageError } from '../errors.ts';
import { connectionUrl, keywordValueAsUrl, parseConnectionString, projectRefOfUrl, unencodedCredentialsProblem } from './connection-string.ts';

export type Side = 'production' | 'staging';
export type Via = 'rest' | 'postgres';

export interface SideConfig {
  side: Side;
  /** Project URL and service-role key: the REST path needs both. */
  url?: string;
  serviceRoleKey?: string;
  /** The variable the key came from, for messages that ask to correct it: _SECRET_KEY or _SERVICE_ROLE_KEY. */
  keyVariable?: string;
  /** Connection string: the direct path needs it. */
  dbUrl?: string;
  /** Variables still holding .env.local.example's `<...>` placeholders: read as unset, and said so if needed. */
  placeholders?: string[];
}

export interface Environment {
  production: SideConfig;
  staging: SideConfig;
}

const PREFIX: Record<Side, string> = { production: 'SUPABASE_PROD', staging: 'SUPABASE_STAGING' };

const EXAMPLE = {
  URL: 'https://<project-ref>.supabase.co',
  SERVICE_ROLE_KEY: 'the service_role key (a JWT, eyJ...) or a secret key (sb_secret_...) from Project Settings > API Keys',
  SECRET_KEY: 'a secret key (sb_secret_...) from Project Settings > API Keys',
  DB_URL: 'postgresql://postgres:<password>@db.<project-ref>.supabase.co:5432/postgres',
};

let envFiles: string[] | undefined;

/** --env-file: these files instead of .env.local and .env, so one run reads one pair of projects. */
export function useEnvFiles(paths: string[]): void {
  envFiles = paths;
}

/** Reads .env.local, then .env (or the --env-file files); variables already in the environment win. */
export function loadDotenvFiles(cwd = process.cwd()): void {
  loadDotenv({ path: envFiles ?? [`${cwd}/.env.local`, `${cwd}/.env`], quiet: true });
}

/**
 * The env files that leave `name` empty (`KEY=` with nothing after it, as the example ships the keys): an empty
 * variable is theirs, not the shell's, though by the time it is read (node loads --env-file itself) both look alike.
 */
function filesLeavingEmpty(name: string): string[] {
  return (envFiles ?? ['.env.local', '.env']).filter((file) => {
    try {
      return parseDotenv(readFileSync(file, 'utf8'))[name] === '';
    } catch {
      return false;
    }
  });
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const problems: string[] = [];
  const read = (side: Side): SideConfig => {
    const name = (suffix: keyof typeof EXAMPLE) => `${PREFIX[side]}_${suffix}`;
    const placeholders: string[] = [];
    // The example's `<project-ref>` and `<password>` left in: not a value, so not a URL to check against the
    // connection string the user did fill in (nor a connection string that would pick the direct path).
    const value = (suffix: keyof typeof EXAMPLE) => {
      const given = env[name(suffix)]?.trim() || undefined;
      if (given && /<[^<>]*>/.test(given)) placeholders.push(name(suffix));
      else return given;
    };
    const url = value('URL');
    // Either name: Supabase's secret keys (sb_secret_...), which replace the service_role JWT at the end of
    // 2026, are kept as SUPABASE_SECRET_KEY in its own docs; a project may hold its old name with a new key too.
    const [secretKey, roleKey] = [value('SECRET_KEY'), value('SERVICE_ROLE_KEY')];
    const key = secretKey ?? roleKey;
    const keyVariable = name(secretKey ? 'SECRET_KEY' : 'SERVICE_ROLE_KEY');
    if (secretKey && roleKey && secretKey !== roleKey) {
      problems.push(`${name('SECRET_KEY')} and ${name('SERVICE_ROLE_KEY')} hold different keys: keep one of them (which key is meant cannot be told).`);
    }
    const given = value('DB_URL');
    let dbUrl: string | undefined;
    try {
      dbUrl = given && keywordValueAsUrl(name('DB_URL'), given);
    } catch (error) {
      problems.push((error as Error).message);
    }
    const result: SideConfig = { side };
    if (url && !isHttpUrl(url)) problems.push(`${name('URL')} is not an http(s) URL: it should look like ${EXAMPLE.URL}`);
    else if (url && new URL(url).pathname.replace(/\/+$/, '') !== '') {
      // supabase-js adds /rest/v1 itself: the dashboard's "RESTful endpoint" would become /rest/v1/rest/v1.
      // The dashboard's own address in the browser names the project too: its API URL is said outright.
      const dashboard = /^\/dashboard\/project\/([a-z0-9]{20})(\/|$)/.exec(new URL(url).pathname);
      const meant = dashboard
        ? `https://${dashboard[1]}.supabase.co (that is the dashboard's page, not the project's API)`
        : `${EXAMPLE.URL}, without /rest/v1`;
      problems.push(`${name('URL')} has a path (${new URL(url).pathname}): give the project URL alone, like ${meant}`);
    } else if (url && (new URL(url).search || new URL(url).hash || new URL(url).username || new URL(url).password)) {
      // Printed and kept in backups' manifests as the project's address: a key or password in it would be too. Not echoed.
      problems.push(
        `${name('URL')} holds a query, a fragment or a user name and password: give the project URL alone, like ${EXAMPLE.URL}, and the key in ${name('SERVICE_ROLE_KEY')}`,
      );
    }
    if (key) {
      const problem = serviceKeyProblem(key);
      if (problem) problems.push(`${keyVariable} ${problem}`);
    }
    const unencoded = dbUrl ? unencodedCredentialsProblem(name('DB_URL'), dbUrl) : undefined;
    if (unencoded) {
      problems.push(unencoded);
    } else if (dbUrl && !isPostgresUrl(dbUrl)) {
      // dotenv ends an unquoted value at a #: a password holding one arrives cut, "postgresql://postgres:pa".
      const cut = /^postgres(ql)?:\/\/[^@]*$/.test(dbUrl)
        ? ' (it ends before any @: in a .env file an unquoted # starts a comment, so a password holding one is cut there: write it as %23, or quote the value)'
        : '';
      problems.push(`${name('DB_URL')} is not a PostgreSQL connection string${cut}: it should look like ${EXAMPLE.DB_URL}`);
    } else if (dbUrl) {
      try {
        parseConnectionString(name('DB_URL'), dbUrl);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    if (url) result.url = url.replace(/\/+$/, '');
    if (key) {
      result.serviceRoleKey = key;
      result.keyVariable = keyVariable;
    }
    if (dbUrl) result.dbUrl = dbUrl;
    if (placeholders.length) result.placeholders = placeholders;
    return result;
  };
  const environment = { production: read('production'), staging: read('staging') };
  for (const side of problems.length ? [] : [environment.production, environment.staging]) {
    const refs = projectRefs(side);
    if (refs.length > 1) {
      problems.push(
        `${PREFIX[side.side]}_URL names project ${refs[0]} but ${PREFIX[side.side]}_DB_URL names project ${refs[1]}: ` +
          `both must reach ${side.side}'s one project. Correct whichever is wrong (Dashboard > Project Settings > API, and > Connect).`,
      );
    }
  }
  if (problems.length) throw new UsageError(problems.join('\n'));
  const [productionRefs, stagingRefs] = [projectRefs(environment.production), projectRefs(environment.staging)];
  const shared = productionRefs.find((ref) => stagingRefs.includes(ref));
  if (shared) {
    throw new UsageError(`Production and staging are the same Supabase project (${shared}): check SUPABASE_STAGING_URL and SUPABASE_STAGING_DB_URL.`);
  }
  return environment;
}

/** What a project answering "Invalid API key" means, naming the variable to correct (the one the key came from). */
export function refusedKeyMessage(side: Side, url: string, keyVariable = `${PREFIX[side]}_SERVICE_ROLE_KEY`): string {
  return (
    `${url} refused ${keyVariable} (Invalid API key). ` +
    "Give that project's own service_role key or secret key (sb_secret_...): Dashboard > Project Settings > API Keys."
  );
}

/**
 * Staging's URL and connection string are both checked: a run may write
 * through either (and restore-staging through the one its backup needs).
 */
export function refuseProtectedStaging(staging: SideConfig, protectedRefs: readonly string[]): void {
  const hit = projectRefs(staging).find((ref) => protectedRefs.some((listed) => listed.toLowerCase() === ref));
  if (hit) {
    throw new UsageError(
      `Staging is project ${hit}, which supasync.config.json lists in protectedRefs: supasync never touches it as staging. ` +
        'Check SUPABASE_STAGING_URL and SUPABASE_STAGING_DB_URL (are production and staging swapped?). Nothing was changed.',
    );
  }
}

/**
 * The transport a run uses: the direct path when both connection strings
 * are there (or asked for), REST otherwise. Missing variables are named.
 */
export function chooseVia(environment: Environment, requested: Via | undefined): Via {
  const hasDb = Boolean(environment.production.dbUrl && environment.staging.dbUrl);
  const via: Via = requested ?? (hasDb ? 'postgres' : 'rest');
  const missing: string[] = [];
  for (const side of ['production', 'staging'] as const) {
    const config = environment[side];
    const present = { URL: config.url, SERVICE_ROLE_KEY: config.serviceRoleKey, DB_URL: config.dbUrl };
    const needed: (keyof typeof present)[] = via === 'postgres' ? ['DB_URL'] : ['URL', 'SERVICE_ROLE_KEY'];
    for (const suffix of needed) {
      const name = `${PREFIX[side]}_${suffix}`;
      const secretName = `${PREFIX[side]}_SECRET_KEY`;
      const kept = config.placeholders?.filter((variable) => variable === name || (suffix === 'SERVICE_ROLE_KEY' && variable === secretName)) ?? [];
      const placeholder = kept.length ? `, ${kept.includes(name) ? 'still' : `${secretName} still`} the example's placeholder` : '';
      // An empty variable of the shell's is kept over a file's value (dotenv never overrides): said, or the file looks ignored.
      const emptyIn = process.env[name] === '' ? filesLeavingEmpty(name) : [];
      const empty =
        process.env[name] !== ''
          ? ''
          : emptyIn.length
            ? `; left empty in ${emptyIn.join(' and ')}`
            : `; set but empty in the environment, which wins over .env files: unset ${name}, or give it a value`;
      const instead = suffix === 'SERVICE_ROLE_KEY' ? `; a secret key may be in ${secretName} instead` : '';
      if (!present[suffix]) missing.push(`  ${name}  (${EXAMPLE[suffix]}${instead}${placeholder}${empty})`);
    }
  }
  if (missing.length) {
    const how =
      via === 'postgres'
        ? 'The direct path (--via postgres) needs both connection strings.'
        : "The REST path needs each project's URL and service-role key (or set both SUPABASE_*_DB_URL for the direct path).";
    throw new UsageError(`Missing configuration. ${how}\nSet in ${envFiles ? envFiles.join(' or ') : '.env.local'}:\n${missing.join('\n')}`);
  }
  return via;
}

/** What reaching one side by one path takes, every part present. */
export type Connection =
  { via: 'postgres'; side: Side; dbUrl: string } | { via: 'rest'; side: Side; url: string; serviceRoleKey: string; keyVariable?: string };

/** The side's connection for `via`; a variable it lacks is named (chooseVia has said so for both sides already). */
export function connectionOf(config: SideConfig, via: Via): Connection {
  if (via === 'postgres') {
    if (!config.dbUrl) throw new UsageError(`${PREFIX[config.side]}_DB_URL is not set (${EXAMPLE.DB_URL}).`);
    return { via, side: config.side, dbUrl: config.dbUrl };
  }
  if (!config.url || !config.serviceRoleKey) {
    throw new UsageError(
      `${PREFIX[config.side]}_URL and ${PREFIX[config.side]}_SERVICE_ROLE_KEY (or _SECRET_KEY) are both needed over REST (${EXAMPLE.URL}; ${EXAMPLE.SERVICE_ROLE_KEY}).`,
    );
  }
  return { via, side: config.side, url: config.url, serviceRoleKey: config.serviceRoleKey, keyVariable: config.keyVariable };
}

/** The Supabase project refs a side's URL and connection string name: none for other hosts, one when they agree. */
export function projectRefs(side: SideConfig): string[] {
  const refs = [
    side.url ? projectRefOfUrl(side.url) : undefined,
    side.dbUrl ? parseConnectionString(`${PREFIX[side.side]}_DB_URL`, side.dbUrl).projectRef : undefined,
  ];
  return [...new Set(refs.filter((ref): ref is string => Boolean(ref)))];
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function isPostgresUrl(value: string): boolean {
  try {
    // libpq's postgresql:///db and user@/db name no host (its socket, or the ?host= given), which connectionUrl parses.
    const { url } = connectionUrl(value);
    return url.protocol === 'postgres:' || url.protocol === 'postgresql:';
  } catch {
    return false;
  }
}

/** Why a value cannot be a service-role key, or undefined when it can be. */
function serviceKeyProblem(key: string): string | undefined {
  // Kept by a tool or a shell that did not take them off: the server would only say "Invalid API key".
  if (/^["'`]|["'`]$/.test(key)) return 'is wrapped in quotes that are part of its value: remove them';
  if (/^bearer\s/i.test(key)) return 'starts with "Bearer ": give the key alone (supasync sends the header itself)';
  if (key.startsWith('sb_secret_')) return undefined;
  if (key.startsWith('sb_publishable_')) {
    return 'holds a publishable key: use a secret key (sb_secret_...) or the service_role key';
  }
  const parts = key.split('.');
  if (parts.length !== 3) return `is not an API key: it should be ${EXAMPLE.SERVICE_ROLE_KEY}`;
  try {
    const claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as { role?: unknown };
    if (claims.role === undefined) return `holds a JWT without a role: not a Supabase API key, which should be ${EXAMPLE.SERVICE_ROLE_KEY}`;
    if (claims.role !== 'service_role') {
      return `holds a key whose role is "${String(claims.role)}": use the service_role key (Project Settings > API Keys)`;
    }
  } catch {
    return `is not an API key: it should be ${EXAMPLE.SERVICE_ROLE_KEY}`;
  }
  return undefined;
}
