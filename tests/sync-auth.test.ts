// Supabase's own rows: Auth's users and identities, Storage's buckets and
// object rows, synced with the app's tables that reference them; the
// services' bookkeeping and staging's sign-in state handled as a user expects.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, syncedDigests, SYNCED_SCHEMAS, tableDigests } from './helpers/content.ts';
import { backupLine } from './helpers/backup.ts';
import { emptyDirectory, runScript, type ScriptResult } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';
import { countOf } from '../lib/counts.ts';

const { production, staging: sharedStaging, stack } = sharedStack();
const everything = ['--schemas', SYNCED_SCHEMAS.join(',')];

// Someone signed up in staging last week: the trigger gave them a profile,
// Auth a session and a refresh token; an upload to a bucket of staging's own
// is in progress. Staging's Auth and Storage have run a migration production
// has not yet.
const STAGING_OF_ITS_OWN = `
  INSERT INTO auth.users (id, aud, role, email, raw_user_meta_data, created_at)
  VALUES ('5ba90000-0000-4000-8000-000000000001', 'authenticated', 'authenticated', 'tester@staging.example',
          '{"full_name": "Staging Tester"}', now());
  INSERT INTO auth.sessions (id, user_id, created_at) VALUES ('5e550000-0000-4000-8000-000000000001', '5ba90000-0000-4000-8000-000000000001', now());
  INSERT INTO auth.refresh_tokens (token, user_id, session_id)
  VALUES ('staging-token', '5ba90000-0000-4000-8000-000000000001', '5e550000-0000-4000-8000-000000000001');
  INSERT INTO auth.sso_providers (id, resource_id) VALUES ('5550000a-0000-4000-8000-000000000001', 'okta-staging');
  INSERT INTO auth.scim_users (id, sso_provider_id, user_id, resource)
  VALUES ('5c100000-0000-4000-8000-000000000001', '5550000a-0000-4000-8000-000000000001', '5ba90000-0000-4000-8000-000000000001', '{"userName": "Tester"}');
  INSERT INTO auth.webauthn_credentials (id, user_id, credential_id, public_key)
  VALUES ('5a550000-0000-4000-8000-000000000001', '5ba90000-0000-4000-8000-000000000001', '\\x01', '\\x02');
  INSERT INTO auth.custom_oauth_providers (id, identifier, client_id, client_secret)
  VALUES ('5c0a0000-0000-4000-8000-000000000001', 'custom:acme', 'acme-staging', 'STAGING-SECRET-acme');
  INSERT INTO auth.schema_migrations (version) VALUES ('29990101000000');
  INSERT INTO storage.migrations (id, name, hash) VALUES (99, 'staging-only-migration', 'f00d');
  INSERT INTO storage.buckets (id, name) VALUES ('staging-drafts', 'staging-drafts');
  INSERT INTO storage.s3_multipart_uploads (id, upload_signature, bucket_id, key, version) VALUES ('staging-upload', 'sig', 'staging-drafts', 'draft.bin', 'v1');
  INSERT INTO storage.s3_multipart_uploads_parts (upload_id, part_number, bucket_id, key, etag, version) VALUES ('staging-upload', 1, 'staging-drafts', 'draft.bin', 'e1', 'v1');
  INSERT INTO storage.event_log (event_name, payload, signature) VALUES ('ObjectCreated:Put', '{"bucketId": "staging-drafts"}', 'staging-event');`;

const MIGRATION_RECORDS = `
  SELECT 'auth' AS source, version::text AS name FROM auth.schema_migrations
  UNION ALL SELECT 'storage', id || ' ' || name FROM storage.migrations ORDER BY 1, 2`;

async function sameOnBothSides(staging: Project, sql: string): Promise<void> {
  const [expected, actual] = await Promise.all([query(production.adminUrl, sql), query(staging.adminUrl, sql)]);
  expect(actual, sql).toEqual(expected);
}

