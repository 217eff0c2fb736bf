// A staging table made by another role (a migration run as another user)
// has no grants: supasync's role may not read it. Where a run must read it
// (staging's rows that reference a table a mirror deletes from, verify's
// foreign-key check), the failure names the table, the privilege and the
// GRANT that mends it, and nothing is written.
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
      `INSERT INTO app.hotels VALUES (4, 'staging only');
       CREATE ROLE audit_owner NOLOGIN;
       GRANT USAGE, CREATE ON SCHEMA app TO audit_owner;
       GRANT REFERENCES ON app.hotels TO audit_owner;
       SET ROLE audit_owner;
       CREATE TABLE app.audit (id int PRIMARY KEY, hotel_id int REFERENCES app.hotels (id) ON DELETE CASCADE);
       INSERT INTO app.audit VALUES (1, 1);
       RESET ROLE;`,
    );
  });

  it.each(['postgres', 'rest'] as Via[])('stops a mirror and verify naming it and the GRANT (via %s)', async (via) => {
    const before = await tableDigests(staging.adminUrl, ['app']);
    const env = envFor(production, staging);
    const mirror = await runScript('sync.ts', ['--via', via, '--mode', 'mirror', '--yes', '--no-backup', '--tables', 'app.hotels'], { env });
    expect(mirror.code, mirror.stderr).toBe(1);
    expect(mirror.stderr).toContain('permission denied for table audit');
    expect(mirror.stderr).toContain('GRANT SELECT ON audit TO <role>');
    expect(await tableDigests(staging.adminUrl, ['app'])).toEqual(before);
    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--schemas', 'app'], { env });
    expect(verify.code).toBe(1);
    expect(verify.stderr + verify.stdout).toContain('GRANT SELECT ON audit TO <role>');
  });
});
