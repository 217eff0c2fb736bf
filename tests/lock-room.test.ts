// A direct run holds each lock it takes to its end: a lock per table,
// partition, index and TOAST table, in a server-wide table of
// max_locks_per_transaction x max_connections slots. Thousands of partitions
// fill it, and staging's run then failed with "out of shared memory" partway
// through, while production's snapshot held half its server's slots for the
// whole run. Both are counted before anything is read or written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const PARTITIONS = 1_500;
const INDEXED = ['a', 'b', 'c', 'd', 'e', 'f'];

/**
 * The table, its indexes made before its partitions, and the partitions a hundred to a transaction: one statement
 * making them all, or indexing them after, would itself hold thousands of locks in the server other tests share.
 */
async function makeEvents(url: string, indexed: boolean): Promise<void> {
  await query(
    url,
    `SET ROLE postgres; CREATE SCHEMA parts;
     CREATE TABLE parts.events (id int, day int, note text, ${INDEXED.map((column) => `${column} int`).join(', ')}, PRIMARY KEY (id, day)) PARTITION BY LIST (day);
     ${indexed ? INDEXED.map((column) => `CREATE INDEX ON parts.events (${column});`).join('\n') : ''}
     CREATE TABLE parts.small (id int PRIMARY KEY, name text)`,
  );
  for (let from = 0; from < PARTITIONS; from += 100) {
    const statements = Array.from({ length: 100 }, (_, i) => `CREATE TABLE parts.events_${from + i} PARTITION OF parts.events FOR VALUES IN (${from + i});`);
    await query(url, `SET ROLE postgres; ${statements.join('\n')}`);
  }
}

describe('room in the lock table for a direct run', () => {
  let production: Project;
  let staging: Project;
  /** A staging with production's indexes. */
  let indexedStaging: Project;
  beforeAll(async () => {
    [production, staging, indexedStaging] = await Promise.all([
      stack.createProject('locks_prod', { syncTarget: false }),
      stack.createProject('locks_staging'),
      stack.createProject('locks_staging_indexed'),
    ]);
    await makeEvents(production.adminUrl, true);
    await makeEvents(staging.adminUrl, false);
    await makeEvents(indexedStaging.adminUrl, true);
    for (let from = 0; from < PARTITIONS; from += 100) {
      await query(production.adminUrl, `INSERT INTO parts.events (id, day, note) SELECT g, g % 100 + ${from}, 'event ' || g FROM generate_series(1, 200) g`);
    }
    await query(production.adminUrl, `INSERT INTO parts.small VALUES (1, 'production''s')`);
    for (const project of [staging, indexedStaging]) {
      await query(
        project.adminUrl,
        `INSERT INTO parts.events (id, day, note) VALUES (1, 1, 'staging''s own'); INSERT INTO parts.small VALUES (9, 'staging''s own')`,
      );
    }
  }, 240_000);
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop(), indexedStaging?.stop()]);
  });

  const sync = (extra: string[], into = staging) =>
    runScript('sync.ts', ['--via', 'postgres', '--yes', '--no-backup', '--schemas', 'parts', ...extra], {
      env: envFor(production, into),
      cwd: emptyDirectory(),
    });
  const stagingRows = (of = staging) => query(of.adminUrl, 'SELECT id, note FROM parts.events UNION ALL SELECT id, name FROM parts.small ORDER BY 2');

  it("refuses before reading where production's snapshot would hold more than half its free slots, the dry run too", async () => {
    for (const extra of [['--dry-run'], []]) {
      const run = await sync(extra);
      expect(run.code, run.stdout + run.stderr).toBe(1);
      // 1,500 partitions and their parent, each itself, its key and six indexes read, and parts.small with its key: 12,010 of 12,800 slots (max_locks_per_transaction 64 x 200).
      expect(run.stderr).toMatch(
        /Production's server has 12,800 lock slots \(max_locks_per_transaction 64 x 200 connections\), [\d,]+ taken now, and this run would hold about 12,010 until it ends/,
      );
      expect(run.stderr).toContain('parts.events (1,501 tables with its partitions) 12,008');
      expect(run.stderr).toContain(`production's own sessions could fail with "out of shared memory". No row was read or written.`);
      // One table alone needs more than the room: fewer tables a run would not help.
      expect(run.stderr).toContain(
        "\nRaise production's max_locks_per_transaction to 256 (a restart; on Supabase: supabase postgres-config update --project-ref <ref> --config max_locks_per_transaction=256)",
      );
    }
    expect(await stagingRows()).toEqual([
      { id: 1, note: "staging's own" },
      { id: 9, note: "staging's own" },
    ]);
  });

  it("refuses before writing where staging's one transaction would not fit, and copies the tables that fit (--tables)", async () => {
    const run = await sync([], indexedStaging);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    // Written: each partition, its eight indexes with its TOAST table's, and the TOAST table: 15,000 and the parent's.
    expect(run.stderr).toMatch(
      /Staging's server has 12,800 lock slots .*, and this run would hold about 15,0\d\d until it ends: one per table, partition, index and TOAST table/,
    );
    expect(run.stderr).toContain('It would fail with "out of shared memory" partway through. No row was read or written.');
    expect(await stagingRows()).toEqual([
      { id: 1, note: "staging's own" },
      { id: 9, note: "staging's own" },
    ]);

    const small = await sync(['--tables', 'small']);
    expect(small.code, small.stdout + small.stderr).toBe(0);
    expect(await query(staging.adminUrl, 'SELECT id, name FROM parts.small')).toEqual([{ id: 1, name: "production's" }]);
  });
});
