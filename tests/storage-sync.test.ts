// Files with their rows: `--storage` copies production's buckets and objects
// into staging through both projects' Storage API (the stack's stand-in,
// behind the gateway), and verify compares them. Every check reads the bytes
// back from staging's Storage, and its rows from staging's database.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();
let production: Project;
let staging: Project;
let env: Record<string, string>;

const storageOf = (project: Project) =>
  createClient(project.apiUrl, project.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: WebSocket as never },
  }).storage;

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const PHOTOS = Array.from({ length: 300 }, (_, i) => `p/${i % 5}/${i % 7}/img-${i}.png`);
const BIG = 'dumps/big.bin';
const BIG_BYTES = 50_000_000;

async function bytesIn(project: Project, bucket: string, path: string): Promise<Buffer> {
  const { data, error } = await storageOf(project).from(bucket).download(path);
  if (error) throw new Error(`${bucket}/${path}: ${error.message}`);
  return Buffer.from(await data.arrayBuffer());
}

async function upload(project: Project, bucket: string, path: string, bytes: Buffer, contentType = 'image/png'): Promise<void> {
  const { error } = await storageOf(project).from(bucket).upload(path, bytes, { upsert: true, contentType });
  if (error) throw new Error(`${bucket}/${path}: ${error.message}`);
}

/** Every photo and the big file read back from both sides: equal bytes, or the paths that differ. */
async function differingFiles(): Promise<string[]> {
  const differing: string[] = [];
  for (let i = 0; i < PHOTOS.length; i += 25) {
    await Promise.all(
      PHOTOS.slice(i, i + 25).map(async (path) => {
        const [mine, theirs] = await Promise.all([bytesIn(production, 'photos', path), bytesIn(staging, 'photos', path).catch(() => Buffer.alloc(0))]);
        if (sha(mine) !== sha(theirs)) differing.push(path);
      }),
    );
  }
  const [big, copied] = await Promise.all([bytesIn(production, 'archive', BIG), bytesIn(staging, 'archive', BIG).catch(() => Buffer.alloc(0))]);
  if (sha(big) !== sha(copied)) differing.push(BIG);
  return differing;
}

beforeAll(async () => {
  [production, staging] = await Promise.all([stack.createProject('files_production', { syncTarget: false }), stack.createProject('files_staging')]);
  env = envFor(production, staging);
  const storage = storageOf(production);
  expect(
    (await storage.createBucket('photos', { public: true, fileSizeLimit: 10 * 1024 * 1024, allowedMimeTypes: ['image/png', 'text/plain'] })).error,
  ).toBeNull();
  expect((await storage.createBucket('archive', { public: false })).error).toBeNull();
  for (let i = 0; i < PHOTOS.length; i += 20) {
    await Promise.all(PHOTOS.slice(i, i + 20).map((path, j) => upload(production, 'photos', path, randomBytes(1000 + ((i + j) % 7) * 500))));
  }
  await upload(production, 'archive', BIG, randomBytes(BIG_BYTES), 'application/octet-stream');
}, 120_000);

afterAll(async () => {
  await Promise.all([production?.stop(), staging?.stop()]);
});

