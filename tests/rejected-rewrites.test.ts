// From Saleor's schema: production swaps two products' slugs through a
// temporary value and moves updated_at on one of them only. An incremental
// run reads that one; staging refuses its slug, which the other row still
// holds. Over REST a re-sync clears the rows it rewrites before writing them
// (so swapped values can land), and no transaction puts one back: the row
// was gone, its children left pointing nowhere unsaid, and the summary said
// only "rejected, not copied". Staging now keeps the rows it clears for the
// run and puts back the ones it then refused (functions version 23); one that
// cannot go back (a new row took its unique value) is said, with where the
// backup holds it, and so are the children left pointing nowhere. A run that
// fails, or is killed, after clearing rows puts them back as its hold ends, or
// as the next run takes staging. The direct path, rolled back, names the run
// that writes both rows too. An insert-missing run, which leaves staging's
// rows as they are, meets a stale row's unique value the same way, and names
// the same run. The product table has an identity ALWAYS key and a generated
// column: rows go back as
// staging held them all the same.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript, startScript, type ScriptResult } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';
import { projectPair } from './helpers/project-pair.ts';

const SCHEMA = `CREATE SCHEMA app;
  CREATE TABLE app.product (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    label text GENERATED ALWAYS AS (upper(slug)) STORED,
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE app.variant (id int PRIMARY KEY, product_id int NOT NULL REFERENCES app.product (id));`;
const TABLES = ['app.product', 'app.variant'];
const contents = async (url: string) => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await rowTexts(url, t)])));

