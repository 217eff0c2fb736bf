// Re-syncs that cost what changed (--mode mirror, insert-missing), told once
// and run over each transport. Each test has a production of its own, which
// it changes after a first full sync.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Via } from '../../lib/config/env.ts';
import { functionsVersion } from '../../lib/install/version.ts';
import type { Project } from '../../stack/index.ts';
import { query, syncedDigests, SYNCED_SCHEMAS, tableDigests } from '../helpers/content.ts';
import { backupLine } from '../helpers/backup.ts';
import { emptyDirectory, runScript, startScript } from '../helpers/run-script.ts';
import { envOver, sharedStack } from '../setup/stack.ts';

interface SavedManifest {
  supasyncBackup: number;
  tables: { schema: string; name: string; rows: number; within?: { keyColumns: string[]; ranges: string[] } }[];
}

interface JsonTable {
  table: string;
  rows: number;
  changed: number;
  deleted: number;
  ranges: { ranges: string[]; rowsUnchanged: number; rows: { every: boolean; write: string[][] } } | null;
  watermark: { from: string | null; next: { column: string; since: string } } | null;
}

// Changes of every kind a re-sync must carry: updates of a table with an
// updated_at and of one keyed on a text column, an insert, deletes of a
// parent whose children production's cascade took along, of rows nothing
// references, and of a row only staging has. And a key changed only in case,
// which its citext type holds equal: by their bytes, a key production has and
// one staging alone has (with checks off, the old row is deleted before the
// new one is written; tests/sync-unprivileged.test.ts has the other order);
// a row whose key is NULL (NULLS NOT DISTINCT), which = never matches; and a
// unique value moved to a new row: a staff member who left signs up again
// with the same email (in capitals, which citext holds equal). Two users
// swap their usernames (unique, and both rows stay: an upsert of either
// meets the other's old value). An order changes, and one is added: its key is
// DEFERRABLE, which ON CONFLICT cannot target, and its updated_at a date,
// today's, before the watermark's instant. A row of MixedCase is stamped by a
// clock in Bogotá: its updated_at (without zone) is 5 hours behind the
// watermark's instant.
const PRODUCTION_CHANGES = `
  UPDATE public.profiles SET username = 'swapping', updated_at = now() WHERE username = 'user_5';
  UPDATE public.profiles SET username = 'user_5', updated_at = now() WHERE username = 'user_6';
  UPDATE public.profiles SET username = 'user_6', updated_at = now() WHERE username = 'swapping';
  UPDATE public."order" SET "desc" = 'changed', updated_at = current_date WHERE id = 2;
  INSERT INTO public."order" (id, "desc") VALUES (1000, 'new in production');
  UPDATE public."MixedCase" SET "User Name" = 'changed', updated_at = now() AT TIME ZONE 'America/Bogota' WHERE "Id" = 3;
  UPDATE public.feature_flags SET flag_key = 'dark-mode' WHERE flag_key = 'Dark-Mode';
  UPDATE public.feature_flags SET rollout = 0.5 WHERE flag_key IS NULL;
  DELETE FROM public.staff_users WHERE user_id = md5('staff1')::uuid;
  INSERT INTO public.staff_users (user_id, tenant_id, email, role)
    VALUES ('00000000-0000-0000-0000-00000000beef', md5('tenant1')::uuid, 'STAFF.1@TENANT1.EXAMPLE.COM', 'staff');
  UPDATE public.hotels SET name = name || ' (renamed)' WHERE id IN (SELECT id FROM public.hotels ORDER BY id LIMIT 2);
  UPDATE public.sire_countries SET name = name || ' (renamed)' WHERE country_code IN (SELECT country_code FROM public.sire_countries ORDER BY 1 LIMIT 3);
  INSERT INTO public.sire_countries (country_code, name) VALUES ('ZZA', 'New in production');
  DELETE FROM public.booking_notes WHERE id IN (SELECT id FROM public.booking_notes ORDER BY id LIMIT 4);
  DELETE FROM public.chat_conversations WHERE id = (SELECT id FROM public.chat_conversations ORDER BY id LIMIT 1);`;

