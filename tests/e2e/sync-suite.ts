// The end-to-end story of a sync, told once and run over each transport.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Via } from '../../lib/config/env.ts';
import type { Project } from '../../stack/index.ts';
import { indexDefinitions, query, syncedDigests, syncedSequences, SYNCED_SCHEMAS, tableDigests } from '../helpers/content.ts';
import { emptyDirectory, runScript } from '../helpers/run-script.ts';
import { BOTH_ENABLED, rewritingTriggers } from '../helpers/checks-on.ts';
import { envOver, sharedStack } from '../setup/stack.ts';
import { countOf } from '../../lib/counts.ts';

export function defineSyncSuite(via: Via): void {
  const { production, stack } = sharedStack();
  const made: Project[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((project) => project.stop()));
  });
  const freshStaging = async (name: string) => {
    const project = await stack.createProject(`${via}_${name}`);
    made.push(project);
    return project;
  };
  const sync = (staging: Project, args: string[]) =>
    runScript('sync.ts', ['--via', via, '--schemas', SYNCED_SCHEMAS.join(','), ...args], { env: envOver(via, production, staging) });

  describe(`syncing production into staging (via ${via})`, () => {
    it('makes every table in staging equal to production, edge cases included', async () => {
      const staging = await freshStaging('replace');
      const indexesBefore = await indexDefinitions(staging.adminUrl);
      const result = await sync(staging, ['--yes']);
      expect(result.stderr).not.toContain('warning');
      expect(result.code).toBe(0);
      // Secondary indexes dropped for the load are all back, exactly as they were (partitions' too).
      expect(await indexDefinitions(staging.adminUrl)).toEqual(indexesBefore);
      expect(indexesBefore.length).toBeGreaterThan(40);
      const [expected, actual] = await Promise.all([syncedDigests(production.adminUrl), syncedDigests(staging.adminUrl)]);
      expect(actual).toEqual(expected);
      // Every sequence stands where production's does, as pg_dump --data-only leaves them: those only a
      // default uses, those no column uses, one set back with is_called false and one counting down too.
      const [productionSequences, stagingSequences] = await Promise.all([syncedSequences(production.adminUrl), syncedSequences(staging.adminUrl)]);
      expect(stagingSequences).toEqual(productionSequences);
      expect(productionSequences).toMatchObject({
        'public.order_id_seq': { lastValue: '20', isCalled: true },
        'public.ticket_number_seq': { lastValue: '1041', isCalled: false },
        'analytics.countdown_seq': { lastValue: '958', isCalled: true },
      });
      // The tables the first version could not sync, and binary_zoo (every type the direct path
      // copies in binary, at its edges), by name, so a failure says which.
      for (const table of [
        'public.chat_messages',
        'public.departments',
        'public.employees',
        'public.guest_reservations',
        'public.audit_events',
        'public.booking_events',
        'analytics.page_views',
        'public.type_zoo',
        '"public"."MixedCase"',
        'auth.users',
        'auth.identities',
        'public.profiles',
        'storage.objects',
        'public.binary_zoo',
      ]) {
        const key = table.replace(/"/g, '').replace('public.MixedCase', 'public."MixedCase"');
        expect(actual[key]?.rows, table).toBeGreaterThan(0);
      }
      expect(result.stdout).toMatch(/Synced 33 tables, 2,156 rows/);
      // An empty tsquery, which binary COPY writes and then cannot read, arrived as the empty query it is.
      expect(await query(staging.adminUrl, `SELECT id, tsq::text, numnode(tsq) AS nodes FROM public.type_zoo WHERE id IN (2, 3) ORDER BY id`)).toEqual([
        { id: 2, tsq: '', nodes: 0 },
        { id: 3, tsq: "'fat' & ( 'rat' | !'cat' ) <-> 'dog':*A", nodes: 8 },
      ]);
    });

    it('runs the full sync script and shows the status table, all Perfect', async () => {
      const staging = await freshStaging('ultimate');
      const result = await runScript('sync-prod-to-staging-ultimate.ts', ['--via', via, '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], {
        env: envOver(via, production, staging),
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/\| public\.chat_messages +\| 324 +\| 324 +\| ✅ Perfect +\|/);
      expect(result.stdout).toMatch(/\| public\.guest_reservations +\| 104 +\| 104 +\| ✅ Perfect +\|/);
      expect(result.stdout).not.toContain('counts differ');
      expect(result.stdout).toMatch(/\| analytics\.page_views +\| 200 +\| 200 +\| ✅ Perfect +\|/);
      expect(result.stdout).toMatch(/\| auth\.users +\| 40 +\| 40 +\| ✅ Perfect +\|/);
    });

    it("keeps production's values where staging's triggers or rules would rewrite them", async () => {
      const staging = await freshStaging('triggers');
      expect((await sync(staging, ['--yes'])).code).toBe(0);
      const [prodHotels, stagingHotels] = await Promise.all(
        [production, staging].map((p) => query<{ updated_at: Date }>(p.adminUrl, 'SELECT updated_at FROM public.hotels ORDER BY id')),
      );
      expect(stagingHotels).toEqual(prodHotels);
      const [prodAudit, stagingAudit] = await Promise.all(
        [production, staging].map((p) => query<{ n: string }>(p.adminUrl, 'SELECT count(*) AS n FROM public.audit_events')),
      );
      expect(stagingAudit).toEqual(prodAudit); // chat_messages_audit did not fire, nor sire_cities' TRUNCATE triggers as it was emptied
      // Nor did a trigger enabled ALWAYS or REPLICA (the replica role does not silence those): notes signed once, countries not renamed,
      // nor one of a partition alone (events tagged once); nor a rule enabled REPLICA (every country written).
      const notesAndCountries = (url: string) =>
        query(
          url,
          `SELECT (SELECT string_agg(note, '|' ORDER BY id) FROM public.booking_notes) AS notes, (SELECT string_agg(name, '|' ORDER BY 1) FROM public.sire_countries) AS countries,
                  (SELECT string_agg(kind, '|' ORDER BY id, occurred_on) FROM public.booking_events) AS events`,
        );
      expect(await notesAndCountries(staging.adminUrl)).toEqual(await notesAndCountries(production.adminUrl));
      // And both are back in their own modes.
      expect(await rewritingTriggers(staging.adminUrl)).toEqual(BOTH_ENABLED);
      // Production's rates from before the NOT VALID check arrived, and the check is back as it was.
      expect(await query(staging.adminUrl, `SELECT count(*)::int AS n FROM public.unit_daily_rates WHERE price = 0`)).toEqual(
        await query(production.adminUrl, `SELECT count(*)::int AS n FROM public.unit_daily_rates WHERE price = 0`),
      );
      expect(
        await query(
          staging.adminUrl,
          `SELECT conname, convalidated, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = 'public.unit_daily_rates'::regclass AND contype = 'c'`,
        ),
      ).toEqual([{ conname: 'unit_daily_rates_price_positive', convalidated: false, definition: 'CHECK ((price > (0)::numeric)) NOT VALID' }]);
      // So with a domain's NOT VALID check: the desk email with a tab in it, through a domain over that domain, and the check back as it was.
      const deskEmails = (url: string) => query(url, `SELECT id, desk_email FROM public.binary_zoo WHERE desk_email ~ '\\s' ORDER BY id`);
      expect(await deskEmails(staging.adminUrl)).toEqual([{ id: 82, desk_email: 'tab\t@x' }]);
      expect(await deskEmails(production.adminUrl)).toEqual([{ id: 82, desk_email: 'tab\t@x' }]);
      expect(
        await query(
          staging.adminUrl,
          `SELECT conname, convalidated, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE contypid = 'public.email_address'::regtype ORDER BY 1`,
        ),
      ).toEqual([
        { conname: 'email_address_has_at', convalidated: true, definition: "CHECK ((POSITION(('@'::text) IN (VALUE)) > 0))" },
        { conname: 'email_address_no_space', convalidated: false, definition: "CHECK ((VALUE !~ '\\s'::text)) NOT VALID" },
      ]);
    });

    for (const { what, project, setUp, named } of [
      {
        what: 'a table (auth.users)',
        project: 'always',
        setUp: 'ALTER TABLE auth.users ENABLE ALWAYS TRIGGER on_auth_user_created',
        named: 'auth.users (triggers on_auth_user_created; owned by supabase_auth_admin)',
      },
      {
        what: 'a partition',
        project: 'partition_owner',
        setUp: `CREATE TRIGGER booking_events_2025_tag BEFORE INSERT ON public.booking_events_2025
                  FOR EACH ROW EXECUTE FUNCTION public.append_to_column('kind', ' (tagged)');
                ALTER TABLE public.booking_events_2025 ENABLE ALWAYS TRIGGER booking_events_2025_tag;
                ALTER TABLE public.booking_events_2025 OWNER TO supabase_storage_admin;`,
        named: 'public.booking_events_2025 (triggers booking_events_2025_tag; owned by supabase_storage_admin)',
      },
    ]) {
      it(`stops before writing when ${what} it may not alter has a trigger the replica role does not silence`, async () => {
        const staging = await freshStaging(project);
        await query(staging.adminUrl, setUp);
        const before = await syncedDigests(staging.adminUrl);
        const result = await sync(staging, ['--yes']);
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toContain(named);
        expect(result.stderr).toContain('enabled ALWAYS or REPLICA, so they fire even with session_replication_role = replica');
        expect(result.stderr).toContain('Nothing was changed.');
        expect(await syncedDigests(staging.adminUrl)).toEqual(before);
      });
    }

    it('hands out fresh ids in staging after the sync, from every sequence, owned by a column or not', async () => {
      const staging = await freshStaging('sequences');
      // Staging's own life had taken its sequences further than production's: a replace sets them to production's all the same.
      await query(
        staging.adminUrl,
        `SELECT setval('public.order_id_seq', 5000), setval('public.ticket_number_seq', 9000), setval('analytics.countdown_seq', 3)`,
      );
      expect((await sync(staging, ['--yes'])).code).toBe(0);
      expect(await query(staging.dbUrl, 'SELECT public.next_ticket_number()::int AS ticket')).toEqual([{ ticket: 1041 }]);
      expect(await query(staging.dbUrl, `SELECT nextval('analytics.countdown_seq')::int AS next`)).toEqual([{ next: 957 }]);
      const inserts: Record<string, string> = {
        'public.order': `INSERT INTO public."order" ("desc") VALUES ('new') RETURNING id`,
        'public.code_embeddings': `INSERT INTO public.code_embeddings (file_path, chunk_index) VALUES ('new.ts', 0) RETURNING id`,
        'public.audit_events': `INSERT INTO public.audit_events (table_name) VALUES ('x') RETURNING id`,
        'public.booking_notes': `INSERT INTO public.booking_notes (note) VALUES ('x') RETURNING id`,
        'analytics.page_views': `INSERT INTO analytics.page_views (hotel_id, path) SELECT id, '/' FROM public.hotels LIMIT 1 RETURNING id`,
      };
      const inserted: Record<string, boolean> = {};
      for (const [table, sql] of Object.entries(inserts)) {
        const [{ max }] = (await query<{ max: string }>(staging.dbUrl, `SELECT max(id) AS max FROM ${table.replace('.order', '."order"')}`)) as [
          { max: string },
        ];
        const [{ id }] = (await query<{ id: string }>(staging.dbUrl, sql)) as [{ id: string }];
        inserted[table] = BigInt(id) > BigInt(max);
      }
      expect(inserted).toEqual({
        'public.order': true,
        'public.code_embeddings': true,
        'public.audit_events': true,
        'public.booking_notes': true,
        'analytics.page_views': true,
      });
    });

    it('upserts: updates changed rows, adds missing ones and keeps staging-only rows', async () => {
      const staging = await freshStaging('upsert');
      expect((await sync(staging, ['--yes'])).code).toBe(0);
      // Unique values swapped in staging, so that writing either row back meets the other's old value: two profiles'
      // usernames, and the (file_path, chunk_index) of the first and last embeddings, which over REST travel in different batches.
      await query(
        staging.adminUrl,
        `
        DO $$ DECLARE a uuid; b uuid; name_a text; name_b text; BEGIN
          SELECT id, username INTO a, name_a FROM public.profiles WHERE username IS NOT NULL ORDER BY id LIMIT 1;
          SELECT id, username INTO b, name_b FROM public.profiles WHERE username IS NOT NULL ORDER BY id OFFSET 1 LIMIT 1;
          UPDATE public.profiles SET username = NULL WHERE id = a;
          UPDATE public.profiles SET username = name_a WHERE id = b;
          UPDATE public.profiles SET username = name_b WHERE id = a;
        END $$;
        DO $$ DECLARE first public.code_embeddings; last public.code_embeddings; BEGIN
          SELECT * INTO first FROM public.code_embeddings ORDER BY id LIMIT 1;
          SELECT * INTO last FROM public.code_embeddings ORDER BY id DESC LIMIT 1;
          UPDATE public.code_embeddings SET chunk_index = -1 WHERE id = first.id;
          UPDATE public.code_embeddings SET file_path = first.file_path, chunk_index = first.chunk_index WHERE id = last.id;
          UPDATE public.code_embeddings SET file_path = last.file_path, chunk_index = last.chunk_index WHERE id = first.id;
        END $$;
        UPDATE public.hotels SET name = 'changed in staging' WHERE id = (SELECT id FROM public.hotels ORDER BY id LIMIT 1);
        DELETE FROM public.chat_messages WHERE id = (SELECT id FROM public.chat_messages WHERE parent_message_id IS NOT NULL
          AND NOT EXISTS (SELECT FROM public.chat_messages c WHERE c.parent_message_id = chat_messages.id) LIMIT 1);
        INSERT INTO public.sire_countries (country_code, name) VALUES ('ZZZ', 'Staging only');
        SELECT setval('public.order_id_seq', 5000), setval('public.ticket_number_seq', 1000, false);`,
      );
      const result = await sync(staging, ['--mode', 'upsert', '--exclude', 'event_log']);
      expect(result.stderr).not.toMatch(/warning|error/i);
      expect(result.code).toBe(0);
      // A sequence staging took further stays there (its own rows may hold those numbers); one behind catches up.
      expect(await syncedSequences(staging.adminUrl)).toMatchObject({
        'public.order_id_seq': { lastValue: '5000', isCalled: true },
        'public.ticket_number_seq': { lastValue: '1041', isCalled: false },
      });
      const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
      expect(actual['public.hotels']).toEqual(expected['public.hotels']);
      expect(actual['public.profiles']).toEqual(expected['public.profiles']);
      expect(actual['public.code_embeddings']).toEqual(expected['public.code_embeddings']);
      expect(actual['public.chat_messages']).toEqual(expected['public.chat_messages']);
      expect(actual['public.sire_countries']?.rows).toBe((expected['public.sire_countries']?.rows ?? 0) + 1);
      expect(await query(staging.adminUrl, `SELECT name FROM public.sire_countries WHERE country_code = 'ZZZ'`)).toEqual([{ name: 'Staging only' }]);
      // The first run wrote what differed; a second finds nothing to write.
      const json = await sync(staging, ['--mode', 'upsert', '--exclude', 'event_log', '--json']);
      const report = JSON.parse(json.stdout) as { tables: { table: string; changed: number }[] };
      expect(report.tables.reduce((sum, t) => sum + t.changed, 0)).toBe(0);
    });

    describe('replacing a table that a table left out of the run references (analytics.page_views -> public.hotels)', () => {
      const withoutAnalytics = (staging: Project, args: string[] = []) =>
        runScript('sync.ts', ['--via', via, '--yes', '--schemas', 'public,auth,storage', ...args], { env: envOver(via, production, staging) });

      it('replaces it when staging has no referencing rows', async () => {
        const staging = await freshStaging('cascade_empty');
        const result = await withoutAnalytics(staging);
        expect(result.stderr).not.toMatch(/warning|error/i);
        expect(result.code).toBe(0);
        const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
        expect(actual['public.hotels']).toEqual(expected['public.hotels']);
        expect(actual['analytics.page_views']?.rows).toBe(0);
      });

      it('replaces it when every referencing row finds its parent again, and keeps those rows', async () => {
        const staging = await freshStaging('cascade_kept');
        expect((await sync(staging, ['--yes'])).code).toBe(0);
        const before = await tableDigests(staging.adminUrl);
        await query(staging.adminUrl, `UPDATE public.hotels SET name = 'renamed in staging'`);
        const result = await withoutAnalytics(staging);
        expect(result.code).toBe(0);
        const after = await tableDigests(staging.adminUrl);
        expect(after['analytics.page_views']).toEqual(before['analytics.page_views']);
        expect(after['public.hotels']).toEqual((await tableDigests(production.adminUrl))['public.hotels']);
      });

      it('refuses, before writing, when staging rows would point at a parent production lacks, naming them and the ways out', async () => {
        const staging = await freshStaging('cascade_orphans');
        await query(
          staging.adminUrl,
          `
          INSERT INTO public.hotels (id, name, created_at) VALUES ('00000000-0000-0000-0000-00000000beef', 'staging only', now());
          INSERT INTO analytics.page_views (hotel_id, path) SELECT '00000000-0000-0000-0000-00000000beef', '/p' || i FROM generate_series(1, 3) i;`,
        );
        const before = await tableDigests(staging.adminUrl);
        for (const [args, verb] of [
          [['--dry-run'], 'Replacing'],
          [[], 'Replacing'],
          [['--mode', 'mirror', '--tables', 'hotels'], 'Mirroring'],
          [['--mode', 'incremental', '--tables', 'hotels'], 'Syncing incrementally'],
        ] as const) {
          const result = await withoutAnalytics(staging, [...args]);
          expect(result.code, args.join(' ')).toBe(1);
          expect(result.stderr).toContain(`${verb} these tables would leave staging's rows that reference them pointing nowhere; nothing was written`);
          expect(result.stderr).toContain(
            '3 rows of analytics.page_views (analytics.page_views.hotel_id -> public.hotels.id, page_views_hotel_id_fkey) find no parent: they name e.g. (00000000-0000-0000-0000-00000000beef)',
          );
          expect(result.stderr).toContain('--allow-orphans');
        }
        expect(await tableDigests(staging.adminUrl)).toEqual(before);
        // Told to, it writes, and says what it left.
        const allowed = await withoutAnalytics(staging, ['--allow-orphans']);
        expect(allowed.code).toBe(0);
        expect(allowed.stderr).toContain('--allow-orphans: 3 rows of analytics.page_views');
      });
    });

    it("carries a parent's `where` down to the rows that reference it: a consistent subset, said in the plan, or a named failure", async () => {
      const staging = await freshStaging('where_carried');
      const cwd = emptyDirectory();
      const config = { tables: { 'public.hotels': { where: `name <> (SELECT min(name) FROM public.hotels)` } } };
      writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify(config));
      const args = ['--via', via, '--yes', '--schemas', SYNCED_SCHEMAS.join(',')];
      const plan = await runScript('sync.ts', [...args, '--dry-run'], { env: envOver(via, production, staging), cwd });
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toMatch(/\| public\.accommodation_units +\|.*only rows whose public\.hotels row is copied/);
      // Carried on: reservations follow their units, invoices their ranges (a cycle's peer).
      expect(plan.stdout).toMatch(/\| public\.guest_reservations +\|.*only rows whose public\.accommodation_units row is copied/);
      expect(plan.stdout).toMatch(/\| public\.invoices +\|.*only rows whose .*public\.invoicing_ranges.* row is copied/);
      // Within the invoices <-> invoicing_ranges cycle a carried filter cannot make the subset whole (a range's
      // last invoice may be of a reservation filtered out): the check before COMMIT names the rows, never silent.
      const cycle = await runScript('sync.ts', args, { env: envOver(via, production, staging), cwd });
      expect(cycle.code).toBe(1);
      expect(cycle.stderr).toContain('The copied rows leave rows of staging pointing nowhere');
      expect(cycle.stderr).toMatch(
        /\d+ rows? of public\.invoicing_ranges \(public\.invoicing_ranges\.last_invoice_id,last_invoice_issued_on -> public\.invoices/,
      );
      if (via === 'postgres') expect((await tableDigests(staging.adminUrl))['public.hotels']?.rows).toBe(0);
      const result = await runScript('sync.ts', [...args, '--exclude', 'invoices,invoicing_ranges'], { env: envOver(via, production, staging), cwd });
      expect(result.stderr).not.toMatch(/error|orphan|no parent/i);
      expect(result.code, result.stderr).toBe(0);
      const [counts] = await query<{ hotels: number; units: number; orphans: number }>(
        staging.adminUrl,
        `
        SELECT (SELECT count(*)::int FROM public.hotels) AS hotels, (SELECT count(*)::int FROM public.accommodation_units) AS units,
               (SELECT count(*)::int FROM public.guest_reservations r WHERE r.accommodation_unit_id IS NOT NULL
                  AND NOT EXISTS (SELECT FROM public.accommodation_units u WHERE u.id = r.accommodation_unit_id)) AS orphans`,
      );
      const [inProduction] = await query<{ hotels: number; units: number }>(
        production.adminUrl,
        'SELECT (SELECT count(*)::int FROM public.hotels) AS hotels, (SELECT count(*)::int FROM public.accommodation_units) AS units',
      );
      expect(counts?.hotels).toBe((inProduction?.hotels ?? 0) - 1);
      expect(counts?.units).toBeGreaterThan(0);
      expect(counts?.units).toBeLessThan(inProduction?.units ?? 0);
      expect(counts?.orphans).toBe(0);
      // Every staging foreign key of the tables it copied holds: verify finds no row without its parent (over
      // REST the failed run above committed its batches: invoicing_ranges keeps what it left, named there).
      const verified = await runScript(
        'verify-sync-status.ts',
        ['--via', via, '--schemas', SYNCED_SCHEMAS.join(','), '--exclude', 'invoices,invoicing_ranges', '--json'],
        {
          env: envOver(via, production, staging),
        },
      );
      expect((JSON.parse(verified.stdout) as { orphans: unknown[] }).orphans).toEqual([]);
    });

    it("fails, rolled back where it can be, when staging's own rows of an upserted child would lose their replaced parent", async () => {
      const staging = await freshStaging('upsert_child_orphans');
      expect((await sync(staging, ['--yes'])).code).toBe(0);
      await query(
        staging.adminUrl,
        `
        INSERT INTO public.hotels (id, name, created_at) VALUES ('00000000-0000-0000-0000-00000000beef', 'staging only', now());
        INSERT INTO public.accommodation_units (id, hotel_id, name) VALUES ('00000000-0000-0000-0000-00000000cafe', '00000000-0000-0000-0000-00000000beef', 'staging only');`,
      );
      const before = await tableDigests(staging.adminUrl);
      const cwd = emptyDirectory();
      writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { 'public.accommodation_units': { mode: 'upsert' } } }));
      const result = await runScript('sync.ts', ['--via', via, '--yes', '--tables', 'hotels,accommodation_units'], {
        env: envOver(via, production, staging),
        cwd,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('The copied rows leave rows of staging pointing nowhere');
      expect(result.stderr).toContain(
        '1 row of public.accommodation_units (public.accommodation_units.hotel_id -> public.hotels.id, accommodation_units_hotel_id_fkey) finds no parent: they name e.g. (00000000-0000-0000-0000-00000000beef)',
      );
      if (via === 'postgres') expect(await tableDigests(staging.adminUrl)).toEqual(before);
    });

    it('refuses to upsert a table with no key, naming it and the way out', async () => {
      const staging = await freshStaging('nokey');
      const result = await sync(staging, ['--mode', 'upsert']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('Cannot upsert public.event_log: no primary key or NOT NULL unique key');
      expect(result.stderr).toContain('--mode replace');
      expect(result.stderr).toContain('`"mode": "replace"` for each under `tables` in supasync.config.json');
    });

    it(
      via === 'postgres' ? 'leaves staging exactly as it was when a late table fails' : 'names a row staging rejects by its key, and writes every other row',
      async () => {
        const staging = await freshStaging('bad_row');
        await query(
          staging.adminUrl,
          `
        INSERT INTO public.hotels (id, name, created_at) VALUES ('00000000-0000-0000-0000-00000000beef', 'stale staging row', now());
        CREATE FUNCTION public.fits_message(content text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT length(content) < 330 $$;
        ALTER TABLE public.chat_messages ADD CONSTRAINT short_messages CHECK (public.fits_message(content));`,
        );
        const before = await tableDigests(staging.adminUrl);
        const result = await sync(staging, ['--yes']);
        expect(result.code).toBe(1);
        // A CHECK staging alone has is asked of production's rows before writing; one calling what only staging has cannot be.
        expect(result.stdout + result.stderr).toContain(
          'public.chat_messages: staging has CHECK short_messages (public.fits_message(content)), which production lacks, and production could not say whether its rows hold to it',
        );
        const tooLong = await query<{ id: string }>(production.adminUrl, 'SELECT id FROM public.chat_messages WHERE length(content) >= 330 ORDER BY id');
        expect(tooLong.length).toBeGreaterThan(0);
        if (via === 'postgres') {
          expect(result.stderr).toContain('Copying public.chat_messages failed');
          expect(result.stderr).toContain('short_messages');
          expect(result.stderr).toMatch(/line \d+/);
          expect(result.stderr).toContain('Staging was left exactly as it was');
          // The tables ticked as they were written went back with the rest.
          expect(result.stderr).toMatch(/^✓ public\.hotels /m);
          expect(result.stderr).toMatch(/now rolled back, the [\d,]+ tables ticked above with it\./);
          expect(await tableDigests(staging.adminUrl)).toEqual(before);
          return;
        }
        expect(result.stdout).toContain(`${countOf(tooLong.length, 'row')} rejected by staging, the rest written`);
        // Its progress line is no tick: some of its rows are not there.
        expect(result.stderr).toMatch(new RegExp(`^✗ public\\.chat_messages {2}[\\d,]+ rows in [\\d.]+s, ${tooLong.length} rejected$`, 'm'));
        expect(result.stderr).toMatch(/^✓ public\.hotels /m);
        for (const { id } of tooLong) expect(result.stdout).toContain(`public.chat_messages (id=${id})`);
        expect(result.stdout).toContain('short_messages');
        // The replies to a rejected message name a parent staging lacks: said, beside the rows rejected.
        expect(result.stdout + result.stderr).toMatch(
          /left by the rows staging rejected: \d+ rows? of public\.chat_messages \(public\.chat_messages\.parent_message_id -> public\.chat_messages\.id/,
        );
        const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
        expect(actual['public.chat_messages']?.rows).toBe((expected['public.chat_messages']?.rows ?? 0) - tooLong.length);
        delete expected['public.chat_messages'];
        delete actual['public.chat_messages'];
        expect(actual).toEqual(expected);
      },
    );

    it('refuses to replace without --yes when there is no terminal to ask at', async () => {
      const staging = await freshStaging('noconfirm');
      await query(staging.adminUrl, `INSERT INTO public.sire_countries VALUES ('ZZZ', 'keep me')`);
      const result = await sync(staging, []);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('run again with --yes');
      expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.sire_countries')).toEqual([{ n: 1 }]);
    });

    it('refuses to copy a database onto itself, however its address is spelled', async () => {
      const env = envOver(via, production, production);
      for (const key of ['SUPABASE_STAGING_DB_URL', 'SUPABASE_STAGING_URL'] as const) env[key] = env[key]!.replace('127.0.0.1', 'localhost');
      const before = await tableDigests(production.adminUrl);
      const result = await runScript('sync.ts', ['--via', via, '--yes'], { env });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('lead to the same database');
      expect(await tableDigests(production.adminUrl)).toEqual(before);
    });

    it('refuses drift unless told to copy the common columns', async () => {
      const staging = await freshStaging('drift');
      await query(staging.adminUrl, `ALTER TABLE public.hotels ADD COLUMN staging_note text; ALTER TABLE public.staff_users DROP COLUMN permissions`);
      const refused = await sync(staging, ['--yes']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('public.hotels: Extra columns in staging: staging_note');
      expect(refused.stderr).toContain('public.staff_users: Missing columns in staging: permissions');
      expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.hotels')).toEqual([{ n: 0 }]);

      const allowed = await sync(staging, ['--yes', '--allow-drift']);
      expect(allowed.code).toBe(0);
      const [prod, copied] = await Promise.all([
        query(production.adminUrl, 'SELECT user_id, email::text FROM public.staff_users ORDER BY 1'),
        query(staging.adminUrl, 'SELECT user_id, email::text FROM public.staff_users ORDER BY 1'),
      ]);
      expect(copied).toEqual(prod);
    });

    it("refuses a value too long for staging's narrower column (--allow-drift), never cutting it", async () => {
      const staging = await freshStaging('narrower');
      await query(staging.adminUrl, 'ALTER TABLE public.binary_zoo ALTER COLUMN short TYPE varchar(2), ALTER COLUMN bits5 TYPE bit(3)');
      const result = await sync(staging, ['--yes', '--allow-drift', '--tables', 'binary_zoo']);
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stdout + result.stderr).toMatch(/value too long for type character varying\(2\)|bit string length \d+ does not match type bit\(3\)/);
      // What staging holds (over REST, the rows that fit) is production's values, none cut to fit.
      const values = `SELECT id, short, bits5::text AS bits5 FROM public.binary_zoo ORDER BY id`;
      const [prod, copied] = await Promise.all([query<{ id: number }>(production.adminUrl, values), query<{ id: number }>(staging.adminUrl, values)]);
      const kept = new Set(copied.map((row) => row.id));
      expect(copied).toEqual(prod.filter((row) => kept.has(row.id)));
      expect(copied.length).toBeLessThan(prod.length);
    });
  });
}