describe('a row a re-sync rewrites that staging refuses', () => {
  let production: Project;
  let staging: Project;
  projectPair('rewrites', SCHEMA, (pair) => {
    ({ production, staging } = pair);
  });

  /** Three products and two variants in production, staging synced from them by a replace and an incremental run (watermarks kept): staging's rows. */
  const startOver = async (sync: (...args: string[]) => Promise<ScriptResult>) => {
    await query(
      production.adminUrl,
      `TRUNCATE app.product, app.variant;
       INSERT INTO app.product (id, slug, updated_at) OVERRIDING SYSTEM VALUE VALUES (1, 'a', '2025-01-01'), (2, 'b', '2025-01-01'), (3, 'c', '2025-01-01');
       INSERT INTO app.variant VALUES (10, 1), (20, 2);`,
    );
    await query(staging.adminUrl, 'TRUNCATE app.product, app.variant; TRUNCATE supasync_private.watermarks');
    for (const mode of ['replace', 'incremental']) expect((await sync('--mode', mode)).code).toBe(0);
    return contents(staging.adminUrl);
  };

  it.each(['postgres', 'rest'] as const)('is said, with where its old version is and the run that writes both rows (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const sync = (...args: string[]) => runScript('sync.ts', ['--via', via, '--yes', '--tables', TABLES.join(','), ...args], { env, cwd });
    const before = await startOver(sync);

    // Swapped through a temporary value; only product 1's stamp moves.
    await query(
      production.adminUrl,
      `UPDATE app.product SET slug = 'tmp' WHERE id = 1; UPDATE app.product SET slug = 'a' WHERE id = 2;
       UPDATE app.product SET slug = 'b', updated_at = now() WHERE id = 1;`,
    );
    const incremental = await sync('--mode', 'incremental');
    expect(incremental.code).toBe(1);
    const said = incremental.stdout + incremental.stderr;
    expect(said).toContain('Run this sync again with --mode mirror, which compares every row and writes both.');
    if (via === 'rest') {
      expect(said).toContain('Where staging held those rows (app.product), it keeps its own version');
      expect(said).toContain('put back the 1 row staging then refused');
      expect(said).not.toContain('left by the rows staging rejected');
    }
    // The direct run rolled back; the REST one put product 1 back as staging held it.
    expect(await contents(staging.adminUrl)).toEqual(before);
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM supasync_private.cleared_rows')).toEqual([{ n: 0 }]);
    const mirror = await sync('--mode', 'mirror');
    expect(mirror.code, mirror.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));

    // insert-missing leaves staging's rows as they are: a new product takes the slug an existing one gave up.
    await query(
      production.adminUrl,
      `UPDATE app.product SET slug = 'c2' WHERE id = 3; INSERT INTO app.product (id, slug) OVERRIDING SYSTEM VALUE VALUES (4, 'c')`,
    );
    const added = await sync('--mode', 'insert-missing');
    expect(added.code).toBe(1);
    expect(added.stdout + added.stderr).toContain(
      'A unique value refused: insert-missing touches no row staging has, and one of them still holds a unique value production gave a new row. ' +
        'Run this sync again with --mode mirror, which compares every row and writes both.',
    );
    expect((await sync('--mode', 'mirror')).code).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));

    // An upsert keeps staging's own rows: one of them holds the slug production's new product has.
    await query(staging.adminUrl, `INSERT INTO app.product (id, slug) OVERRIDING SYSTEM VALUE VALUES (50, 'd')`);
    await query(production.adminUrl, `INSERT INTO app.product (id, slug) OVERRIDING SYSTEM VALUE VALUES (5, 'd')`);
    const upserted = await sync('--mode', 'upsert');
    expect(upserted.code).toBe(1);
    // The table that refused, not every table the run upserts; no word of users' emails where the table is not Auth's.
    expect(upserted.stdout + upserted.stderr).toContain(
      "A unique value refused: an upsert keeps the rows staging has and production lacks, and one of them holds a unique value one of production's rows has. " +
        "Remove or change staging's row, or run this sync again with --mode mirror, which deletes",
    );
    // Which of staging's rows to remove or change, by its key, beside production's.
    expect(upserted.stdout + upserted.stderr).toContain("rows: staging's app.product (id=50) holds the slug production's row (id=5) brings");
    expect((await sync('--mode', 'mirror')).code).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));

    // A mirror of the variants brings their products with --with-parents, upserted: one of staging's own holds a new product's slug.
    await query(staging.adminUrl, `INSERT INTO app.product (id, slug) OVERRIDING SYSTEM VALUE VALUES (60, 'e')`);
    await query(production.adminUrl, `INSERT INTO app.product (id, slug) OVERRIDING SYSTEM VALUE VALUES (6, 'e'); INSERT INTO app.variant VALUES (60, 6)`);
    const brought = await runScript('sync.ts', ['--via', via, '--yes', '--mode', 'mirror', '--tables', 'app.variant', '--with-parents'], { env, cwd });
    expect(brought.code).toBe(1);
    expect(brought.stdout + brought.stderr).toContain(
      'A unique value refused: this mirror upserts app.product (the rows --with-parents brings, or a table whose mode supasync.config.json sets): ' +
        'an upsert keeps the rows staging has and production lacks',
    );
    expect((await sync('--mode', 'mirror')).code).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
  });

  describe('over REST, the rows a re-sync cleared', () => {
    const env = () => envFor(production, staging);
    const cwd = emptyDirectory();
    const sync = (...args: string[]) => runScript('sync.ts', ['--via', 'rest', '--yes', '--tables', TABLES.join(','), ...args], { env: env(), cwd });
    const kept = async () => (await query<{ n: number }>(staging.adminUrl, 'SELECT count(*)::int AS n FROM supasync_private.cleared_rows'))[0]?.n;
    let before: Record<string, string[]>;
    const fresh = async () => {
      before = await startOver(sync);
    };

    it('one refused by a check, not a unique value, is put back without the advice for a unique value', async () => {
      await fresh();
      // A check calling what production lacks: the check before writing cannot ask production about it.
      await query(
        staging.adminUrl,
        `CREATE FUNCTION app.short(value text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT length(value) < 5 $$;
         ALTER TABLE app.product ADD CONSTRAINT short_slug CHECK (app.short(slug))`,
      );
      try {
        await query(production.adminUrl, `UPDATE app.product SET slug = 'much too long', updated_at = now() WHERE id = 3`);
        const incremental = await sync('--mode', 'incremental');
        expect(incremental.code).toBe(1);
        const said = incremental.stdout + incremental.stderr;
        expect(said).toContain('short_slug');
        expect(said).toContain('put back the 1 row staging then refused');
        expect(said).not.toContain('A unique value refused');
        expect(await contents(staging.adminUrl)).toEqual(before);
      } finally {
        await query(staging.adminUrl, 'ALTER TABLE app.product DROP CONSTRAINT short_slug; DROP FUNCTION app.short(text)');
      }
    });

    it('one that cannot go back, a new row holding its slug now, is said with the backup that holds it', async () => {
      await fresh();
      // Product 1 takes product 2's slug, whose own change moves no stamp; a new product takes product 1's old one.
      await query(
        production.adminUrl,
        `UPDATE app.product SET slug = 'x' WHERE id = 2; UPDATE app.product SET slug = 'b', updated_at = now() WHERE id = 1;
         INSERT INTO app.product (id, slug) OVERRIDING SYSTEM VALUE VALUES (5, 'a')`,
      );
      const incremental = await sync('--mode', 'incremental');
      expect(incremental.code).toBe(1);
      const said = incremental.stdout + incremental.stderr;
      expect(said).toMatch(
        /\(app\.product: 1 row not put back, duplicate key value violates unique constraint "product_slug_key"[^)]*\), its own version is gone too/,
      );
      expect(said).toMatch(/The old version is in this run's backup: npx tsx scripts\/restore-staging\.ts \.supasync\/backups\/\S+ puts the ranges back/);
      // Variant 10 names the product staging no longer has: said, not silent.
      expect(said).toMatch(/left by the rows staging rejected: .*app\.variant/);
      expect(await kept()).toBe(0);
      const restore = await runScript('restore-staging.ts', ['latest', '--yes'], { env: env(), cwd });
      expect(restore.code, restore.stderr).toBe(0);
      expect(await contents(staging.adminUrl)).toEqual(before);
    });

    it('are put back when the run stops on a refused row (--strict)', async () => {
      await fresh();
      await query(
        production.adminUrl,
        `UPDATE app.product SET slug = 'tmp' WHERE id = 1; UPDATE app.product SET slug = 'a' WHERE id = 2; UPDATE app.product SET slug = 'b', updated_at = now() WHERE id = 1`,
      );
      const strict = await sync('--mode', 'incremental', '--strict');
      expect(strict.code).toBe(1);
      expect(strict.stderr).toContain('Put back 1 staging row this run had cleared to write afresh and did not (app.product: 1): as staging held them before.');
      expect(await contents(staging.adminUrl)).toEqual(before);
      expect(await kept()).toBe(0);
    });

    it('are put back when the run is stopped (Ctrl-C) while a clear of its is still running in staging', async () => {
      await fresh();
      await query(production.adminUrl, `UPDATE app.product SET slug = 'z', updated_at = now() WHERE id = 1`);
      // The run's clear waits on a lock, running in staging when the run is stopped; the lock goes a second later.
      const holder = new pg.Client({ connectionString: staging.adminUrl });
      await holder.connect();
      try {
        await holder.query('BEGIN; LOCK TABLE app.product IN SHARE MODE');
        const stopped = startScript('sync.ts', ['--via', 'rest', '--yes', '--mode', 'mirror', '--tables', TABLES.join(',')], { env: env(), cwd });
        const waiting = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%supasync_clear_rows%'`;
        for (let waited = 0; (await query<{ n: number }>(staging.adminUrl, waiting))[0]?.n !== 1; waited += 100) {
          expect(waited, "the run's clear waits on the lock").toBeLessThan(30_000);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        stopped.child.kill('SIGINT');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await holder.query('COMMIT');
        expect((await stopped.finished).code).toBe(130);
      } finally {
        await holder.end();
      }
      // The clear landed after the run was stopped: its rows went back with the others, none held by a run that is gone.
      expect(await contents(staging.adminUrl)).toEqual(before);
      expect(await kept()).toBe(0);
    });

    it.each(['rest', 'postgres'] as const)('are put back by the next run (via %s) when the run was killed outright after clearing them', async (nextVia) => {
      await fresh();
      await query(production.adminUrl, `UPDATE app.product SET slug = 'z', updated_at = now() WHERE id = 1`);
      // Staging answers no write: the run clears product 1, then retries its batch until it is killed.
      staging.gateway.injectFaults({ status503: 1000, onlyPaths: /^\/rpc\/supasync_write_(rows|tables)$/ });
      const killed = startScript('sync.ts', ['--via', 'rest', '--yes', '--mode', 'mirror', '--tables', TABLES.join(',')], { env: env(), cwd });
      try {
        for (let waited = 0; (await kept()) !== 1; waited += 100) {
          expect(waited, 'the run cleared the rows it rewrites').toBeLessThan(30_000);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        killed.child.kill('SIGKILL');
        await killed.finished;
      } finally {
        staging.gateway.clearFaults();
      }
      expect(await rowTexts(staging.adminUrl, 'app.product')).toHaveLength(2);
      // Its lease lapsed (as a minute later), the next run takes staging over and puts the rows back first.
      await query(staging.adminUrl, `UPDATE supasync_private.run_lease SET renewed_at = now() - interval '2 min', expires_at = now() - interval '1 s'`);
      const next = await runScript('sync.ts', ['--via', nextVia, '--yes', '--mode', 'insert-missing', '--tables', 'app.variant'], { env: env(), cwd });
      expect(next.code, next.stderr).toBe(0);
      expect(next.stderr).toContain('Put back 1 staging row a run stopped part way had cleared to write afresh and did not (app.product: 1)');
      expect(await contents(staging.adminUrl)).toEqual(before);
      expect(await kept()).toBe(0);
    });
  });
});

