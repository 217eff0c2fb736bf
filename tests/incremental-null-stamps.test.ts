// Rows whose updated_at production leaves NULL: an UPDATE that clears it, an
// insert that never sets it. Such a row is never past a watermark, and an
// incremental run missed its change on both paths (exit 0, staging stale,
// only verify saw it). Now a NULL counts as changed: the row is read on
// every run, and written again unchanged where equal. For a timestamptz, a
// date and a timestamp without time zone, each read from earlier than the
// watermark otherwise.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';
import { projectPair } from './helpers/project-pair.ts';

const TYPES = { instants: 'timestamptz', days: 'date', wall: 'timestamp without time zone' };
const TABLES = Object.keys(TYPES).map((name) => `stamps.${name}`);
const SCHEMA = `CREATE SCHEMA stamps; ${Object.entries(TYPES)
  .map(([name, type]) => `CREATE TABLE stamps.${name} (id int PRIMARY KEY, v text, updated_at ${type});`)
  .join(' ')}`;
const contents = async (url: string) => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await rowTexts(url, t)])));

describe('rows whose updated_at production leaves NULL, re-synced incrementally', () => {
  let production: Project;
  let staging: Project;
  projectPair('null_stamps', SCHEMA, (pair) => {
    ({ production, staging } = pair);
  });

  it.each(['postgres', 'rest'] as const)('are read on every run, and staging ends equal (via %s)', async (via) => {
    await query(
      production.adminUrl,
      `TRUNCATE ${TABLES.join(', ')};
       ${TABLES.map((t) => `INSERT INTO ${t} SELECT i, 'row ' || i, CASE WHEN i % 50 <> 0 THEN date '2024-01-01' END FROM generate_series(1, 400) i;`).join(' ')}`,
    );
    await query(staging.adminUrl, `TRUNCATE ${TABLES.join(', ')}; TRUNCATE supasync_private.watermarks`);
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const sync = (mode: string) => runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', mode, '--tables', TABLES.join(',')], { env, cwd });
    for (const mode of ['replace', 'incremental']) {
      const result = await sync(mode);
      expect(result.code, `${mode}: ${result.stderr}`).toBe(0);
    }

    // Rows updated to a NULL stamp (one already NULL changed again), rows inserted without one, rows deleted: no stamp moves past the watermark.
    await query(
      production.adminUrl,
      TABLES.map(
        (t) => `UPDATE ${t} SET v = 'changed-null', updated_at = NULL WHERE id IN (1, 77, 150, 300);
                UPDATE ${t} SET v = 'changed-again' WHERE id = 100;
                INSERT INTO ${t} VALUES (1001, 'added-null', NULL), (1002, 'added-null', NULL);
                DELETE FROM ${t} WHERE id IN (5, 250);`,
      ).join(' '),
    );
    const incremental = await sync('incremental');
    expect(incremental.code, incremental.stderr).toBe(0);
    // No trigger stamps these tables' updated_at: the run says so once, naming them, as its dry run's plan does per table.
    expect(incremental.stderr.match(/no trigger stamps the changed column on UPDATE in /g)).toHaveLength(1);
    for (const table of TABLES) expect(incremental.stderr).toContain(`${table} (updated_at)`);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--tables', TABLES.join(',')], { env, cwd });
    expect(verify.code, verify.stdout).toBe(0);
    // The summary says the NULLs were read.
    expect(incremental.stdout).toMatch(/stamps\.instants: read updated_at >= \S+ or NULL;/);
    expect(incremental.stdout).toMatch(/stamps\.days: read updated_at >= \S+ or NULL \(a date: read from the day before\)/);

    // Nothing changed since: the rows without a stamp are read again, written unchanged.
    const again = await sync('incremental');
    expect(again.code, again.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
    const verifyAgain = await runScript('verify-sync-status.ts', ['--via', via, '--tables', TABLES.join(',')], { env, cwd });
    expect(verifyAgain.code, verifyAgain.stdout).toBe(0);
  });

  it.each(['postgres', 'rest'] as const)(
    'says in the plan where no trigger stamps updated_at, so an SQL edit that leaves it alone is not seen (via %s)',
    async (via) => {
      const env = envFor(production, staging);
      const plan = (cwd: string) => runScript('sync.ts', ['--via', via, '--dry-run', '--mode', 'incremental', '--tables', TABLES.join(',')], { env, cwd });
      const unstamped =
        'no trigger stamps updated_at on UPDATE, so a change that leaves it alone (an SQL edit, or a trigger of another table keeping a count or total in it) is not seen';
      const rowOf = (stdout: string, table: string) => stdout.split('\n').find((line) => line.includes(`| ${table} `)) ?? '';
      const before = await plan(emptyDirectory());
      expect(before.code, before.stderr).toBe(0);
      for (const table of TABLES) expect(rowOf(before.stdout, table)).toContain(unstamped);

      // A trigger that stamps it before each UPDATE that changes the row (as moddatetime does), in production, where the
      // writes happen. None of days' fires before every UPDATE in an ordinary session: disabled, for replicas only, for an
      // UPDATE OF another column, only when one column changed, or after it (whatever its name says).
      await query(
        production.adminUrl,
        `CREATE FUNCTION stamps.stamp() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN NEW.updated_at := now(); RETURN NEW; END';
       CREATE TRIGGER stamp BEFORE UPDATE ON stamps.instants FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION stamps.stamp();
       CREATE TRIGGER stamp BEFORE UPDATE ON stamps.days FOR EACH ROW EXECUTE FUNCTION stamps.stamp();
       ALTER TABLE stamps.days DISABLE TRIGGER stamp;
       CREATE TRIGGER stamp_replica BEFORE UPDATE ON stamps.days FOR EACH ROW EXECUTE FUNCTION stamps.stamp();
       ALTER TABLE stamps.days ENABLE REPLICA TRIGGER stamp_replica;
       CREATE TRIGGER stamp_of_v BEFORE INSERT OR UPDATE OF v ON stamps.days FOR EACH ROW EXECUTE FUNCTION stamps.stamp();
       CREATE TRIGGER stamp_when_v BEFORE UPDATE ON stamps.days FOR EACH ROW WHEN (OLD.v IS DISTINCT FROM NEW.v) EXECUTE FUNCTION stamps.stamp();
       CREATE TRIGGER "BEFORE UPDATE audit" AFTER UPDATE ON stamps.days FOR EACH ROW EXECUTE FUNCTION stamps.stamp();
       -- A guard before every UPDATE (makerkit's memberships have one) that compares updated_at and sets nothing.
       CREATE FUNCTION stamps.guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         -- NEW.updated_at := now() is the stamp's job, not this one's
         IF NEW.updated_at = OLD.updated_at AND NEW.id <> OLD.id THEN RAISE EXCEPTION 'ids are fixed'; END IF;
         RETURN NEW;
       END $$;
       CREATE TRIGGER guard BEFORE UPDATE ON stamps.days FOR EACH ROW EXECUTE FUNCTION stamps.guard()`,
      );
      // A partitioned table whose partitions each stamp their rows, the table itself having no trigger.
      const parted = `SET ROLE postgres; CREATE TABLE stamps.parted (id int PRIMARY KEY, v text, updated_at timestamptz) PARTITION BY RANGE (id);
        CREATE TABLE stamps.parted_low PARTITION OF stamps.parted FOR VALUES FROM (0) TO (1000);
        CREATE TABLE stamps.parted_high PARTITION OF stamps.parted FOR VALUES FROM (1000) TO (MAXVALUE)`;
      // moddatetime, Supabase's usual stamp, names its column as the trigger's argument.
      const modded = `SET ROLE postgres; CREATE TABLE stamps.modded (id int PRIMARY KEY, v text, updated_at timestamptz)`;
      await Promise.all([query(production.adminUrl, parted), query(staging.adminUrl, parted)]);
      await Promise.all([query(production.adminUrl, modded), query(staging.adminUrl, modded)]);
      await query(
        production.adminUrl,
        `CREATE EXTENSION IF NOT EXISTS moddatetime;
         CREATE TRIGGER stamp BEFORE UPDATE ON stamps.modded FOR EACH ROW EXECUTE FUNCTION moddatetime(updated_at)`,
      );
      await query(
        production.adminUrl,
        `CREATE TRIGGER stamp BEFORE UPDATE ON stamps.parted_low FOR EACH ROW EXECUTE FUNCTION stamps.stamp();
         CREATE TRIGGER stamp BEFORE UPDATE ON stamps.parted_high FOR EACH ROW EXECUTE FUNCTION stamps.stamp()`,
      );
      try {
        // A config naming xmin follows every write instead.
        const cwd = emptyDirectory();
        writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { 'stamps.wall': { changedColumn: 'xmin' } } }));
        const after = await runScript(
          'sync.ts',
          ['--via', via, '--dry-run', '--mode', 'incremental', '--tables', [...TABLES, 'stamps.parted', 'stamps.modded'].join(',')],
          {
            env,
            cwd,
          },
        );
        expect(after.code, after.stderr).toBe(0);
        expect(rowOf(after.stdout, 'stamps.parted')).toMatch(/by updated_at|updated_at >=/);
        expect(rowOf(after.stdout, 'stamps.parted')).not.toContain(unstamped);
        expect(rowOf(after.stdout, 'stamps.modded')).toMatch(/by updated_at|updated_at >=/);
        expect(rowOf(after.stdout, 'stamps.modded')).not.toContain(unstamped);
        expect(rowOf(after.stdout, 'stamps.instants')).toMatch(/by updated_at|updated_at >=/);
        expect(rowOf(after.stdout, 'stamps.instants')).not.toContain(unstamped);
        expect(rowOf(after.stdout, 'stamps.days')).toContain(unstamped);
        expect(rowOf(after.stdout, 'stamps.wall')).toContain('transaction ids');
        expect(rowOf(after.stdout, 'stamps.wall')).not.toContain(unstamped);
      } finally {
        await query(production.adminUrl, 'DROP FUNCTION stamps.stamp() CASCADE; DROP FUNCTION stamps.guard() CASCADE');
        const dropped = 'DROP TABLE stamps.parted, stamps.modded';
        await Promise.all([query(production.adminUrl, dropped), query(staging.adminUrl, dropped)]);
      }
    },
  );
});
