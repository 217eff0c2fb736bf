// What test files get from the global setup, and helpers to use it.
import { inject } from 'vitest';
import { attachStack, projectEnv, type Project, type StackInfo } from '../../stack/index.ts';

export type ProjectInfo = Omit<Project, 'stop' | 'gateway'>;

declare module 'vitest' {
  export interface ProvidedContext {
    stack: { info: StackInfo; majorVersion: number; production: ProjectInfo; staging: ProjectInfo };
  }
}

export function sharedStack() {
  const provided = inject('stack');
  // Many of the projects tests make are reached only directly: their PostgREST starts when asked for (restOnFirstRequest).
  return { ...provided, stack: attachStack(provided.info, provided.majorVersion, { restOnFirstRequest: true }) };
}

/** The environment a script sees when pointed at two stack projects. */
export const envFor = (production: ProjectInfo, staging: ProjectInfo): Record<string, string> => projectEnv(production, staging);

/**
 * The same for a run over `via`: over REST with the projects' secret keys
 * (sb_secret_...), which Supabase's legacy JWT keys give way to at the end
 * of 2026. The suites each path runs use it; the other tests keep the JWTs,
 * which projects still accept.
 */
export const envOver = (via: 'postgres' | 'rest', production: ProjectInfo, staging: ProjectInfo): Record<string, string> =>
  via === 'rest'
    ? { ...projectEnv(production, staging), SUPABASE_PROD_SERVICE_ROLE_KEY: production.secretKey, SUPABASE_STAGING_SERVICE_ROLE_KEY: staging.secretKey }
    : projectEnv(production, staging);
