// A restore from its chosen backup to its summary line: the backup found,
// staging checked (the variables its path needs, not protected, marked, the
// database the backup came from), the question asked, then the rows put back
// the way the backup was taken. Production is never opened.
import type { ViewRefresh } from '../transport/session.ts';
import { readBackup } from '../backup/manifest.ts';
import { latestBackupOf } from '../backup/store.ts';
import { loadDotenvFiles, readEnvironment, refuseProtectedStaging, type SideConfig } from '../config/env.ts';
import { loadProjectConfig } from '../config/file.ts';
import { UsageError } from '../errors.ts';
import { countOf } from '../counts.ts';
import type { AnyBackupManifest } from '../backup/manifest.ts';
import { refuseUnmarked } from '../transport/sync-target.ts';
import { refuseOtherStaging } from './same-staging.ts';
import { doneOnceMore, endedForAnother } from '../engine/rolled-back.ts';

export interface RestoreRequest {
  /** A backup's directory, or `latest`: the newest of the staging the environment points at. */
  chosen: string;
  /** Where backups are kept (.supasync/backups). */
  root: string;
  confirm: (question: string) => Promise<boolean>;
  /** Lines said on the way, before the summary (which backup `latest` is). */
  say: (line: string) => void;
}

/** Restores staging and answers the line that says what was done. */
export async function restoreStaging(request: RestoreRequest): Promise<string> {
  // A named directory is checked before the variables: a typo is the likelier mistake.
  const named = request.chosen === 'latest' ? null : await readBackup(request.chosen);
  loadDotenvFiles();
  const { staging } = readEnvironment();
  const { directory, manifest } = named ? { directory: request.chosen, manifest: named } : await latestBackupOf(request.root, staging);
  if (!named) request.say(`The newest backup of this staging: ${directory}`);
  refuseMissingVariables(manifest, staging);
  refuseProtectedStaging(staging, (await loadProjectConfig()).protectedRefs);
  const mark = await refuseUnmarked(staging, manifest.via ?? 'postgres');
  refuseOtherStaging(manifest, staging, mark);
  if (!(await request.confirm(question(manifest)))) throw new UsageError('Nothing was changed: the restore was not confirmed.');
  if (manifest.via === 'rest') {
    // supabase-js is loaded only on this path, as in the sync.
    const [{ restoreOverRest }, { describeRetries, retriedRequests }] = await Promise.all([
      import('../transport/rest/restore.ts'),
      import('../transport/rest/retry-tally.ts'),
    ]);
    const restored = await restoreOverRest(staging.url as string, staging.serviceRoleKey as string, directory, manifest, request.say);
    return (
      `Restored ${countOf(restored.tables, 'staging table')} (${countOf(restored.rows, 'row')}) over REST from ${directory}, as they were at ${manifest.createdAt}` +
      `${restored.retries.length ? ` (${countOf(retriedRequests(restored.retries), 'request')} retried after: ${describeRetries(restored.retries)})` : ''}. Each batch committed on its own: it was not one transaction.` +
      describeViews(restored.views)
    );
  }
  const { restoreBackup } = await import('../transport/postgres/restore.ts');
  const restoreOnce = () => restoreBackup(staging.dbUrl as string, directory, manifest, request.say);
  // Ended for another session's sake (a deadlock with autovacuum, the app, a migration), the
  // one transaction changed nothing: restored once more, as a sync is run once more (engine/rolled-back.ts).
  const restored = await restoreOnce().catch((error: unknown) => {
    const why = endedForAnother(error);
    if (!why) throw error;
    request.say(doneOnceMore(why, 'restore'));
    return restoreOnce();
  });
  return `Restored ${countOf(restored.tables, 'staging table')} (${countOf(restored.rows, 'row')}) from ${directory}, as they were at ${manifest.createdAt}.${describeViews(restored.views)}`;
}

/** The materialized views that read the restored tables: refreshed, or each one left and why. */
function describeViews(views: ViewRefresh[]): string {
  const refreshed = views.filter((view) => view.refreshed).map((view) => view.view);
  return [
    ...(refreshed.length ? [`Refreshed the materialized views that read them: ${refreshed.join(', ')}.`] : []),
    ...views.filter((view) => !view.refreshed).map((view) => `${view.view} not refreshed: ${view.reason}.`),
  ]
    .map((line) => `\n${line}`)
    .join('');
}

/** Each backup is restored the way it was taken: REST's over REST, the direct path's over a connection string. */
function refuseMissingVariables(manifest: AnyBackupManifest, staging: SideConfig): void {
  if (manifest.via === 'rest' && !(staging.url && staging.serviceRoleKey)) {
    throw new UsageError(
      'This backup was taken over REST and is restored over REST: set SUPABASE_STAGING_URL and SUPABASE_STAGING_SERVICE_ROLE_KEY or SUPABASE_STAGING_SECRET_KEY (Dashboard > Project Settings > API).',
    );
  }
  if (manifest.via !== 'rest' && !staging.dbUrl) {
    throw new UsageError("SUPABASE_STAGING_DB_URL is not set: a restore needs staging's connection string (Dashboard > Connect).");
  }
}

function question(manifest: AnyBackupManifest): string {
  const rows = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
  return (
    `Restore ${countOf(manifest.tables.length, 'table')} of staging (${manifest.staging.location}) to the backup of ${manifest.createdAt} ` +
    `(${countOf(rows, 'row')})? Their current rows are deleted.` +
    (manifest.via === 'rest' ? ' Over REST this is not one transaction: if it stops part way, staging is left part restored until you run it again.' : '')
  );
}
