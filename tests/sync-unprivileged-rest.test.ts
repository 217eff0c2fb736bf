// Over REST with staging's tables and supasync's functions owned by a role
// that may not switch off triggers and foreign-key checks with
// session_replication_role (functions installed by a role other than
// Supabase's postgres, or a self-hosted PostgREST).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_PASSWORD, urlFor, type Project } from '../stack/index.ts';
import { query, tableDigests } from './helpers/content.ts';
import { BOTH_ENABLED, cycleKeys, rewritingTriggers } from './helpers/checks-on.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, stack } = sharedStack();
const OWNER = 'plain_rest_owner';
// Small batches: many replies come in an earlier batch than the message they answer.
const MESSAGES_PER_BATCH = 25;

describe('a REST sync whose staging functions may not set session_replication_role', () => {
  let staging: Project;
  const cwd = emptyDirectory();
  writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { chat_messages: { batchSize: MESSAGES_PER_BATCH } } }));
  const sync = (args: string[]) => runScript('sync.ts', ['--via', 'rest', '--yes', ...args], { env: envFor(production, staging), cwd });

  beforeAll(async () => {
    staging = await stack.createProject('unprivileged_rest', { owner: OWNER });
    // Staging has its users already (copied once as postgres, which may switch
    // triggers off): the runs below copy the app's tables only.
    const asPostgres = { ...envFor(production, staging), SUPABASE_STAGING_DB_URL: urlFor(staging.adminUrl, staging.name, 'postgres', OWNER_PASSWORD) };
    const users = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--mode', 'upsert', '--schemas', 'auth'], { env: asPostgres });
    expect(users.code).toBe(0);
  });
  afterAll(() => staging?.stop());

  it("stops before writing when it would load tables whose triggers the functions' owner may not disable (auth.users)", async () => {
    const before = await tableDigests(staging.adminUrl, ['public', 'analytics', 'auth', 'storage']);
    // The dry-run says so too, and exits as the run does.
    for (const dryRun of [['--dry-run'], []]) {
      const result = await sync(['--schemas', 'public,analytics,auth,storage', '--exclude', 'departments,employees', ...dryRun]);
      expect(result.code, dryRun.join()).toBe(1);
      expect(result.stderr).toContain('auth.users (triggers on_auth_user_created; owned by supabase_auth_admin)');
      expect(result.stderr).toContain('storage.objects (triggers update_objects_updated_at; owned by supabase_storage_admin)');
      expect(result.stderr).toContain(`staging's supasync functions run as ${OWNER}, which may not SET session_replication_role`);
      expect(result.stderr).toContain(`GRANT SET ON PARAMETER session_replication_role TO ${OWNER}`);
      expect(result.stderr).toContain('Nothing was changed.');
    }
    expect(await tableDigests(staging.adminUrl, ['public', 'analytics', 'auth', 'storage'])).toEqual(before);
  });

  it('syncs the app, the NOT NULL cycle in one request and chat_messages in two passes, its triggers not fired and enabled afterwards', async () => {
    // Replies to replies whose parent comes in a later batch: a one-pass load with checks on would break their foreign key.
    const [{ early }] = (await query<{ early: number }>(
      production.adminUrl,
      `WITH batched AS (
         SELECT id, parent_message_id, (row_number() OVER (ORDER BY id) - 1) / $1 AS batch FROM public.chat_messages)
       SELECT count(*)::int AS early FROM batched reply JOIN batched parent ON parent.id = reply.parent_message_id
       WHERE parent.parent_message_id IS NOT NULL AND parent.batch > reply.batch`,
      [MESSAGES_PER_BATCH],
    )) as [{ early: number }];
    expect(early).toBeGreaterThan(0);

    const keysBefore = await cycleKeys(staging.adminUrl);
    const result = await sync(['--schemas', 'public,analytics']);
    expect(result.stderr).toContain('may not SET session_replication_role: loading in foreign-key order');
    expect(result.stderr).toContain('public.departments <-> public.employees reference each other: they are written together in one request');
    // invoices' foreign keys are declared on its partitions: after guest_reservations, in one request with invoicing_ranges.
    expect(result.stderr).toContain('public.invoices <-> public.invoicing_ranges reference each other: they are written together in one request');
    expect(result.stderr).toContain('public.chat_messages references itself: its rows are written with parent_message_id NULL, then a second pass sets it.');
    expect(result.code).toBe(0);
    const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
    // audit_events equal to production's: chat_messages_audit did not fire; hotels' updated_at kept: hotels_touch_updated_at did not.
    expect(actual).toEqual(expected);
    expect(actual['public.chat_messages']?.rows).toBeGreaterThan(0);
    expect(actual['public.employees']?.rows).toBeGreaterThan(0);
    expect(actual['public.invoices']?.rows).toBeGreaterThan(0);
    // The cycles' foreign keys, the partitions' own among them, are back as staging had them: not deferrable.
    expect(await cycleKeys(staging.adminUrl)).toEqual(keysBefore);
    expect(keysBefore.every((key) => key.condeferrable === false)).toBe(true);
    expect(await rewritingTriggers(staging.adminUrl)).toEqual(BOTH_ENABLED);

    // Again in upsert mode: the first pass leaves staging's replies linked, so nothing is rewritten.
    const again = await sync(['--schemas', 'public,analytics', '--exclude', 'event_log', '--mode', 'upsert', '--json']);
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout) as { tables: { table: string; changed: number }[] };
    expect(report.tables.filter((t) => t.changed > 0)).toEqual([]);
    expect(await tableDigests(staging.adminUrl)).toEqual(expected);
  });

  it('refuses a self-reference it cannot leave NULL for a first pass, naming the table and the column', async () => {
    await query(
      staging.adminUrl,
      `
      TRUNCATE public.chat_messages;
      ALTER TABLE public.chat_messages ALTER COLUMN parent_message_id SET DEFAULT '00000000-0000-0000-0000-000000000000';`,
    );
    const result = await sync(['--tables', 'chat_messages']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'public.chat_messages references itself (chat_messages_parent_message_id_fkey on parent_message_id), and staging cannot store parent_message_id as NULL',
    );
    expect(result.stderr).toContain(`GRANT SET ON PARAMETER session_replication_role TO ${OWNER}`);
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.chat_messages')).toEqual([{ n: 0 }]);
  });

  it("syncs invoices alone: the reservations its partitions' foreign keys reference are looked for in staging, and come with --with-parents", async () => {
    // Staging loses its reservations, and what references them: production's invoices point at rows staging lacks.
    await query(staging.adminUrl, 'TRUNCATE public.guest_reservations CASCADE');
    const refused = await sync(['--tables', 'invoices,invoicing_ranges']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /\d+ rows? of public\.invoices references? \d+ public\.guest_reservations rows? missing from staging \(public\.invoices\.reservation_id\)/,
    );
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.invoices')).toEqual([{ n: 0 }]);

    const synced = await sync(['--tables', 'invoices,invoicing_ranges', '--with-parents']);
    expect(synced.code, synced.stderr).toBe(0);
    expect(synced.stderr).toContain('public.invoices <-> public.invoicing_ranges reference each other: they are written together in one request');
    const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
    expect(actual['public.invoices']).toEqual(expected['public.invoices']);
    expect(actual['public.invoicing_ranges']).toEqual(expected['public.invoicing_ranges']);
    // Only the reservations the invoices reference came along.
    const referenced = await query(production.adminUrl, 'SELECT count(DISTINCT reservation_id)::int AS n FROM public.invoices');
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.guest_reservations')).toEqual(referenced);
    expect(await cycleKeys(staging.adminUrl)).toEqual(await cycleKeys(production.adminUrl));
  });

  it('refuses a mirror or an incremental run before writing anything: their deletes need foreign-key checks off', async () => {
    // Staging drifted: an upsert would rewrite the renamed country, a mirror would also delete the extra one.
    await query(
      staging.adminUrl,
      `UPDATE public.sire_countries SET name = 'Renamed in staging' WHERE country_code = (SELECT min(country_code) FROM public.sire_countries);
       INSERT INTO public.sire_countries (country_code, name) VALUES ('ZZQ', 'Only in staging');`,
    );
    const before = await tableDigests(staging.adminUrl);
    for (const mode of ['mirror', 'incremental']) {
      const result = await sync(['--mode', mode, '--tables', 'sire_countries,hotels']);
      expect(result.code, mode).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `public\\.(sire_countries|hotels), public\\.(sire_countries|hotels): --mode ${mode} deletes the staging rows production lacks with foreign-key checks off, ` +
            `and staging's supasync functions run as ${OWNER}, which may not SET session_replication_role`,
        ),
      );
      expect(result.stderr).toContain('Nothing was changed.');
    }
    expect(await tableDigests(staging.adminUrl)).toEqual(before);
    // What needs no deletes still runs: an upsert keeps the extra row, and writes production's name back.
    const upserted = await sync(['--mode', 'upsert', '--tables', 'sire_countries']);
    expect(upserted.code, upserted.stderr).toBe(0);
    expect(
      await query(staging.adminUrl, `SELECT count(*)::int AS n FROM public.sire_countries WHERE name = 'Renamed in staging' OR country_code = 'ZZQ'`),
    ).toEqual([{ n: 1 }]);
  });

  it('writes a table whose foreign key staging defers (DEFERRABLE INITIALLY DEFERRED) and whose triggers it disables around each batch', async () => {
    const key = `SELECT conname FROM pg_constraint WHERE conrelid = 'public.booking_notes'::regclass AND contype = 'f' AND confrelid = 'public.guest_reservations'::regclass`;
    const [{ conname }] = (await query<{ conname: string }>(staging.adminUrl, key)) as [{ conname: string }];
    await query(staging.adminUrl, `ALTER TABLE public.booking_notes ALTER CONSTRAINT "${conname}" DEFERRABLE INITIALLY DEFERRED`);
    try {
      const result = await sync(['--no-backup', '--tables', 'booking_notes', '--with-parents']);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const digests = ['public'];
      expect((await tableDigests(staging.adminUrl, digests))['public.booking_notes']).toEqual(
        (await tableDigests(production.adminUrl, digests))['public.booking_notes'],
      );
      expect(await rewritingTriggers(staging.adminUrl)).toEqual(BOTH_ENABLED);
    } finally {
      await query(staging.adminUrl, `ALTER TABLE public.booking_notes ALTER CONSTRAINT "${conname}" NOT DEFERRABLE`);
    }
  });

  it('names the two ways out where an upsert meets a unique value production holds on another row', async () => {
    expect((await sync(['--no-backup', '--mode', 'upsert', '--tables', 'tenant_registry'])).code).toBe(0);
    // Staging holds two tenants' slugs the other way round: each row production writes meets the other's.
    const [a, b] = await query<{ tenant_id: string; slug: string }>(
      staging.adminUrl,
      'SELECT tenant_id, slug FROM public.tenant_registry ORDER BY tenant_id LIMIT 2',
    );
    // Each slug through a third value, as the unique index stays live.
    const setSlugs = async (slugA: string, slugB: string) => {
      const set = (id: string, slug: string) => query(staging.adminUrl, 'UPDATE public.tenant_registry SET slug = $2 WHERE tenant_id = $1', [id, slug]);
      await set(a!.tenant_id, 'swapping');
      await set(b!.tenant_id, slugB);
      await set(a!.tenant_id, slugA);
    };
    await setSlugs(b!.slug, a!.slug);
    const swapped = await sync(['--no-backup', '--mode', 'upsert', '--tables', 'tenant_registry']);
    expect(swapped.code, swapped.stdout + swapped.stderr).toBe(1);
    const said = swapped.stdout + swapped.stderr;
    expect(said).toContain('duplicate key value violates unique constraint "tenant_registry_slug_key"');
    expect(said).toContain('a value production moved to another row (two rows that swapped a username or a slug)');
    expect(said).toContain('or replace public.tenant_registry (--mode replace');
    // Put back as production has them; the refused rows were left as staging held them.
    await setSlugs(a!.slug, b!.slug);
    expect((await sync(['--no-backup', '--mode', 'upsert', '--tables', 'tenant_registry'])).code).toBe(0);
  });
});
