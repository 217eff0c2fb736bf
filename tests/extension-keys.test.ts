// Keys of an extension's type, as Supabase installs extensions: in the
// `extensions` schema (ltree, cube), or in public (the fixture's citext).
// Their comparisons are the extension's operators, which supasync's
// functions (run with an empty search_path) did not see: a citext key's
// `>` fell back to text's through the cast, out of step with ORDER BY, and
// REST pages skipped rows without a word; an ltree key had no `=` at all, in
// the upsert, the deletes and the foreign-key check. A cube column has no
// send function. hstore's order is `#<#`/`#>#`, it has no `>`: pages were
// asked for with one and failed. Pages of 5 rows end between keys that
// differ in case.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE SCHEMA IF NOT EXISTS extensions;
  CREATE EXTENSION IF NOT EXISTS ltree WITH SCHEMA extensions;
  CREATE EXTENSION IF NOT EXISTS cube WITH SCHEMA extensions;
  CREATE TABLE public.handles (handle public.citext PRIMARY KEY, owner text);
  CREATE TABLE public.topics (path extensions.ltree PRIMARY KEY, title text);
  CREATE TABLE public.topic_points (id int PRIMARY KEY, topic extensions.ltree NOT NULL REFERENCES public.topics, spot extensions.cube);
  CREATE TABLE public.tag_sets (tags public.hstore, revision int, label text, PRIMARY KEY (tags, revision));`;
const TABLES = ['handles', 'topics', 'topic_points', 'tag_sets'];

/** Every row of the tables as text, in one order: equal text, equal rows. */
const contents = async (url: string) =>
  Object.fromEntries(
    await Promise.all(
      TABLES.map(async (table) => [
        table,
        (await query<{ row: string }>(url, `SELECT x::text AS row FROM public.${table} x ORDER BY x::text COLLATE "C"`)).map((r) => r.row),
      ]),
    ),
  );

describe("keys of an extension's type", () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('ext_keys_prod', { syncTarget: false }), stack.createProject('ext_keys_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}`);
    // Handles alternate in case (b1, C2, d3, ...): citext orders them by their lower case, text by bytes.
    await query(
      production.adminUrl,
      `SET search_path = public, extensions;
       INSERT INTO public.handles SELECT CASE WHEN i % 2 = 0 THEN upper(chr(97 + i % 26)) ELSE chr(97 + i % 26) END || i, 'owner ' || i FROM generate_series(1, 120) i;
       INSERT INTO public.topics SELECT ('top.t' || (i % 6) || '.n' || i)::ltree, 'topic ' || i FROM generate_series(1, 60) i;
       INSERT INTO public.topic_points SELECT i, ('top.t' || (j % 6) || '.n' || j)::ltree, cube(ARRAY[i, -i]) FROM generate_series(1, 100) i, LATERAL (SELECT 1 + i % 60 AS j) t;
       INSERT INTO public.tag_sets SELECT hstore(ARRAY['k' || i % 7, 'v' || i % 5]), r, 'set ' || i || '.' || r FROM generate_series(1, 35) i, generate_series(1, 2) r;`,
    );
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('are copied page by page, mirrored and verified row for row (via %s)', async (via) => {
    await query(staging.adminUrl, 'TRUNCATE public.handles, public.topics, public.topic_points, public.tag_sets');
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: Object.fromEntries(TABLES.map((table) => [table, { batchSize: 5 }])) }));
    const expected = await contents(production.adminUrl);
    expect(expected.topic_points?.length).toBeGreaterThan(10);

    const replace = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', TABLES.join(',')], { env, cwd });
    expect(replace.code, replace.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(expected);

    // Staging drifts: rows changed, deleted, and one production never had.
    await query(
      staging.adminUrl,
      `SET search_path = public, extensions;
       UPDATE public.handles SET owner = 'stale' WHERE owner LIKE '%7';
       DELETE FROM public.topic_points WHERE id % 9 = 0;
       UPDATE public.topic_points SET spot = cube(0) WHERE id % 4 = 0;
       INSERT INTO public.topics VALUES ('staging.only', 'not in production');
       INSERT INTO public.handles VALUES ('Zz-staging', 'nobody');
       UPDATE public.tag_sets SET label = 'stale' WHERE revision = 2 AND label LIKE '%3.2';
       DELETE FROM public.tag_sets WHERE tags -> 'k1' IS NOT NULL;`,
    );
    // With a backup: staging's rows are read back page by page too, in the same order.
    const mirror = await runScript('sync.ts', ['--via', via, '--mode', 'mirror', '--yes', '--tables', TABLES.join(',')], { env, cwd });
    expect(mirror.code, mirror.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(expected);

    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--tables', TABLES.join(',')], { env, cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('4 of 4 tables Perfect');
  });
});
