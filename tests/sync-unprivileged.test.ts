// Staging written by its tables' owner, a role that may not switch off
// triggers and foreign-key checks with session_replication_role.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_PASSWORD, urlFor, type Project } from '../stack/index.ts';
import { query, tableDigests } from './helpers/content.ts';
import { BOTH_ENABLED, cycleKeys, rewritingTriggers } from './helpers/checks-on.ts';
import { runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, stack } = sharedStack();

describe('a staging owner without the replica-role permission', () => {
  let staging: Project;
  beforeAll(async () => {
    staging = await stack.createProject('unprivileged', { owner: 'plain_owner' });
    // Staging has its users already (synced once as postgres, which may switch
    // triggers off): the owner's runs below copy the app's tables only.
    const asPostgres = { ...envFor(production, staging), SUPABASE_STAGING_DB_URL: urlFor(staging.adminUrl, staging.name, 'postgres', OWNER_PASSWORD) };
    const users = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--mode', 'upsert', '--schemas', 'auth'], { env: asPostgres });
    expect(users.code, users.stderr).toBe(0);
  });
  afterAll(() => staging?.stop());

  it('loads in foreign-key order with its NOT NULL cycle deferred, and user triggers do not fire', async () => {
    const keysBefore = await cycleKeys(staging.adminUrl);
    const result = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--schemas', 'public,analytics'], {
      env: envFor(production, staging),
    });
    expect(result.stderr).toContain('may not SET session_replication_role: loading in foreign-key order');
    // invoices' foreign keys are declared on its partitions: after guest_reservations, in a cycle with invoicing_ranges.
    expect(result.stderr).toContain(
      'the foreign keys between public.departments <-> public.employees; public.invoices <-> public.invoicing_ranges checked at its end',
    );
    expect(result.code, result.stderr).toBe(0);
    // Every table equal: the cycles, chat_messages' replies to replies, and
    // hotels, whose updated_at trigger would have rewritten every row.
    const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
    expect(actual).toEqual(expected);
    expect(actual['public.employees']?.rows).toBeGreaterThan(0);
    expect(actual['public.invoices']?.rows).toBeGreaterThan(0);
    // The cycles' keys, the partitions' own among them, are back exactly as staging had them: not deferrable.
    expect(await cycleKeys(staging.adminUrl)).toEqual(keysBefore);
    expect(keysBefore.every((key) => key.condeferrable === false)).toBe(true);
    expect(await rewritingTriggers(staging.adminUrl)).toEqual(BOTH_ENABLED);
  });

  it('replaces a table other staging tables reference, their keys waiting for the end of the load, and puts the keys back', async () => {
    const keysIntoHotels = () =>
      query(
        staging.adminUrl,
        `SELECT conrelid::regclass::text AS child, conname, condeferrable, condeferred FROM pg_constraint
                               WHERE contype = 'f' AND confrelid = 'public.hotels'::regclass ORDER BY 1, 2`,
      );
    const keysBefore = await keysIntoHotels();
    expect(keysBefore.length).toBeGreaterThan(3);
    await query(staging.adminUrl, `UPDATE public.hotels SET name = 'renamed in staging'`);
    const before = await tableDigests(staging.adminUrl);
    const result = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--tables', 'hotels'], { env: envFor(production, staging) });
    expect(result.code, result.stderr).toBe(0);
    const after = await tableDigests(staging.adminUrl);
    expect(after['public.hotels']).toEqual((await tableDigests(production.adminUrl))['public.hotels']);
    expect({ ...after, 'public.hotels': null }).toEqual({ ...before, 'public.hotels': null });
    expect(await keysIntoHotels()).toEqual(keysBefore);
  });

  it("stops before writing when it would load tables whose triggers it may not disable (Supabase's auth.users)", async () => {
    const before = await tableDigests(staging.adminUrl, ['public', 'auth', 'storage']);
    // The dry-run says so too, and exits as the run does.
    for (const dryRun of [['--dry-run'], []]) {
      const result = await runScript(
        'sync.ts',
        ['--yes', '--via', 'postgres', '--schemas', 'public,analytics,auth,storage', '--exclude', 'departments,employees', ...dryRun],
        {
          env: envFor(production, staging),
        },
      );
      expect(result.code, dryRun.join()).toBe(1);
      expect(result.stderr).toContain('auth.users (triggers on_auth_user_created; owned by supabase_auth_admin)');
      expect(result.stderr).toContain('storage.objects (triggers update_objects_updated_at; owned by supabase_storage_admin)');
      expect(result.stderr).toContain('GRANT SET ON PARAMETER session_replication_role');
    }
    expect(await tableDigests(staging.adminUrl, ['public', 'auth', 'storage'])).toEqual(before);
  });

  it('stops clearly on a cycle whose keys it may not defer, naming the owner and the grant', async () => {
    // The cycle's table belongs to another role; the syncing role may write it but not alter it.
    await query(
      staging.adminUrl,
      `DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hr_owner') THEN CREATE ROLE hr_owner NOLOGIN; END IF; END $$`,
    );
    await query(staging.adminUrl, 'ALTER TABLE public.employees OWNER TO hr_owner');
    await query(staging.adminUrl, 'GRANT ALL ON public.employees TO plain_owner');
    try {
      const before = await tableDigests(staging.adminUrl);
      const result = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--tables', 'departments,employees'], { env: envFor(production, staging) });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('public.departments <-> public.employees reference each other');
      expect(result.stderr).toContain("only public.employees's owner (hr_owner) may defer its foreign key");
      expect(result.stderr).toContain('GRANT SET ON PARAMETER session_replication_role');
      expect(await tableDigests(staging.adminUrl)).toEqual(before);
    } finally {
      await query(staging.adminUrl, 'ALTER TABLE public.employees OWNER TO plain_owner');
    }
  });

  it('names the partition whose own foreign key of a cycle it may not defer', async () => {
    await query(
      staging.adminUrl,
      `DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hr_owner') THEN CREATE ROLE hr_owner NOLOGIN; END IF; END $$`,
    );
    await query(staging.adminUrl, 'ALTER TABLE public.invoices_2026 OWNER TO hr_owner');
    try {
      const before = await tableDigests(staging.adminUrl);
      const result = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--tables', 'invoices,invoicing_ranges'], { env: envFor(production, staging) });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('public.invoices <-> public.invoicing_ranges reference each other');
      expect(result.stderr).toContain(
        "only public.invoices_2026's owner (hr_owner) may defer its foreign key invoices_2026_range_id_fkey (declared on that partition of public.invoices)",
      );
      expect(await tableDigests(staging.adminUrl)).toEqual(before);
    } finally {
      await query(staging.adminUrl, 'ALTER TABLE public.invoices_2026 OWNER TO plain_owner');
    }
  });

  it("syncs invoices alone: the reservations its partitions' foreign keys reference are looked for in staging, and come with --with-parents", async () => {
    // Staging loses its reservations, and what references them: production's invoices point at rows staging lacks.
    await query(staging.adminUrl, 'TRUNCATE public.guest_reservations CASCADE');
    const sync = (args: string[]) =>
      runScript('sync.ts', ['--yes', '--via', 'postgres', '--tables', 'invoices,invoicing_ranges', ...args], { env: envFor(production, staging) });
    const refused = await sync([]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /\d+ rows? of public\.invoices references? \d+ public\.guest_reservations rows? missing from staging \(public\.invoices\.reservation_id\)/,
    );
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.invoices')).toEqual([{ n: 0 }]);

    const synced = await sync(['--with-parents']);
    expect(synced.code, synced.stderr).toBe(0);
    const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
    expect(actual['public.invoices']).toEqual(expected['public.invoices']);
    expect(actual['public.invoicing_ranges']).toEqual(expected['public.invoicing_ranges']);
    // Only the reservations the invoices reference came along.
    const referenced = await query(production.adminUrl, 'SELECT count(DISTINCT reservation_id)::int AS n FROM public.invoices');
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.guest_reservations')).toEqual(referenced);
    expect(await cycleKeys(staging.adminUrl)).toEqual(await cycleKeys(production.adminUrl));
  });
});

