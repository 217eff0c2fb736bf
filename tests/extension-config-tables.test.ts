// An extension's tables are its own to make and fill; some hold rows of the
// app's too, those the condition pg_extension_config_dump gave picks (a
// PostGIS project's own spatial_ref_sys entries, which pg_dump copies).
// supasync copies no extension's table, and said nothing of those rows:
// staging lacked an SRID production's geometries use, and verify said
// Perfect. Now the sync says before writing that they differ, verify
// compares them (exit 1 while they differ), and --tables naming the table
// says whose it is. The fixture makes a table of its own ltree's, marked as
// the extension's script would mark it (pg_extension_config_dump may only
// be called from one).
import { describe, expect, it } from 'vitest';
import type { Via } from '../lib/config/env.ts';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { projectPair } from './helpers/project-pair.ts';
import { runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';

const SCHEMA = `CREATE SCHEMA app;
  CREATE SCHEMA IF NOT EXISTS extensions;
  CREATE EXTENSION IF NOT EXISTS ltree WITH SCHEMA extensions;
  CREATE TABLE app.srs (srid int PRIMARY KEY, name text);
  CREATE TABLE app.places (id int PRIMARY KEY, srid int, label text);
  INSERT INTO app.srs VALUES (4326, 'WGS 84'), (3857, 'Pseudo-Mercator');
  RESET ROLE;
  ALTER EXTENSION ltree ADD TABLE app.srs;
  UPDATE pg_extension SET extconfig = ARRAY['app.srs'::regclass::oid], extcondition = ARRAY['WHERE srid > 100000'] WHERE extname = 'ltree';`;

describe("an extension's table holding rows of the app's", () => {
  let production: Project;
  let staging: Project;
  projectPair('extension_config', SCHEMA, async (pair) => {
    ({ production, staging } = pair);
    await query(production.adminUrl, `INSERT INTO app.srs VALUES (900001, 'the app''s own'); INSERT INTO app.places VALUES (1, 900001, 'here')`);
  });

  it.each(['postgres', 'rest'] as Via[])('is never written, said by the sync, compared by verify, and named for --tables (via %s)', async (via) => {
    const env = envFor(production, staging);
    const named = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'app.srs'], { env });
    expect(named.code).toBe(2);
    expect(named.stderr).toContain("--tables app.srs: app.srs belongs to the extension ltree, which makes and fills it: supasync copies no extension's table.");

    const sync = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--schemas', 'app'], { env });
    expect(sync.code, sync.stderr).toBe(0);
    const differ = 'app.srs belongs to the extension ltree, and the rows the app added to it (those pg_dump copies) differ: production 1 row, staging 0 rows.';
    expect(sync.stderr).toContain(differ);
    expect(await query(staging.adminUrl, 'SELECT srid FROM app.srs ORDER BY 1')).toEqual([{ srid: 3857 }, { srid: 4326 }]);
    expect(await query(staging.adminUrl, 'SELECT srid FROM app.places')).toEqual([{ srid: 900001 }]);

    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--schemas', 'app'], { env });
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(differ);
    expect(verify.stdout).toContain("Every table's rows are as production's, but the rows the app added to extension tables differ (app.srs: said above).");

    // Added to staging as the app added it: equal, and verify passes; a row of the extension's own is not the app's.
    await query(staging.adminUrl, `INSERT INTO app.srs VALUES (900001, 'the app''s own'), (2154, 'Lambert-93')`);
    try {
      const equal = await runScript('verify-sync-status.ts', ['--via', via, '--schemas', 'app'], { env });
      expect(equal.code, equal.stdout).toBe(0);
      expect(equal.stdout).toContain("app.srs (the extension ltree's): the rows the app added to it are equal (1 row).");
    } finally {
      await query(staging.adminUrl, 'DELETE FROM app.srs WHERE srid IN (900001, 2154)');
    }
  });

  it('says where a role may not read such a table, and runs on', async () => {
    await query(staging.adminUrl, 'CREATE ROLE ext_owner NOLOGIN; ALTER TABLE app.srs OWNER TO ext_owner; REVOKE ALL ON app.srs FROM PUBLIC');
    try {
      for (const via of ['postgres', 'rest'] as Via[]) {
        const sync = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--schemas', 'app'], { env: envFor(production, staging) });
        expect(sync.code, sync.stderr).toBe(0);
        expect(sync.stderr).toContain("app.srs (the extension ltree's): the rows the app added to it were not compared, as staging's role may not read it.");
        expect(await query(staging.adminUrl, 'SELECT srid FROM app.places')).toEqual([{ srid: 900001 }]);
      }
    } finally {
      await query(staging.adminUrl, 'ALTER TABLE app.srs OWNER TO postgres; DROP ROLE ext_owner');
    }
  });
});
