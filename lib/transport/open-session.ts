import type { Database } from './database.ts';
import type { LoadPlan } from './load.ts';
import type { SessionOptions, SyncSession } from './session.ts';

export async function openSyncSession(run: { production: Database; staging: Database; plan: LoadPlan }, options: SessionOptions): Promise<SyncSession> {
  const { production, staging } = run;
  // Each path's modules are loaded on that path alone: pg is not read by a REST run, supabase-js by a direct one.
  if (production.via === 'postgres' && staging.via === 'postgres') {
    const { openPostgresSession } = await import('./postgres/session.ts');
    return openPostgresSession({ production: production.client, staging: staging.client, stagingUrl: staging.dbUrl }, run.plan, options);
  }
  if (production.via === 'rest' && staging.via === 'rest') {
    const { openRestSession } = await import('./rest/session.ts');
    return openRestSession({ production: production.supabase, staging: staging.supabase }, run.plan, options, staging.url);
  }
  throw new Error(`a run reaches both sides one way: production via ${production.via}, staging via ${staging.via}`);
}