describe('a re-sync by a staging owner without the replica-role permission', () => {
  // With foreign-key checks on, a mirror writes first (children leave the parents it deletes) and deletes after,
  // sparing the rows it wrote: 'dark-mode' is, by its bytes, a key staging lacks, and 'Dark-Mode' one production lacks.
  it('deletes the keys production lacks after writing, and spares the row whose key changed only in case', async () => {
    const ownProduction = await stack.createProject('unprivileged_resync_prod', { fill: 'tiny' });
    const ownStaging = await stack.createProject('unprivileged_resync_stg', { owner: 'plain_owner' });
    // A long transaction in another database of the server, open across both runs: it held the cluster-wide xmin back,
    // and every staging row written since looked written by the mirror, which then deleted none (a flake under load).
    const elsewhere = new pg.Client({ connectionString: ownProduction.adminUrl });
    await elsewhere.connect();
    await elsewhere.query('BEGIN; SELECT pg_catalog.pg_current_xact_id()');
    try {
      const env = envFor(ownProduction, ownStaging);
      const first = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--tables', 'feature_flags'], { env });
      expect(first.code, first.stderr).toBe(0);
      await query(
        ownProduction.adminUrl,
        `UPDATE public.feature_flags SET flag_key = 'dark-mode' WHERE flag_key = 'Dark-Mode';
         UPDATE public.feature_flags SET rollout = 0.5 WHERE flag_key IS NULL;
         DELETE FROM public.feature_flags WHERE flag_key = 'checkout.v2';`,
      );
      const mirror = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--mode', 'mirror', '--tables', 'feature_flags', '--json'], { env });
      expect(mirror.code, mirror.stderr).toBe(0);
      expect(mirror.stderr).toContain('may not SET session_replication_role');
      const [flags] = (JSON.parse(mirror.stdout) as { tables: { table: string; changed: number; deleted: number }[] }).tables;
      expect(flags).toMatchObject({ table: 'public.feature_flags', changed: 2, deleted: 1 });
      const [expected, actual] = await Promise.all([tableDigests(ownProduction.adminUrl), tableDigests(ownStaging.adminUrl)]);
      expect(actual['public.feature_flags']).toEqual(expected['public.feature_flags']);
      expect(await query(ownStaging.adminUrl, `SELECT flag_key::text FROM public.feature_flags WHERE flag_key = 'DARK-MODE'`)).toEqual([
        { flag_key: 'dark-mode' },
      ]);

      // Two tenants swapped their slugs: written by key with the unique index live, the first meets the other. Known, with two ways out.
      const tenants = ['--yes', '--via', 'postgres', '--tables', 'tenant_registry'];
      expect((await runScript('sync.ts', tenants, { env })).code).toBe(0);
      const before = await tableDigests(ownStaging.adminUrl);
      const [tenantA, tenantB] = await query<{ tenant_id: string; slug: string }>(
        ownProduction.adminUrl,
        'SELECT tenant_id, slug FROM public.tenant_registry ORDER BY tenant_id LIMIT 2',
      );
      const setSlug = (id: string, slug: string) =>
        query(ownProduction.adminUrl, 'UPDATE public.tenant_registry SET slug = $2 WHERE tenant_id = $1', [id, slug]);
      await setSlug(tenantA!.tenant_id, 'swapping');
      await setSlug(tenantB!.tenant_id, tenantA!.slug);
      await setSlug(tenantA!.tenant_id, tenantB!.slug);
      const swapped = await runScript('sync.ts', [...tenants, '--mode', 'mirror'], { env });
      expect(swapped.code, swapped.stdout + swapped.stderr).toBe(1);
      expect(swapped.stderr).toContain('duplicate key value violates unique constraint "tenant_registry_slug_key"');
      expect(swapped.stderr).toContain('a value production moved to another row (two rows that swapped a username or a slug)');
      expect(swapped.stderr).toContain('or replace public.tenant_registry (--mode replace');
      expect(await tableDigests(ownStaging.adminUrl)).toEqual(before);
      const replaced = await runScript('sync.ts', tenants, { env });
      expect(replaced.code, replaced.stderr).toBe(0);
      const [wanted, got] = await Promise.all([tableDigests(ownProduction.adminUrl), tableDigests(ownStaging.adminUrl)]);
      expect(got['public.tenant_registry']).toEqual(wanted['public.tenant_registry']);
    } finally {
      await elsewhere.end();
      await Promise.all([ownProduction.stop(), ownStaging.stop()]);
    }
  });

  // Without the replica role a run's writes fire staging's foreign keys: a mirror's delete an ON DELETE CASCADE, an
  // upsert's rewritten code an ON UPDATE SET NULL, on a table outside the run, which its backup does not hold.
  // --allow-orphans let the first happen, and an upsert the second, exit 0 (staging's rows were gone beyond a restore).
  it('refuses a run whose writes would cascade into a table it does not copy, --allow-orphans or not', async () => {
    const ownProduction = await stack.createProject('unprivileged_cascade_prod', { syncTarget: false });
    const ownStaging = await stack.createProject('unprivileged_cascade_stg', { owner: 'plain_owner' });
    try {
      const schema = `CREATE SCHEMA crew; CREATE TABLE crew.teams (id int PRIMARY KEY, code text NOT NULL UNIQUE);
        CREATE TABLE crew.posts (id int PRIMARY KEY, team_id int NOT NULL REFERENCES crew.teams ON DELETE CASCADE);
        CREATE TABLE crew.badges (id int PRIMARY KEY, team_code text REFERENCES crew.teams (code) ON UPDATE SET NULL)`;
      await query(ownProduction.adminUrl, `SET ROLE postgres; ${schema}; INSERT INTO crew.teams VALUES (1, 'one'), (2, 'two')`);
      await query(
        ownStaging.adminUrl,
        `${schema}; ALTER SCHEMA crew OWNER TO plain_owner;
         ALTER TABLE crew.teams OWNER TO plain_owner; ALTER TABLE crew.posts OWNER TO plain_owner; ALTER TABLE crew.badges OWNER TO plain_owner;
         INSERT INTO crew.teams VALUES (1, 'uno'), (2, 'two'), (3, 'staging''s own'); INSERT INTO crew.posts VALUES (1, 3);
         INSERT INTO crew.badges VALUES (1, 'uno'), (2, 'two')`,
      );
      const env = envFor(ownProduction, ownStaging);
      const sync = (...extra: string[]) => runScript('sync.ts', ['--yes', '--via', 'postgres', '--tables', 'crew.teams', ...extra], { env });
      const contents = `SELECT (SELECT string_agg(t::text, ',' ORDER BY id) FROM crew.teams t) AS teams,
        (SELECT string_agg(p::text, ',' ORDER BY id) FROM crew.posts p) AS posts, (SELECT string_agg(b::text, ',' ORDER BY id) FROM crew.badges b) AS badges`;
      const before = await query(ownStaging.adminUrl, contents);
      for (const extra of [
        ['--mode', 'mirror', '--allow-orphans'],
        ['--mode', 'upsert'],
        ['--mode', 'upsert', '--dry-run'],
      ]) {
        const refused = await sync(...extra);
        expect(refused.code, refused.stdout + refused.stderr).toBe(1);
        expect(refused.stderr).toContain("Staging's role may not SET session_replication_role, so this run's writes fire staging's foreign keys");
        expect(refused.stderr).toContain(extra.includes('mirror') ? 'crew.posts' : 'crew.badges');
        expect(await query(ownStaging.adminUrl, contents)).toEqual(before);
      }
      const mirror = await sync('--mode', 'mirror');
      expect(mirror.code, mirror.stdout + mirror.stderr).toBe(1);
      expect(await query(ownStaging.adminUrl, contents)).toEqual(before);
    } finally {
      await Promise.all([ownProduction.stop(), ownStaging.stop()]);
    }
  });

  // A parent's key production changed only in spelling is rewritten by the upsert, and staging's ON UPDATE CASCADE
  // rewrites its children's copies: children (of another table and of its own) compared before it was written.
  it.each(['mirror', 'incremental'])("compares again, after their parents, the children staging's ON UPDATE CASCADE rewrote (%s)", async (mode) => {
    const TABLES = ['teams', 'team_members', 'team_parts'];
    // Production's keys take no action on update: a child keeps the old spelling, equal to its parent's new key.
    const schema = (
      onUpdate: string,
    ) => `CREATE TABLE public.teams (handle public.citext PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE public.team_members (id int PRIMARY KEY, team public.citext REFERENCES public.teams ${onUpdate}, who text);
        CREATE TABLE public.team_parts (handle public.citext PRIMARY KEY, parent public.citext REFERENCES public.team_parts ${onUpdate});`;
    const ownProduction = await stack.createProject(`cascade_${mode}_prod`, { syncTarget: false });
    const ownStaging = await stack.createProject(`cascade_${mode}_stg`, { owner: 'plain_owner' });
    try {
      await query(ownProduction.adminUrl, `SET ROLE postgres; ${schema('')}`);
      await query(ownStaging.adminUrl, `SET ROLE plain_owner; ${schema('ON UPDATE CASCADE')}`);
      await query(
        ownProduction.adminUrl,
        `INSERT INTO public.teams (handle, name) VALUES ('ABC', 'a'), ('Def', 'd');
           INSERT INTO public.team_members VALUES (1, 'ABC', 'x'), (2, 'Def', 'y'), (3, 'ABC', 'z');
           INSERT INTO public.team_parts VALUES ('Root', NULL), ('Leaf', 'Root');`,
      );
      const env = envFor(ownProduction, ownStaging);
      const args = ['--yes', '--via', 'postgres', '--no-backup', '--mode', mode, '--tables', TABLES.join(',')];
      const first = await runScript('sync.ts', args, { env });
      expect(first.code, first.stderr).toBe(0);
      await query(
        ownProduction.adminUrl,
        `UPDATE public.teams SET handle = 'abc', updated_at = now() WHERE handle = 'ABC';
           UPDATE public.team_parts SET handle = 'ROOT' WHERE handle = 'Root';`,
      );
      const again = await runScript('sync.ts', [...args, '--json'], { env });
      expect(again.code, again.stderr).toBe(0);
      const digests = async (url: string) =>
        Object.fromEntries(Object.entries(await tableDigests(url)).filter(([name]) => TABLES.includes(name.slice('public.'.length))));
      const [expected, actual] = await Promise.all([digests(ownProduction.adminUrl), digests(ownStaging.adminUrl)]);
      expect(Object.keys(actual)).toHaveLength(3);
      expect(actual).toEqual(expected);
      expect(await query(ownStaging.adminUrl, 'SELECT id, team::text FROM public.team_members ORDER BY id')).toEqual([
        { id: 1, team: 'ABC' },
        { id: 2, team: 'Def' },
        { id: 3, team: 'ABC' },
      ]);
      const changed = Object.fromEntries(
        (JSON.parse(again.stdout) as { tables: { table: string; changed: number }[] }).tables.map((t) => [t.table, t.changed]),
      );
      // The two rows the cascade rewrote, written back; in team_parts the root, then the leaf.
      expect(changed).toEqual({ 'public.teams': 1, 'public.team_members': 2, 'public.team_parts': 2 });
      const verify = await runScript('verify-sync-status.ts', ['--via', 'postgres', '--tables', TABLES.join(',')], { env });
      expect(verify.code, verify.stdout).toBe(0);
    } finally {
      await Promise.all([ownProduction.stop(), ownStaging.stop()]);
    }
  });
});
