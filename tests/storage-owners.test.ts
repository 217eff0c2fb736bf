// Whom files belong to: Storage writes a file's owner (owner, owner_id) and
// custom metadata (user_metadata) from the request that uploads it, and a
// sync uploads with the service key, which names no user. `--storage` sets
// them in staging's storage.objects from production's after each bucket's
// files, over both paths, and verify compares them. Production's files here
// are uploaded by their users through Storage, and staging's are read back
// by those users under an owner policy: the outcome a user of an app sees.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { signJwt } from '../stack/jwt.ts';
import { functionsVersion } from '../lib/install/version.ts';
import { openPostgresDatabase } from '../lib/transport/postgres/database.ts';
import { openRestDatabase } from '../lib/transport/rest/database.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();
let production: Project;
let staging: Project;
let env: Record<string, string>;

const USERS = ['6f1c0a52-1c5e-4c1a-9a7e-2f4f0d7a0001', '6f1c0a52-1c5e-4c1a-9a7e-2f4f0d7a0002', '6f1c0a52-1c5e-4c1a-9a7e-2f4f0d7a0003'];
/** Each user's files, and some the service key uploaded (no owner). */
const OWNED = Array.from({ length: 24 }, (_, i) => ({ user: USERS[i % 3]!, path: `${USERS[i % 3]}/doc-${i}.txt` }));
const UNOWNED = ['shared/terms.txt', 'shared/privacy.txt'];
const OWNERS = `SELECT name, owner::text, owner_id, user_metadata FROM storage.objects WHERE bucket_id = 'docs' ORDER BY name`;
/** A file is its user's: what Supabase's storage guides write. */
const POLICY = `CREATE POLICY own_docs ON storage.objects FOR ALL TO authenticated
  USING (bucket_id = 'docs' AND owner_id = (SELECT auth.uid())::text) WITH CHECK (bucket_id = 'docs')`;

/** Storage as a signed-in user of the project (their JWT) or as the service key. */
function storageOf(project: Project, user?: string) {
  const token = user
    ? signJwt({ sub: user, role: 'authenticated', aud: 'authenticated', exp: Math.floor(Date.now() / 1000) + 3600 }, stack.info.jwtSecret)
    : null;
  return createClient(project.apiUrl, user ? project.anonKey : project.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: WebSocket as never },
    ...(token ? { global: { headers: { Authorization: `Bearer ${token}` } } } : {}),
  }).storage;
}

async function upload(project: Project, path: string, user?: string): Promise<void> {
  const { error } = await storageOf(project, user)
    .from('docs')
    .upload(path, Buffer.from(`${path} of ${user ?? 'nobody'}`), {
      contentType: 'text/plain',
      upsert: true,
      metadata: { uploadedBy: user ?? 'service', path },
    });
  if (error) throw new Error(`docs/${path}: ${error.message}`);
}

/** The paths of `paths` the user can read from the project's Storage. */
async function readableBy(project: Project, user: string, paths: string[]): Promise<string[]> {
  const storage = storageOf(project, user).from('docs');
  const read = await Promise.all(paths.map(async (path) => ((await storage.download(path)).error ? null : path)));
  return read.filter((path): path is string => path !== null);
}

beforeAll(async () => {
  [production, staging] = await Promise.all([stack.createProject('owners_production', { syncTarget: false }), stack.createProject('owners_staging')]);
  env = envFor(production, staging);
  const users = USERS.map((id, i) => `('${id}', 'authenticated', 'authenticated', 'user${i}@example.com')`).join(', ');
  await query(production.adminUrl, `INSERT INTO auth.users (id, aud, role, email) VALUES ${users}; ${POLICY}`);
  await query(staging.adminUrl, POLICY);
  expect((await storageOf(production).createBucket('docs', { public: false })).error).toBeNull();
  await Promise.all(OWNED.map(({ user, path }) => upload(production, path, user)));
  await Promise.all(UNOWNED.map((path) => upload(production, path)));
}, 60_000);

afterAll(async () => {
  await Promise.all([production?.stop(), staging?.stop()]);
});

