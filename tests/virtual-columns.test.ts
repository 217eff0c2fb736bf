// PostgreSQL 18's virtual generated columns are computed as a row is read
// and never stored: like a stored one, a write that names one is refused, so
// every copy leaves them for staging to compute, and verify reads the values
// each side computes. Checked through a replace, a mirror and an incremental
// run on both paths, with a key whose rows another table references; and a
// virtual column staging computes otherwise is a schema difference the run
// names before it writes.
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { projectPair } from './helpers/project-pair.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const SCHEMA = `
  CREATE TABLE public.line_items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    price numeric(10, 2) NOT NULL,
    qty int NOT NULL,
    total numeric GENERATED ALWAYS AS (price * qty) VIRTUAL,
    label text GENERATED ALWAYS AS ('#' || id::text || ' x' || qty::text) VIRTUAL,
    total_kept numeric GENERATED ALWAYS AS (price * qty) STORED,
    updated_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE public.line_notes (
    id int PRIMARY KEY,
    line_id bigint NOT NULL REFERENCES public.line_items (id),
    note text,
    shout text GENERATED ALWAYS AS (upper(note)) VIRTUAL,
    updated_at timestamptz NOT NULL DEFAULT now());`;
const TABLES = ['public.line_items', 'public.line_notes'];
const contents = async (url: string) => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await rowTexts(url, t)])));

describe.runIf(sharedStack().stack.majorVersion >= 18)("PostgreSQL 18's virtual generated columns", () => {
  let production: Project;
  let staging: Project;
  projectPair('virtual_columns', SCHEMA, (pair) => {
    ({ production, staging } = pair);
  });

  it.each(['postgres', 'rest'] as const)('are left to staging to compute through a replace, a mirror and an incremental run (via %s)', async (via) => {
    await query(
      production.adminUrl,
      `TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY;
       INSERT INTO public.line_items (price, qty) SELECT (i % 97) + 0.25, i % 7 FROM generate_series(1, 1500) i;
       INSERT INTO public.line_notes (id, line_id, note) SELECT i, (i % 1500) + 1, 'note ' || i FROM generate_series(1, 900) i;`,
    );
    await query(staging.adminUrl, `TRUNCATE ${TABLES.join(', ')}; TRUNCATE supasync_private.watermarks`);
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const sync = (mode: string) => runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', mode, '--tables', TABLES.join(',')], { env, cwd });
    const verified = async () => {
      const verify = await runScript('verify-sync-status.ts', ['--via', via, '--tables', TABLES.join(',')], { env, cwd });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toContain('Staging equals production: 2 of 2 tables Perfect.');
    };

    const replace = await sync('replace');
    expect(replace.code, replace.stderr).toBe(0);
    expect(replace.stdout).toContain('Synced 2 tables, 2,400 rows');
    // Row texts hold the virtual values as staging computes them.
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
    expect((await rowTexts(staging.adminUrl, 'public.line_items', 'id'))[0]).toMatch(/^\(1,1\.25,1,1\.25,"#1 x1",1\.25,"/);
    await verified();

    await query(
      production.adminUrl,
      `UPDATE public.line_items SET qty = qty + 10, updated_at = now() WHERE id % 40 = 0;
       DELETE FROM public.line_notes WHERE id % 30 = 0;
       UPDATE public.line_notes SET note = 'changed ' || id, updated_at = now() WHERE id % 45 = 1;
       INSERT INTO public.line_items (price, qty) VALUES (9.99, 3);`,
    );
    const mirror = await sync('mirror');
    expect(mirror.code, mirror.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
    await verified();

    await query(
      production.adminUrl,
      `UPDATE public.line_items SET price = price + 1, updated_at = now() + interval '1 minute' WHERE id % 100 = 7;
       UPDATE public.line_notes SET note = 'again ' || id, updated_at = now() + interval '1 minute' WHERE id % 100 = 11;`,
    );
    const incremental = await sync('incremental');
    expect(incremental.code, incremental.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
    expect(await rowTexts(staging.adminUrl, `(SELECT id, shout FROM public.line_notes WHERE id = 11)`)).toEqual(['(11,"AGAIN 11")']);
    await verified();
  });

  it('computed by staging from another expression, is a difference the run names before it writes (via rest)', async () => {
    await query(staging.adminUrl, `SET ROLE postgres; ALTER TABLE public.line_items ALTER COLUMN total SET EXPRESSION AS (price * qty * 2)`);
    try {
      await query(staging.adminUrl, `TRUNCATE ${TABLES.join(', ')}`);
      const result = await runScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', '--tables', TABLES.join(',')], { env: envFor(production, staging) });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /nothing was written:\n {2}public\.line_items: Generated from other expressions: total \(.*price.*qty.* -> .*\* \(2\)::numeric\)/,
      );
      expect(await query(staging.adminUrl, `SELECT count(*)::int AS n FROM public.line_items`)).toEqual([{ n: 0 }]);
    } finally {
      await query(staging.adminUrl, `SET ROLE postgres; ALTER TABLE public.line_items ALTER COLUMN total SET EXPRESSION AS (price * qty)`);
    }
  });
});
