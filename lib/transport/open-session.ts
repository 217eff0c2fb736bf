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
  // supabase-js is loaded only on this path: the direct path starts faster without it.
  const [{ connectSupabase }, { openRestSession }] = await Promise.all([
    import('../connect/supabase.ts'),
    import('./rest/session.ts'),
  ]);
  const clients = {
    production: connectSupabase(production.config.url as string, production.config.serviceRoleKey as string),
    staging: connectSupabase(staging.config.url as string, staging.config.serviceRoleKey as string),
  };
  return openRestSession(clients, run.plan, options, staging.config.url as string);
}