describe('a row insert-missing writes that an exclusion constraint refuses', () => {
  let production: Project;
  let staging: Project;
  projectPair(
    'exclusion_refused',
    `CREATE SCHEMA app;
     CREATE TABLE app.booking (id int PRIMARY KEY, stay daterange NOT NULL, EXCLUDE USING gist (stay WITH &&));
     INSERT INTO app.booking VALUES (1, '[2026-01-01,2026-01-03)');`,
    async (pair) => {
      ({ production, staging } = pair);
      // Staging's own booking overlaps the one production takes next.
      await query(staging.adminUrl, `INSERT INTO app.booking VALUES (900, '[2026-02-01,2026-02-05)')`);
      await query(production.adminUrl, `INSERT INTO app.booking VALUES (2, '[2026-02-03,2026-02-04)')`);
    },
  );

  it.each(['postgres', 'rest'] as const)('says a value conflicts, not that one is unique, and the way out (via %s)', async (via) => {
    const run = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--schemas', 'app', '--mode', 'insert-missing'], {
      env: envFor(production, staging),
    });
    expect(run.code).toBe(1);
    const said = run.stdout + run.stderr;
    expect(said).toContain('conflicting key value violates exclusion constraint');
    expect(said).toContain(
      "A value an exclusion constraint refused: insert-missing touches no row staging has, and one of them still holds a value that conflicts with a new row of production's. " +
        'Run this sync again with --mode mirror, which compares every row and writes both.',
    );
    expect(said).not.toContain('A unique value refused');
    // Rolled back directly; over REST the refused row alone is left out.
    expect(await query(staging.adminUrl, 'SELECT id FROM app.booking ORDER BY id')).toEqual([{ id: 1 }, { id: 900 }]);
  });
});

