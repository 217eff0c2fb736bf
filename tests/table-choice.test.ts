// Which tables a run copies, and with which options: supasync.config.json's
// `tables` keys name production's tables as --tables does (quoted, or in
// another case), and one that names none is refused rather than dropped
// with its `where`; an app's migration tool's record of what ran
// (_prisma_migrations, schema_migrations) is each database's own, left out
// of a schema-wide sync and copied only when named; so is a job queue's work
// still to do (Oban's oban_jobs, graphile-worker's schema), which staging's
// workers would run a second time.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

// Prisma's own table, Rails' (golang-migrate's, dbmate's) in another schema, Diesel's, Miniflux's (tern's, old Flyway's), keyless, pop's (Ory Kratos'), keyed by a unique index alone,
// and Laravel's `migrations`; beside them an app's own `migrations` (bird routes, referencing its data) and `schema_info`, which are no record and are copied.
const HISTORY = `
  CREATE TABLE public._prisma_migrations (id varchar(36) PRIMARY KEY, migration_name varchar(255) NOT NULL, finished_at timestamptz);
  CREATE TABLE analytics.schema_migrations (version varchar PRIMARY KEY);
  CREATE TABLE public.__diesel_schema_migrations (version varchar(50) PRIMARY KEY, run_on timestamp NOT NULL DEFAULT now());
  CREATE TABLE analytics.schema_version (version text NOT NULL);
  CREATE TABLE public.schema_migration (version varchar(48) NOT NULL, version_self integer NOT NULL DEFAULT 0);
  CREATE UNIQUE INDEX schema_migration_version_idx ON public.schema_migration (version);
  CREATE TABLE analytics.migrations (id serial PRIMARY KEY, migration varchar(255) NOT NULL, batch integer NOT NULL);
  CREATE TABLE public.migrations (id bigint PRIMARY KEY, country_code text NOT NULL REFERENCES public.sire_countries, route text NOT NULL);
  CREATE TABLE public.schema_info (id integer PRIMARY KEY, title text NOT NULL);
  CREATE TABLE analytics.schema_info (id integer PRIMARY KEY, version integer NOT NULL);
  CREATE TABLE analytics.readings (id integer PRIMARY KEY, info_id integer NOT NULL REFERENCES analytics.schema_info);`;

// Oban's queue in public, graphile-worker's in its own schema, Laravel's
// `jobs`, and an app's own `jobs` (postings) that is no queue at all.
const QUEUES = `
  CREATE TABLE public.oban_jobs (id bigserial PRIMARY KEY, state text NOT NULL, queue text NOT NULL, worker text NOT NULL, args jsonb NOT NULL);
  CREATE SCHEMA graphile_worker;
  CREATE TABLE graphile_worker._private_jobs (id bigserial PRIMARY KEY, task_identifier text NOT NULL, payload json NOT NULL);
  CREATE TABLE analytics.jobs (id bigserial PRIMARY KEY, queue text NOT NULL, payload text NOT NULL, attempts smallint NOT NULL, available_at integer NOT NULL);
  CREATE TABLE public.jobs (id bigserial PRIMARY KEY, title text NOT NULL, queue text);`;
const QUEUED = `
  INSERT INTO public.oban_jobs (state, queue, worker, args) VALUES ('available', 'mailers', 'App.Welcome', '{"to": "guest@example.com"}');
  INSERT INTO graphile_worker._private_jobs (task_identifier, payload) VALUES ('send_invoice', '{"invoice": 7}');
  INSERT INTO analytics.jobs (queue, payload, attempts, available_at) VALUES ('default', '{"job": "SendReminder"}', 0, 0);
  INSERT INTO public.jobs (title) VALUES ('Night porter')`;

const countries = (url: string, where = 'true') =>
  query<{ country_code: string }>(url, `SELECT country_code FROM public.sire_countries WHERE ${where} ORDER BY 1`).then((rows) =>
    rows.map((row) => row.country_code),
  );

