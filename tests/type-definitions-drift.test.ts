// Columns of the same type name on both sides whose type is defined
// otherwise: an enum label production uses and staging lacks (one added by a
// migration staging has not run), a composite type whose attributes are
// narrower or elsewhere. Without a check the copy fails midway (directly) or
// empties the table and refuses rows one by one (REST), and the dry run says
// nothing; now both name the type, the columns and the difference before
// anything is written, as for a column's own type.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const schema = (labels: string, pair: string) => `
  CREATE TYPE public.mood AS ENUM (${labels});
  CREATE TYPE public.pair AS (${pair});
  CREATE TABLE public.moods (id int PRIMARY KEY, mood public.mood, pair public.pair, history public.mood[]);
  NOTIFY pgrst, 'reload schema'`;

describe('an enum or composite type defined otherwise in staging', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('typedef_prod', { syncTarget: false }), stack.createProject('typedef_staging')]);
    await query(production.adminUrl, `SET ROLE postgres; ${schema(`'sad', 'ok', 'happy'`, 'a int, b numeric(10,2), c varchar(20)')}`);
    await query(staging.adminUrl, `SET ROLE postgres; ${schema(`'sad', 'ok', 'fine'`, 'a int, c varchar(20), b numeric(10,2)')}`);
    await query(production.adminUrl, `INSERT INTO public.moods VALUES (1, 'ok', ROW(1, 2.50, 'x'), '{sad,ok}'), (2, 'happy', ROW(2, 3.25, 'y'), '{happy}')`);
    await query(staging.adminUrl, `INSERT INTO public.moods VALUES (9, 'fine', ROW(9, 'staging', 1), NULL)`);
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('is refused before anything is written, named with the difference, the dry run too (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    for (const extra of [['--dry-run'], []]) {
      const refused = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'moods', ...extra], { env, cwd });
      expect(refused.code, refused.stdout + refused.stderr).toBe(1);
      expect(refused.stderr).toContain("public.mood of mood, history (staging's enum lacks 'happy')");
      expect(refused.stderr).toContain(
        'public.pair of pair (attributes (a integer, b numeric(10,2), c character varying(20)) -> (a integer, c character varying(20), b numeric(10,2)))',
      );
    }
    expect(await query(staging.adminUrl, 'SELECT id FROM public.moods')).toEqual([{ id: 9 }]);
  });
});