describe('sync --storage carries whom each file belongs to', () => {
  it("sets staging's owner, owner_id and user_metadata to production's after the files: each user reads their own files in staging, and verify compares them", async () => {
    const owners = await query(production.adminUrl, OWNERS);
    // Storage took them from the uploads: the users' own, none for the service key's.
    expect(owners.filter((row) => row.owner_id === USERS[0])).toHaveLength(8);
    expect(owners.filter((row) => row.owner === null).map((row) => row.name)).toEqual(UNOWNED.slice().sort());

    const planned = await runScript('sync.ts', ['--dry-run', '--tables', 'hotels', '--buckets', 'docs'], { env });
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/\| Owners to set \|/);
    expect(planned.stdout).toMatch(/\| docs +\| to be created \| 26 \([\d.]+ MB\) \| 26 \([\d.]+ MB\) \| 0 +\| 0 +\| 26 +\| - +\|/);

    const synced = await runScript('sync.ts', ['--yes', '--tables', 'hotels', '--buckets', 'docs', '--verify'], { env });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    expect(synced.stdout).toMatch(/\| docs +\| created +\| 26 \([\d.]+ MB\) \| 26 \([\d.]+ MB\) \| 0 +\| 0 +\| 26 +\| [\d.]+s \|/);
    expect(synced.stdout).toMatch(/\| docs +\| 26 \([\d.]+ MB\) +\| 26 \([\d.]+ MB\) +\| ✅ Equal/);
    expect(await query(staging.adminUrl, OWNERS)).toEqual(owners);
    // What an owner policy then lets each user at in staging: their own files, no one else's.
    for (const user of USERS) {
      const all = OWNED.map((file) => file.path);
      expect(await readableBy(staging, user, all)).toEqual(OWNED.filter((file) => file.user === user).map((file) => file.path));
    }
  });

  it("verify names a file owned otherwise in staging and exits 1; a re-sync sets that file's owner alone", async () => {
    const changed = OWNED[4]!.path;
    await query(staging.adminUrl, `UPDATE storage.objects SET owner_id = '${USERS[2]}', user_metadata = '{"edited": true}' WHERE name = '${changed}'`);
    const verify = await runScript('verify-sync-status.ts', ['--tables', 'hotels', '--buckets', 'docs'], { env });
    expect(verify.code, verify.stdout).toBe(1);
    expect(verify.stdout).toMatch(/\| docs +\| 26 \([\d.]+ MB\) +\| 26 \([\d.]+ MB\) +\| ❌ Files differ/);
    expect(verify.stdout).toContain(`  owned otherwise (owner, owner_id or user_metadata): ${changed}`);
    const resync = await runScript('sync.ts', ['--yes', '--tables', 'hotels', '--buckets', 'docs', '--mode', 'upsert'], { env });
    expect(resync.code, resync.stdout + resync.stderr).toBe(0);
    expect(resync.stdout).toMatch(/\| docs +\| unchanged +\| 26 \([\d.]+ MB\) \| 0 \(0\.0 MB\) +\| 26 +\| 0 +\| 1 +\|/);
    expect(await query(staging.adminUrl, OWNERS)).toEqual(await query(production.adminUrl, OWNERS));
  });

  it('does the same over REST, with sb_secret_ keys', async () => {
    const rest = { ...env, SUPABASE_PROD_SERVICE_ROLE_KEY: production.secretKey, SUPABASE_STAGING_SERVICE_ROLE_KEY: staging.secretKey };
    await query(staging.adminUrl, `UPDATE storage.objects SET owner = NULL, owner_id = NULL, user_metadata = NULL WHERE name LIKE '${USERS[1]}/%'`);
    const before = await runScript('verify-sync-status.ts', ['--via', 'rest', '--tables', 'hotels', '--buckets', 'docs'], { env: rest });
    expect(before.code, before.stdout + before.stderr).toBe(1);
    expect(before.stdout).toContain(
      `owned otherwise (owner, owner_id or user_metadata): ${OWNED.filter((file) => file.user === USERS[1])
        .map((file) => file.path)
        .sort()
        .join(', ')}`,
    );
    const synced = await runScript('sync.ts', ['--via', 'rest', '--yes', '--tables', 'hotels', '--buckets', 'docs', '--mode', 'upsert', '--verify'], {
      env: rest,
    });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    expect(synced.stdout).toMatch(/\| docs +\| unchanged +\| 26 \([\d.]+ MB\) \| 0 \(0\.0 MB\) +\| 26 +\| 0 +\| 8 +\|/);
    expect(await query(staging.adminUrl, OWNERS)).toEqual(await query(production.adminUrl, OWNERS));
    expect(await readableBy(staging, USERS[1]!, [OWNED[1]!.path])).toEqual([OWNED[1]!.path]);
  });

  it("insert-missing sets the owners of the files it copies and leaves those of staging's own files alone", async () => {
    const kept = OWNED[0]!.path;
    const added = `${USERS[0]}/new-doc.txt`;
    await upload(production, added, USERS[0]);
    await query(staging.adminUrl, `UPDATE storage.objects SET owner_id = 'staging-tester' WHERE name = '${kept}'`);
    const synced = await runScript('sync.ts', ['--yes', '--tables', 'hotels', '--buckets', 'docs', '--mode', 'insert-missing'], { env });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    const ownerOf = (project: Project, name: string) =>
      query(project.adminUrl, `SELECT owner::text, owner_id, user_metadata FROM storage.objects WHERE name = '${name}'`);
    expect(await ownerOf(staging, added)).toEqual(await ownerOf(production, added));
    expect((await ownerOf(staging, added))[0]?.owner_id).toBe(USERS[0]);
    expect((await ownerOf(staging, kept))[0]?.owner_id).toBe('staging-tester');
    await query(staging.adminUrl, `UPDATE storage.objects SET owner_id = '${USERS[0]}' WHERE name = '${kept}'`);
  });

  it("leaves the owner of a user staging lacks empty where an older Storage schema's foreign key ties it to auth.users, and says so", async () => {
    // Storage's schemas before its owner_id migration: storage.objects.owner REFERENCES auth.users. Staging has none of production's users.
    await query(staging.adminUrl, `UPDATE storage.objects SET owner = NULL, owner_id = NULL WHERE bucket_id = 'docs'`);
    await query(staging.adminUrl, 'ALTER TABLE storage.objects ADD CONSTRAINT objects_owner_fkey FOREIGN KEY (owner) REFERENCES auth.users (id)');
    try {
      const synced = await runScript('sync.ts', ['--yes', '--tables', 'hotels', '--buckets', 'docs', '--mode', 'upsert'], { env });
      expect(synced.code, synced.stdout + synced.stderr).toBe(0);
      expect(synced.stdout).toContain(
        "docs: the owner of 25 files is a user staging lacks, and staging's storage.objects.owner has a foreign key to its users (as older Storage schemas do): " +
          'left without owner (owner_id is set). Copy the users first (npx tsx scripts/sync.ts --schemas public,auth), then the files again.',
      );
      const rows = await query(
        staging.adminUrl,
        `SELECT count(owner)::int AS owners, count(owner_id)::int AS owner_ids FROM storage.objects WHERE bucket_id = 'docs'`,
      );
      expect(rows).toEqual([{ owners: 0, owner_ids: 25 }]);
    } finally {
      await query(staging.adminUrl, 'ALTER TABLE storage.objects DROP CONSTRAINT objects_owner_fkey');
    }
  });

  it("says why owners are left where production's REST functions are older, or staging's role may not update storage.objects, and copies the files all the same", async () => {
    const path = `${USERS[2]}/later.txt`;
    await upload(production, path, USERS[2]);
    const version = (to: number) =>
      `CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql IMMUTABLE SET search_path = '' AS $$ SELECT ${to} $$`;
    await query(production.adminUrl, version(29));
    try {
      const cwd = emptyDirectory();
      const older = await runScript(
        'sync.ts',
        ['--via', 'rest', '--yes', '--tables', 'hotels', '--buckets', 'docs', '--mode', 'upsert', '--verify', '--report', 'run.md'],
        { env, cwd },
      );
      expect(older.code, older.stdout + older.stderr).toBe(0);
      expect(older.stdout).toContain(
        "Whom the files belong to was not carried (production's supasync functions are version 29, and reading and setting files' owners needs version 30: " +
          "npx tsx scripts/install-rpcs.ts --production): staging's copies belong to no user.",
      );
      expect(older.stdout).toContain("Whom the files belong to was not compared (production's supasync functions are version 29");
      // The report says both too, for whoever reads the run in CI.
      const report = readFileSync(join(cwd, 'run.md'), 'utf8');
      expect(report).toContain("Whom the files belong to was not carried (production's supasync functions are version 29");
      expect(report).toContain("Whom the files belong to was not compared (production's supasync functions are version 29");
    } finally {
      await query(production.adminUrl, version(functionsVersion()));
    }
    expect(await query(staging.adminUrl, `SELECT owner_id FROM storage.objects WHERE name = '${path}'`)).toEqual([{ owner_id: null }]);

    // postgres has it as granted, and through the API roles it may act as (as on Supabase).
    const roles = 'postgres, service_role, authenticated, anon';
    await query(staging.adminUrl, `REVOKE UPDATE ON storage.objects FROM ${roles}`);
    try {
      const denied = await runScript('sync.ts', ['--yes', '--tables', 'hotels', '--buckets', 'docs', '--mode', 'upsert'], { env });
      expect(denied.code, denied.stdout + denied.stderr).toBe(0);
      expect(denied.stdout).toContain(
        "Whom the files belong to was not carried (staging's role postgres may not update storage.objects (GRANT SELECT, UPDATE))",
      );
    } finally {
      await query(staging.adminUrl, `GRANT UPDATE ON storage.objects TO ${roles}`);
    }
    const carried = await runScript('sync.ts', ['--yes', '--tables', 'hotels', '--buckets', 'docs', '--mode', 'upsert', '--verify'], { env });
    expect(carried.code, carried.stdout + carried.stderr).toBe(0);
    expect(await query(staging.adminUrl, OWNERS)).toEqual(await query(production.adminUrl, OWNERS));
  });

  // Storage's object versioning (its 0062-0069 migrations): a key's archived versions and delete markers are rows of
  // storage.objects too, beside the current one, which is the file its API serves and lists. The stand-in keeps no
  // versions, so the rows are written here and asked of the run's own reads and writes.
  it("reads and sets a file's current version alone where Storage keeps versions (archived rows, delete markers)", async () => {
    const versioned = `ALTER TABLE storage.objects ADD COLUMN archived_at timestamptz, ADD COLUMN is_delete_marker boolean NOT NULL DEFAULT false;
      DROP INDEX storage.bucketid_objname;
      CREATE UNIQUE INDEX idx_objects_current_version ON storage.objects (bucket_id, name) WHERE archived_at IS NULL;
      INSERT INTO storage.buckets (id, name) VALUES ('kept', 'kept');`;
    const rows = (owner: string, archived: string) => `INSERT INTO storage.objects (bucket_id, name, owner_id, archived_at, is_delete_marker) VALUES
      ('kept', 'a.txt', '${owner}', NULL, false), ('kept', 'a.txt', '${archived}', now() - interval '1 day', false),
      ('kept', 'gone.txt', '${archived}', NULL, true), ('kept', 'gone.txt', '${owner}', now() - interval '2 days', false)`;
    const [theirs, ours] = await Promise.all([
      stack.createProject('owners_versions_production', { syncTarget: false }),
      stack.createProject('owners_versions_staging'),
    ]);
    try {
      await query(theirs.adminUrl, `${versioned} ${rows(USERS[0]!, USERS[1]!)}`);
      await query(ours.adminUrl, `${versioned} ${rows('staging-user', 'staging-archived')}`);
      // Read on both paths; set directly, by the very statement the REST function runs (one builder: supasync_private.set_file_owners_query).
      const rest = openRestDatabase({ via: 'rest', side: 'production', url: theirs.apiUrl, serviceRoleKey: theirs.secretKey });
      const [production, staging] = await Promise.all([
        openPostgresDatabase({ via: 'postgres', side: 'production', dbUrl: theirs.dbUrl }),
        openPostgresDatabase({ via: 'postgres', side: 'staging', dbUrl: ours.dbUrl }),
      ]);
      try {
        const current = [{ name: 'a.txt', owner: null, owner_id: USERS[0], user_metadata: null }];
        expect(await production.fileOwners('kept', null, 10)).toEqual(current);
        expect(await rest.fileOwners('kept', null, 10)).toEqual(current);
        expect(await staging.setFileOwners('kept', [{ ...current[0]!, owner_id: USERS[2] }])).toEqual({ updated: 1, unmatched: 0 });
      } finally {
        await Promise.all([production.close(), staging.close(), rest.close()]);
      }
      // The current row alone took the owner: the archived version and the delete marker are as they were.
      expect(
        await query(ours.adminUrl, 'SELECT name, owner_id, archived_at IS NOT NULL AS archived, is_delete_marker FROM storage.objects ORDER BY name, archived'),
      ).toEqual([
        { name: 'a.txt', owner_id: USERS[2], archived: false, is_delete_marker: false },
        { name: 'a.txt', owner_id: 'staging-archived', archived: true, is_delete_marker: false },
        { name: 'gone.txt', owner_id: 'staging-archived', archived: false, is_delete_marker: true },
        { name: 'gone.txt', owner_id: 'staging-user', archived: true, is_delete_marker: false },
      ]);
    } finally {
      await Promise.all([theirs.stop(), ours.stop()]);
    }
  });
});
