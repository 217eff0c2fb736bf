// Two databases that store or compare text differently: staging's encoding
// cannot hold what production's can, or its default locale lowers, uppers
// and splits words otherwise (ICU lowers ÉMILE, libc's C leaves it), so the
// generated columns, CHECKs and unique indexes built on them compute
// otherwise in staging: copies failed with a bare error or, for a generated
// column, differed while verify said Perfect (it leaves them out). Said
// before writing, by the dry run, the run and verify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { urlFor, withClient } from '../stack/index.ts';
import { textDifferences } from '../lib/plan/database-text.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { catalogAt } from './helpers/catalog.ts';
import { sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();
const DATABASES = {
  text_prod: "ENCODING 'UTF8' LOCALE 'C'",
  // One glibc locale, its codeset spelled two ways.
  text_dashed: "ENCODING 'UTF8' LOCALE 'C.UTF-8'",
  text_undashed: "ENCODING 'UTF8' LOCALE 'C.utf8'",
  text_staging_icu: "ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'",
  text_staging_latin1: "ENCODING 'LATIN1' LOCALE 'C'",
};
const PEOPLE = `CREATE TABLE public.people (id int PRIMARY KEY, email text NOT NULL, email_lower text GENERATED ALWAYS AS (lower(email)) STORED)`;

describe('databases whose text settings differ', () => {
  const urls = Object.fromEntries(Object.keys(DATABASES).map((name) => [name, urlFor(stack.info.adminUrl, name)])) as Record<keyof typeof DATABASES, string>;
  const env = (staging: string) => ({ SUPABASE_PROD_DB_URL: urls.text_prod, SUPABASE_STAGING_DB_URL: staging });

  beforeAll(async () => {
    await withClient(stack.info.adminUrl, async (client) => {
      for (const [name, settings] of Object.entries(DATABASES)) await client.query(`CREATE DATABASE ${name} TEMPLATE template0 ${settings}`);
    });
    for (const url of [urls.text_prod, urls.text_staging_icu, urls.text_staging_latin1]) await withClient(url, (client) => client.query(PEOPLE));
    await withClient(urls.text_prod, (client) => client.query(`INSERT INTO public.people (id, email) VALUES (1, 'ÉMILE@example.com')`));
    for (const staging of [urls.text_staging_icu, urls.text_staging_latin1]) {
      const installed = await runScript('install-rpcs.ts', ['--staging', '--yes'], { env: env(staging), cwd: emptyDirectory() });
      expect(installed.code, installed.stdout + installed.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    await withClient(stack.info.adminUrl, async (client) => {
      for (const name of Object.keys(DATABASES)) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
  });

  it("are not said where the two name one locale otherwise (glibc's C.UTF-8 and C.utf8)", async () => {
    const [dashed, undashed] = await Promise.all([catalogAt(urls.text_dashed), catalogAt(urls.text_undashed)]);
    expect([dashed.text?.collate, undashed.text?.collate]).toEqual(['C.UTF-8', 'C.utf8']);
    expect(textDifferences(dashed, undashed)).toEqual([]);
  });

  it('are said before writing, by a dry run and by verify, naming both sides', async () => {
    const planInto = async (staging: string) => {
      const plan = await runScript('sync.ts', ['--via', 'postgres', '--dry-run', '--tables', 'public.people'], { env: env(staging), cwd: emptyDirectory() });
      expect(plan.code, plan.stderr).toBe(0);
      return plan.stderr;
    };
    const icu = await planInto(urls.text_staging_icu);
    expect(icu).toContain(
      "warning: Production's database compares and cases text under libc (LC_COLLATE and LC_CTYPE C), staging's under icu en-US (LC_COLLATE and LC_CTYPE C): lower(), upper(), to_tsvector()",
    );
    expect(icu).not.toContain('stores text as');
    const latin1 = await planInto(urls.text_staging_latin1);
    expect(latin1).toContain("warning: Production's database stores text as UTF8, staging's as LATIN1: a value staging's encoding cannot hold stops the copy");
    expect(latin1).not.toContain('compares and cases');

    // Verify leaves the generated column out: it says why equal rows may not be.
    const synced = await runScript('sync.ts', ['--via', 'postgres', '--yes', '--no-backup', '--tables', 'public.people'], {
      env: env(urls.text_staging_icu),
      cwd: emptyDirectory(),
    });
    expect(synced.code, synced.stderr).toBe(0);
    expect(synced.stderr).toContain("staging's under icu en-US");
    const computed = async (url: string) => withClient(url, async (client) => (await client.query('SELECT email_lower FROM public.people')).rows);
    expect(await computed(urls.text_prod)).toEqual([{ email_lower: 'Émile@example.com' }]);
    expect(await computed(urls.text_staging_icu)).toEqual([{ email_lower: 'émile@example.com' }]);
    const verified = await runScript('verify-sync-status.ts', ['--via', 'postgres', '--tables', 'public.people'], {
      env: env(urls.text_staging_icu),
      cwd: emptyDirectory(),
    });
    expect(verified.stderr).toContain("warning: Production's database compares and cases text under libc");
  });
});
