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

// The catalog's statistics are production's, missing until a table is first
// analyzed, and stale after a bulk load: a table of millions of rows never
// analyzed was asked about whole, and a staging far larger than production
// had production's slices, its last one holding the rest. Each side now cuts
// by its own size as it is (supasync_table_sizes).
describe("slices by each side's size as it is, not by production's statistics", () => {
  let production: Project;
  let staging: Project;
  const FRESH = `CREATE SCHEMA fresh; CREATE TABLE fresh.events (id int PRIMARY KEY, body text) WITH (autovacuum_enabled = false)`;
  // 300,000 rows of 327 characters: about 14,000 blocks, past one slice's 8,192 by size though not by rows.
  const fill = (to: number) => `INSERT INTO fresh.events SELECT g, repeat(md5(g::text), 10) || lpad(g::text, 7) FROM generate_series(1, ${to}) g`;
  projectPair('fresh', FRESH, async (pair) => {
    ({ production, staging } = pair);
    // Production never analyzed (its statistics: -1 rows, 0 blocks); staging the same rows in twice the blocks, half of them dead.
    await Promise.all([
      query(production.adminUrl, `SET ROLE postgres; ${fill(300_000)}`),
      query(staging.adminUrl, `SET ROLE postgres; ${fill(600_000)}; DELETE FROM fresh.events WHERE id > 300000; ANALYZE fresh.events`),
    ]);
  });

  /** A REST verify of the schema, asserted Perfect: the requests each side (production, staging) was sent, by path. */
  const verifiedPerfect = async () => {
    for (const project of [production, staging]) project.gateway.resetStats();
    const verify = await runScript('verify-sync-status.ts', ['--via', 'rest', '--schemas', 'fresh'], {
      env: envFor(production, staging),
      cwd: emptyDirectory(),
    });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('Staging equals production: 1 of 1 tables Perfect.');
    return [production, staging].map((project) => project.gateway.stats().requests);
  };

  it('verifies a table never analyzed in slices of its blocks, and a bloated staging in more of them', async () => {
    expect(await query(production.adminUrl, `SELECT reltuples::int AS rows, relpages AS pages FROM pg_class WHERE oid = 'fresh.events'::regclass`)).toEqual([
      { rows: -1, pages: 0 },
    ]);
    const requests = await verifiedPerfect();
    // A slice per 8,192 blocks: production's ~14,000 make 2; staging's ~28,000 (its dead rows' included) 4.
    const slices = async (project: Project) => {
      const [{ blocks }] = (await query(project.adminUrl, `SELECT pg_relation_size('fresh.events') / 8192 AS blocks`)) as [{ blocks: string }];
      return Math.ceil(Number(blocks) / 8192);
    };
    expect([await slices(production), await slices(staging)]).toEqual([2, 4]);
    expect(requests.map((side) => side['/rpc/supasync_checksum'])).toEqual([2, 4]);
    // One request for each side's sizes.
    expect(requests.map((side) => side['/rpc/supasync_table_sizes'])).toEqual([1, 1]);
  });

  it("falls back to production's statistics on a side whose functions lack supasync_table_sizes (version 27 installs), rather than failing", async () => {
    await query(production.adminUrl, `DROP FUNCTION public.supasync_table_sizes(jsonb); NOTIFY pgrst, 'reload schema'`);
    const requests = await verifiedPerfect();
    // Production's statistics know nothing of the table (never analyzed): asked whole there; staging still by its own size.
    expect(requests.map((side) => side['/rpc/supasync_checksum'])).toEqual([1, 4]);
  });
});
