// A schema of GitLab's shape, in small: one table that 121 others
// reference, half of them empty. Over REST the check after the load asked
// about every foreign key in one query, which for GitLab's 844 took
// PostgreSQL longer to plan than Supabase's statement timeout allows, and
// the run failed on every try. Tables a replace left empty are passed over
// now, the others' keys asked about 50 at a time; a row left pointing
// nowhere along the last key of all is still found. Directly, a replace
// asks production which tables are empty, all at once, and leaves their
// indexes be: it used to COPY each and build its indexes again, statements
// that are each a round trip to a remote project. Over REST, likewise, only
// the tables holding a row are read.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPostgresDatabase } from '../lib/transport/postgres/database.ts';
import { openRestDatabase } from '../lib/transport/rest/database.ts';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { projectPair } from './helpers/project-pair.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';

const CHILDREN = 120;
const SCHEMA = `CREATE SCHEMA wide;
  CREATE TABLE wide.account (id int PRIMARY KEY, name text);
  ${Array.from(
    { length: CHILDREN },
    (_, i) => `CREATE TABLE wide.t${i} (id int PRIMARY KEY, account_id int REFERENCES wide.account (id), note text);
       CREATE INDEX t${i}_account ON wide.t${i} (account_id);`,
  ).join('\n')}
  CREATE TABLE wide.zz_last (id int PRIMARY KEY, account_id int REFERENCES wide.account (id), up_id int REFERENCES wide.zz_last (id));`;
const TABLES = CHILDREN + 2;
// Half the tables hold a row: 62 keys along which rows may point nowhere, more than one query's 50.
const FILLED = CHILDREN / 2;

