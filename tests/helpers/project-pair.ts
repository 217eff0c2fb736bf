// The setup most tests of one schema share: a production (filled by the
// test) and a staging (the sync target), each given the same schema as the
// tables' owner, both stopped when the file's tests end.
import { afterAll, beforeAll } from 'vitest';
import type { Project } from '../../stack/index.ts';
import { sharedStack } from '../setup/stack.ts';
import { query } from './content.ts';

export interface ProjectPair {
  production: Project;
  staging: Project;
}

/**
 * Called inside a describe: `ready` is handed the pair in its beforeAll, once
 * both hold `schema`, to keep them and set up the rest. `name` prefixes both
 * databases' names.
 */
export function projectPair(name: string, schema: string, ready: (pair: ProjectPair) => void | Promise<void>): void {
  let pair: ProjectPair | undefined;
  beforeAll(async () => {
    const [production, staging] = await Promise.all([
      sharedStack().stack.createProject(`${name}_prod`, { syncTarget: false }),
      sharedStack().stack.createProject(`${name}_staging`),
    ]);
    pair = { production, staging };
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${schema}`);
    await ready(pair);
  });
  afterAll(async () => {
    await Promise.all([pair?.production.stop(), pair?.staging.stop()]);
  });
}
