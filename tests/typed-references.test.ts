// The checks of references between production and staging, before a
// targeted run writes: the parents staging lacks for the rows it copies,
// and the staging rows a replace would leave without their parent. A
// foreign key compares values by their types: a citext key that differs
// only in case, a numeric one only in scale, references its row. Those
// checks compared the keys' text instead (version 13 and before), and
// stopped a run over a parent that was there. Now each key's values are
// read by the parent column's type and compared by its own = (ltree's, in
// Supabase's `extensions` schema, included); a parent truly missing is
// still named.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionsVersion } from '../lib/install/version.ts';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE SCHEMA IF NOT EXISTS extensions;
  CREATE EXTENSION IF NOT EXISTS ltree WITH SCHEMA extensions;
  CREATE TABLE public.ref_accounts (email public.citext PRIMARY KEY, name text);
  CREATE TABLE public.ref_prices (amount numeric PRIMARY KEY);
  CREATE TABLE public.ref_topics (path extensions.ltree PRIMARY KEY);
  CREATE TABLE public.ref_invoices (
    id int PRIMARY KEY,
    account_email public.citext REFERENCES public.ref_accounts,
    amount numeric REFERENCES public.ref_prices,
    topic extensions.ltree REFERENCES public.ref_topics);
  CREATE TABLE public.ref_reminders (id int PRIMARY KEY, account_email public.citext REFERENCES public.ref_accounts);`;

const PARENTS = `
  INSERT INTO public.ref_accounts VALUES ('alice@example.com', 'Alice'), ('bob@example.com', 'Bob');
  INSERT INTO public.ref_prices VALUES (1.00), (2.50);
  INSERT INTO public.ref_topics VALUES ('billing.eu'), ('billing.us');`;

const invoices = (url: string) => rowTexts(url, 'public.ref_invoices', 'id');

describe('references compared by their types', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('typed_refs_prod', { syncTarget: false }), stack.createProject('typed_refs_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}; NOTIFY pgrst, 'reload schema'`);
    // The children name their parents in another case and scale than the parents hold them: the foreign keys accept it.
    await query(
      production.adminUrl,
      `${PARENTS}
       INSERT INTO public.ref_invoices VALUES (1, 'ALICE@Example.com', 1.0, 'billing.eu'), (2, 'Bob@example.com', 2.500, 'billing.us'), (3, NULL, 1, NULL);`,
    );
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)(
    'copies rows whose parent staging holds in another case or scale, and still names one it lacks (via %s)',
    async (via) => {
      await query(
        staging.adminUrl,
        `TRUNCATE public.ref_accounts, public.ref_prices, public.ref_topics, public.ref_invoices, public.ref_reminders;
       ${PARENTS}
       DELETE FROM public.ref_accounts WHERE email = 'bob@example.com';`,
      );
      const env = envFor(production, staging);
      const cwd = emptyDirectory();
      const sync = () => runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'ref_invoices'], { env, cwd });

      const refused = await sync();
      expect(refused.code, refused.stdout + refused.stderr).toBe(1);
      expect(refused.stderr).toContain('1 row of public.ref_invoices references 1 public.ref_accounts row missing from staging');
      expect(refused.stderr).toContain('e.g. (Bob@example.com)');
      // Only Bob: Alice's key, the prices and the topics are found.
      expect(refused.stderr).not.toContain('public.ref_prices');
      expect(refused.stderr).not.toContain('public.ref_topics');
      expect(refused.stderr).not.toMatch(/alice/i);
      expect(await invoices(staging.adminUrl)).toEqual([]);

      await query(staging.adminUrl, `INSERT INTO public.ref_accounts VALUES ('BOB@example.com', 'Bob')`);
      const copied = await sync();
      expect(copied.code, copied.stdout + copied.stderr).toBe(0);
      expect(await invoices(staging.adminUrl)).toEqual(await invoices(production.adminUrl));
    },
  );

  it.each(['postgres', 'rest'] as const)('replaces a parent table under staging rows that name its keys in another case (via %s)', async (via) => {
    await query(
      staging.adminUrl,
      `TRUNCATE public.ref_accounts, public.ref_prices, public.ref_topics, public.ref_invoices, public.ref_reminders;
       INSERT INTO public.ref_accounts VALUES ('ALICE@EXAMPLE.COM', 'staging'), ('carol@example.com', 'staging');
       INSERT INTO public.ref_reminders VALUES (1, 'alice@EXAMPLE.com');`,
    );
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const sync = () => runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'ref_accounts'], { env, cwd });

    // Carol is gone from production, and a reminder of hers would point nowhere: named, nothing written.
    await query(staging.adminUrl, `INSERT INTO public.ref_reminders VALUES (2, 'Carol@example.com')`);
    const refused = await sync();
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stderr).toContain('1 row of public.ref_reminders');
    expect(refused.stderr).toContain('(Carol@example.com)');
    expect(refused.stderr).not.toMatch(/alice/i);

    await query(staging.adminUrl, `DELETE FROM public.ref_reminders WHERE id = 2`);
    const replaced = await sync();
    expect(replaced.code, replaced.stdout + replaced.stderr).toBe(0);
    expect(await query(staging.adminUrl, `SELECT email::text FROM public.ref_accounts ORDER BY 1`)).toEqual([
      { email: 'alice@example.com' },
      { email: 'bob@example.com' },
    ]);
  });

  it('is refused over REST, by name, where staging has functions that compare the keys as text', async () => {
    await query(
      staging.adminUrl,
      `SET ROLE postgres;
       TRUNCATE public.ref_accounts, public.ref_prices, public.ref_topics, public.ref_invoices, public.ref_reminders;
       ${PARENTS}
       ALTER FUNCTION public.supasync_missing_keys(text, text, text[], jsonb, text) RENAME TO supasync_missing_keys_current;
       CREATE FUNCTION public.supasync_missing_keys(table_schema text, table_name text, columns text[], keys text[], row_filter text DEFAULT NULL)
         RETURNS jsonb LANGUAGE sql AS 'SELECT to_jsonb(keys)';
       CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql AS 'SELECT 13';
       NOTIFY pgrst, 'reload schema';`,
    );
    try {
      const sync = await runScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', '--tables', 'ref_invoices'], { env: envFor(production, staging) });
      expect(sync.code).toBe(1);
      expect(sync.stderr).toMatch(/staging's supasync functions are version 13; looking up keys in public\.ref_\w+ by their types needs version 14 or later\./);
      expect(sync.stderr).toContain('install-rpcs.ts --staging');
      expect(await invoices(staging.adminUrl)).toEqual([]);
    } finally {
      await query(
        staging.adminUrl,
        `SET ROLE postgres;
         DROP FUNCTION public.supasync_missing_keys(text, text, text[], text[], text);
         ALTER FUNCTION public.supasync_missing_keys_current(text, text, text[], jsonb, text) RENAME TO supasync_missing_keys;
         CREATE OR REPLACE FUNCTION public.supasync_version() RETURNS integer LANGUAGE sql AS 'SELECT ${functionsVersion()}';
         NOTIFY pgrst, 'reload schema';`,
      );
    }
  });
});