describe("Supabase's auth and storage rows", () => {
  it("are in a stack that grants service_role no privilege on auth's tables, as Supabase does: REST reads them as the functions' owner", async () => {
    const granted = await query<{ table: string }>(
      production.adminUrl,
      `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'auth' AND c.relkind = 'r'
         AND (has_table_privilege('service_role', c.oid, 'SELECT') OR has_table_privilege('service_role', c.oid, 'INSERT'))`,
    );
    expect(granted).toEqual([]);
  });

  for (const via of ['postgres', 'rest'] as const) {
    describe(`a full sync into a staging with sign-ups of its own (via ${via})`, () => {
      let staging: Project;
      let synced: ScriptResult;
      let migrationsBefore: unknown[];
      beforeAll(async () => {
        staging = await stack.createProject(`auth_${via}`);
        await query(staging.adminUrl, STAGING_OF_ITS_OWN);
        migrationsBefore = await query(staging.adminUrl, MIGRATION_RECORDS);
        synced = await runScript('sync.ts', ['--via', via, '--yes', ...everything], { env: envFor(production, staging) });
      });
      afterAll(() => staging?.stop());

      it("copies users, identities, buckets and object rows, and production's profiles exactly: the profile trigger did not fire", async () => {
        // Staging's own sign-ups are backed up over either path before they are emptied: no warning left to give.
        expect(synced.stdout).toMatch(/Backup of \d+ staging tables/);
        expect(synced.stderr).not.toMatch(/warning|error/i);
        expect(synced.code).toBe(0);
        const [expected, actual] = await Promise.all([syncedDigests(production.adminUrl), syncedDigests(staging.adminUrl)]);
        for (const table of ['auth.users', 'auth.identities', 'storage.buckets', 'storage.objects', 'public.profiles', 'public.staff_users']) {
          expect(actual[table], table).toEqual(expected[table]);
        }
        // Users who signed up before production had the trigger have no profile; a trigger that fired would have made one.
        const [{ users, profiles }] = (await query<{ users: number; profiles: number }>(
          production.adminUrl,
          'SELECT (SELECT count(*)::int FROM auth.users) AS users, (SELECT count(*)::int FROM public.profiles) AS profiles',
        )) as [{ users: number; profiles: number }];
        expect(profiles).toBeLessThan(users);
        await sameOnBothSides(staging, 'SELECT id, username, full_name, avatar_url, updated_at FROM public.profiles ORDER BY id');
        expect(await query(staging.adminUrl, `SELECT count(*)::int AS n FROM public.profiles WHERE full_name = 'Staging Tester'`)).toEqual([{ n: 0 }]);
      });

      it('computes the generated columns in staging as production did', async () => {
        await sameOnBothSides(staging, 'SELECT id, confirmed_at FROM auth.users ORDER BY id');
        await sameOnBothSides(staging, 'SELECT id, email FROM auth.identities ORDER BY id');
        await sameOnBothSides(staging, 'SELECT id, path_tokens FROM storage.objects ORDER BY id');
        const [computed] = (await query<{ confirmed: number; lowered: number; split: number }>(
          staging.adminUrl,
          `
          SELECT (SELECT count(*)::int FROM auth.users WHERE confirmed_at IS NOT NULL) AS confirmed,
                 (SELECT count(*)::int FROM auth.identities WHERE email <> identity_data ->> 'email') AS lowered,
                 (SELECT count(*)::int FROM storage.objects WHERE cardinality(path_tokens) > 2) AS split`,
        )) as [{ confirmed: number; lowered: number; split: number }];
        expect(computed.confirmed).toBeGreaterThan(0);
        expect(computed.lowered).toBeGreaterThan(0);
        expect(computed.split).toBeGreaterThan(0);
      });

      it("empties staging's sessions, copies none of production's, and leaves Auth's and Storage's migration records alone", async () => {
        expect(
          await query(
            staging.adminUrl,
            `
          SELECT (SELECT count(*)::int FROM auth.users WHERE email = 'tester@staging.example') AS stale_users,
                 (SELECT count(*)::int FROM auth.sessions) AS sessions,
                 (SELECT count(*)::int FROM auth.refresh_tokens) AS refresh_tokens,
                 (SELECT count(*)::int FROM auth.audit_log_entries) AS audit_log,
                 (SELECT count(*)::int FROM auth.scim_users) AS scim_users,
                 (SELECT count(*)::int FROM auth.webauthn_credentials) AS passkeys,
                 (SELECT string_agg(resource_id, ',') FROM auth.sso_providers) AS sso,
                 (SELECT string_agg(client_secret, ',') FROM auth.custom_oauth_providers) AS secrets`,
          ),
          // Passkeys and SCIM users went with staging's users; staging's provider settings, secrets and all, stay staging's.
        ).toEqual([
          { stale_users: 0, sessions: 0, refresh_tokens: 0, audit_log: 0, scim_users: 0, passkeys: 0, sso: 'okta-staging', secrets: 'STAGING-SECRET-acme' },
        ]);
        // Storage's work in progress: staging's uploads went with its buckets, production's were not copied, nor its events or analytics buckets.
        expect(
          await query(
            staging.adminUrl,
            `
          SELECT (SELECT count(*)::int FROM storage.s3_multipart_uploads) AS uploads,
                 (SELECT count(*)::int FROM storage.s3_multipart_uploads_parts) AS parts,
                 (SELECT string_agg(signature, ',') FROM storage.event_log) AS events,
                 (SELECT count(*)::int FROM storage.buckets_analytics) AS analytics`,
          ),
        ).toEqual([{ uploads: 0, parts: 0, events: 'staging-event', analytics: 0 }]);
        expect(await query(production.adminUrl, 'SELECT count(*)::int AS n FROM storage.s3_multipart_uploads')).toEqual([{ n: 3 }]);
        expect(await query(staging.adminUrl, MIGRATION_RECORDS)).toEqual(migrationsBefore);
        expect(migrationsBefore).toContainEqual({ source: 'auth', name: '29990101000000' });
      });

      it('says that Storage files are not copied, and which sign-in state and uploads it emptied', () => {
        expect(synced.stdout).toMatch(/Synced 33 tables, [\d,]+ rows/);
        expect(synced.stdout).toContain('storage.objects: only the rows are copied (names, owners, metadata), not the files in Storage');
        expect(synced.stdout).toContain(
          'auth.mfa_factors, auth.scim_users, auth.sessions, auth.webauthn_credentials, auth.refresh_tokens: emptied in staging, not copied',
        );
        expect(synced.stdout).toContain(
          "storage.s3_multipart_uploads, storage.s3_multipart_uploads_parts: emptied in staging, not copied. Their rows belong to staging's buckets",
        );
      });

      if (via === 'rest') {
        it('carries the values JSON would corrupt exactly (int8 above 2^53, 1.50, -0, duplicate json keys, array bounds)', async () => {
          await sameOnBothSides(
            staging,
            `
            SELECT id, big::text, amount::text, ratio::text, f4::text, js::text, j::text, grid::text
            FROM public.type_zoo WHERE id IN (3, 4, 5, 6, 8, 11) ORDER BY id`,
          );
          expect(
            await query(
              staging.adminUrl,
              'SELECT big::text, amount::text, ratio::text, js::text, grid::text FROM public.type_zoo WHERE id IN (3, 4, 6) ORDER BY id',
            ),
          ).toEqual([
            { big: '9007199254740993', amount: 'NaN', ratio: 'NaN', js: 'null', grid: '{{1,2},{3,4}}' },
            { big: '-9223372036854775808', amount: 'Infinity', ratio: 'Infinity', js: '{"a":1,"a":2}', grid: '[0:2]={1,2,3}' },
            { big: '-1', amount: '1.50', ratio: '-0', js: '"just a string"', grid: '{{{1}},{{2}}}' },
          ]);
        });
      }

      it('is then Perfect for verify-sync-status.ts, table by table', async () => {
        const verified = await runScript('verify-sync-status.ts', ['--via', via, ...everything], { env: envFor(production, staging) });
        expect(verified.stdout).toMatch(/\| auth\.users +\| 40 +\| 40 +\| ✅ Perfect +\|/);
        expect(verified.stdout).toMatch(/\| public\.profiles +\| 36 +\| 36 +\| ✅ Perfect +\|/);
        expect(verified.stdout).toContain('Staging equals production: 33 of 33 tables Perfect.');
        expect(verified.code).toBe(0);
      });

      it('leaves the profile trigger on for the next sign-up in staging', async () => {
        await query(
          staging.adminUrl,
          `INSERT INTO auth.users (id, aud, raw_user_meta_data) VALUES ('5ba90000-0000-4000-8000-000000000002', 'authenticated', '{"full_name": "New"}')`,
        );
        expect(await query(staging.adminUrl, `SELECT full_name FROM public.profiles WHERE id = '5ba90000-0000-4000-8000-000000000002'`)).toEqual([
          { full_name: 'New' },
        ]);
      });
    });
  }

  for (const via of ['postgres', 'rest'] as const) {
    it(`mirrors into a staging with sign-ups of its own: their sign-ins and uploads end with the users and buckets it deletes, others' stay, and restore brings all back (via ${via})`, async () => {
      const staging = await stack.createProject(`auth_mirror_${via}`);
      onTestFinished(() => staging.stop());
      const env = envFor(production, staging);
      const cwd = emptyDirectory();
      const mirror = () => runScript('sync.ts', ['--via', via, '--yes', '--mode', 'mirror', ...everything, '--exclude', 'public.event_log'], { env, cwd });
      const first = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--no-backup', ...everything], { env });
      expect(first.code, first.stderr).toBe(0);
      const STATE = `
        SELECT (SELECT count(*)::int FROM auth.users WHERE email = 'tester@staging.example') AS own_users,
               (SELECT count(*)::int FROM auth.sessions) AS sessions,
               (SELECT count(*)::int FROM auth.refresh_tokens) AS refresh_tokens,
               (SELECT count(*)::int FROM auth.webauthn_credentials) AS passkeys,
               (SELECT count(*)::int FROM storage.s3_multipart_uploads_parts) AS upload_parts,
               (SELECT string_agg(resource_id, ',') FROM auth.sso_providers) AS sso`;

      // A production user signed in to staging: nothing of staging's names a key the mirror deletes, so nothing ends.
      await query(
        staging.adminUrl,
        `INSERT INTO auth.sessions (id, user_id, created_at) SELECT '5e550000-0000-4000-8000-000000000002', min(id::text)::uuid, now() FROM auth.users`,
      );
      const quiet = await mirror();
      expect(quiet.code, quiet.stderr).toBe(0);
      expect(quiet.stdout).not.toContain('emptied in staging');
      expect(await query(staging.adminUrl, STATE)).toEqual([{ own_users: 0, sessions: 1, refresh_tokens: 0, passkeys: 0, upload_parts: 0, sso: null }]);

      // A tester signed up in staging alone and is signed in; a bucket of staging's own has an upload in progress.
      await query(staging.adminUrl, STAGING_OF_ITS_OWN);
      const before = await tableDigests(staging.adminUrl, SYNCED_SCHEMAS);
      const planned = await runScript('sync.ts', ['--via', via, '--dry-run', '--mode', 'mirror', ...everything, '--exclude', 'public.event_log'], { env });
      expect(planned.code, planned.stderr).toBe(0);
      expect(planned.stdout).toContain('auth.scim_users, auth.sessions, auth.webauthn_credentials, auth.refresh_tokens: emptied in staging, not copied.');
      const mirrored = await mirror();
      expect(mirrored.code, mirrored.stderr).toBe(0);
      expect(mirrored.stdout).toContain(
        "auth.scim_users, auth.sessions, auth.webauthn_credentials, auth.refresh_tokens: emptied in staging, not copied. Their rows belong to staging's users, " +
          "some of which this run deletes (production lacks them): staging's sign-ins end",
      );
      expect(mirrored.stdout).toContain('storage.s3_multipart_uploads, storage.s3_multipart_uploads_parts: emptied in staging, not copied.');
      // Provider settings reference no user: staging's stay.
      expect(await query(staging.adminUrl, STATE)).toEqual([
        { own_users: 0, sessions: 0, refresh_tokens: 0, passkeys: 0, upload_parts: 0, sso: 'okta-staging' },
      ]);
      expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));

      const line = backupLine(mirrored.stdout);
      expect(line, mirrored.stdout).not.toBeNull();
      const restored = await runScript('restore-staging.ts', [line!.restoreArgument, '--yes'], { env, cwd });
      expect(restored.code, restored.stderr).toBe(0);
      expect(await tableDigests(staging.adminUrl, SYNCED_SCHEMAS)).toEqual(before);
    });
  }

  describe("a sync of the app's schemas alone into a staging without production's users", () => {
    let staging: Project;
    beforeAll(async () => {
      staging = await stack.createProject('auth_missing_users');
    });
    afterAll(() => staging?.stop());

    for (const via of ['postgres', 'rest'] as const) {
      it(`stops before writing, naming auth.users, the counts and the schemas option (via ${via})`, async () => {
        const before = await tableDigests(staging.adminUrl, SYNCED_SCHEMAS);
        const result = await runScript('sync.ts', ['--via', via, '--yes', '--schemas', 'public,analytics'], { env: envFor(production, staging) });
        expect(result.code).toBe(1);
        const [counts] = (await query<{ profiles: number; staff: number; staff_users: number }>(
          production.adminUrl,
          `
          SELECT (SELECT count(*)::int FROM public.profiles) AS profiles,
                 (SELECT count(*)::int FROM public.staff_users WHERE auth_user_id IS NOT NULL) AS staff,
                 (SELECT count(DISTINCT auth_user_id)::int FROM public.staff_users) AS staff_users`,
        )) as [{ profiles: number; staff: number; staff_users: number }];
        expect(result.stderr).toContain(
          `${countOf(counts.profiles, 'row')} of public.profiles reference ${countOf(counts.profiles, 'auth.users row')} missing from staging`,
        );
        expect(result.stderr).toContain(
          `${countOf(counts.staff, 'row')} of public.staff_users reference ${countOf(counts.staff_users, 'auth.users row')} missing from staging`,
        );
        expect(result.stderr).toContain('--schemas public,analytics,auth');
        expect(result.stderr).toContain('--with-parents');
        expect(await tableDigests(staging.adminUrl, SYNCED_SCHEMAS)).toEqual(before);
      });
    }
  });

  describe("a staging whose Auth is another version than production's", () => {
    let staging: Project;
    beforeAll(async () => {
      staging = await stack.createProject('auth_other_version');
      // An older Auth in staging (no is_anonymous yet), and a newer one's column (staging's identities).
      await query(staging.adminUrl, 'ALTER TABLE auth.users DROP COLUMN is_anonymous CASCADE; ALTER TABLE auth.identities ADD COLUMN provider_note text');
    });
    afterAll(() => staging?.stop());

    it('is refused naming Auth and the upgrade, not a migration of the app; --allow-drift copies the columns both have', async () => {
      const env = envFor(production, staging);
      const before = await tableDigests(staging.adminUrl, ['auth']);
      const refused = await runScript('sync.ts', ['--via', 'postgres', '--yes', ...everything], { env });
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toContain('auth.users: Missing columns in staging: is_anonymous');
      expect(refused.stderr).toContain(
        "auth.users, auth.identities are Supabase Auth's, which migrates its tables itself: the two projects run different versions of it " +
          "(columns staging lacks: staging's is older; columns only staging has: staging's is newer), which no migration of the app aligns: " +
          'upgrade the older project (Dashboard > Project Settings > Infrastructure).',
      );
      expect(refused.stderr).not.toContain('Apply the migrations');
      expect(await tableDigests(staging.adminUrl, ['auth'])).toEqual(before);

      const copied = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--allow-drift', ...everything], { env });
      expect(copied.code, copied.stderr).toBe(0);
      const users = 'SELECT id, email, encrypted_password, raw_user_meta_data FROM auth.users ORDER BY id';
      await sameOnBothSides(staging, users);
      await sameOnBothSides(staging, 'SELECT id, user_id, provider, identity_data FROM auth.identities ORDER BY id');
      expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM auth.identities WHERE provider_note IS NOT NULL')).toEqual([{ n: 0 }]);
    });
  });

  it('refuses a schema Supabase manages, or its migration records, named on the command line, saying why', async () => {
    const env = envFor(production, sharedStaging);
    const vault = await runScript('sync.ts', ['--yes', '--schemas', 'public,vault'], { env });
    expect(vault.code).toBe(2);
    expect(vault.stderr).toContain(`Schema "vault" is never synced: it holds secrets encrypted with the project's own key`);
    const migrations = await runScript('sync.ts', ['--yes', '--schemas', 'auth', '--tables', 'schema_migrations'], { env });
    expect(migrations.code).toBe(2);
    expect(migrations.stderr).toContain("auth.schema_migrations is never synced: it is Auth's (GoTrue's) record of the migrations it ran");
    const own = await runScript('sync.ts', ['--yes', '--tables', 'supasync_private.sync_target'], { env });
    expect(own.code).toBe(2);
    expect(own.stderr).toContain(
      "--tables supasync_private.sync_target: supasync_private is supasync's own schema (the sync-target mark, watermarks, leases), never copied.",
    );
  });

  it("plans what it leaves out of auth and storage, and says Storage's files are not copied", async () => {
    const result = await runScript('sync.ts', ['--dry-run', ...everything], { env: envFor(production, sharedStaging) });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Not copied from the selected schemas:');
    expect(result.stdout).toContain('auth.schema_migrations: never copied: it is');
    expect(result.stdout).toContain('auth.sessions: only when named with --tables: it is');
    for (const table of ['auth.scim_users', 'auth.sso_providers', 'auth.webauthn_credentials']) {
      expect(result.stdout).toContain(`${table}: only when named with --tables: it is production's sign-in state`);
    }
    expect(result.stdout).toContain(
      "auth.custom_oauth_providers: only when named with --tables: it is production's Auth settings for its sign-in providers, their client secrets included",
    );
    expect(result.stdout).toContain('storage.objects: only the rows are copied');
    expect(result.stdout).toContain(
      'auth.mfa_factors, auth.scim_users, auth.sessions, auth.webauthn_credentials, auth.refresh_tokens: emptied in staging, not copied',
    );
    expect(result.stdout).toMatch(/\| 1 +\| auth\.identities +\| id +\| 50 +\| generated, left out: email +\|/);
    expect(result.stdout).not.toContain('does not fire for the rows a sync copies');
    // The users alone: the profile trigger makes no profile for a copied user, and public is not in the run.
    for (const via of ['postgres', 'rest']) {
      const users = await runScript('sync.ts', ['--via', via, '--dry-run', '--schemas', 'auth'], { env: envFor(production, sharedStaging) });
      expect(users.code, users.stderr).toBe(0);
      expect(users.stdout, via).toContain(
        "auth.users: staging's trigger on_auth_user_created does not fire for the rows a sync copies, and public.profiles, " +
          "which references it, is not in this run: production's rows come without what it makes for them there. Copy that table too",
      );
    }
  });
});