describe('sync --storage', () => {
  it('--dry-run lists each bucket, its objects and bytes, and what would be copied, and changes nothing', async () => {
    const result = await runScript('sync.ts', ['--storage', '--dry-run'], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\| photos +\| to be created \| 300 \([\d.]+ MB\) \| 300 \([\d.]+ MB\) \| 0 +\| 0 /);
    expect(result.stdout).toMatch(/\| archive +\| to be created \| 1 \(47\.7 MB\) +\| 1 \(47\.7 MB\) +\| 0 +\| 0 /);
    expect((await storageOf(staging).listBuckets()).data).toEqual([]);
    // Storage's own rows are then its to write: the row copy leaves them out.
    const withSchema = await runScript('sync.ts', ['--storage', '--dry-run', '--schemas', 'public,storage', '--json'], { env });
    expect(withSchema.code, withSchema.stderr).toBe(0);
    const planned = JSON.parse(withSchema.stdout) as { plan: { tables: { table: { schema: string; name: string } }[] }; files: { bucket: string }[] };
    expect(planned.plan.tables.filter((table) => table.table.schema === 'storage')).toEqual([]);
    expect(planned.files.map((file) => file.bucket)).toEqual(['archive', 'photos']);
  });

  it('copies every bucket with its settings and every file exactly; Storage writes the rows, the report tells each bucket, and verify finds them equal', async () => {
    const cwd = emptyDirectory();
    const result = await runScript('sync.ts', ['--yes', '--storage', '--report', 'files.md'], { env, cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\| photos +\| created +\| 300 \([\d.]+ MB\) \| 300 /);
    const report = readFileSync(join(cwd, 'files.md'), 'utf8');
    expect(report).toMatch(/^# supasync sync: ✅ .* Files: 2 buckets, 301 copied \([\d.]+ MB\), 0 unchanged\./);
    expect(report).toMatch(/\| `archive` \| created \| 1 \(47\.7 MB\) \| 1 \(47\.7 MB\) \| 0 \| 0 \| 0 \| [\d.]+ m?s \|/);
    expect(report).toMatch(/\| `photos` \| created \| 300 \([\d.]+ [KM]B\) \| 300 \([\d.]+ [KM]B\) \| 0 \| 0 \| 0 \| [\d.]+ m?s \|/);
    const buckets = (await storageOf(staging).listBuckets()).data!;
    expect(buckets.map(({ id, public: open, file_size_limit, allowed_mime_types }) => ({ id, open, file_size_limit, allowed_mime_types }))).toEqual([
      { id: 'archive', open: false, file_size_limit: null, allowed_mime_types: null },
      { id: 'photos', open: true, file_size_limit: 10 * 1024 * 1024, allowed_mime_types: ['image/png', 'text/plain'] },
    ]);
    expect(await differingFiles()).toEqual([]);
    // The rows are the staging server's own: written as it took each file, not copied from production's.
    const rows = await query(staging.adminUrl, `SELECT bucket_id, count(*)::int AS n FROM storage.objects GROUP BY 1 ORDER BY 1`);
    expect(rows).toEqual([
      { bucket_id: 'archive', n: 1 },
      { bucket_id: 'photos', n: 300 },
    ]);
    const productionIds = new Set((await query(production.adminUrl, `SELECT id::text FROM storage.objects`)).map((row) => row.id));
    const stagingIds = (await query(staging.adminUrl, `SELECT id::text FROM storage.objects`)).map((row) => row.id);
    expect(stagingIds.filter((id) => productionIds.has(id))).toEqual([]);
    const verify = await runScript('verify-sync-status.ts', ['--storage'], { env });
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toMatch(/\| photos +\| 300 \([\d.]+ MB\) \| 300 \([\d.]+ MB\) \| ✅ Equal/);
  });

  it('re-copies a changed file only, survives a 503, keeps staging-only files in upsert and removes them in mirror', async () => {
    await upload(production, 'photos', PHOTOS[0]!, randomBytes(4321));
    await upload(staging, 'photos', 'extra/only-in-staging.png', randomBytes(100));
    staging.gateway.resetStats();
    production.gateway.injectFaults({ api: 'storage', status503: 1, onlyMethods: ['GET'], onlyPaths: /^\/object\/authenticated\/photos\// });
    const upsert = await runScript('sync.ts', ['--yes', '--storage', '--mode', 'upsert', '--exclude', 'event_log'], { env });
    expect(upsert.code, upsert.stderr).toBe(0);
    expect(production.gateway.stats().faults.status503).toBe(1);
    // One file copied, 299 + 1 unchanged, the extra one kept.
    expect(upsert.stdout).toMatch(/\| photos +\| unchanged \| 300 \([\d.]+ MB\) \| 1 \([\d.]+ MB\) \| 299 +\| 0 /);
    expect(Object.keys(staging.gateway.stats().storageRequests).filter((path) => path.startsWith('/object/photos/'))).toEqual([`/object/photos/${PHOTOS[0]}`]);
    expect(await differingFiles()).toEqual([]);
    expect(await bytesIn(staging, 'photos', 'extra/only-in-staging.png')).toHaveLength(100);

    const mirror = await runScript('sync.ts', ['--yes', '--storage', '--mode', 'mirror', '--exclude', 'event_log'], { env });
    expect(mirror.code, mirror.stderr).toBe(0);
    expect(mirror.stdout).toMatch(/\| photos +\| unchanged \| 300 \([\d.]+ MB\) \| 0 \(0\.0 MB\) \| 300 +\| 1 /);
    const left = await query(staging.adminUrl, `SELECT name FROM storage.objects WHERE name LIKE 'extra/%'`);
    expect(left).toEqual([]);
    expect((await runScript('verify-sync-status.ts', ['--storage'], { env })).code).toBe(0);
  });

  it('verify names a file whose bytes differ in staging, and exits 1', async () => {
    const path = PHOTOS[1]!;
    const original = await bytesIn(production, 'photos', path);
    await upload(staging, 'photos', path, Buffer.from(original.map((byte) => byte ^ 0xff)));
    const cwd = emptyDirectory();
    const verify = await runScript('verify-sync-status.ts', ['--storage', '--buckets', 'photos', '--report', 'verify.md'], {
      env: { ...env, GITHUB_STEP_SUMMARY: join(cwd, 'summary.md') },
      cwd,
    });
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`different: ${path}`);
    expect(verify.stdout).toContain('❌ Files differ');
    // The report and the job summary say so too: a run whose rows are equal failed on its files.
    const report = readFileSync(join(cwd, 'verify.md'), 'utf8');
    expect(report).toMatch(/^# supasync verify: ❌ .*Files differ in photos\./);
    expect(report).toContain(`- different: \`${path}\``);
    expect(readFileSync(join(cwd, 'summary.md'), 'utf8')).toMatch(/\| `photos` \| 300 \([\d.]+ [KM]B\) \| 300 \([\d.]+ [KM]B\) \| ❌ Files differ \|/);
  });

  it("takes production's rows copied into staging's storage.objects for files staging lacks: verify names them, --storage copies them", async () => {
    // A sync of schema storage copies production's object rows: listed by staging's Storage, with production's size and
    // ETag, but their files were never put in its store (the rows point at production's versions).
    const copied = PHOTOS.slice(10, 13);
    const rows = await query<{ id: string; name: string; version: string; metadata: unknown }>(
      production.adminUrl,
      `SELECT id, name, version, metadata FROM storage.objects WHERE bucket_id = 'photos' AND name = ANY($1) ORDER BY name`,
      [copied],
    );
    for (const row of rows) {
      await query(staging.adminUrl, `UPDATE storage.objects SET id = $2, version = $3, metadata = $4 WHERE bucket_id = 'photos' AND name = $1`, [
        row.name,
        row.id,
        row.version,
        row.metadata,
      ]);
    }
    const verify = await runScript('verify-sync-status.ts', ['--storage', '--buckets', 'photos'], { env });
    expect(verify.code, verify.stdout).toBe(1);
    for (const path of copied) expect(verify.stdout).toContain(path);

    const sync = await runScript('sync.ts', ['--yes', '--storage', '--mode', 'upsert', '--exclude', 'event_log', '--buckets', 'photos'], { env });
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/\| photos +\| unchanged \| 300 \([\d.]+ MB\) \| 4 \([\d.]+ MB\) \| 296 +\| 0 /);
    expect(await differingFiles()).toEqual([]);
    expect((await runScript('verify-sync-status.ts', ['--storage', '--buckets', 'photos'], { env })).code).toBe(0);
  });

  it("follows supasync.config.json's storage section unless a flag says otherwise, and shows the bytes as they move", async () => {
    const cwd = emptyDirectory();
    const config = (storage: unknown) => writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ exclude: ['event_log'], storage }));
    const path = PHOTOS[3]!;
    await upload(production, 'photos', path, randomBytes(3333));
    config({ buckets: ['photos'] });
    const sync = await runScript('sync.ts', ['--yes', '--mode', 'upsert'], { env, cwd });
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/\| photos +\| unchanged \| 300 \([\d.]+ MB\) \| \d+ \([\d.]+ MB\) \|/);
    expect(sync.stdout).not.toMatch(/\| archive /);
    expect(sync.stderr).toMatch(/✓ photos {2}\d+ files, [\d.]+ MB in [\d.]+s/);
    expect(sha(await bytesIn(staging, 'photos', path))).toBe(sha(await bytesIn(production, 'photos', path)));
    const verify = await runScript('verify-sync-status.ts', [], { env, cwd });
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toMatch(/\| photos +\| 300 \([\d.]+ MB\) \| 300 \([\d.]+ MB\) \| ✅ Equal/);
    // --no-storage: the rows alone, this once.
    const rowsOnly = await runScript('verify-sync-status.ts', ['--no-storage'], { env, cwd });
    expect(rowsOnly.code, rowsOnly.stdout).toBe(0);
    expect(rowsOnly.stdout).not.toContain('Files:');
    const both = await runScript('sync.ts', ['--no-storage', '--buckets', 'photos', '--dry-run'], { env, cwd });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--no-storage leaves every bucket alone');
    // "files": false keeps the section's buckets for --storage, and copies nothing without it.
    config({ files: false, buckets: ['archive'] });
    const off = await runScript('sync.ts', ['--dry-run'], { env, cwd });
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).not.toContain('Files');
    const asked = await runScript('sync.ts', ['--dry-run', '--storage'], { env, cwd });
    expect(asked.stdout).toMatch(/\| archive +\| unchanged \| 1 /);
    expect(asked.stdout).not.toMatch(/\| photos /);
    config({ buckets: [] });
    const empty = await runScript('sync.ts', ['--dry-run'], { env, cwd });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('storage.buckets: name at least one bucket');
    config({ buckets: ['photoz'] });
    const unknown = await runScript('verify-sync-status.ts', [], { env, cwd });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('supasync.config.json, "storage": No bucket "photoz" in production. Its buckets: archive, photos.');
  });

  it('works with sb_secret_ keys as with the legacy service_role JWT', async () => {
    const secret = { ...env, SUPABASE_PROD_SERVICE_ROLE_KEY: production.secretKey, SUPABASE_STAGING_SERVICE_ROLE_KEY: staging.secretKey };
    expect(secret.SUPABASE_PROD_SERVICE_ROLE_KEY).toMatch(/^sb_secret_/);
    const path = PHOTOS[2]!;
    await upload(production, 'photos', path, randomBytes(2222));
    const sync = await runScript('sync.ts', ['--yes', '--buckets', 'photos', '--mode', 'upsert', '--exclude', 'event_log'], { env: secret });
    expect(sync.code, sync.stderr).toBe(0);
    expect(sha(await bytesIn(staging, 'photos', path))).toBe(sha(await bytesIn(production, 'photos', path)));
    expect(sync.stdout + sync.stderr).not.toContain(production.secretKey);
  });

  it("keeps production's object ids for a table that names storage.objects by id: said before a run with files, and kept by rows first, files after", async () => {
    const table = 'CREATE TABLE public.file_notes (id int PRIMARY KEY, object_id uuid NOT NULL REFERENCES storage.objects (id))';
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${table}`);
    try {
      await query(
        production.adminUrl,
        `INSERT INTO public.file_notes SELECT row_number() OVER (ORDER BY name), id FROM storage.objects WHERE bucket_id = 'photos'`,
      );
      const planned = await runScript('sync.ts', ['--storage', '--dry-run', '--tables', 'file_notes', '--buckets', 'photos'], { env });
      expect(planned.stderr).toContain(
        "public.file_notes.object_id names storage.objects by id, and Storage gives each file it takes staging's own id: those rows would name objects staging does not have.",
      );
      // The first run it gives is of this run's tables, with Storage's rows.
      expect(planned.stderr).toContain('in a run without files (npx tsx scripts/sync.ts --tables storage.buckets,storage.objects,public.file_notes)');
      // The order the warning gives: the rows with production's ids, then their files into those rows.
      const rows = await runScript('sync.ts', ['--yes', '--tables', 'storage.buckets,storage.objects,file_notes', '--no-backup'], { env });
      expect(rows.code, rows.stdout + rows.stderr).toBe(0);
      // Staging holds the objects they name now: nothing to warn of.
      const replanned = await runScript('sync.ts', ['--storage', '--dry-run', '--tables', 'file_notes', '--buckets', 'photos'], { env });
      expect(replanned.code, replanned.stderr).toBe(0);
      expect(replanned.stderr).not.toContain('names storage.objects by id');
      // Every bucket's: the row copy brought production's row for the archive's file too.
      const files = await runScript('sync.ts', ['--yes', '--storage', '--mode', 'upsert', '--exclude', 'event_log', '--no-backup'], { env });
      expect(files.code, files.stdout + files.stderr).toBe(0);
      const ids = `SELECT string_agg(id::text, ',' ORDER BY name) AS ids FROM storage.objects WHERE bucket_id = 'photos'`;
      expect(await query(staging.adminUrl, ids)).toEqual(await query(production.adminUrl, ids));
      expect(await differingFiles()).toEqual([]);
      expect((await runScript('verify-sync-status.ts', ['--storage', '--buckets', 'photos', '--tables', 'file_notes'], { env })).code).toBe(0);
    } finally {
      for (const project of [production, staging]) await query(project.adminUrl, 'DROP TABLE public.file_notes');
    }
    // Six runs, one of every bucket's files: about 25 s alone, past the default minute on a loaded two-core machine.
  }, 120_000);

  it("refuses files through REST URLs that lead elsewhere than the rows' databases (swapped, or another staging), before writing anything", async () => {
    const other = await stack.createProject('files_other_staging');
    try {
      const restOf = (project: Project) => ({ url: project.apiUrl, key: project.serviceRoleKey });
      const pointed = (prod: Project, stg: Project) => ({
        ...env,
        SUPABASE_PROD_URL: restOf(prod).url,
        SUPABASE_PROD_SERVICE_ROLE_KEY: restOf(prod).key,
        SUPABASE_STAGING_URL: restOf(stg).url,
        SUPABASE_STAGING_SERVICE_ROLE_KEY: restOf(stg).key,
      });
      const before = await query(staging.adminUrl, "SELECT md5(string_agg(h::text, ',' ORDER BY h.id)) AS rows FROM public.hotels h");
      // The rows' connection strings are right; the REST URLs swapped would have production's files removed.
      for (const args of [['--yes'], ['--dry-run']]) {
        const swapped = await runScript('sync.ts', [...args, '--buckets', 'photos', '--tables', 'hotels'], { env: pointed(staging, production) });
        expect(swapped.code, swapped.stderr).toBe(2);
        expect(swapped.stderr).toContain('Files are copied through SUPABASE_PROD_URL (');
        expect(swapped.stderr).toContain("carries supasync's sync-target mark: it is a staging, not the production whose rows SUPABASE_PROD_DB_URL reads.");
      }
      const elsewhere = await runScript('sync.ts', ['--yes', '--buckets', 'photos', '--tables', 'hotels'], { env: pointed(production, other) });
      expect(elsewhere.code, elsewhere.stderr).toBe(2);
      expect(elsewhere.stderr).toContain('carries another sync-target mark (set ');
      expect(elsewhere.stderr).toContain("than SUPABASE_STAGING_DB_URL's database");
      const verified = await runScript('verify-sync-status.ts', ['--buckets', 'photos', '--tables', 'hotels'], { env: pointed(staging, production) });
      expect(verified.code, verified.stderr).toBe(2);
      // Production's URL leading to another unmarked project (no supasync function there to ask): its buckets tell.
      const { error } = await storageOf(other).createBucket('photos', { public: true });
      expect(error).toBeNull();
      await query(other.adminUrl, 'DELETE FROM supasync_private.sync_target');
      const unmarked = await runScript('sync.ts', ['--yes', '--buckets', 'photos', '--tables', 'hotels'], { env: pointed(other, staging) });
      expect(unmarked.code, unmarked.stderr).toBe(2);
      expect(unmarked.stderr).toContain('whose buckets are not those of the database SUPABASE_PROD_DB_URL reads');
      // Nothing written: production's files all there, staging's rows and the other staging's buckets as they were.
      const kept = await Promise.all(PHOTOS.map((path) => bytesIn(production, 'photos', path).then((bytes) => bytes.length > 0)));
      expect(kept.filter(Boolean)).toHaveLength(PHOTOS.length);
      expect((await storageOf(other).listBuckets()).data?.map((bucket) => bucket.id)).toEqual(['photos']);
      expect(await query(staging.adminUrl, "SELECT md5(string_agg(h::text, ',' ORDER BY h.id)) AS rows FROM public.hotels h")).toEqual(before);
    } finally {
      await other.stop();
    }
  });

  it('refuses an unknown bucket, and --storage without the projects’ URLs and keys, before writing anything', async () => {
    const unknown = await runScript('sync.ts', ['--yes', '--buckets', 'photoz'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No bucket "photoz" in production. Its buckets: archive, photos.');
    const { SUPABASE_PROD_URL: _u, SUPABASE_PROD_SERVICE_ROLE_KEY: _k, ...directOnly } = env;
    const direct = await runScript('sync.ts', ['--dry-run', '--storage'], { env: directOnly });
    expect(direct.code).toBe(2);
    expect(direct.stderr).toContain('needs SUPABASE_PROD_URL and SUPABASE_PROD_SERVICE_ROLE_KEY');
  });

  it('asks, before a replace or mirror with files, naming the buckets whose files are overwritten or removed with no backup', async () => {
    for (const [mode, removed] of [
      ['replace', true],
      ['mirror', true],
      ['incremental', false],
    ] as const) {
      const asked = await runScript('sync.ts', ['--tables', 'hotels', '--mode', mode, '--storage', '--buckets', 'photos'], { env });
      expect(asked.code, asked.stdout + asked.stderr).toBe(2);
      expect(asked.stderr).toContain(
        `Then files (--storage), in bucket photos: staging's files that differ from production's are overwritten${removed ? ', and those production lacks removed' : ''}, with no backup (a backup holds rows only).`,
      );
      expect(asked.stderr).toContain('This needs confirmation and there is no terminal to ask at');
    }
  });

  it("copies a bucket's files past one production lists and has no file for, names that one, and exits 1", async () => {
    expect((await storageOf(production).createBucket('lost', { public: false })).error).toBeNull();
    const kept = ['a.txt', 'b.txt'];
    for (const path of kept) await upload(production, 'lost', path, randomBytes(700), 'text/plain');
    // A row without its bytes, as SQL or an unfinished upload leaves one.
    await query(
      production.adminUrl,
      `INSERT INTO storage.objects (bucket_id, name, metadata) VALUES ('lost', 'gone.txt', '{"size": 5, "mimetype": "text/plain"}')`,
    );
    try {
      const run = await runScript('sync.ts', ['--yes', '--tables', 'feature_flags', '--storage', '--buckets', 'lost', '--no-backup'], { env });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toContain(
        'lost: production lists 1 file it has no file for (a storage.objects row without its bytes), not copied: lost/gone.txt. ' +
          "The bucket's other files are copied. Upload them again in production, or delete their rows there.",
      );
      for (const path of kept) expect(sha(await bytesIn(staging, 'lost', path)), path).toBe(sha(await bytesIn(production, 'lost', path)));
      expect(await query(staging.adminUrl, "SELECT name FROM storage.objects WHERE bucket_id = 'lost' ORDER BY name")).toEqual(kept.map((name) => ({ name })));
    } finally {
      for (const project of [production, staging]) {
        await query(project.adminUrl, `DELETE FROM storage.objects WHERE bucket_id = 'lost'; DELETE FROM storage.buckets WHERE id = 'lost'`);
      }
    }
  });

  it("refuses an object whose name has a '..' segment, which a URL would resolve to another endpoint, before copying its bucket's files", async () => {
    // Written as a row, as a copy of storage.objects or an older Storage lets through: its URL would lead to /rest/v1/hotels.
    const escaping = 'p/../../../../../rest/v1/hotels';
    expect((await storageOf(production).createBucket('escape', { public: false })).error).toBeNull();
    await upload(production, 'escape', 'fine.txt', Buffer.from('fine'), 'text/plain');
    await query(
      production.adminUrl,
      `INSERT INTO storage.objects (bucket_id, name, metadata) VALUES ('escape', '${escaping}', '{"size": 2, "mimetype": "application/json"}')`,
    );
    const hotels = "SELECT md5(string_agg(h::text, ',' ORDER BY h.id)) AS rows FROM public.hotels h";
    const before = await query(staging.adminUrl, hotels);
    staging.gateway.captureRequests(true);
    try {
      for (const extra of [['--dry-run'], ['--yes']]) {
        const refused = await runScript('sync.ts', [...extra, '--tables', 'feature_flags', '--storage', '--buckets', 'escape', '--no-backup'], { env });
        expect(refused.code, refused.stdout + refused.stderr).toBe(1);
        expect(refused.stderr).toContain(`An object in bucket escape has a "." or ".." segment in its name (escape/${escaping}), which no URL can address`);
        expect(refused.stderr).toContain('No file of this bucket was copied or removed.');
        expect(refused.stderr).not.toContain('Unexpected error');
      }
      expect(staging.gateway.capturedRequests().filter((request) => request.path.startsWith('/hotels'))).toEqual([]);
      expect(await query(staging.adminUrl, "SELECT name FROM storage.objects WHERE bucket_id = 'escape'")).toEqual([]);
      expect(await query(staging.adminUrl, hotels)).toEqual(before);
    } finally {
      staging.gateway.captureRequests(false);
      await query(production.adminUrl, `DELETE FROM storage.objects WHERE bucket_id = 'escape'; DELETE FROM storage.buckets WHERE id = 'escape'`);
    }
  });
});
