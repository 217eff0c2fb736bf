// Over REST a re-sync's comparison hashes rows inside a request, and one
// statement hashing millions of rows outlasted the role's statement timeout
// (5,000,000 rows: every mirror and incremental run failed). A table past
// half a million rows is asked about in slices of its blocks, a request each,
// whose answers add up: here 600,000 rows, two slices on each side.
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { projectPair } from './helpers/project-pair.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';

const ROWS = 600_000;
const SCHEMA = 'CREATE SCHEMA sliced; CREATE TABLE sliced.readings (id int PRIMARY KEY, value smallint, note text)';
const FILL = `INSERT INTO sliced.readings SELECT g, g % 1000, CASE WHEN g % 7 = 0 THEN 'seventh' END FROM generate_series(1, ${ROWS}) g; ANALYZE sliced.readings`;
const digest = async (project: Project) =>
  query(project.adminUrl, `SELECT count(*)::int AS n, md5(string_agg(r::text, ',' ORDER BY id)) AS rows FROM sliced.readings r`);

describe('a re-sync over REST of a table of many rows', () => {
  let production: Project;
  let staging: Project;
  projectPair('sliced', SCHEMA, async (pair) => {
    ({ production, staging } = pair);
    // Both sides hold the same rows (written directly: a REST copy of them is not what is tested), then production changes.
    await Promise.all([query(production.adminUrl, `SET ROLE postgres; ${FILL}`), query(staging.adminUrl, `SET ROLE postgres; ${FILL}`)]);
    await query(
      production.adminUrl,
      `UPDATE sliced.readings SET value = -1 WHERE id IN (3, 299999, 300001, ${ROWS});
       UPDATE sliced.readings SET note = NULL WHERE id = 7;
       DELETE FROM sliced.readings WHERE id IN (42, 450000);
       INSERT INTO sliced.readings VALUES (${ROWS + 1}, 1, 'new');`,
    );
  });

  it('compares it in slices of its blocks, a request each, and finds every changed, deleted and added row', async () => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const mirror = () => runScript('sync.ts', ['--via', 'rest', '--mode', 'mirror', '--schemas', 'sliced', '--yes', '--no-backup'], { env, cwd });
    const changed = await mirror();
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toMatch(/\| sliced\.readings \| 6 +\| 6 +\| 2 +\|/);
    expect(await digest(staging)).toEqual(await digest(production));

    // Nothing differs now: the first level's sums, one request per slice on each side, settle it.
    for (const project of [production, staging]) project.gateway.resetStats();
    const again = await mirror();
    expect(again.code, again.stderr).toBe(0);
    for (const project of [production, staging]) expect(project.gateway.stats().requests['/rpc/supasync_key_ranges']).toBe(2);
    expect(await digest(staging)).toEqual(await digest(production));
  });

  it('verifies it in the same slices, and finds a row that differs in one of them', async () => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const verify = () => runScript('verify-sync-status.ts', ['--via', 'rest', '--schemas', 'sliced'], { env, cwd });
    const mirrored = await runScript('sync.ts', ['--via', 'rest', '--mode', 'mirror', '--schemas', 'sliced', '--yes', '--no-backup'], { env, cwd });
    expect(mirrored.code, mirrored.stderr).toBe(0);
    for (const project of [production, staging]) project.gateway.resetStats();
    const equal = await verify();
    expect(equal.code, equal.stdout + equal.stderr).toBe(0);
    expect(equal.stdout).toContain('Staging equals production: 1 of 1 tables Perfect.');
    // The table's sum: one request per slice on each side, no statement hashing all 600,000 rows.
    for (const project of [production, staging]) expect(project.gateway.stats().requests['/rpc/supasync_checksum']).toBe(2);

    await query(staging.adminUrl, `UPDATE sliced.readings SET note = 'staging''s' WHERE id = 550000`);
    const differs = await verify();
    expect(differs.code, differs.stdout + differs.stderr).toBe(1);
    expect(differs.stdout).toContain('| sliced.readings | 599,999    | 599,999 | ❌ content differs |');
    expect(differs.stdout).toContain('sliced.readings (key: id):\n  differ from production: (550000)\n');
  });
});