export function defineResyncSuite(via: Via): void {
  const { stack } = sharedStack();
  const made: Project[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((project) => project.stop()));
  });
  /**
   * A production of the test's own, and a staging holding a full copy of it.
   * The copy is made directly whatever the suite's path: it is where each
   * re-sync starts, not what it tests (a full REST copy is sync-rest's), and
   * it writes no watermark (the first incremental run sets them). A REST
   * copy took three times as long here.
   */
  const syncedPair = async (name: string) => {
    const production = await stack.createProject(`${via}_${name}_prod`, { fill: 'tiny' });
    made.push(production);
    const staging = await stack.createProject(`${via}_${name}_stg`);
    made.push(staging);
    const first = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], { env: envOver(via, production, staging) });
    expect(first.code, first.stderr).toBe(0);
    return { production, staging };
  };
  const resync = (pair: { production: Project; staging: Project }, mode: string, args: string[] = [], cwd?: string) =>
    runScript('sync.ts', ['--via', via, '--mode', mode, '--schemas', SYNCED_SCHEMAS.join(','), '--exclude', 'event_log', ...args], {
      env: envOver(via, pair.production, pair.staging),
      ...(cwd ? { cwd } : {}),
    });
  const byTable = (stdout: string) => new Map((JSON.parse(stdout) as { tables: JsonTable[] }).tables.map((table) => [table.table, table]));
  /** The backup a run's output names: its summary line, its manifest, and the manifest's tables by name. */
  const backupOf = (cwd: string, stdout: string) => {
    const line = backupLine(stdout);
    if (!line) throw new Error(`no backup line in:\n${stdout}`);
    const manifest = JSON.parse(readFileSync(join(cwd, line.directory, 'manifest.json'), 'utf8')) as SavedManifest;
    return { line, manifest, saved: new Map(manifest.tables.map((table) => [`${table.schema}.${table.name}`, table])) };
  };
  /** restore-staging.ts run on that backup: staging's rows are `before` again. */
  const restoresTo = async (pair: { production: Project; staging: Project }, cwd: string, argument: string, before: unknown) => {
    const restored = await runScript('restore-staging.ts', [argument, '--yes'], { env: envOver(via, pair.production, pair.staging), cwd });
    expect(restored.code, restored.stderr).toBe(0);
    expect(await syncedDigests(pair.staging.adminUrl)).toEqual(before);
  };

  describe(`re-syncing only what changed (via ${via})`, () => {
    it('mirrors: writes the key ranges that differ, deletes what production lacks, and staging equals production', async () => {
      const pair = await syncedPair('mirror');
      const { production, staging } = pair;
      const [{ messages }] = (await query<{ messages: number }>(
        production.adminUrl,
        `SELECT count(*)::int AS messages FROM public.chat_messages WHERE conversation_id = (SELECT id FROM public.chat_conversations ORDER BY id LIMIT 1)`,
      )) as [{ messages: number }];
      expect(messages).toBeGreaterThan(0);
      await query(production.adminUrl, PRODUCTION_CHANGES);
      // A table staging lacks entirely, and one whose every row staging changed: both read whole, not key by key.
      await query(
        staging.adminUrl,
        `INSERT INTO public.sire_countries (country_code, name) VALUES ('ZZS', 'Staging only');
         TRUNCATE analytics.page_views;
         UPDATE public.muva_content SET title = title || ' (staging)';
         INSERT INTO public.muva_content (id, title) VALUES (gen_random_uuid(), 'Only in staging');`,
      );

      const result = await resync(pair, 'mirror', ['--yes', '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
      const tables = byTable(result.stdout);
      expect(tables.get('public.sire_countries')).toMatchObject({ changed: 4, deleted: 1 });
      // 2 of its 3 rows differ: read whole, and with checks off (as both transports run here) staging's rows are cleared and all 3 written.
      expect(tables.get('public.hotels')).toMatchObject({ changed: 3, deleted: 0 });
      expect(tables.get('public.booking_notes')).toMatchObject({ changed: 0, deleted: 4 });
      expect(tables.get('public.chat_conversations')).toMatchObject({ changed: 0, deleted: 1 });
      expect(tables.get('public.chat_messages')?.deleted).toBe(messages);
      expect(tables.get('public.feature_flags')).toMatchObject({ changed: 2, deleted: 1 });
      expect(tables.get('public.staff_users')).toMatchObject({ changed: 1, deleted: 1 });
      // The swapped usernames, each row written once and none counted as deleted (cleared to be written again); the DEFERRABLE key merged.
      expect(tables.get('public.profiles')).toMatchObject({ changed: 2, deleted: 0 });
      expect(tables.get('public.order')).toMatchObject({ changed: 2, deleted: 0 });
      expect(await query(staging.adminUrl, `SELECT flag_key::text FROM public.feature_flags WHERE flag_key = 'DARK-MODE'`)).toEqual([
        { flag_key: 'dark-mode' },
      ]);
      // Only the rows that differ were read: the 4 that changed, found range by range, then row by row.
      const [{ countries }] = (await query<{ countries: number }>(production.adminUrl, `SELECT count(*)::int AS countries FROM public.sire_countries`)) as [
        { countries: number },
      ];
      const countriesRead = tables.get('public.sire_countries')?.rows ?? 0;
      expect(countriesRead).toBe(4);
      expect(tables.get('public.sire_countries')?.ranges?.rowsUnchanged).toBe(countries - countriesRead);
      const [{ views, content }] = (await query<{ views: number; content: number }>(
        production.adminUrl,
        `SELECT (SELECT count(*)::int FROM analytics.page_views) AS views, (SELECT count(*)::int FROM public.muva_content) AS content`,
      )) as [{ views: number; content: number }];
      expect(views).toBeGreaterThan(0);
      expect(tables.get('analytics.page_views')).toMatchObject({ rows: views, changed: views, ranges: { rows: { every: true, write: [] } } });
      // Read whole as well, its staging-only row still deleted (directly without listing the others first).
      expect(tables.get('public.muva_content')).toMatchObject({ rows: content, changed: content, deleted: 1, ranges: { rows: { every: true, write: [] } } });
      // Tables nobody touched were found equal by their range checksums and not read at all.
      expect(tables.get('public.sire_cities')).toMatchObject({ rows: 0, changed: 0, deleted: 0, ranges: { ranges: [] } });

      const again = await resync(pair, 'mirror', ['--yes']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/Compared key ranges of (\d+) tables in [\d.]+s: \1 already equal; [\d,]+ unchanged rows not copied; 0 staging rows/);
      expect(again.stdout).toContain('Synced');
    });

    it('backs up only the key ranges a mirror writes, and restore-staging.ts puts staging back as it was', async () => {
      const pair = await syncedPair('mirror_backup');
      const { production, staging } = pair;
      await query(production.adminUrl, PRODUCTION_CHANGES);
      // Staging's own: a row only it has, and a table whose every row it changed (read, so saved, whole).
      await query(
        staging.adminUrl,
        `INSERT INTO public.sire_countries (country_code, name) VALUES ('ZZS', 'Staging only');
           UPDATE public.muva_content SET title = title || ' (staging)';`,
      );
      const before = await syncedDigests(staging.adminUrl);
      const [{ messages }] = (await query<{ messages: number }>(
        staging.adminUrl,
        `SELECT count(*)::int AS messages FROM public.chat_messages WHERE conversation_id = (SELECT id FROM public.chat_conversations ORDER BY id LIMIT 1)`,
      )) as [{ messages: number }];
      const cwd = emptyDirectory();
      const result = await resync(pair, 'mirror', ['--yes'], cwd);
      expect(result.code, result.stderr).toBe(0);
      expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
      const { line, manifest, saved } = backupOf(cwd, result.stdout);
      // Format 2: a supasync that knew only whole tables must refuse it rather than empty them and load these few rows.
      expect(manifest.supasyncBackup).toBe(2);
      // Directly a range is one key hash, so exactly the rows that differ are saved; over REST a range holds about one row, so a few more may be.
      const savedAtLeast = (table: string, rows: number) => {
        const held = saved.get(table)?.rows;
        if (via === 'postgres') expect(held, table).toBe(rows);
        else expect(held, table).toBeGreaterThanOrEqual(rows);
      };
      // sire_countries: the 3 rows production renamed and the one only staging had (the row production added was not there to save).
      expect(saved.get('public.sire_countries')?.within?.keyColumns).toEqual(['country_code']);
      savedAtLeast('public.sire_countries', 4);
      if (via === 'postgres') expect(saved.get('public.sire_countries')?.within?.ranges).toHaveLength(5);
      savedAtLeast('public.booking_notes', 4);
      // Equal tables: nothing saved; a table read whole: saved whole.
      expect(saved.get('public.sire_cities')).toMatchObject({ rows: 0, within: { ranges: [] } });
      const [{ content }] = (await query<{ content: number }>(staging.adminUrl, `SELECT count(*)::int AS content FROM public.muva_content`)) as [
        { content: number },
      ];
      expect(saved.get('public.muva_content')).toMatchObject({ rows: content });
      expect(saved.get('public.muva_content')?.within).toBeUndefined();
      // chat_messages: the messages of the conversation production deleted, by its cascade; hotels: 2 of its 3 rows changed, so read and saved whole.
      savedAtLeast('public.chat_messages', messages);
      expect(saved.get('public.chat_messages')?.within).toBeDefined();
      expect(saved.get('public.hotels')?.within).toBeUndefined();
      expect(line.rows).toBe(manifest.tables.reduce((sum, table) => sum + table.rows, 0));
      // Of the whole tables, what a backup before this change saved: here, a few rows of each.
      const [{ countries, notes }] = (await query<{ countries: number; notes: number }>(
        staging.adminUrl,
        `SELECT (SELECT count(*)::int FROM public.sire_countries) AS countries, (SELECT count(*)::int FROM public.booking_notes) AS notes`,
      )) as [{ countries: number; notes: number }];
      expect(saved.get('public.sire_countries')!.rows).toBeLessThan(countries / 2);
      expect(saved.get('public.booking_notes')!.rows).toBeLessThan(notes / 2);

      const listed = await runScript('restore-staging.ts', ['--list'], { env: envOver(via, production, staging), cwd });
      expect(listed.stdout).toMatch(new RegExp(`${manifest.tables.length} \\(${manifest.tables.filter((t) => t.within).length} by key range\\)`));
      await restoresTo(pair, cwd, line.restoreArgument, before);
    });

    it("backs up an incremental run's rows past the watermark and of the differing keys, and restores them", async () => {
      const pair = await syncedPair('incremental_backup');
      const { production, staging } = pair;
      const cwd = emptyDirectory();
      const first = await resync(pair, 'incremental', ['--yes', '--no-backup'], cwd);
      expect(first.code, first.stderr).toBe(0);
      await query(production.adminUrl, PRODUCTION_CHANGES);
      // And two profiles, stamped by the app as it changes them: past the watermark by updated_at, in a table they are few of.
      await query(
        production.adminUrl,
        `UPDATE public.profiles SET full_name = full_name || ' (renamed)', updated_at = now() WHERE id IN (SELECT id FROM public.profiles ORDER BY id LIMIT 2)`,
      );
      const before = await syncedDigests(staging.adminUrl);
      const second = await resync(pair, 'incremental', ['--yes'], cwd);
      expect(second.code, second.stderr).toBe(0);
      expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
      const { line, saved } = backupOf(cwd, second.stdout);
      const counts = (
        await query<{ countries: number; hotels: number; notes: number; profiles: number }>(
          staging.adminUrl,
          `SELECT (SELECT count(*)::int FROM public.sire_countries) AS countries, (SELECT count(*)::int FROM public.hotels) AS hotels,
                  (SELECT count(*)::int FROM public.booking_notes) AS notes, (SELECT count(*)::int FROM public.profiles) AS profiles`,
        )
      )[0]!;
      // The 3 renamed countries staging held (past the watermark by xmin), the 2 renamed and 2 swapped profiles (by updated_at), the 4 deleted notes:
      // directly exactly those, over REST the rows of their ranges (about one row each), so perhaps a few more, never the whole table.
      const savedAtLeast = (table: string, rows: number, of: number) => {
        const entry = saved.get(table);
        expect(entry?.within, table).toBeDefined();
        if (via === 'postgres') expect(entry?.rows, table).toBe(rows);
        else {
          expect(entry?.rows, table).toBeGreaterThanOrEqual(rows);
          expect(entry?.rows, table).toBeLessThan(of);
        }
      };
      savedAtLeast('public.sire_countries', 3, counts.countries - 1);
      savedAtLeast('public.profiles', 4, counts.profiles);
      // 2 of the 3 hotels renamed: most of the table differs, and it is read and saved whole.
      expect(saved.get('public.hotels')?.rows).toBe(counts.hotels);
      expect(saved.get('public.hotels')?.within).toBeUndefined();
      savedAtLeast('public.booking_notes', 4, counts.notes + 4);
      await restoresTo(pair, cwd, line.restoreArgument, before);
    });

    it('inserts only the rows staging lacks, touching no row staging has', async () => {
      const pair = await syncedPair('insert_missing');
      const { production, staging } = pair;
      await query(production.adminUrl, `INSERT INTO public.sire_countries (country_code, name) VALUES ('ZZA', 'New in production')`);
      await query(
        staging.adminUrl,
        `
        UPDATE public.hotels SET name = 'changed in staging' WHERE id = (SELECT id FROM public.hotels ORDER BY id LIMIT 1);
        DELETE FROM public.booking_notes WHERE id = (SELECT min(id) FROM public.booking_notes);
        INSERT INTO public.sire_countries (country_code, name) VALUES ('ZZS', 'Staging only');`,
      );
      const result = await resync(pair, 'insert-missing', ['--json']);
      expect(result.code, result.stderr).toBe(0);
      const tables = byTable(result.stdout);
      expect(tables.get('public.sire_countries')).toMatchObject({ changed: 1, deleted: 0 });
      expect(tables.get('public.booking_notes')).toMatchObject({ changed: 1, deleted: 0 });
      expect(tables.get('public.hotels')).toMatchObject({ changed: 0, deleted: 0 });
      expect(await query(staging.adminUrl, `SELECT name FROM public.hotels ORDER BY id LIMIT 1`)).toEqual([{ name: 'changed in staging' }]);
      expect(await query(staging.adminUrl, `SELECT country_code FROM public.sire_countries WHERE country_code LIKE 'ZZ_' ORDER BY 1`)).toEqual([
        { country_code: 'ZZA' },
        { country_code: 'ZZS' },
      ]);
      const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
      expect(actual['public.booking_notes']).toEqual(expected['public.booking_notes']);
      // Verified after it: every production row is there, not every one as production has it, and that is said.
      // Past the ten keys verify lists: staging's own versions of 12 notes (one key bucket), and 1,200 more
      // staging-only countries, over several buckets, every one of them read for a production row staging lacks.
      await query(
        staging.adminUrl,
        `UPDATE public.booking_notes SET note = 'changed in staging' WHERE id IN (SELECT id FROM public.booking_notes ORDER BY id LIMIT 12);
         INSERT INTO public.sire_countries SELECT 'S' || g, 'Staging only ' || g FROM generate_series(1, 1200) g;`,
      );
      const verified = await resync(pair, 'insert-missing', ['--verify', '--tables', 'hotels,sire_countries,booking_notes']);
      expect(verified.code, verified.stdout).toBe(0);
      expect(verified.stdout).toMatch(/\| public\.hotels +\| \d+ +\| \d+ +\| ✅ insert-missing: 1 row left as staging had them, 0 staging-only rows kept +\|/);
      expect(verified.stdout).toMatch(/\| public\.sire_countries +\| \d+ +\| [\d,]+ +\| ✅ upserted, 1,201 staging-only rows kept +\|/);
      expect(verified.stdout).toMatch(
        /\| public\.booking_notes +\| \d+ +\| \d+ +\| ✅ insert-missing: 12 rows left as staging had them, 0 staging-only rows kept +\|/,
      );
      expect(verified.stdout).toContain('Staging holds every production row: 0 of 3 tables Perfect, 3 with rows the sync kept as staging had them (in ');
      expect(verified.stdout).toContain("13 rows differ from production's: insert-missing touches no row staging has; --mode mirror writes them).");
      // The sync said so too, with a few keys, before verify did.
      expect(verified.stdout).toMatch(
        /insert-missing left staging's version of rows production holds otherwise \(it touches no row staging has; --mode mirror writes them\): [^\n]*public\.booking_notes 12, e\.g\. \(\d+\) \(\d+\) \(\d+\) \.\.\./,
      );
      expect(verified.stdout).toMatch(/insert-missing left [^\n]*public\.hotels 1, e\.g\. \([^)]+\)[;.]/);
      expect(verified.stdout).not.toContain('as production has it');
    });

    it('names the staging rows a re-sync orphaned by the keys it deleted, and no orphan it did not make', async () => {
      const pair = await syncedPair('resync_orphans');
      const { production, staging } = pair;
      const [closed, gone] = ['b0', 'dead'].map((end) => `00000000-0000-0000-0000-${end.padStart(12, '0')}`);
      // Staging alone has hotel `closed`, and two page views of its own: one of `closed`, one of a hotel no one has (written with checks off).
      await query(
        staging.adminUrl,
        `
        INSERT INTO public.hotels (id, name, created_at) VALUES ('${closed}', 'staging only', now());
        INSERT INTO analytics.page_views (hotel_id, path) VALUES ('${closed}', '/closed');
        SET session_replication_role = replica;
        INSERT INTO analytics.page_views (hotel_id, path) VALUES ('${gone}', '/gone');`,
      );
      const before = await syncedDigests(staging.adminUrl);
      const cwd = emptyDirectory();
      writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { 'analytics.page_views': { mode: 'insert-missing' } } }));
      const mirror = (tables: string, extra: string[] = []) =>
        runScript('sync.ts', ['--via', via, '--mode', 'mirror', '--yes', '--tables', tables, ...extra], { env: envOver(via, production, staging), cwd });
      // The mirror deletes `closed`; insert-missing keeps staging's page view of it, which then points nowhere. The one of `gone` did before.
      const refused = await mirror('hotels,analytics.page_views');
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toContain('The copied rows leave rows of staging pointing nowhere');
      expect(refused.stderr).toContain(
        `1 row of analytics.page_views (analytics.page_views.hotel_id -> public.hotels.id, page_views_hotel_id_fkey) finds no parent: they name e.g. (${closed})`,
      );
      expect(refused.stderr).not.toContain(gone);
      if (via === 'postgres') expect(await syncedDigests(staging.adminUrl)).toEqual(before);
      // Told to, it writes (over REST the refused run's deletes had been written already: nothing is left to do).
      const allowed = await mirror('hotels,analytics.page_views', ['--allow-orphans']);
      expect(allowed.code, allowed.stderr).toBe(0);
      if (via === 'postgres') expect(allowed.stderr).toContain('--allow-orphans: 1 row of analytics.page_views');
      expect(await query(staging.adminUrl, `SELECT count(*)::int AS n FROM public.hotels WHERE id = '${closed}'`)).toEqual([{ n: 0 }]);
      expect(await query(staging.adminUrl, `SELECT path FROM analytics.page_views WHERE hotel_id IN ('${closed}', '${gone}') ORDER BY 1`)).toEqual([
        { path: '/closed' },
        { path: '/gone' },
      ]);
      // Verify of the hotels alone names the page views left pointing nowhere, though it does not compare their table.
      const verified = await runScript('verify-sync-status.ts', ['--via', via, '--tables', 'hotels'], { env: envOver(via, production, staging), cwd });
      expect(verified.code).toBe(1);
      expect(verified.stdout).toMatch(/\| public\.hotels +\| \d+ +\| \d+ +\| ✅ Perfect +\|/);
      expect(verified.stdout).toContain(
        '2 rows of analytics.page_views (analytics.page_views.hotel_id -> public.hotels.id, page_views_hotel_id_fkey) find no parent',
      );
    });

    // Over REST each request commits on its own; the direct path's one transaction has no such middle.
    if (via === 'rest') {
      it('reads the rows a re-sync picks by key in full pages, and asks for no page once every key is read', async () => {
        const pair = await syncedPair('mirror_pages');
        const { production, staging } = pair;
        // 18 of the 40 embeddings (about 17 kB each): past a first page's 256 kB, short of the half that is read whole.
        await query(
          production.adminUrl,
          `UPDATE public.code_embeddings SET content = content || ' (changed)' WHERE id IN (SELECT id FROM public.code_embeddings ORDER BY id LIMIT 18)`,
        );
        production.gateway.resetStats();
        const result = await runScript('sync.ts', ['--via', via, '--mode', 'mirror', '--yes', '--json', '--tables', 'code_embeddings'], {
          env: envOver(via, production, staging),
        });
        expect(result.code, result.stderr).toBe(0);
        expect(byTable(result.stdout).get('public.code_embeddings')).toMatchObject({ rows: 18, changed: 18, ranges: { rows: { every: false } } });
        expect(production.gateway.stats().requests['/rpc/supasync_read_rows']).toBe(1);
        const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
        expect(actual['public.code_embeddings']).toEqual(expected['public.code_embeddings']);
      });

      it('converges when run again after a mirror interrupted mid-way', async () => {
        const pair = await syncedPair('mirror_interrupted');
        const { production, staging } = pair;
        await query(production.adminUrl, PRODUCTION_CHANGES);
        const before = await syncedDigests(staging.adminUrl);
        // With foreign-key checks off the deletes go first, all at once: the first lands and its answer never comes; the
        // others never reach staging. The run is stopped there, its other deletes and every write not made.
        staging.gateway.injectFaults({ stall: 1, onlyPaths: /^\/rpc\/supasync_delete_where$/ });
        staging.gateway.injectFaults({ drop: 1000, skip: 1, onlyPaths: /^\/rpc\/supasync_delete_where$/ });
        const args = ['--via', via, '--mode', 'mirror', '--yes', '--schemas', SYNCED_SCHEMAS.join(','), '--exclude', 'event_log'];
        const run = startScript('sync.ts', args, { env: envOver(via, production, staging) });
        while (staging.gateway.stats().faults.stall < 1) await new Promise((resolve) => setTimeout(resolve, 100));
        run.child.kill('SIGINT');
        const interrupted = await run.finished;
        expect(interrupted.code).toBe(130);
        expect(interrupted.stderr).toContain('Run the same command again to finish');
        const [expected, halfway] = await Promise.all([syncedDigests(production.adminUrl), syncedDigests(staging.adminUrl)]);
        expect(halfway).not.toEqual(expected);
        expect(halfway).not.toEqual(before);
        expect(halfway['public.hotels']).toEqual(before['public.hotels']);
        expect(halfway['public.hotels']).not.toEqual(expected['public.hotels']);

        staging.gateway.clearFaults();
        const again = await resync(pair, 'mirror', ['--yes']);
        expect(again.code, again.stderr).toBe(0);
        expect(await syncedDigests(staging.adminUrl)).toEqual(expected);
      });
    }

    if (via === 'rest') {
      it('refuses an incremental run, or a mirror, where a side holds functions too old for it, naming the update', async () => {
        const pair = await syncedPair('incremental_old_functions');
        const { production, staging } = pair;
        const first = await resync(pair, 'incremental', ['--yes', '--no-backup']);
        expect(first.code, first.stderr).toBe(0);
        await query(production.adminUrl, PRODUCTION_CHANGES);
        // What version 4's functions answer: they would ignore the flags, and miss every row changed since the last run.
        await query(
          production.adminUrl,
          `CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 4'; NOTIFY pgrst, 'reload schema'`,
        );
        const before = await syncedDigests(staging.adminUrl);
        const refused = await resync(pair, 'incremental', ['--yes', '--no-backup']);
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain("production's supasync functions are version 4");
        expect(refused.stderr).toContain('install-rpcs.ts --production');
        expect(await syncedDigests(staging.adminUrl)).toEqual(before);
        // Staging's version 6 (production's is current again): a run that writes refuses it, before its key filters, which never matched feature_flags' NULL key.
        const setVersion = (url: string, version: number) =>
          query(
            url,
            `CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT ${version}'; NOTIFY pgrst, 'reload schema'`,
          );
        await Promise.all([setVersion(production.adminUrl, functionsVersion()), setVersion(staging.adminUrl, 6)]);
        // public.rate_changes, which another table INHERITS from, is refused before it by its own version (17).
        const mirror = await resync(pair, 'mirror', ['--yes', '--no-backup', '--exclude', 'public.rate_changes']);
        expect(mirror.code).toBe(2);
        expect(mirror.stderr).toContain("Staging's supasync functions are version 6; writing staging over REST needs version 26 or later");
        expect(mirror.stderr).toContain('install-rpcs.ts --staging');
        expect(await syncedDigests(staging.adminUrl)).toEqual(before);
      });
    }

    it('incremental: reads the rows changed since the last run (by updated_at, else xmin), finds deletes and old-stamped inserts by key ranges, and misses no late commit', async () => {
      const pair = await syncedPair('incremental');
      const { production, staging } = pair;
      // No overlap: only the oldest open transaction's start keeps the late commit below from being missed.
      const cwd = emptyDirectory();
      writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ incremental: { overlapSeconds: 0 } }));
      const first = await resync(pair, 'incremental', ['--yes', '--json'], cwd);
      expect(first.code, first.stderr).toBe(0);
      expect(byTable(first.stdout).get('public.hotels')).toMatchObject({ rows: 0, watermark: { from: null, next: { column: 'updated_at' } } });
      // A table without an updated_at follows the transaction ids that wrote its rows.
      expect(byTable(first.stdout).get('public.sire_countries')).toMatchObject({
        rows: 0,
        watermark: { from: null, next: { column: 'xmin', since: expect.stringMatching(/^\d+$/) as string } },
      });

      // A transaction that stamps a hotel with its start and commits only after the next run.
      const late = new pg.Client(production.dbUrl);
      await late.connect();
      try {
        await late.query('BEGIN');
        await late.query(`UPDATE public.hotels SET name = 'committed late' WHERE id = (SELECT id FROM public.hotels ORDER BY id DESC LIMIT 1)`);
        await late.query(
          `UPDATE public.sire_countries SET name = 'committed late' WHERE country_code = (SELECT country_code FROM public.sire_countries ORDER BY 1 LIMIT 1 OFFSET 5)`,
        );
        await new Promise((resolve) => setTimeout(resolve, 1100));
        await query(
          production.adminUrl,
          `${PRODUCTION_CHANGES}
          INSERT INTO public.profiles (id, full_name, updated_at)
            SELECT u.id, 'Backfilled', '2000-01-01' FROM auth.users u WHERE NOT EXISTS (SELECT FROM public.profiles p WHERE p.id = u.id) ORDER BY u.id LIMIT 1;
          DELETE FROM public.profiles WHERE id = (SELECT id FROM public.profiles WHERE full_name IS DISTINCT FROM 'Backfilled' ORDER BY id LIMIT 1);`,
        );
        const second = await resync(pair, 'incremental', ['--yes', '--json'], cwd);
        expect(second.code, second.stderr).toBe(0);
        const tables = byTable(second.stdout);
        // 2 of 3 rows past the watermark: read whole, cleared and written, as in the mirror above.
        expect(tables.get('public.hotels')).toMatchObject({ changed: 3, watermark: { from: expect.any(String) as string } });
        // By checksums of the keys: the row deleted and the row inserted with an old updated_at; and the two usernames swapped.
        expect(tables.get('public.profiles')).toMatchObject({ changed: 3, deleted: 1 });
        // Without an updated_at: the rows written since the last run's snapshot, by xmin (3 renamed, 1 inserted).
        expect(tables.get('public.sire_countries')).toMatchObject({ changed: 4, deleted: 0, watermark: { from: expect.stringMatching(/^\d+$/) as string } });
        expect(tables.get('public.booking_notes')).toMatchObject({ deleted: 4 });
        // The key changed only in case (its old bytes deleted first, its row written by xmin), and the row whose key is NULL.
        expect(tables.get('public.feature_flags')).toMatchObject({ changed: 2, deleted: 1 });
        expect(tables.get('public.staff_users')).toMatchObject({ changed: 1, deleted: 1 });
        await late.query('COMMIT');
      } finally {
        await late.end();
      }
      const third = await resync(pair, 'incremental', ['--yes', '--json'], cwd);
      expect(third.code, third.stderr).toBe(0);
      // 1 hotel changed, and the 2 the last run read are read again (its snapshot could not rule them out): most of the table, written whole.
      expect(byTable(third.stdout).get('public.hotels')).toMatchObject({ changed: 3 });
      // The late row is read, and again the 4 committed while it was open (the last run's snapshot could not rule them out): with
      // checks off every row read is written afresh, so all 5 are written.
      expect(byTable(third.stdout).get('public.sire_countries')).toMatchObject({ rows: 5, changed: 5 });
      expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
      expect(await query(staging.adminUrl, `SELECT name FROM public.hotels WHERE id = (SELECT id FROM public.hotels ORDER BY id DESC LIMIT 1)`)).toEqual([
        { name: 'committed late' },
      ]);
      expect(
        await query(
          staging.adminUrl,
          `SELECT name FROM public.sire_countries WHERE country_code = (SELECT country_code FROM public.sire_countries ORDER BY 1 LIMIT 1 OFFSET 5)`,
        ),
      ).toEqual([{ name: 'committed late' }]);

      // Each watermark is kept with the production it was read from.
      const [{ system }] = (await query<{ system: string }>(production.adminUrl, `SELECT system_identifier::text AS system FROM pg_control_system()`)) as [
        { system: string },
      ];
      expect(await query(staging.adminUrl, `SELECT DISTINCT production_system FROM supasync_private.watermarks`)).toEqual([{ production_system: system }]);
      // A watermark ahead of production's transactions (a restored database), or read from another production, bounds nothing: compared whole.
      await query(staging.adminUrl, `UPDATE supasync_private.watermarks SET since_xid = since_xid + 1000000000000 WHERE changed_column = 'xmin'`);
      await query(staging.adminUrl, `UPDATE supasync_private.watermarks SET production_system = '1' WHERE changed_column = 'updated_at'`);
      await query(
        production.adminUrl,
        `UPDATE public.sire_countries SET name = name || '!' WHERE country_code = (SELECT min(country_code) FROM public.sire_countries)`,
      );
      const fourth = await resync(pair, 'incremental', ['--yes', '--json'], cwd);
      expect(fourth.code, fourth.stderr).toBe(0);
      expect(byTable(fourth.stdout).get('public.sire_countries')).toMatchObject({ changed: 1, watermark: { from: null } });
      expect(byTable(fourth.stdout).get('public.hotels')).toMatchObject({ watermark: { from: null, next: { system } } });
      expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
    });

    it('refuses to mirror or sync incrementally a table with no key, naming it and the way out', async () => {
      const { production } = sharedStack();
      const staging = await stack.createProject(`${via}_mirror_nokey`);
      made.push(staging);
      for (const [mode, verb] of [
        ['mirror', 'mirror'],
        ['incremental', 'sync incrementally'],
      ] as const) {
        const result = await runScript('sync.ts', ['--via', via, '--mode', mode, '--yes', '--tables', 'event_log,hotels'], {
          env: envOver(via, production, staging),
        });
        expect(result.code).toBe(2);
        expect(result.stderr).toContain(`Cannot ${verb} public.event_log: no primary key or NOT NULL unique key`);
        expect(result.stderr).toContain('--mode replace');
      }
      expect((await tableDigests(staging.adminUrl))['public.hotels']?.rows).toBe(0);
    });
  });
}
