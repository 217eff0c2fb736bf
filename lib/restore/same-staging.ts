// A backup goes back into the staging it came from and nowhere else: one
// database's rows are never written into another.
import { backupOrigin, restOrigin, sameDatabase, sameProject } from '../backup/origin.ts';
import type { AnyBackupManifest } from '../backup/manifest.ts';
import type { SideConfig } from '../config/env.ts';
import { UsageError } from '../errors.ts';

/**
 * Direct path: the same Supabase project (whatever host reaches it, direct or
 * pooler), else the same host, port and database name. REST: the same
 * project ref, else the same URL.
 */
export function refuseOtherStaging(manifest: AnyBackupManifest, staging: SideConfig): void {
  if (manifest.via === 'rest') {
    const here = restOrigin(staging.url as string);
    if (sameProject(here, manifest.staging)) return;
    throw new UsageError(
      `This backup is of ${manifest.staging.location}, but SUPABASE_STAGING_URL points at ${here.location}: ` +
        "refusing to write one project's rows into another. Point SUPABASE_STAGING_URL at the project the backup came from.",
    );
  }
  const here = backupOrigin(staging.dbUrl as string);
  if (sameDatabase(here, manifest.staging)) return;
  throw new UsageError(
    `This backup is of ${manifest.staging.location}, but SUPABASE_STAGING_DB_URL points at ${here.location}: ` +
      "refusing to write one database's rows into another. Point SUPABASE_STAGING_DB_URL at the database the backup came from.",
  );
}
