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
  return { ...provided, stack: attachStack(provided.info, provided.majorVersion) };
}

/** The environment a script sees when pointed at two stack projects. */
export const envFor = (production: ProjectInfo, staging: ProjectInfo): Record<string, string> => projectEnv(production, staging);