// A unique key whose NULLs clash (NULLS NOT DISTINCT), a key column named with capitals and a space, and key values
// that would read as two columns: the refused row's pair is named all the same, the values quoted where they would be misread.
describe('a unique value refused under NULLS NOT DISTINCT, with awkward names and values', () => {
  let production: Project;
  let staging: Project;
  projectPair(
    'clashnulls',
    `CREATE SCHEMA app;
     CREATE TABLE app."Tag List" ("Key Col" text PRIMARY KEY, parent text, UNIQUE NULLS NOT DISTINCT (parent));`,
    async (pair) => {
      ({ production, staging } = pair);
      await query(production.adminUrl, `INSERT INTO app."Tag List" VALUES ('a, b=c', NULL)`);
      await query(staging.adminUrl, `INSERT INTO app."Tag List" VALUES ('', NULL)`);
    },
  );

  it.each(['postgres', 'rest'] as const)("names staging's row holding the NULL beside production's (via %s)", async (via) => {
    const run = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', 'upsert', '--tables', 'app."Tag List"'], {
      env: envFor(production, staging),
      cwd: emptyDirectory(),
    });
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain(`rows: staging's app."Tag List" ("Key Col"='') holds the parent production's row ("Key Col"='a, b=c') brings`);
  });
});
