// The checksum means the same thing computed directly and through the RPC,
// and on two major versions of PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planSync } from '../lib/plan/plan.ts';
import { openDatabase } from '../lib/transport/database.ts';
import { postgres15BinDir } from '../stack/cluster.ts';
import { startStack, type Project, type Stack } from '../stack/index.ts';
import { query, SYNCED_SCHEMAS } from './helpers/content.ts';
import { runScript } from './helpers/run-script.ts';
import { envFor, sharedStack, type ProjectInfo } from './setup/stack.ts';

const { production, majorVersion, stack } = sharedStack();
const open = (project: ProjectInfo, side: 'production' | 'staging', via: 'rest' | 'postgres') =>
  openDatabase({ side, url: project.apiUrl, serviceRoleKey: project.serviceRoleKey, dbUrl: project.dbUrl }, via);

describe('checksums', () => {
  it('are the same computed directly and through supasync_checksum()', async () => {
    const [direct, rest] = await Promise.all([open(production, 'production', 'postgres'), open(production, 'production', 'rest')]);
    try {
      const catalog = await direct.readCatalog();
      const plan = planSync(catalog, catalog, { schemas: SYNCED_SCHEMAS });
      for (const table of plan.tables) {
        const target = { table: table.table, columns: table.columns, keyColumns: table.key?.columns ?? [] };
        for (const level of [{}, { buckets: 7 }, { buckets: 7, onlyBuckets: [0, 3], rowLimit: 50 }]) {
          expect(await rest.checksum(target, level), `${table.table.name} ${JSON.stringify(level)}`).toEqual(await direct.checksum(target, level));
        }
      }
    } finally {
      await Promise.all([direct.close(), rest.close()]);
    }
  });
});

describe.runIf(postgres15BinDir())('syncing into another major version of PostgreSQL', () => {
  let older: Stack;
  let staging: Project;
  beforeAll(async () => {
    older = await startStack({ binDir: postgres15BinDir() });
    staging = await older.createProject('pg15_staging');
  });
  afterAll(async () => {
    await staging?.stop();
    await older?.stop();
  });

  for (const via of ['postgres', 'rest'] as const) {
    it(`copies PostgreSQL ${majorVersion} into 15 via ${via}, and verify finds it Perfect`, async () => {
      expect(older.majorVersion).toBe(15);
      const env = envFor(production, staging);
      const synced = await runScript('sync.ts', ['--via', via, '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], { env });
      expect(synced.code).toBe(0);
      const verified = await runScript('verify-sync-status.ts', ['--via', via, '--schemas', SYNCED_SCHEMAS.join(',')], { env });
      expect(verified.stdout).toContain('Staging equals production: 33 of 33 tables Perfect.');
      expect(verified.code).toBe(0);
    });
  }

  // PostgreSQL 17 stores an infinite interval as the largest one 15 can hold:
  // in binary it would arrive as a finite interval 178956970 years long.
  it.runIf(majorVersion >= 17)(`refuses an infinite interval that 15 cannot hold, rather than copying another value`, async () => {
    const newer = await stack.createProject('versions_interval_production', { syncTarget: false });
    const olderStaging = await older.createProject('versions_interval_staging');
    try {
      for (const project of [newer, olderStaging]) await query(project.dbUrl, 'CREATE TABLE public.stays (id int PRIMARY KEY, length interval)');
      await query(newer.dbUrl, `INSERT INTO public.stays VALUES (1, '1 day'), (2, 'infinity')`);
      const synced = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--tables', 'stays'], { env: envFor(newer, olderStaging) });
      expect(synced.stderr).toContain('Copying public.stays failed: invalid input syntax for type interval: "infinity"');
      expect(synced.code).toBe(1);
      expect(await query(olderStaging.adminUrl, 'SELECT count(*)::int AS n FROM public.stays')).toEqual([{ n: 0 }]);
    } finally {
      await Promise.all([newer.stop(), olderStaging.stop()]);
    }
  });
});
