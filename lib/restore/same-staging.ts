// A backup goes back into the staging it came from and nowhere else: one
// database's rows are never written into another.
import { backupOrigin, restOrigin, sameDatabase, sameProject } from '../backup/origin.ts';
import type { AnyBackupManifest } from '../backup/manifest.ts';
import type { SideConfig } from '../config/env.ts';
import { UsageError } from '../errors.ts';
import type { SyncTargetMark } from '../transport/reads.ts';

/**
 * Direct path: the same Supabase project (whatever host reaches it, direct or
 * pooler), else the same host, port and database name. REST: the same
 * project ref, else the same URL. Then, where the backup kept it, the same
 * sync-target mark there.
 */
export function refuseOtherStaging(manifest: AnyBackupManifest, staging: SideConfig, mark: Extract<SyncTargetMark, { kind: 'marked' }>): void {
  if (manifest.via === 'rest') {
    const here = restOrigin(staging.url as string);
    if (sameProject(here, manifest.staging)) return refuseAnotherMark(manifest, mark);
    throw new UsageError(
      `This backup is of ${manifest.staging.location}, but SUPABASE_STAGING_URL points at ${here.location}: ` +
        "refusing to write one project's rows into another. Point SUPABASE_STAGING_URL at the project the backup came from.",
    );
  }
  const here = backupOrigin(staging.dbUrl as string);
  if (sameDatabase(here, manifest.staging)) return refuseAnotherMark(manifest, mark);
  throw new UsageError(
    `This backup is of ${manifest.staging.location}, but SUPABASE_STAGING_DB_URL points at ${here.location}: ` +
      "refusing to write one database's rows into another. Point SUPABASE_STAGING_DB_URL at the database the backup came from.",
  );
}

/**
 * The same address may lead to another database than the backup's: one
 * re-created under its name, or another local project on the same host and
 * port (every Supabase CLI project is 127.0.0.1:54322). Each staging was
 * marked at its own moment: a backup that kept its staging's mark goes back
 * only where that mark is.
 */
function refuseAnotherMark(manifest: AnyBackupManifest, mark: Extract<SyncTargetMark, { kind: 'marked' }>): void {
  const kept = manifest.staging.mark;
  if (!kept || (Date.parse(kept.markedAt) === Date.parse(mark.markedAt) && kept.markedBy === mark.markedBy)) return;
  throw new UsageError(
    `This backup is of the staging at ${manifest.staging.location} that was marked as a sync target ${kept.markedAt}; ` +
      `the database there now carries another mark (set ${mark.markedAt}): it is another database at the same address ` +
      "(re-created, or another project on the same host and port), and refusing to write one database's rows into another. Nothing was changed. " +
      '(If it is the same database, marked again since (install-rpcs --uninstall, then --staging), the backup predates that: restore it by hand from its files.)',
  );
}
