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
      expect(refused.stderr).toContain('--allow-drift does not help public.moods (public.pair defined otherwise in staging (a composite type or domain))');
    }
    expect(await query(staging.adminUrl, 'SELECT id FROM public.moods')).toEqual([{ id: 9 }]);
    // Verify offers no --allow-drift the sync would refuse.
    const verified = await runScript('verify-sync-status.ts', ['--via', via, '--tables', 'moods'], { env, cwd });
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain(
      "public.moods: the two sides' columns differ as well (said above), so a sync refuses it: apply the migrations one side lacks " +
        '(--allow-drift does not help public.moods: public.pair defined otherwise in staging (a composite type or domain)).',
    );
  });

  it.each(['postgres', 'rest'] as const)(
    'with --allow-drift, refuses a composite type defined otherwise, and asks production whether any row holds a label staging lacks (via %s)',
    async (via) => {
      const env = envFor(production, staging);
      const cwd = emptyDirectory();
      const sync = (...extra: string[]) =>
        runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--allow-drift', '--tables', 'moods', ...extra], { env, cwd });
      // The composite type's attributes are elsewhere in staging: its values would land in the wrong ones.
      const composite = await sync();
      expect(composite.code, composite.stdout + composite.stderr).toBe(1);
      expect(composite.stderr).toContain("Staging defines these columns' types otherwise, so --allow-drift cannot copy them; nothing was written:");
      expect(composite.stderr).toContain('public.moods: public.pair of pair (attributes');
      expect(composite.stderr).not.toContain('public.mood of mood');
      // Without that column, the enum: production's rows holding 'happy' are found before anything is written (a REST
      // replace used to empty the table, then staging refused those rows one by one).
      await query(staging.adminUrl, 'SET ROLE postgres; ALTER TABLE public.moods DROP COLUMN pair; NOTIFY pgrst, $$reload schema$$');
      try {
        // Verify offers --allow-drift, saying where it still stops.
        const verified = await runScript('verify-sync-status.ts', ['--via', via, '--tables', 'moods'], { env, cwd });
        expect(verified.code).toBe(1);
        expect(verified.stdout).toContain(
          'or sync with --allow-drift to copy the common columns ' +
            "(which still stops before writing where production's rows hold an enum label, or lie in a partition, staging lacks).",
        );
        const refused = await sync();
        expect(refused.code, refused.stdout + refused.stderr).toBe(1);
        expect(refused.stderr).toContain(
          "Staging lacks what production's rows need (its migrations behind production's: --allow-drift copies the common columns, not these); nothing was written:\n" +
            "  public.moods: enum public.mood without 'happy' (column mood): 1 row of production's, e.g. (2)\n" +
            "  public.moods: enum public.mood without 'happy' (column history): 1 row of production's, e.g. (2)\n" +
            "To copy them, add the labels to staging's enum (the migration production ran): ALTER TYPE public.mood ADD VALUE 'happy' AFTER 'ok';",
        );
        expect(await query(staging.adminUrl, 'SELECT id FROM public.moods')).toEqual([{ id: 9 }]);
        // No row of production's holds it: the run copies the common columns.
        await query(production.adminUrl, `UPDATE public.moods SET mood = 'ok', history = '{ok}' WHERE id = 2`);
        const copied = await sync();
        expect(copied.code, copied.stdout + copied.stderr).toBe(0);
        expect(await query(staging.adminUrl, 'SELECT id, mood::text, history::text FROM public.moods ORDER BY id')).toEqual([
          { id: 1, mood: 'ok', history: '{sad,ok}' },
          { id: 2, mood: 'ok', history: '{ok}' },
        ]);
      } finally {
        await query(production.adminUrl, `UPDATE public.moods SET mood = 'happy', history = '{happy}' WHERE id = 2`);
        await query(
          staging.adminUrl,
          `SET ROLE postgres; TRUNCATE public.moods; ALTER TABLE public.moods ADD COLUMN pair public.pair;
           INSERT INTO public.moods VALUES (9, 'fine', NULL, ROW(9, 'staging', 1)); NOTIFY pgrst, 'reload schema'`,
        );
      }
    },
  );
});

