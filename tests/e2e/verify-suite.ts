// Verification told once, run over each transport: equal data is Perfect,
// whatever the servers' session settings; every difference is named by key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Via } from '../../lib/config/env.ts';
import { planSync } from '../../lib/plan/plan.ts';
import { openDatabase } from '../../lib/transport/database.ts';
import { verifyTables } from '../../lib/verify/verify.ts';
import type { Project } from '../../stack/index.ts';
import { query, SYNCED_SCHEMAS } from '../helpers/content.ts';
import { runScript } from '../helpers/run-script.ts';
import { envFor, sharedStack } from '../setup/stack.ts';


export function defineVerifySuite(via: Via): void {
  const { production, stack } = sharedStack();
  let staging: Project;
  const verify = (args: string[] = []) =>
    runScript('verify-sync-status.ts', ['--via', via, '--schemas', SYNCED_SCHEMAS.join(','), ...args], { env: envFor(production, staging) });

  describe(`verify-sync-status (via ${via})`, () => {
    beforeAll(async () => {
      staging = await stack.createProject(`verify_${via}`);
      const synced = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], { env: envFor(production, staging) });
      expect(synced.code).toBe(0);
    });
    afterAll(() => staging?.stop());

    it('finds a freshly synced staging Perfect, table by table, and exits 0', async () => {
      const result = await verify();
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/\| public\.code_embeddings +\| 40 +\| 40 +\| ✅ Perfect +\|/);
      expect(result.stdout).toContain('Staging equals production: 29 of 29 tables Perfect.');
    });

    describe('after staging drifted from production', () => {
      let changedHotel: string;
      let deletedMessage: string;
      beforeAll(async () => {
        [{ id: changedHotel }] = (await query<{ id: string }>(staging.adminUrl, 'SELECT id FROM public.hotels ORDER BY id LIMIT 1')) as [{ id: string }];
        [{ id: deletedMessage }] = (await query<{ id: string }>(
          staging.adminUrl,
          `SELECT id FROM public.chat_messages m WHERE NOT EXISTS (SELECT FROM public.chat_messages c WHERE c.parent_message_id = m.id) ORDER BY id LIMIT 1`,
        )) as [{ id: string }];
        await query(staging.adminUrl, `
          SET session_replication_role = replica;
          UPDATE public.hotels SET name = name || ' ' WHERE id = '${changedHotel}';
          DELETE FROM public.chat_messages WHERE id = '${deletedMessage}';
          INSERT INTO public.sire_countries VALUES ('ZZZ', 'Staging only');
          UPDATE public.type_zoo SET ratio = 0 WHERE id = 6; -- was -0: equal as numbers, not as data
          ALTER DATABASE ${staging.name} SET TimeZone = 'Asia/Tokyo';
          ALTER DATABASE ${staging.name} SET DateStyle = 'SQL, DMY';
          ALTER DATABASE ${staging.name} SET extra_float_digits = 0;
          ALTER DATABASE ${staging.name} SET IntervalStyle = 'sql_standard';
          ALTER DATABASE ${staging.name} SET bytea_output = 'escape';`);
      });

      it('names each difference by its key and exits 1, with no false alarm elsewhere', async () => {
        const result = await verify();
        expect(result.code).toBe(1);
        expect(result.stdout).toMatch(/\| public\.hotels +\| 3 +\| 3 +\| ❌ content differs +\|/);
        expect(result.stdout).toMatch(/\| public\.chat_messages +\| 324 +\| 323 +\| ⚠️ counts differ +\|/);
        expect(result.stdout).toMatch(/\| public\.sire_countries +\| 20 +\| 21 +\| ⚠️ counts differ +\|/);
        expect(result.stdout).toMatch(/\| public\.type_zoo +\| 52 +\| 52 +\| ❌ content differs +\|/);
        expect(result.stdout).toContain(`changed in staging: (${changedHotel})`);
        expect(result.stdout).toContain(`missing in staging: (${deletedMessage})`);
        expect(result.stdout).toContain('extra in staging: (ZZZ)');
        expect(result.stdout).toContain('changed in staging: (6)');
        expect(result.stdout).toContain('4 of 29 tables differ.');
      });

      it('narrows a difference in a large table down through key buckets', async () => {
        const [p, s] = await Promise.all([
          openDatabase({ side: 'production', url: production.apiUrl, serviceRoleKey: production.serviceRoleKey, dbUrl: production.dbUrl }, via),
          openDatabase({ side: 'staging', url: staging.apiUrl, serviceRoleKey: staging.serviceRoleKey, dbUrl: staging.dbUrl }, via),
        ]);
        try {
          const plan = planSync(await p.readCatalog(), await s.readCatalog(), { schemas: ['public'], tables: ['chat_messages'] });
          const [verdict] = await verifyTables(p, s, plan.tables, { countsOnly: false, maxKeys: 5, rowsPerBucket: 4 });
          expect(verdict?.differences).toEqual({ missing: [`(${deletedMessage})`], extra: [], changed: [], more: false });
        } finally {
          await Promise.all([p.close(), s.close()]);
        }
      });

      it('compares counts only when asked, and then cannot see changed values', async () => {
        const result = await verify(['--counts-only', '--tables', 'hotels,chat_messages']);
        expect(result.code).toBe(1);
        expect(result.stdout).toMatch(/\| public\.hotels +\| 3 +\| 3 +\| ✅ Perfect +\|/);
        expect(result.stdout).toMatch(/\| public\.chat_messages +\| 324 +\| 323 +\| ⚠️ counts differ +\|/);
      });
    });
  });
}
