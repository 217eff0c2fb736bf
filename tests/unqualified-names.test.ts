// Staging's CHECKs, domain checks and generated columns run inside the
// write, and the app's functions they call often name tables and types
// without a schema and have no search_path of their own (Supabase's linter
// warns of them; many apps have them): they find them in the session's path,
// on Supabase "$user", public, extensions. Over REST supasync's write
// functions ran them under a path of their own, so such a table's every
// write failed ("relation "path_reserved_slugs" does not exist", each rerun
// alike) where the direct path copied it. They now write under the path a
// session of their owner starts with, after pg_catalog (functions version 29).
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { projectPair } from './helpers/project-pair.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';

const SCHEMA = `
  CREATE TABLE public.path_reserved_slugs (slug text PRIMARY KEY);
  CREATE FUNCTION public.path_slug_ok(candidate text) RETURNS boolean LANGUAGE sql STABLE
    AS $$ SELECT NOT EXISTS (SELECT FROM path_reserved_slugs WHERE slug = candidate) $$;
  CREATE FUNCTION public.path_exclaim(word text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(word) || '!' $$;
  CREATE FUNCTION public.path_shout(word text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN path_exclaim(word); END $$;
  CREATE DOMAIN public.path_slug AS text CHECK (path_slug_ok(VALUE));
  CREATE TABLE public.path_orgs (
    id int PRIMARY KEY,
    slug text NOT NULL CHECK (path_slug_ok(slug)),
    handle path_slug,
    shout text GENERATED ALWAYS AS (path_shout(slug)) STORED
  );`;
const TABLES = ['public.path_reserved_slugs', 'public.path_orgs'];

describe("staging's checks and generated columns calling the app's functions that name things unqualified", () => {
  let production: Project;
  let staging: Project;
  projectPair('unqualified', SCHEMA, async (pair) => {
    ({ production, staging } = pair);
  });
  const fill = `TRUNCATE ${TABLES.join(', ')};
    INSERT INTO public.path_reserved_slugs VALUES ('admin'), ('api');
    INSERT INTO public.path_orgs (id, slug, handle) SELECT i, 'org-' || i, 'handle-' || i FROM generate_series(1, 300) i`;

  it.each(['rest', 'postgres'] as const)('are written as the app writes them (via %s)', async (via) => {
    await query(production.adminUrl, fill);
    await query(staging.adminUrl, `TRUNCATE ${TABLES.join(', ')}`);
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const sync = (mode: string) => runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', mode, '--tables', TABLES.join(',')], { env, cwd });
    const replaced = await sync('replace');
    expect(replaced.code, replaced.stdout + replaced.stderr).toBe(0);
    await query(
      production.adminUrl,
      `UPDATE public.path_orgs SET slug = slug || '-renamed' WHERE id % 7 = 0; INSERT INTO public.path_orgs (id, slug) VALUES (301, 'fresh')`,
    );
    const mirrored = await sync('mirror');
    expect(mirrored.code, mirrored.stdout + mirrored.stderr).toBe(0);
    for (const table of TABLES) expect(await rowTexts(staging.adminUrl, table), table).toEqual(await rowTexts(production.adminUrl, table));
  });
});