describe('a schema of many tables, most of them empty', () => {
  let production: Project;
  let staging: Project;
  projectPair('wide', SCHEMA, async (pair) => {
    ({ production, staging } = pair);
    await query(
      production.adminUrl,
      `INSERT INTO wide.account VALUES (1, 'one'), (2, 'two');
       ${Array.from({ length: FILLED }, (_, i) => `INSERT INTO wide.t${i} VALUES (1, ${(i % 2) + 1}, 'row of t${i}');`).join('\n')}
       INSERT INTO wide.zz_last VALUES (2, 1, NULL), (1, 1, 2);`,
    );
  });

  it.each(['postgres', 'rest'] as const)('is checked along every key after a replace, the last included (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const args = ['--via', via, '--yes', '--no-backup', '--schemas', 'wide'];
    // A where on the last table leaves out the row its other row reports to: found along the last key of all.
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { 'wide.zz_last': { where: 'id <> 2' } } }));
    const stopped = await runScript('sync.ts', args, { env, cwd });
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(1);
    expect(stopped.stderr).toContain('pointing nowhere');
    expect(stopped.stderr).toContain('wide.zz_last.up_id -> wide.zz_last.id');
    expect(stopped.stderr).toContain('1 row of wide.zz_last (wide.zz_last.up_id -> wide.zz_last.id, zz_last_up_id_fkey) finds no parent: they name e.g. (2)');

    writeFileSync(join(cwd, 'supasync.config.json'), '{}');
    // Rows of staging's own in a table production leaves empty: emptied all the same.
    await query(
      staging.adminUrl,
      `INSERT INTO wide.account VALUES (1, 'staging') ON CONFLICT DO NOTHING; INSERT INTO wide.t${FILLED} VALUES (9, 1, 'staging only')`,
    );
    const indexOid = () => query<{ oid: number }>(staging.adminUrl, `SELECT 'wide.t${CHILDREN - 1}_account'::regclass::oid::int AS oid`);
    const emptyTableIndex = await indexOid();
    production.gateway.resetStats();
    staging.gateway.resetStats();
    const synced = await runScript('sync.ts', args, { env, cwd });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    if (via === 'rest') {
      // Production is asked once which tables hold a row; only those are read, a page each: a page short of both
      // bounds ends its table, with no request to find the next one empty. Their first pages come eight tables a request.
      const { requests } = production.gateway.stats();
      expect(requests['/rpc/supasync_tables_holding_rows']).toBe(1);
      expect(requests['/rpc/supasync_read_first_pages']).toBe(Math.ceil((FILLED + 2) / 8));
      expect(requests['/rpc/supasync_read_rows']).toBeUndefined();
      // Their writes, one batch each, go several tables a request: not one a table.
      const written = staging.gateway.stats().requests;
      expect(written['/rpc/supasync_write_tables']).toBeGreaterThan(0);
      expect((written['/rpc/supasync_write_tables'] ?? 0) + (written['/rpc/supasync_write_rows'] ?? 0)).toBeLessThan((FILLED + 2) / 2);
    }
    expect(await rowTexts(staging.adminUrl, `wide.t${FILLED}`)).toEqual([]);
    const indexes = (url: string) => query(url, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'wide' ORDER BY 1");
    expect(await indexes(staging.adminUrl)).toEqual(await indexes(production.adminUrl));
    // The index of a table production has no row of was left as it was, not dropped and built again.
    if (via === 'postgres') expect(await indexOid()).toEqual(emptyTableIndex);
    for (const table of ['wide.account', 'wide.t0', `wide.t${FILLED - 1}`, `wide.t${FILLED}`, 'wide.zz_last']) {
      expect(await rowTexts(staging.adminUrl, table), table).toEqual(await rowTexts(production.adminUrl, table));
    }
    for (const project of [production, staging]) project.gateway.resetStats();
    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--schemas', 'wide'], { env, cwd });
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toContain(`Staging equals production: ${TABLES} of ${TABLES} tables Perfect.`);
    if (via === 'rest') {
      // Each side's checksums come sixteen tables a request, none asked alone.
      for (const { requests } of [production.gateway.stats(), staging.gateway.stats()]) {
        expect(requests['/rpc/supasync_checksums']).toBe(Math.ceil(TABLES / 16));
        expect(requests['/rpc/supasync_checksum']).toBeUndefined();
      }
    }
  });

  it("names over REST the row staging refuses in a request of several tables' writes, and writes the other tables", async () => {
    // Staging's column is narrower than production's (--allow-drift copies it all the same): one row is too long for it.
    await query(staging.adminUrl, 'SET ROLE postgres; DELETE FROM wide.t3; ALTER TABLE wide.t3 ALTER COLUMN note TYPE varchar(5)');
    try {
      staging.gateway.captureRequests(true);
      const env = envFor(production, staging);
      const result = await runScript('sync.ts', ['--via', 'rest', '--yes', '--no-backup', '--allow-drift', '--schemas', 'wide'], {
        env,
        cwd: emptyDirectory(),
      });
      const sent = staging.gateway.capturedRequests();
      staging.gateway.captureRequests(false);
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stdout).toContain('1 row rejected by staging, the rest written:\n  wide.t3 (id=1): value too long for type character varying(5)');
      // wide.t3's batch went with other tables', then, that request refused, alone.
      const writesOf = (path: string) => sent.filter((request) => request.path === path && request.body.includes('"table_name":"t3"'));
      expect(writesOf('/rpc/supasync_write_tables').length).toBeGreaterThan(0);
      expect(writesOf('/rpc/supasync_write_rows').length).toBeGreaterThan(0);
      for (const table of ['wide.account', 'wide.t0', 'wide.t2', 'wide.t4', `wide.t${FILLED - 1}`, 'wide.zz_last']) {
        expect(await rowTexts(staging.adminUrl, table), table).toEqual(await rowTexts(production.adminUrl, table));
      }
      expect(await rowTexts(staging.adminUrl, 'wide.t3')).toEqual([]);
    } finally {
      await query(staging.adminUrl, 'SET ROLE postgres; ALTER TABLE wide.t3 ALTER COLUMN note TYPE text');
    }
  });

  it('asks a table alone over REST once the request of its group failed, and names it in its own failure', async () => {
    const db = openRestDatabase({ via: 'rest', side: 'production', url: production.apiUrl, serviceRoleKey: production.secretKey });
    const direct = await openPostgresDatabase({ via: 'postgres', side: 'production', dbUrl: production.dbUrl });
    try {
      const target = (name: string, columns = ['id', 'account_id', 'note']) => ({ table: { schema: 'wide', name }, columns, keyColumns: ['id'] });
      // A column production lacks fails the request of all three in PostgreSQL, as a statement timeout would.
      const [t0, broken, t2] = [target('t0'), target('t1', ['id', 'missing_column']), target('t2')];
      production.gateway.resetStats();
      db.readChecksums?.([t0, broken, t2]);
      const [sum0, failure, sum2] = await Promise.allSettled([db.checksum(t0, {}), db.checksum(broken, {}), db.checksum(t2, {})]);
      const { requests } = production.gateway.stats();
      expect(requests['/rpc/supasync_checksums']).toBe(1);
      expect(requests['/rpc/supasync_checksum']).toBe(3);
      expect(failure.status === 'rejected' && (failure.reason as Error).message).toContain(
        'Checksumming wide.t1 in production over REST: column "missing_column" does not exist',
      );
      // Each sum as the direct path computes it.
      expect(sum0).toEqual({ status: 'fulfilled', value: await direct.checksum(t0, {}) });
      expect(sum2).toEqual({ status: 'fulfilled', value: await direct.checksum(t2, {}) });
    } finally {
      await Promise.all([db.close(), direct.close()]);
    }
  });
});
