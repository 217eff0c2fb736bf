// Row-level security that applies to the role staging is written and read
// as (one without BYPASSRLS, on a table that FORCEs it): its policies would
// refuse rows the copy writes, and hide rows from every comparison, so that
// verify and a mirror called staging equal with rows they could not see.
// Refused before anything is read or written, on both paths; on Supabase
// `postgres` has BYPASSRLS and this never applies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();
const WRITER = 'supasync_rls_writer';

describe('a staging table whose row-level security applies to the writing role', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('rls_prod', { syncTarget: false }), stack.createProject('rls_staging', { owner: WRITER })]);
    await query(production.adminUrl, `SET ROLE postgres; CREATE TABLE public.secrets (id int PRIMARY KEY, v text)`);
    await query(production.adminUrl, `INSERT INTO public.secrets SELECT i, 'value ' || i FROM generate_series(1, 5) i`);
    await query(
      staging.adminUrl,
      `ALTER ROLE ${WRITER} NOBYPASSRLS;
       SET ROLE ${WRITER};
       CREATE TABLE public.secrets (id int PRIMARY KEY, v text);
       INSERT INTO public.secrets SELECT i, 'value ' || i FROM generate_series(1, 5) i;
       INSERT INTO public.secrets VALUES (6, 'hidden'), (7, 'hidden');
       CREATE POLICY visible ON public.secrets FOR SELECT USING (v <> 'hidden');
       ALTER TABLE public.secrets ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
       NOTIFY pgrst, 'reload schema'`,
    );
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('is refused by sync and verify before a row is read, naming the table and the role (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    for (const script of ['sync.ts', 'verify-sync-status.ts']) {
      for (const extra of script === 'sync.ts' ? [[], ['--mode', 'mirror']] : [[]]) {
        const args = ['--via', via, '--tables', 'secrets', ...(script === 'sync.ts' ? ['--yes', '--no-backup'] : []), ...extra];
        const refused = await runScript(script, args, { env, cwd });
        expect(refused.code, `${script} ${extra.join(' ')}: ${refused.stdout}${refused.stderr}`).toBe(1);
        expect(refused.stderr).toContain(`Row-level security applies to ${WRITER}, the role staging is written and read as, on public.secrets`);
        expect(refused.stderr).toContain(`ALTER ROLE "${WRITER}" BYPASSRLS`);
      }
    }
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.secrets')).toEqual([{ n: 7 }]);
  });
});
