// What test files get from the global setup, and helpers to use it.
import { inject } from 'vitest';
import { attachStack, type Project, type StackInfo } from '../../stack/index.ts';

export type ProjectInfo = Omit<Project, 'stop' | 'gateway'>;

declare module 'vitest' {
  export interface ProvidedContext {
    stack: { info: StackInfo; majorVersion: number; production: ProjectInfo; staging: ProjectInfo };
  }
}

export function sharedStack() {
  const provided = inject('stack');
  return { ...provided, stack: attachStack(provided.info, provided.majorVersion) };
}

/** The environment a script sees when pointed at two stack projects. */
export function envFor(production: ProjectInfo, staging: ProjectInfo): Record<string, string> {
  return {
    SUPABASE_PROD_URL: production.apiUrl,
    SUPABASE_PROD_SERVICE_ROLE_KEY: production.serviceRoleKey,
    SUPABASE_PROD_DB_URL: production.dbUrl,
    SUPABASE_STAGING_URL: staging.apiUrl,
    SUPABASE_STAGING_SERVICE_ROLE_KEY: staging.serviceRoleKey,
    SUPABASE_STAGING_DB_URL: staging.dbUrl,
  };
}
