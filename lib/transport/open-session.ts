import { UsageError } from '../errors.ts';
import type { SyncPlan } from '../plan/plan.ts';
import type { Database } from './database.ts';
import { openPostgresSession } from './postgres/session.ts';
import type { SessionOptions, SyncSession } from './session.ts';

export async function openSyncSession(
  run: { via: Database['via']; production: Database; staging: Database; plan: SyncPlan },
  options: SessionOptions,
): Promise<SyncSession> {
  if (run.via === 'postgres') {
    const urls = { production: run.production.config.dbUrl as string, staging: run.staging.config.dbUrl as string };
    return openPostgresSession(urls, run.plan, options);
  }
  throw new UsageError(
    'This version copies over the direct path only: set SUPABASE_PROD_DB_URL and SUPABASE_STAGING_DB_URL (or use --dry-run to plan over REST).',
  );
}