// ALTER TYPE ... ADD VALUE ... BEFORE run on one side only: every label on both sides, in another order. Values copy
// as they are, and sort otherwise in staging: said as drift, and --allow-drift copies past it.
describe('an enum whose labels staging orders otherwise', () => {
  let production: Project;
  let staging: Project;
  const enumOf = (labels: string) => `CREATE TYPE public.priority AS ENUM (${labels});
    CREATE TABLE public.tickets (id int PRIMARY KEY, level public.priority NOT NULL);
    CREATE TABLE public.ticket_notes (id int PRIMARY KEY, ticket_id int NOT NULL REFERENCES public.tickets); NOTIFY pgrst, 'reload schema'`;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('enumorder_prod', { syncTarget: false }), stack.createProject('enumorder_staging')]);
    await query(production.adminUrl, `SET ROLE postgres; ${enumOf(`'low', 'high', 'urgent'`)}`);
    await query(staging.adminUrl, `SET ROLE postgres; ${enumOf(`'high', 'low', 'urgent', 'later'`)}`);
    await query(
      production.adminUrl,
      `INSERT INTO public.tickets VALUES (1, 'low'), (2, 'high'), (3, 'urgent'); INSERT INTO public.ticket_notes VALUES (100, 2)`,
    );
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('is named before writing, and --allow-drift copies every value as it is (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const sync = (...extra: string[]) => runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'tickets', ...extra], { env, cwd });
    const refused = await sync();
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stderr).toContain(
      "public.priority of level (staging's enum orders its labels otherwise: 'low' < 'high' < 'urgent' in production, 'high' < 'low' < 'urgent' in staging; " +
        'every value copies as it is, and ORDER BY, < and > and the indexes over it sort them otherwise there)',
    );
    expect(refused.stderr).not.toContain('--allow-drift does not help');
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.tickets')).toEqual([{ n: 0 }]);
    const copied = await sync('--allow-drift');
    expect(copied.code, copied.stdout + copied.stderr).toBe(0);
    expect(await query(staging.adminUrl, 'SELECT id, level::text FROM public.tickets ORDER BY id')).toEqual([
      { id: 1, level: 'low' },
      { id: 2, level: 'high' },
      { id: 3, level: 'urgent' },
    ]);
    // The drift stays, and verify says it.
    const verified = await runScript('verify-sync-status.ts', ['--via', via, '--tables', 'tickets'], { env, cwd });
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain("staging's enum orders its labels otherwise");
    // A ticket and its note gone from staging: a mirror of the notes alone would be refused for the ticket it names.
    expect((await sync('--allow-drift', '--tables', 'tickets,ticket_notes')).code).toBe(0);
    await query(staging.adminUrl, 'DELETE FROM public.ticket_notes; DELETE FROM public.tickets WHERE id = 2');
    const both = await runScript('verify-sync-status.ts', ['--via', via, '--tables', 'tickets,ticket_notes'], { env, cwd });
    expect(both.code).toBe(1);
    expect(both.stdout.replace(/\s+/g, ' ')).toContain(
      'public.ticket_notes references public.tickets, which differs too and a sync refuses (above): ' +
        'where staging lacks a row they name there, the mirror refuses it; apply the migrations first, then mirror both.',
    );
    await query(staging.adminUrl, 'TRUNCATE public.tickets, public.ticket_notes');
  });
});

// OpenStreetMap's nwr_enum: production ran ADD VALUE 'Area' BEFORE 'Relation'. The fix the refusal prints puts the
// label where production has it: run as printed, staging's enum is production's, and the sync goes through.
describe('an enum label staging lacks, between two it has', () => {
  let production: Project;
  let staging: Project;
  const enumOf = (labels: string) => `CREATE TYPE public.nwr AS ENUM (${labels});
    CREATE TABLE public.members (id int PRIMARY KEY, kind public.nwr NOT NULL); NOTIFY pgrst, 'reload schema'`;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('enumplace_prod', { syncTarget: false }), stack.createProject('enumplace_staging')]);
    await query(production.adminUrl, `SET ROLE postgres; ${enumOf(`'Node', 'Way', 'Area', 'Relation'`)}`);
    await query(staging.adminUrl, `SET ROLE postgres; ${enumOf(`'Node', 'Way', 'Relation'`)}`);
    await query(production.adminUrl, `INSERT INTO public.members VALUES (1, 'Node'), (2, 'Area'), (3, 'Relation')`);
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it('is refused with the statement that adds it in its place, which works as printed', async () => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const sync = (...extra: string[]) => runScript('sync.ts', ['--yes', '--no-backup', '--tables', 'members', ...extra], { env, cwd });
    const refused = await sync('--allow-drift');
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    const fix = /ALTER TYPE public\.nwr ADD VALUE .*;/.exec(refused.stderr)?.[0];
    expect(fix).toBe("ALTER TYPE public.nwr ADD VALUE 'Area' BEFORE 'Relation';");
    await query(staging.adminUrl, `SET ROLE postgres; ${fix}`);
    const copied = await sync();
    expect(copied.code, copied.stdout + copied.stderr).toBe(0);
    const labels = 'SELECT enum_range(NULL::public.nwr)::text AS labels';
    expect(await query(staging.adminUrl, labels)).toEqual(await query(production.adminUrl, labels));
    // Sorted by the enum's order: Area between Way and Relation, as in production.
    expect(await query(staging.adminUrl, 'SELECT id FROM public.members ORDER BY kind')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });
});
