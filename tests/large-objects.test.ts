// Large objects live outside the tables: a copy of the rows carries an oid
// column's numbers, not the objects. A sync said nothing of it and verify
// called the table Perfect while staging's rows named objects staging lacked,
// or held otherwise. Now the sync says so per column, and verify compares the
// objects directly and says over REST that it cannot.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { projectPair } from './helpers/project-pair.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';

// `lo` stands in for the lo extension's domain over oid.
const SCHEMA = `CREATE SCHEMA lobs; CREATE DOMAIN lobs.lo AS oid;
  CREATE TABLE lobs.attachment (id int PRIMARY KEY, name text, blob oid, thumbnail lobs.lo, tag_oid oid);`;
const TABLES = ['--schemas', 'lobs'];
const contents = (url: string) =>
  query<{ id: number; blob: string | null; thumbnail: string | null }>(
    url,
    `SELECT id, convert_from(lo_get(blob), 'UTF8') AS blob, convert_from(lo_get(thumbnail), 'UTF8') AS thumbnail FROM lobs.attachment ORDER BY id`,
  );

describe('large objects named by oid columns', () => {
  let production: Project;
  let staging: Project;
  projectPair('large_objects', SCHEMA, async (pair) => {
    ({ production, staging } = pair);
    // tag_oid holds a type's oid, which names no large object: nothing is said of it.
    await query(
      production.adminUrl,
      `SET ROLE postgres;
       INSERT INTO lobs.attachment VALUES (1, 'contract.pdf', lo_from_bytea(7700001, 'PRODUCTION CONTRACT'), lo_from_bytea(7700003, 'THUMB'), 'pg_catalog.int4'::regtype),
                                         (2, 'photo.jpg', lo_from_bytea(7700002, 'PRODUCTION PHOTO'), NULL, NULL)`,
    );
    await query(staging.adminUrl, `SET ROLE postgres; SELECT lo_from_bytea(7700001, 'old staging test file')`);
  });

  it.each(['postgres', 'rest'] as const)('are said by the sync, and compared by verify directly, not over REST (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const said =
      "lobs.attachment.blob names 2 large objects of production's (pg_largeobject, e.g. 7700001, 7700002): a sync copies the column's numbers, not the objects";
    const plan = await runScript('sync.ts', ['--via', via, '--dry-run', ...TABLES], { env, cwd });
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stderr).toContain(said);
    expect(plan.stderr).toContain("lobs.attachment.thumbnail names 1 large object of production's (pg_largeobject, e.g. 7700003)");
    expect(plan.stderr).not.toContain('tag_oid');
    // A masked column holds what the mask made of the number in staging: nothing to say of its objects.
    const masked = emptyDirectory();
    writeFileSync(join(masked, 'supasync.config.json'), JSON.stringify({ mask: { 'lobs.attachment.thumbnail': 'null' } }));
    const maskedPlan = await runScript('sync.ts', ['--via', via, '--dry-run', ...TABLES], {
      env: { ...env, SUPASYNC_MASK_SECRET: 'large-objects-mask-secret-0123' },
      cwd: masked,
    });
    expect(maskedPlan.code, maskedPlan.stdout + maskedPlan.stderr).toBe(0);
    expect(maskedPlan.stderr).toContain(said);
    expect(maskedPlan.stderr).not.toContain('thumbnail names');
    const synced = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', ...TABLES], { env, cwd });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    expect(synced.stderr).toContain(said);
    expect(await rowTexts(staging.adminUrl, 'lobs.attachment')).toEqual(await rowTexts(production.adminUrl, 'lobs.attachment'));

    // Directly, the objects are compared: staging holds one otherwise and lacks the others.
    const direct = await runScript('verify-sync-status.ts', ['--via', 'postgres', '--report', 'verify.md', ...TABLES], { env, cwd });
    expect(direct.code, direct.stdout + direct.stderr).toBe(1);
    expect(direct.stdout).toContain(
      "lobs.attachment.blob: 2 large objects named by production's rows; staging lacks or holds otherwise 2 of them, e.g. 7700001, 7700002",
    );
    expect(direct.stdout).toContain("lobs.attachment.thumbnail: 1 large object named by production's rows; staging lacks or holds otherwise 1 of them");
    expect(direct.stdout).toContain("Every table's rows are as production's, but large objects their oid columns name differ in staging");
    const report = readFileSync(join(cwd, 'verify.md'), 'utf8');
    expect(report).toContain('### Large objects');
    expect(report).toContain("lobs.attachment.blob: 2 large objects named by production's rows; staging lacks or holds otherwise 2 of them");
    // Over REST they cannot be read: said, and the rows alone decide.
    const rest = await runScript('verify-sync-status.ts', ['--via', 'rest', ...TABLES], { env, cwd });
    expect(rest.code, rest.stdout + rest.stderr).toBe(0);
    expect(rest.stdout).toContain("lobs.attachment.blob: 2 large objects named by production's rows, not compared (over REST");

    // Copied as the sync's message says, they compare equal.
    await query(
      staging.adminUrl,
      `SET ROLE postgres; SELECT lo_unlink(7700001);
       SELECT lo_from_bytea(o, lo) FROM (VALUES (7700001::oid, 'PRODUCTION CONTRACT'::bytea), (7700002, 'PRODUCTION PHOTO'), (7700003, 'THUMB')) AS v(o, lo)`,
    );
    try {
      expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
      const equal = await runScript('verify-sync-status.ts', ['--via', 'postgres', ...TABLES], { env, cwd });
      expect(equal.code, equal.stdout + equal.stderr).toBe(0);
      expect(equal.stdout).toContain("lobs.attachment.blob: 2 large objects named by production's rows, each as production holds it.");
    } finally {
      await query(
        staging.adminUrl,
        `SET ROLE postgres; SELECT lo_unlink(o) FROM (VALUES (7700001::oid), (7700002), (7700003)) AS v(o);
         SELECT lo_from_bytea(7700001, 'old staging test file'); TRUNCATE lobs.attachment`,
      );
    }
  });
});
