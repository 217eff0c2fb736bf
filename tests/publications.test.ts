// A staging table one of staging's publications sends the updates and
// deletes of, with no replica identity (keyed by a UNIQUE NOT NULL column,
// no primary key): PostgreSQL refuses every UPDATE and DELETE of it. Found
// before writing on both paths, with the ALTER TABLE that fixes it; a direct
// replace, which only COPYs, needs none. supasync's own bookkeeping in
// staging is written under a FOR ALL TABLES publication too. And an event
// trigger staging enables ALWAYS, which fires on the load's own DDL and
// which only a superuser may disable, is warned of before the load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE SCHEMA pubs;
  CREATE TABLE pubs.codes (code text NOT NULL UNIQUE, uses int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());`;

const codes = (url: string) => query(url, 'SELECT code, uses FROM pubs.codes ORDER BY code');

describe('a staging publication over a table with no replica identity', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('pubs_prod', { syncTarget: false }), stack.createProject('pubs_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}; NOTIFY pgrst, 'reload schema'`);
    await query(production.adminUrl, `INSERT INTO pubs.codes (code, uses) SELECT 'code-' || g, g FROM generate_series(1, 30) g`);
    await query(staging.adminUrl, `INSERT INTO pubs.codes (code, uses) VALUES ('code-1', 0), ('staging-only', 5); CREATE PUBLICATION pubs_all FOR ALL TABLES`);
  });
  afterAll(async () => {
    await query(staging.adminUrl, 'DROP PUBLICATION IF EXISTS pubs_all').catch(() => undefined);
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it('is refused before writing, with the ALTER TABLE; a direct replace needs no identity, and with one a mirror runs (both paths)', async () => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const before = await codes(staging.adminUrl);
    const run = (via: string, mode: string, extra: string[] = []) =>
      runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--schemas', 'pubs', '--mode', mode, ...extra], { env, cwd });
    for (const [via, mode, extra] of [
      ['postgres', 'upsert', []],
      ['postgres', 'mirror', ['--dry-run']],
      ['rest', 'replace', []],
      ['rest', 'mirror', []],
    ] as const) {
      const refused = await run(via, mode, [...extra]);
      expect(refused.code, `${via} ${mode}: ${refused.stdout}${refused.stderr}`).toBe(1);
      expect(refused.stderr).toContain("Staging's publications send the updates and deletes of tables with no replica identity");
      expect(refused.stderr).toContain('pubs.codes (publication pubs_all): ALTER TABLE pubs.codes REPLICA IDENTITY USING INDEX "codes_code_key";');
      expect(await codes(staging.adminUrl)).toEqual(before);
    }
    const replaced = await run('postgres', 'replace');
    expect(replaced.code, replaced.stdout + replaced.stderr).toBe(0);
    expect(await codes(staging.adminUrl)).toEqual(await codes(production.adminUrl));

    await query(staging.adminUrl, 'ALTER TABLE pubs.codes REPLICA IDENTITY USING INDEX codes_code_key');
    for (const via of ['postgres', 'rest']) {
      await query(
        production.adminUrl,
        `UPDATE pubs.codes SET uses = uses + 1, updated_at = now() WHERE code = 'code-3'; DELETE FROM pubs.codes WHERE code = 'code-${via.length}'`,
      );
      for (const mode of ['mirror', 'incremental']) {
        const synced = await run(via, mode);
        expect(synced.code, `${via} ${mode}: ${synced.stdout}${synced.stderr}`).toBe(0);
        expect(await codes(staging.adminUrl)).toEqual(await codes(production.adminUrl));
      }
    }
  });

  it.each(['postgres', 'rest'] as const)("warns of staging's event triggers enabled ALWAYS before the load (via %s)", async (via) => {
    await query(
      staging.adminUrl,
      `ALTER TABLE pubs.codes REPLICA IDENTITY USING INDEX codes_code_key;
       CREATE OR REPLACE FUNCTION public.note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'ddl'; END $$;
       DROP EVENT TRIGGER IF EXISTS note_ddl; CREATE EVENT TRIGGER note_ddl ON ddl_command_end EXECUTE FUNCTION public.note_ddl();
       ALTER EVENT TRIGGER note_ddl ENABLE ALWAYS`,
    );
    try {
      const run = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--schemas', 'pubs', '--mode', 'replace'], {
        env: envFor(production, staging),
        cwd: emptyDirectory(),
      });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout + run.stderr).toContain("staging's event trigger note_ddl is enabled ALWAYS: it fires on the ALTER TABLE the load runs");
    } finally {
      await query(staging.adminUrl, 'DROP EVENT TRIGGER note_ddl');
    }
  });
});
