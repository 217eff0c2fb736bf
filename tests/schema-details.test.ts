// What a table's schema says beyond its columns, found by an adversarial
// round of the twenty-first session, each once wrong on one path or both:
// - a UNIQUE key's INCLUDE columns were read as part of the key (an upsert
//   met a duplicate, verify named rows missing and extra);
// - a direct replace rebuilt secondary indexes from their definitions alone,
//   so a REPLICA IDENTITY USING INDEX was lost (the app's UPDATE then failed
//   on a published table), as were an index's comment, statistics target,
//   CLUSTER mark and a partition's own index name;
// - over REST a regclass of 0 ('-') or of a dropped relation failed its
//   whole table (text's cast looks a name up);
// - standard_conforming_strings off in a database broke the hashes of an
//   array column (mirror and incremental);
// - an updated_at of timestamptz[] was followed as a timestamp, and the
//   second incremental run failed;
// - a mirror left a sequence where staging's own rows had moved it, and
//   verify then failed on `staging ahead`;
// - a domain over a narrower type in staging (numeric(12,2) for (12,4))
//   rounded values without a word.
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';
import { projectPair } from './helpers/project-pair.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE TABLE public.accounts (email text NOT NULL, display_name text NOT NULL, plan text, tags int[],
    UNIQUE (email) INCLUDE (display_name));
  CREATE TABLE public.members (email text NOT NULL, name text);
  CREATE UNIQUE INDEX members_email_key ON public.members (email);
  ALTER TABLE public.members REPLICA IDENTITY USING INDEX members_email_key;
  CREATE INDEX members_name_idx ON public.members (name);
  COMMENT ON INDEX public.members_name_idx IS 'members by name';
  CREATE INDEX members_lower_idx ON public.members (lower(name));
  ALTER INDEX public.members_lower_idx ALTER COLUMN 1 SET STATISTICS 500;
  CREATE INDEX members_name_email_idx ON public.members (name, email);
  ALTER TABLE public.members CLUSTER ON members_name_email_idx;
  CREATE TABLE public.events (id int, at date, note text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
  CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
  CREATE INDEX events_note_idx ON ONLY public.events (note);
  CREATE INDEX events_2025_by_note ON public.events_2025 (note);
  ALTER INDEX public.events_note_idx ATTACH PARTITION public.events_2025_by_note;
  CREATE INDEX events_2026_by_note ON public.events_2026 (note);
  ALTER INDEX public.events_note_idx ATTACH PARTITION public.events_2026_by_note;
  CREATE TABLE public.audit (id int PRIMARY KEY, rel regclass);
  CREATE TABLE public.stamps (id int PRIMARY KEY, note text, updated_at timestamptz[]);
  CREATE TABLE public.notes (id bigserial PRIMARY KEY, body text);`;
const TABLES = ['accounts', 'members', 'events', 'audit', 'stamps', 'notes'];
const contents = async (url: string) => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await rowTexts(url, `public.${t}`)])));

/** What a CREATE INDEX alone would not give back. */
const indexDetails = (url: string) =>
  query(
    url,
    `SELECT ic.relname AS index, i.indisreplident AS replica_identity, i.indisclustered AS clustered, obj_description(ic.oid, 'pg_class') AS comment,
            (SELECT max(a.attstattarget) FROM pg_attribute a WHERE a.attrelid = ic.oid)::int AS statistics
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
     WHERE i.indrelid IN ('public.members'::regclass, 'public.events'::regclass, 'public.events_2025'::regclass, 'public.events_2026'::regclass)
     ORDER BY 1`,
  );

describe("a table's schema beyond its columns", () => {
  let production: Project;
  let staging: Project;
  projectPair('details', SCHEMA, async (pair) => {
    ({ production, staging } = pair);
    for (const project of [production, staging]) {
      // An old app's setting: a backslash in a plain literal is an escape.
      await query(project.adminUrl, `ALTER DATABASE ${project.name} SET standard_conforming_strings = off`);
    }
    await query(staging.adminUrl, 'CREATE PUBLICATION details_members FOR TABLE public.members');
    await query(
      production.adminUrl,
      `INSERT INTO public.accounts SELECT 'u' || i || '@x', 'User ' || i, CASE WHEN i % 2 = 0 THEN 'pro' END, ARRAY[i, NULL, i * 2] FROM generate_series(1, 30) i;
       INSERT INTO public.members SELECT 'm' || i || '@x', 'Member ' || (i % 7) FROM generate_series(1, 30) i;
       INSERT INTO public.events SELECT i, DATE '2025-06-01' + i * 20, 'event ' || i FROM generate_series(1, 20) i;
       CREATE TABLE public.gone (); INSERT INTO public.audit VALUES (1, 'public.accounts'), (2, 0), (3, 'public.gone'); DROP TABLE public.gone;
       INSERT INTO public.stamps SELECT i, 'stamp ' || i, ARRAY[now(), now() - interval '1 day'] FROM generate_series(1, 5) i;
       INSERT INTO public.notes (body) SELECT 'note ' || i FROM generate_series(1, 10) i;`,
    );
  });

  it.each(['postgres', 'rest'] as const)('is kept, and the rows copied, re-synced and verified exactly (via %s)', async (via) => {
    await query(staging.adminUrl, `TRUNCATE ${TABLES.map((t) => `public.${t}`).join(', ')}`);
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const sync = (...args: string[]) => runScript('sync.ts', ['--via', via, '--yes', '--tables', TABLES.join(','), ...args], { env, cwd });
    const details = await indexDetails(staging.adminUrl);
    expect(details).toContainEqual(expect.objectContaining({ index: 'members_email_key', replica_identity: true, clustered: false, comment: null }));
    expect(details).toContainEqual(expect.objectContaining({ index: 'members_name_idx', comment: 'members by name' }));
    expect(details).toContainEqual(expect.objectContaining({ index: 'members_lower_idx', statistics: 500 }));
    expect(details).toContainEqual(expect.objectContaining({ index: 'members_name_email_idx', clustered: true }));

    const replace = await sync('--no-backup');
    expect(replace.code, replace.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
    expect(await indexDetails(staging.adminUrl)).toEqual(details);
    // The table publishing its updates still has its identity: the app can update it.
    await query(staging.adminUrl, `UPDATE public.members SET name = 'renamed in staging' WHERE email = 'm1@x'`);
    // A regclass of 0 and one of a dropped table are copied as their numbers, a live one by its name.
    expect((await rowTexts(staging.adminUrl, 'public.audit')).join('\n')).toMatch(/^\(1,accounts\)\n\(2,-\)\n\(3,\d+\)$/);

    // Staging drifts: a renamed account (an INCLUDE column), a tester's notes moving the sequence past production's.
    await query(
      staging.adminUrl,
      `UPDATE public.accounts SET display_name = 'Renamed in staging', tags = ARRAY[0] WHERE email = 'u3@x';
       INSERT INTO public.notes (body) VALUES ('a tester''s'), ('and another');`,
    );
    const mirror = await sync('--mode', 'mirror');
    expect(mirror.code, mirror.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
    const sequence = 'SELECT last_value::text, is_called FROM public.notes_id_seq';
    expect(await query(staging.adminUrl, sequence)).toEqual(await query(production.adminUrl, sequence));

    await query(staging.adminUrl, `UPDATE public.accounts SET display_name = 'Renamed again' WHERE email = 'u4@x'`);
    const upsert = await sync('--mode', 'upsert');
    expect(upsert.code, upsert.stderr).toBe(0);
    // Incremental twice (the second from a watermark): stamps' updated_at is an array, so it follows transaction ids.
    for (const round of [1, 2]) {
      await query(production.adminUrl, `UPDATE public.stamps SET note = note || ' ${via} ${round}' WHERE id = ${round}`);
      const incremental = await sync('--mode', 'incremental');
      expect(incremental.code, `round ${round}: ${incremental.stderr}`).toBe(0);
      expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
    }
    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--tables', TABLES.join(',')], { env, cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('refuses a domain over a narrower type in staging, which would round every value', async () => {
    await query(production.adminUrl, `SET ROLE postgres; CREATE DOMAIN public.amount_d AS numeric(12,4); CREATE DOMAIN public.moment_d AS timestamptz(6)`);
    await query(staging.adminUrl, `SET ROLE postgres; CREATE DOMAIN public.amount_d AS numeric(12,2); CREATE DOMAIN public.moment_d AS timestamptz(6)`);
    for (const project of [production, staging]) {
      await query(
        project.adminUrl,
        `SET ROLE postgres; CREATE TABLE public.prices (id int PRIMARY KEY, amount public.amount_d, amounts public.amount_d[], at public.moment_d)`,
      );
    }
    await query(production.adminUrl, `INSERT INTO public.prices VALUES (1, 1.2345, '{2.3456}', now())`);
    for (const via of ['postgres', 'rest']) {
      const result = await runScript('sync.ts', ['--via', via, '--yes', '--tables', 'prices'], { env: envFor(production, staging), cwd: emptyDirectory() });
      expect(result.code, `${via}: ${result.stderr}`).toBe(1);
      expect(result.stderr, via).toContain('a domain over numeric(12,4) in production, over numeric(12,2) in staging');
      expect(result.stderr, via).not.toContain('moment_d');
      expect(await query(staging.adminUrl, 'SELECT * FROM public.prices')).toEqual([]);
    }
  });

  it.each(['postgres', 'rest'] as const)('makes in staging the sequences production made as it ran, and sets them (via %s)', async (via) => {
    // Chatwoot's way: a trigger on accounts makes a counter per account, which no migration gives staging (and the load silences the trigger).
    const schema = `CREATE SCHEMA app;
      CREATE TABLE app.accounts (id int PRIMARY KEY, name text);
      CREATE FUNCTION app.make_counter() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN EXECUTE format('CREATE SEQUENCE IF NOT EXISTS app.counter_%s AS integer INCREMENT BY 5 START WITH 100 CACHE 2', NEW.id); RETURN NEW; END $$;
      CREATE TRIGGER accounts_counter AFTER INSERT ON app.accounts FOR EACH ROW EXECUTE FUNCTION app.make_counter();`;
    const [prod, target] = await Promise.all([
      stack.createProject(`counters_prod_${via}`, { syncTarget: false }),
      stack.createProject(`counters_staging_${via}`),
    ]);
    try {
      for (const project of [prod, target]) await query(project.adminUrl, `SET ROLE postgres; ${schema}`);
      await query(
        prod.adminUrl,
        `SET ROLE postgres; INSERT INTO app.accounts VALUES (1, 'one'), (2, 'two'); SELECT nextval('app.counter_1'), nextval('app.counter_1'), nextval('app.counter_2')`,
      );
      const env = envFor(prod, target);
      const cwd = emptyDirectory();
      const planned = await runScript('sync.ts', ['--via', via, '--schemas', 'app', '--dry-run'], { env, cwd });
      expect(planned.code, planned.stderr).toBe(0);
      expect(planned.stdout).toContain("made in staging first, which lacks them (production's app made them as it ran): app.counter_1, app.counter_2");
      const result = await runScript('sync.ts', ['--via', via, '--yes', '--schemas', 'app'], { env, cwd });
      expect(result.code, result.stderr).toBe(0);
      const counters = `SELECT s.relname, q.seqtypid::regtype::text AS type, q.seqincrement::int, q.seqstart::int, q.seqcache::int,
          (SELECT last_value FROM app.counter_1)::int AS first_value, (SELECT last_value FROM app.counter_2)::int AS second_value
        FROM pg_sequence q JOIN pg_class s ON s.oid = q.seqrelid WHERE s.relnamespace = 'app'::regnamespace ORDER BY 1`;
      expect(await query(target.adminUrl, counters)).toEqual(await query(prod.adminUrl, counters));
      // The app's next number in staging follows production's.
      expect(await query(target.adminUrl, `SELECT nextval('app.counter_1')::int AS next`)).toEqual([{ next: 110 }]);
      const verify = await runScript('verify-sync-status.ts', ['--via', via, '--schemas', 'app'], { env, cwd });
      expect(verify.stdout + verify.stderr).toMatch(/app\.counter_1/);
    } finally {
      await Promise.all([prod.stop(), target.stop()]);
    }
  });
});