describe('the tables a run copies', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('choice_prod', { fill: 'tiny' }), stack.createProject('choice_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${HISTORY}; ${QUEUES}; NOTIFY pgrst, 'reload schema'`);
    await query(
      production.adminUrl,
      `INSERT INTO public._prisma_migrations VALUES ('1', '20260101_init', now());
       INSERT INTO analytics.schema_migrations VALUES ('20260101000000');
       INSERT INTO public.__diesel_schema_migrations VALUES ('20260101000000');
       INSERT INTO analytics.schema_version VALUES ('108');
       INSERT INTO public.schema_migration VALUES ('20210829131458000000');
       INSERT INTO analytics.migrations (migration, batch) VALUES ('2014_10_12_000000_create_users_table', 1);
       INSERT INTO public.migrations SELECT row_number() OVER (ORDER BY country_code), country_code, 'north by ' || country_code FROM public.sire_countries;
       INSERT INTO public.schema_info VALUES (1, 'field guide');
       INSERT INTO analytics.schema_info VALUES (1, 3); INSERT INTO analytics.readings VALUES (1, 1);
       ${QUEUED}`,
    );
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)("finds a config's table by its quoted or case-folded name, and refuses one that names none (via %s)", async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const args = ['--via', via, '--yes', '--no-backup', '--tables', 'sire_countries'];
    for (const key of ['public."sire_countries"', 'SIRE_COUNTRIES']) {
      await query(staging.adminUrl, 'TRUNCATE public.sire_countries CASCADE');
      writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { [key]: { where: "country_code < 'M'" } } }));
      const run = await runScript('sync.ts', args, { env, cwd });
      expect(run.code, `${key}: ${run.stdout}${run.stderr}`).toBe(0);
      expect(await countries(staging.adminUrl), key).toEqual(await countries(production.adminUrl, "country_code < 'M'"));
    }

    await query(staging.adminUrl, `TRUNCATE public.sire_countries CASCADE; INSERT INTO public.sire_countries VALUES ('ZZZ', 'staging''s own')`);
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { 'public.sire_countrys': { where: "country_code < 'M'" } } }));
    for (const extra of [[], ['--dry-run']]) {
      const refused = await runScript('sync.ts', [...args, ...extra], { env, cwd });
      expect(refused.code, refused.stdout + refused.stderr).toBe(2);
      expect(refused.stderr).toContain(
        'supasync.config.json: tables public.sire_countrys: production has no such table in schema "public". Did you mean public.sire_countries',
      );
    }
    expect(await countries(staging.adminUrl)).toEqual(['ZZZ']);
    // A table of a schema nothing in the run names, nor reaches by a foreign key: its catalog does not list it, and the
    // table meant is found all the same.
    const elsewhere = await runScript('sync.ts', ['--via', via, '--dry-run', '--tables', '_private_jobs'], { env, cwd: emptyDirectory() });
    expect(elsewhere.code, elsewhere.stdout + elsewhere.stderr).toBe(2);
    expect(elsewhere.stderr).toMatch(
      /--tables _private_jobs: production has no such table in schemas public\. Did you mean [^?]*graphile_worker\._private_jobs\?/,
    );

    writeFileSync(
      join(cwd, 'supasync.config.json'),
      JSON.stringify({ tables: { sire_countries: { mode: 'upsert' }, 'public.sire_countries': { mode: 'replace' } } }),
    );
    const twice = await runScript('sync.ts', args, { env, cwd });
    expect(twice.code, twice.stdout + twice.stderr).toBe(2);
    expect(twice.stderr).toContain('supasync.config.json: tables "sire_countries" and "public.sire_countries" both name public.sire_countries');

    // A where production cannot run as written: named as the config's field, before anything reads with it.
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { sire_countries: { where: "nme = 'x'" } } }));
    for (const extra of [[], ['--dry-run']]) {
      const broken = await runScript('sync.ts', [...args, ...extra], { env, cwd });
      expect(broken.code, broken.stdout + broken.stderr).toBe(2);
      expect(broken.stderr).toContain(
        `supasync.config.json holds a where that production cannot run as written:\n  tables."public.sire_countries".where (nme = 'x'): column "nme" does not exist`,
      );
      expect(broken.stderr).not.toContain('p.name');
    }
    // A day-first date, as production's own DateStyle may read it: refused naming the settings supasync reads with.
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { sire_countries: { where: "now() > '25/12/2025'" } } }));
    const dayFirst = await runScript('sync.ts', [...args, '--dry-run'], { env, cwd });
    expect(dayFirst.code, dayFirst.stdout + dayFirst.stderr).toBe(2);
    expect(dayFirst.stderr).toContain(`tables."public.sire_countries".where (now() > '25/12/2025'): date/time field value out of range: "25/12/2025"`);
    expect(dayFirst.stderr).toContain("supasync reads production with DateStyle 'ISO, YMD' and TimeZone 'UTC', whatever its defaults");
    // A where that ends supasync's statement and starts its own, which would write production: refused, production untouched.
    const names = `SELECT string_agg(name, ',' ORDER BY country_code) AS names FROM public.sire_countries`;
    const productionNames = await query(production.adminUrl, names);
    const breakOut = "true)); COMMIT; BEGIN READ WRITE; UPDATE public.sire_countries SET name = 'pwned'; COMMIT; SELECT ((true";
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { sire_countries: { where: breakOut } } }));
    for (const extra of [['--dry-run'], []]) {
      const injected = await runScript('sync.ts', [...args, ...extra], { env, cwd });
      expect(injected.code, injected.stdout + injected.stderr).toBe(2);
      expect(injected.stderr).toContain(
        `supasync.config.json holds a where that production cannot run as written:\n  tables."public.sire_countries".where (${breakOut}): `,
      );
      expect(await query(production.adminUrl, names)).toEqual(productionNames);
    }
    expect(await countries(staging.adminUrl)).toEqual(['ZZZ']);
  });

  it.each(['postgres', 'rest'] as const)(
    "leaves each database's migration record out of a schema-wide sync, and copies it when named (via %s)",
    async (via) => {
      const env = envFor(production, staging);
      const cwd = emptyDirectory();
      // Staging ran a migration production has not yet.
      await query(
        staging.adminUrl,
        `TRUNCATE public._prisma_migrations, analytics.schema_migrations, public.schema_migration, analytics.migrations;
       INSERT INTO public._prisma_migrations VALUES ('1', '20260101_init', now()), ('2', '20260201_ahead', now());
       INSERT INTO analytics.schema_migrations VALUES ('20260101000000'), ('20260201000000');
       INSERT INTO public.schema_migration VALUES ('20210829131458000000'), ('20220301102701000000');
       INSERT INTO analytics.migrations (migration, batch) VALUES ('2014_10_12_000000_create_users_table', 1), ('2026_02_01_000000_ahead', 2)`,
      );
      const stagingRecords =
        "SELECT (SELECT string_agg(migration_name, ',' ORDER BY id) FROM public._prisma_migrations) AS prisma, (SELECT string_agg(version, ',' ORDER BY 1) FROM analytics.schema_migrations) AS rails, (SELECT string_agg(version, ',' ORDER BY 1) FROM public.schema_migration) AS pop, (SELECT string_agg(migration, ',' ORDER BY id) FROM analytics.migrations) AS laravel";
      const appTables =
        "SELECT (SELECT string_agg(m::text, ',' ORDER BY id) FROM public.migrations m) AS routes, (SELECT string_agg(s::text, ',') FROM public.schema_info s) AS info, (SELECT string_agg(s::text, ',') FROM analytics.schema_info s) AS referenced";
      const before = await query(staging.adminUrl, stagingRecords);
      const schemaWide = ['--via', via, '--yes', '--no-backup', '--schemas', 'public,analytics,auth'];
      const plan = await runScript('sync.ts', [...schemaWide, '--dry-run'], { env, cwd });
      expect(plan.code, plan.stdout + plan.stderr).toBe(0);
      expect(plan.stdout).toContain("public._prisma_migrations: only when named with --tables: it is Prisma's record of the migrations run on each database");
      expect(plan.stdout).toContain('analytics.schema_migrations: only when named with --tables');
      expect(plan.stdout).toContain("public.__diesel_schema_migrations: only when named with --tables: it is Diesel's record");
      expect(plan.stdout).toContain('analytics.schema_version: only when named with --tables: it is Flyway (before version 5), tern, Synapse or Miniflux');
      expect(plan.stdout).toContain("public.schema_migration: only when named with --tables: it is gobuffalo/pop (Ory Kratos, Hydra, Keto; Buffalo)'s record");
      expect(plan.stdout).toContain("analytics.migrations: only when named with --tables: it is Laravel's record");
      // An app's own tables under those names: one that references the app's rows, one without the tool's columns, one the app's rows reference.
      expect(plan.stdout).not.toMatch(/public\.migrations:|public\.schema_info:|analytics\.schema_info:/);
      const run = await runScript('sync.ts', schemaWide, { env, cwd });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(await query(staging.adminUrl, stagingRecords)).toEqual(before);
      expect(await query(staging.adminUrl, appTables)).toEqual(await query(production.adminUrl, appTables));
      // Named after the run too: "Synced n tables" alone reads as the schemas' every table.
      const notCopied = /Not copied: ([^\n]*) \(only when named with --tables\); auth\.schema_migrations \(never copied\)/.exec(run.stdout)?.[1]?.split(', ');
      expect(notCopied).toEqual(expect.arrayContaining(['public._prisma_migrations', 'analytics.migrations', 'public.oban_jobs', 'auth.sessions']));
      expect(notCopied).not.toContain('public.migrations');
      const verify = await runScript('verify-sync-status.ts', ['--via', via, '--schemas', 'public,analytics,auth'], { env, cwd });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).not.toMatch(/\| public\._prisma_migrations|\| analytics\.migrations/);
      expect(verify.stdout).toMatch(/\| public\.migrations +\| \d+ +\| \d+ +\| ✅ Perfect/);
      expect(verify.stdout).toMatch(/Not compared: [^\n]*public\._prisma_migrations/);
      // An excluded table, changed in staging: named as not compared, never among the Perfect, in the text and in --json.
      await query(staging.adminUrl, "INSERT INTO public.migrations SELECT max(id) + 1, min(country_code), 'staging only' FROM public.migrations");
      try {
        const excluding = ['--via', via, '--schemas', 'public,analytics,auth', '--exclude', 'public.migrations'];
        const excluded = await runScript('verify-sync-status.ts', excluding, { env, cwd });
        expect(excluded.code, excluded.stdout + excluded.stderr).toBe(0);
        expect(excluded.stdout).toMatch(/Not compared: public\.migrations \(excluded\); /);
        expect(excluded.stdout).not.toMatch(/\| public\.migrations /);
        const json = JSON.parse((await runScript('verify-sync-status.ts', [...excluding, '--json'], { env, cwd })).stdout) as { leftOut: { table: string }[] };
        expect(JSON.stringify(json.leftOut)).toContain('"migrations"');
      } finally {
        await query(staging.adminUrl, 'DELETE FROM public.migrations WHERE id = (SELECT max(id) FROM public.migrations)');
      }
      // A table production dropped (or staging's migration ahead): not compared, and said, not counted among the Perfect.
      // One that INHERITS from a compared table, its row read by every query of that one in staging alone: said.
      await query(
        staging.adminUrl,
        `SET ROLE postgres; CREATE TABLE analytics.dropped_in_production (id int PRIMARY KEY);
         CREATE TABLE analytics.staging_readings () INHERITS (analytics.schema_info); INSERT INTO analytics.staging_readings VALUES (99, 9)`,
      );
      try {
        const extra = await runScript('verify-sync-status.ts', ['--via', via, '--schemas', 'public,analytics,auth'], { env, cwd });
        expect(extra.code, extra.stdout + extra.stderr).toBe(0);
        expect(extra.stdout).toContain(
          'Only in staging, not compared: analytics.dropped_in_production, analytics.staging_readings (production has no such table).',
        );
        expect(extra.stdout).toContain(
          "analytics.staging_readings INHERITS from analytics.schema_info in staging alone: a query of analytics.schema_info there reads its rows too, which production's does not",
        );
      } finally {
        await query(staging.adminUrl, 'DROP TABLE analytics.dropped_in_production, analytics.staging_readings');
      }

      const named = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'public._prisma_migrations'], { env, cwd });
      expect(named.code, named.stdout + named.stderr).toBe(0);
      expect(await query(staging.adminUrl, 'SELECT migration_name FROM public._prisma_migrations')).toEqual([{ migration_name: '20260101_init' }]);
    },
  );

  it.each(['postgres', 'rest'] as const)(
    "leaves a job queue's pending work out of a schema-wide sync, copies an app's own jobs table, and a queue when named (via %s)",
    async (via) => {
      const env = envFor(production, staging);
      const cwd = emptyDirectory();
      await query(staging.adminUrl, 'TRUNCATE public.oban_jobs, graphile_worker._private_jobs, analytics.jobs, public.jobs');
      const schemaWide = ['--via', via, '--yes', '--no-backup', '--schemas', 'public,analytics,graphile_worker'];
      const plan = await runScript('sync.ts', [...schemaWide, '--dry-run'], { env, cwd });
      expect(plan.code, plan.stdout + plan.stderr).toBe(0);
      expect(plan.stdout).toContain("public.oban_jobs: only when named with --tables: it is Oban's job queue: staging's workers would run the jobs");
      expect(plan.stdout).toContain("graphile_worker._private_jobs: only when named with --tables: it is graphile-worker's job queue");
      expect(plan.stdout).toContain("analytics.jobs: only when named with --tables: it is Laravel's job queue");
      const run = await runScript('sync.ts', schemaWide, { env, cwd });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const queued = `SELECT (SELECT count(*) FROM public.oban_jobs) + (SELECT count(*) FROM graphile_worker._private_jobs) + (SELECT count(*) FROM analytics.jobs) AS jobs`;
      expect(await query(staging.adminUrl, queued)).toEqual([{ jobs: '0' }]);
      expect(await query(staging.adminUrl, 'SELECT title FROM public.jobs')).toEqual([{ title: 'Night porter' }]);

      const named = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'oban_jobs'], { env, cwd });
      expect(named.code, named.stdout + named.stderr).toBe(0);
      expect(await query(staging.adminUrl, 'SELECT worker FROM public.oban_jobs')).toEqual([{ worker: 'App.Welcome' }]);
    },
  );
});
