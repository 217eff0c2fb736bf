import type { SyncPlan } from '../plan/plan.ts';
import type { Database } from './database.ts';
import { openPostgresSession } from './postgres/session.ts';
import type { SessionOptions, SyncSession } from './session.ts';

export async function openSyncSession(
  run: { via: Database['via']; production: Database; staging: Database; plan: SyncPlan },
  options: SessionOptions,
): Promise<SyncSession> {
  const { production, staging } = run;
  if (run.via === 'postgres') {
    if (!production.client || !staging.client) throw new Error('the direct path needs both sides opened over PostgreSQL');
    return openPostgresSession({ production: production.client, staging: staging.client, stagingUrl: staging.config.dbUrl as string }, run.plan, options);
  }
  if (!production.supabase || !staging.supabase) throw new Error('the REST path needs both sides opened over REST');
  // supabase-js is loaded only on this path: the direct path starts faster without it.
  const { openRestSession } = await import('./rest/session.ts');
  return openRestSession({ production: production.supabase, staging: staging.supabase }, run.plan, options, staging.config.url as string);
}
