// A staging table made by another role (a migration run as another user)
// has no grants: supasync's role may not read it. Where a run must read it
// (staging's rows that reference a table a mirror deletes from, verify's
// foreign-key check), the failure names the table, the privilege and the
// GRANT that mends it, as it can be run: PostgreSQL names the table bare
// (a Prisma table's capitals folded, its schema left out), so the GRANT
// names it schema-qualified and quoted, to the role the run signs in as.
// Granted, the mirror goes on; where such a table's rows name a row the
// mirror deletes, the ways out say to change those rows (production has no
// such table to copy).
import { describe, expect, it } from 'vitest';
import type { Via } from '../lib/config/env.ts';
import type { Project } from '../stack/index.ts';
import { query, tableDigests } from './helpers/content.ts';
import { projectPair } from './helpers/project-pair.ts';
import { runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';

const SCHEMA = `CREATE SCHEMA app;
  CREATE TABLE app.hotels (id int PRIMARY KEY, name text);
  INSERT INTO app.hotels VALUES (1, 'one'), (2, 'two'), (3, 'three');`;

describe('a staging table supasync may not read', () => {
  let production: Project;
  let staging: Project;
  projectPair('unreadable_staging', SCHEMA, async (pair) => {
    ({ production, staging } = pair);
    await query(
      staging.adminUrl,
      `CREATE ROLE audit_owner NOLOGIN;
       GRANT USAGE, CREATE ON SCHEMA app TO audit_owner;
       GRANT REFERENCES ON app.hotels TO audit_owner;
       SET ROLE audit_owner;
       CREATE TABLE app."HotelAudit" (id int PRIMARY KEY, hotel_id int REFERENCES app.hotels (id) ON DELETE CASCADE);
       INSERT INTO app."HotelAudit" VALUES (1, 1);
       RESET ROLE;`,
    );
  });

  it.each(['postgres', 'rest'] as Via[])('stops a mirror and verify naming it and the GRANT, which works as printed (via %s)', async (via) => {
    await query(staging.adminUrl, `INSERT INTO app.hotels VALUES (4, 'staging only')`);
    const before = await tableDigests(staging.adminUrl, ['app']);
    const env = envFor(production, staging);
    const mirror = () => runScript('sync.ts', ['--via', via, '--mode', 'mirror', '--yes', '--no-backup', '--tables', 'app.hotels'], { env });
    const refused = await mirror();
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain('permission denied for table HotelAudit');
    const grant = 'GRANT SELECT ON app."HotelAudit" TO postgres;';
    expect(refused.stderr).toContain(`fix: the role postgres has no privilege on table app."HotelAudit": as its owner or a superuser, ${grant}`);
    expect(await tableDigests(staging.adminUrl, ['app'])).toEqual(before);
    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--schemas', 'app'], { env });
    expect(verify.code).toBe(1);
    expect(verify.stderr + verify.stdout).toContain(grant);
    // Run as printed, the GRANT lets the mirror through.
    await query(staging.adminUrl, grant);
    try {
      const mirrored = await mirror();
      expect(mirrored.code, mirrored.stderr).toBe(0);
      expect(await query(staging.adminUrl, 'SELECT id FROM app.hotels ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
      // Staging's own audit of a hotel production lacks: the way out is to change those rows, not to copy a table production has none of.
      await query(staging.adminUrl, `INSERT INTO app.hotels VALUES (4, 'staging only'); INSERT INTO app."HotelAudit" VALUES (2, 4)`);
      const orphaning = await mirror();
      expect(orphaning.code).toBe(1);
      expect(orphaning.stderr).toContain('1 row of app.HotelAudit');
      expect(orphaning.stderr).toContain(
        "  delete or change the rows above in app.HotelAudit, staging's own table (production has none): no copy replaces them",
      );
      expect(orphaning.stderr).not.toContain('copy the referencing tables too');
      expect(orphaning.stderr).not.toContain('`where`');
    } finally {
      await query(staging.adminUrl, `DELETE FROM app."HotelAudit" WHERE id = 2; DELETE FROM app.hotels WHERE id = 4`);
      await query(staging.adminUrl, 'REVOKE SELECT ON app."HotelAudit" FROM postgres');
    }
  });
});
