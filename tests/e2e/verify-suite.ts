// Verification told once, run over each transport: equal data is Perfect,
// whatever the servers' session settings; every difference is named by key.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Via } from '../../lib/config/env.ts';
import { planSync } from '../../lib/plan/plan.ts';
import { openDatabase } from '../../lib/transport/database.ts';
import { verifyTables } from '../../lib/verify/verify.ts';
import type { Project } from '../../stack/index.ts';
import { query, SYNCED_SCHEMAS } from '../helpers/content.ts';
import { runScript } from '../helpers/run-script.ts';
import { envOver, sharedStack } from '../setup/stack.ts';

export function defineVerifySuite(via: Via): void {
  const { production, stack } = sharedStack();
  let staging: Project;
  const verify = (args: string[] = []) =>
    runScript('verify-sync-status.ts', ['--via', via, '--schemas', SYNCED_SCHEMAS.join(','), ...args], { env: envOver(via, production, staging) });

  describe(`verify-sync-status (via ${via})`, () => {
    beforeAll(async () => {
      staging = await stack.createProject(`verify_${via}`);
      const synced = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], {
        env: envOver(via, production, staging),
      });
      expect(synced.code).toBe(0);
    });
    afterAll(() => staging?.stop());

    it('finds a freshly synced staging Perfect, table by table, and exits 0', async () => {
      const result = await verify();
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/\| public\.code_embeddings +\| 40 +\| 40 +\| ✅ Perfect +\|/);
      expect(result.stdout).toContain('Staging equals production: 33 of 33 tables Perfect.');
      expect(result.stdout).toContain("Sequences: all 8 stand where production's do.");
    });

    it('finds a sequence that is not where production has it, even when every row is equal', async () => {
      await query(staging.adminUrl, `SELECT setval('public.order_id_seq', 3)`);
      try {
        const result = await verify(['--json']);
        expect(result.code).toBe(1);
        const report = JSON.parse(result.stdout) as { tables: { status: string }[]; sequences: { sequence: string; status: string }[] };
        expect(report.tables.every((table) => table.status === 'perfect')).toBe(true);
        expect(report.sequences.filter((s) => s.status !== 'equal')).toEqual([
          expect.objectContaining({ sequence: 'public.order_id_seq', status: 'differs', staging: expect.objectContaining({ lastValue: '3' }) }),
        ]);
        const text = await verify();
        expect(text.code).toBe(1);
        expect(text.stdout).toMatch(/\| public\.order_id_seq +\| 20 +\| 3 +\| ❌ differs +\|/);
        expect(text.stdout).toContain("Every table's rows are as production's, but 1 of 8 sequences differ");
      } finally {
        await query(staging.adminUrl, `SELECT setval('public.order_id_seq', 20)`);
      }
    });

    it('names rows whose foreign key finds no parent, which equal counts would hide', async () => {
      const [{ id, hotel_id }] = (await query<{ id: string; hotel_id: string }>(
        staging.adminUrl,
        'SELECT id::text, hotel_id::text FROM analytics.page_views ORDER BY id LIMIT 1',
      )) as [{ id: string; hotel_id: string }];
      const orphan = (hotel: string) =>
        query(staging.adminUrl, `SET session_replication_role = replica; UPDATE analytics.page_views SET hotel_id = '${hotel}' WHERE id = ${id}`);
      await orphan('00000000-0000-0000-0000-00000000dead');
      try {
        const result = await verify(['--tables', 'analytics.page_views']);
        expect(result.code).toBe(1);
        expect(result.stdout).toContain(
          '1 row of analytics.page_views (analytics.page_views.hotel_id -> public.hotels.id, page_views_hotel_id_fkey) finds no parent: they name e.g. (00000000-0000-0000-0000-00000000dead)',
        );
      } finally {
        await orphan(hotel_id);
      }
    });

    it('suggests the sync that mends a table a shell takes as printed, capitals and quotes kept', async () => {
      await query(
        staging.adminUrl,
        `SET session_replication_role = replica; UPDATE public."MixedCase" SET "User Name" = 'changed in staging' WHERE "Id" = (SELECT min("Id") FROM public."MixedCase")`,
      );
      const differs = await verify(['--tables', 'public."MixedCase"']);
      expect(differs.code).toBe(1);
      const suggested = /A sync with (--mode mirror --tables .+) compares every row of them/.exec(differs.stdout)?.[1];
      expect(suggested).toBe(`--mode mirror --tables 'public."MixedCase"'`);
      // Read back as a person's shell reads it when they paste it.
      const words = spawnSync('/bin/sh', ['-c', `printf '%s\\n' ${suggested}`], { encoding: 'utf8' })
        .stdout.trimEnd()
        .split('\n');
      expect(words).toEqual(['--mode', 'mirror', '--tables', 'public."MixedCase"']);
      const mended = await runScript('sync.ts', ['--via', via, '--yes', ...words], { env: envOver(via, production, staging) });
      expect(mended.code, mended.stderr).toBe(0);
      expect((await verify(['--tables', 'public."MixedCase"'])).code).toBe(0);
    });

    it('says where the mirror it suggests needs parents this verify did not compare, and the flag that brings them', async () => {
      const [{ country }] = (await query<{ country: string }>(
        staging.adminUrl,
        'SELECT country_code AS country FROM public.sire_cities ORDER BY city_code LIMIT 1',
      )) as [{ country: string }];
      await query(
        staging.adminUrl,
        // Not as replica: the fixture's REPLICA rule keeps sire_countries' rows from a DELETE then.
        `DELETE FROM public.sire_cities WHERE country_code = '${country}';
         DELETE FROM public.sire_countries WHERE country_code = '${country}';`,
      );
      const differs = await verify(['--tables', 'public.sire_cities']);
      expect(differs.code).toBe(1);
      expect(differs.stdout).toContain('A sync with --mode mirror --tables public.sire_cities compares every row of them and copies what differs.');
      expect(differs.stdout).toContain(
        'public.sire_cities references public.sire_countries, which this verify did not compare: where staging lacks a row they name, ' +
          'the mirror refuses it; add --with-parents to copy those rows too (only the ones they name).',
      );
      const mirror = (extra: string[]) =>
        runScript('sync.ts', ['--via', via, '--yes', '--mode', 'mirror', '--tables', 'public.sire_cities', ...extra], {
          env: envOver(via, production, staging),
        });
      const alone = await mirror([]);
      expect(alone.code).not.toBe(0);
      expect(alone.stdout + alone.stderr).toContain('--with-parents');
      const mended = await mirror(['--with-parents']);
      expect(mended.code, mended.stderr).toBe(0);
      expect((await verify(['--tables', 'public.sire_cities,public.sire_countries'])).code).toBe(0);
    });

    it("names, past ten differing keys, the verify that lists more of that table's, whatever schemas it was run over", async () => {
      const changed = `SELECT id FROM public.chat_messages ORDER BY id LIMIT 12`;
      const edit = (suffix: string) =>
        query(staging.adminUrl, `SET session_replication_role = replica; UPDATE public.chat_messages SET content = ${suffix} WHERE id IN (${changed})`);
      await edit(`content || '!'`);
      try {
        const differs = await verify(['--tables', 'public.chat_messages']);
        expect(differs.code).toBe(1);
        const hint = /\.\.\. and more \(npx tsx scripts\/verify-sync-status\.ts (.+) lists more\)/.exec(differs.stdout)?.[1];
        expect(hint).toBe('--keys 100 --tables public.chat_messages');
        // Run as printed, with no --schemas: it compares that table, and lists all twelve.
        const more = await runScript('verify-sync-status.ts', hint!.split(' '), { env: envOver(via, production, staging) });
        expect(more.code).toBe(1);
        const listed = /differ from production: (.+)/.exec(more.stdout)?.[1]?.split(' ') ?? [];
        expect(listed).toHaveLength(12);
      } finally {
        await edit(`left(content, -1)`);
      }
      expect((await verify(['--tables', 'public.chat_messages'])).code).toBe(0);
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
        await query(
          staging.adminUrl,
          `
          -- Before the replica role, under which the fixture's REPLICA rule would keep the row out.
          INSERT INTO public.sire_countries VALUES ('ZZZ', 'Staging only');
          SET session_replication_role = replica;
          UPDATE public.hotels SET name = name || ' ' WHERE id = '${changedHotel}';
          DELETE FROM public.chat_messages WHERE id = '${deletedMessage}';
          UPDATE public.type_zoo SET ratio = 0 WHERE id = 6; -- was -0: equal as numbers, not as data
          SELECT setval('public.ticket_number_seq', 1041, true); -- called once more than production's
          ALTER DATABASE ${staging.name} SET TimeZone = 'Asia/Tokyo';
          ALTER DATABASE ${staging.name} SET DateStyle = 'SQL, DMY';
          ALTER DATABASE ${staging.name} SET extra_float_digits = 0;
          ALTER DATABASE ${staging.name} SET IntervalStyle = 'sql_standard';
          ALTER DATABASE ${staging.name} SET bytea_output = 'escape';`,
        );
      });

      it('names each difference by its key and exits 1, with no false alarm elsewhere', async () => {
        const result = await verify();
        expect(result.code).toBe(1);
        expect(result.stdout).toMatch(/\| public\.hotels +\| 3 +\| 3 +\| ❌ content differs +\|/);
        expect(result.stdout).toMatch(/\| public\.chat_messages +\| 324 +\| 323 +\| ⚠️ counts differ +\|/);
        expect(result.stdout).toMatch(/\| public\.sire_countries +\| 20 +\| 21 +\| ⚠️ counts differ +\|/);
        expect(result.stdout).toMatch(/\| public\.type_zoo +\| 52 +\| 52 +\| ❌ content differs +\|/);
        expect(result.stdout).toContain(`differ from production: (${changedHotel})`);
        expect(result.stdout).toContain(`missing in staging: (${deletedMessage})`);
        expect(result.stdout).toContain('extra in staging: (ZZZ)');
        expect(result.stdout).toContain('differ from production: (6)');
        expect(result.stdout).toMatch(/\| public\.ticket_number_seq +\| 1041 \(next\) +\| 1041 +\| ❌ staging ahead +\|/);
        expect(result.stdout).toContain('4 of 33 tables differ. 1 of 8 sequences differ.');
        const remedy = /A sync with --mode mirror --tables (\S+) compares every row of them and copies what differs\./.exec(result.stdout)?.[1];
        expect(remedy?.split(',').sort()).toEqual(['public.chat_messages', 'public.hotels', 'public.sire_countries', 'public.type_zoo']);
      });

      it('narrows a difference in a large table down through key buckets', async () => {
        const [p, s] = await Promise.all([
          openDatabase({ side: 'production', url: production.apiUrl, serviceRoleKey: production.serviceRoleKey, dbUrl: production.dbUrl }, via),
          openDatabase({ side: 'staging', url: staging.apiUrl, serviceRoleKey: staging.serviceRoleKey, dbUrl: staging.dbUrl }, via),
        ]);
        try {
          const plan = planSync(await p.readCatalog(), await s.readCatalog(), { schemas: ['public'], tables: ['chat_messages'] });
          const [verdict] = await verifyTables(p, s, plan.tables, { countsOnly: false, maxKeys: 5, rowsPerBucket: 4 });
          expect(verdict?.differences).toEqual({
            missing: [`(${deletedMessage})`],
            extra: [],
            changed: [],
            more: false,
            found: { missing: 1, extra: 0, changed: 0 },
          });
        } finally {
          await Promise.all([p.close(), s.close()]);
        }
      });

      it('compares counts only when asked, and then cannot see changed values', async () => {
        const result = await verify(['--counts-only', '--tables', 'hotels,chat_messages']);
        expect(result.code).toBe(1);
        expect(result.stdout).toMatch(/\| public\.hotels +\| 3 +\| 3 +\| ✅ counts equal +\|/);
        expect(result.stdout).toMatch(/\| public\.chat_messages +\| 324 +\| 323 +\| ⚠️ counts differ +\|/);
        // Equal counts over a changed value: exit 0, and said to be counts, never "Perfect" nor "equals production".
        const counted = await verify(['--counts-only', '--tables', 'hotels']);
        expect(counted.code, counted.stdout + counted.stderr).toBe(0);
        expect(counted.stdout).toContain(
          'Staging holds as many rows as production: 1 of 1 tables with equal counts (--counts-only compares no value: run without it to prove them equal).',
        );
        expect(counted.stdout).not.toMatch(/Perfect|Staging equals production/);
      });
    });
  });
}
