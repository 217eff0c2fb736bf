// From Saleor's schema: production swaps two products' slugs through a
// temporary value and moves updated_at on one of them only. An incremental
// run reads that one; staging refuses its slug, which the other row still
// holds. Over REST a re-sync clears the rows it rewrites before writing them
// (so swapped values can land), and no transaction puts one back: the row
// was gone, its children left pointing nowhere unsaid, and the summary said
// only "rejected, not copied". Now it says the old version is gone, where
// the backup holds it and which run writes both rows, and names the orphaned
// children; the direct path, rolled back, names that run too. An
// insert-missing run, which leaves staging's rows as they are, meets a stale
// row's unique value the same way, and names the same run.
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';
import { projectPair } from './helpers/project-pair.ts';

const SCHEMA = `CREATE SCHEMA app;
  CREATE TABLE app.product (id int PRIMARY KEY, slug text NOT NULL UNIQUE, updated_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE app.variant (id int PRIMARY KEY, product_id int NOT NULL REFERENCES app.product (id));`;
const TABLES = ['app.product', 'app.variant'];
const contents = async (url: string) => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await rowTexts(url, t)])));

describe('a row a re-sync rewrites that staging refuses', () => {
  let production: Project;
  let staging: Project;
  projectPair('rewrites', SCHEMA, (pair) => {
    ({ production, staging } = pair);
  });

  it.each(['postgres', 'rest'] as const)('is said, with where its old version is and the run that writes both rows (via %s)', async (via) => {
    await query(
      production.adminUrl,
      `TRUNCATE app.product, app.variant;
       INSERT INTO app.product VALUES (1, 'a', '2025-01-01'), (2, 'b', '2025-01-01'), (3, 'c', '2025-01-01');
       INSERT INTO app.variant VALUES (10, 1), (20, 2);`,
    );
    await query(staging.adminUrl, 'TRUNCATE app.product, app.variant; TRUNCATE supasync_private.watermarks');
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const sync = (...args: string[]) => runScript('sync.ts', ['--via', via, '--yes', '--tables', TABLES.join(','), ...args], { env, cwd });
    for (const mode of ['replace', 'incremental']) expect((await sync('--mode', mode)).code).toBe(0);
    const before = await contents(staging.adminUrl);

    // Swapped through a temporary value; only product 1's stamp moves.
    await query(
      production.adminUrl,
      `UPDATE app.product SET slug = 'tmp' WHERE id = 1; UPDATE app.product SET slug = 'a' WHERE id = 2;
       UPDATE app.product SET slug = 'b', updated_at = now() WHERE id = 1;`,
    );
    const incremental = await sync('--mode', 'incremental');
    expect(incremental.code).toBe(1);
    const said = incremental.stdout + incremental.stderr;
    expect(said).toContain('--mode mirror --tables app.product');
    if (via === 'rest') {
      expect(said).toContain('its own version is gone too');
      expect(said).toMatch(/The old version is in this run's backup: npx tsx scripts\/restore-staging\.ts \.supasync\/backups\/\S+ puts the ranges back/);
      // Variant 10 names the product staging no longer has: said, not silent.
      expect(said).toMatch(/left by the rows staging rejected: .*app\.variant/);
      const restore = await runScript('restore-staging.ts', ['latest', '--yes'], { env, cwd });
      expect(restore.code, restore.stderr).toBe(0);
    }
    // The direct run rolled back; the REST one's ranges were restored.
    expect(await contents(staging.adminUrl)).toEqual(before);
    const mirror = await sync('--mode', 'mirror');
    expect(mirror.code, mirror.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));

    // insert-missing leaves staging's rows as they are: a new product takes the slug an existing one gave up.
    await query(production.adminUrl, `UPDATE app.product SET slug = 'c2' WHERE id = 3; INSERT INTO app.product VALUES (4, 'c', now())`);
    const added = await sync('--mode', 'insert-missing');
    expect(added.code).toBe(1);
    expect(added.stdout + added.stderr).toContain(
      'A unique value refused: insert-missing touches no row staging has, and one of them still holds a unique value production gave a new row. ' +
        '--mode mirror --tables app.product compares every row and writes both.',
    );
    expect((await sync('--mode', 'mirror')).code).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
  });
});
