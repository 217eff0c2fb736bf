// Which staging a backup is of: what a restore checks before writing, what
// `restore-staging.ts latest` picks by, and what retention prunes within.
// Never anything that could let one database's rows into another.
import { parseConnectionString, projectRefOfUrl, redactUrl } from '../config/connection-string.ts';
import type { AnyBackupManifest, BackupOrigin, RestBackupOrigin } from './manifest.ts';

/** Staging as SUPABASE_STAGING_DB_URL reaches it, for a direct-path backup's manifest. */
export function backupOrigin(stagingUrl: string): BackupOrigin {
  const { config, projectRef } = parseConnectionString('SUPABASE_STAGING_DB_URL', stagingUrl);
  return {
    location: redactUrl(stagingUrl),
    host: String(config.host),
    port: Number(config.port),
    database: String(config.database),
    projectRef: projectRef ?? null,
  };
}

/** Staging as SUPABASE_STAGING_URL reaches it (no key in it), for a REST backup's manifest. */
export function restOrigin(stagingUrl: string): RestBackupOrigin {
  return { location: stagingUrl, projectRef: projectRefOfUrl(stagingUrl) ?? null };
}

/**
 * The same database: the same Supabase project (whatever host reaches it,
 * direct or pooler), else the same host, port and database name.
 */
export function sameDatabase(a: BackupOrigin, b: BackupOrigin): boolean {
  if (a.database !== b.database) return false;
  if (a.projectRef && b.projectRef) return a.projectRef === b.projectRef;
  return a.host === b.host && a.port === b.port;
}

/** The same project: the same Supabase project ref, else the same URL. */
export function sameProject(a: RestBackupOrigin, b: RestBackupOrigin): boolean {
  if (a.projectRef && b.projectRef) return a.projectRef === b.projectRef;
  return normalise(a.location) === normalise(b.location);
}

/** Two backups of one staging; across transports only a Supabase project ref can say so. */
export function sameStaging(a: AnyBackupManifest, b: AnyBackupManifest): boolean {
  if (a.via === 'rest' && b.via === 'rest') return sameProject(a.staging, b.staging);
  if (a.via !== 'rest' && b.via !== 'rest') return sameDatabase(a.staging, b.staging);
  return Boolean(a.staging.projectRef) && a.staging.projectRef === b.staging.projectRef;
}

/** Staging as the environment reaches it: the variables a restore would use. */
export interface StagingVariables {
  dbUrl?: string;
  url?: string;
  serviceRoleKey?: string;
}

/**
 * Whether these variables can restore this backup, into the database it came
 * from: a direct-path backup needs the connection string, a REST one the URL
 * and the service-role key (each is restored the way it was taken).
 */
export function restorableWith(manifest: AnyBackupManifest, staging: StagingVariables): boolean {
  if (manifest.via === 'rest') return Boolean(staging.url && staging.serviceRoleKey) && sameProject(restOrigin(staging.url as string), manifest.staging);
  return Boolean(staging.dbUrl) && sameDatabase(backupOrigin(staging.dbUrl as string), manifest.staging);
}

/**
 * A backup these variables cannot restore that may still be of their staging: one taken the other way,
 * which they do not reach. Only a Supabase project ref on both sides tells two such stagings apart.
 */
export function mayBeOfStaging(manifest: AnyBackupManifest, staging: StagingVariables): boolean {
  if (manifest.via === 'rest' ? staging.url : staging.dbUrl) {
    return manifest.via === 'rest'
      ? sameProject(restOrigin(staging.url as string), manifest.staging)
      : sameDatabase(backupOrigin(staging.dbUrl as string), manifest.staging);
  }
  const theirs = manifest.staging.projectRef;
  const ours = (staging.url && projectRefOfUrl(staging.url)) || (staging.dbUrl && backupOrigin(staging.dbUrl).projectRef);
  return !theirs || !ours || theirs === ours;
}

function normalise(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`.toLowerCase();
}
