// --concurrency N: never more requests, and so connections, to a project
// than asked for over REST; the direct path holds one connection per side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { syncedDigests, SYNCED_SCHEMAS } from './helpers/content.ts';
import { runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

describe('--concurrency', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    production = await stack.createProject('concurrency_production', { fill: 'tiny' });
    staging = await stack.createProject('concurrency_staging');
  });
  afterAll(async () => {
    await staging?.stop();
    await production?.stop();
  });

  const sync = (args: string[]) =>
    runScript('sync.ts', ['--yes', '--no-backup', '--schemas', SYNCED_SCHEMAS.join(','), ...args], { env: envFor(production, staging) });

  it('opens no more connections to either project than asked for over REST, and the copy is whole', async () => {
    production.gateway.resetStats();
    staging.gateway.resetStats();
    const limited = await sync(['--via', 'rest', '--concurrency', '2']);
    expect(limited.stderr).not.toMatch(/warning|error|failed/i);
    expect(limited.code).toBe(0);
    expect(staging.gateway.stats().peakConnections).toBeLessThanOrEqual(2);
    expect(production.gateway.stats().peakConnections).toBeLessThanOrEqual(2);
    expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));

    // Without the flag the same run keeps more requests going: the limit is what held it.
    staging.gateway.resetStats();
    const unlimited = await sync(['--via', 'rest']);
    expect(unlimited.code).toBe(0);
    expect(staging.gateway.stats().peakConnections).toBeGreaterThan(2);
  });

  it('says the direct path goes one table at a time, and refuses a count outside 1-32', async () => {
    const direct = await sync(['--via', 'postgres', '--concurrency', '4']);
    expect(direct.code).toBe(0);
    expect(direct.stderr).toContain('--concurrency 4: the direct path writes staging in one transaction, which is one connection');
    for (const bad of ['0', '2.5', 'many', '33']) {
      const refused = await sync(['--via', 'rest', '--concurrency', bad]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`--concurrency ${bad}: use a whole number from 1 to 32`);
    }
  });
});
