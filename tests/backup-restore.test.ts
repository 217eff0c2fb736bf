// A replace empties staging's tables: it saves their rows first, and
// scripts/restore-staging.ts puts them back exactly, sequences included.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupManifest } from '../lib/backup/manifest.ts';
import type { Project } from '../stack/index.ts';
import { query, syncedDigests, SYNCED_SCHEMAS, tableDigests, type Digests } from './helpers/content.ts';
import { backupLine, digestNames, sequenceValues, STAGING_LIFE, upsertThenRestore, refusedUnderAnotherMark } from './helpers/backup.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, staging: otherStaging, stack } = sharedStack();
let staging: Project;
afterAll(async () => {
  await staging?.stop();
});

const sync = (cwd: string, args: string[] = []) =>
  runScript('sync.ts', ['--via', 'postgres', '--schemas', SYNCED_SCHEMAS.join(','), '--yes', ...args], { env: envFor(production, staging), cwd });
const restore = (cwd: string, args: string[], env = envFor(production, staging)) => runScript('restore-staging.ts', args, { env, cwd });

/** Every table of the synced schemas, Auth's sign-in state included: it is emptied with auth.users. */
const everyTable = () => tableDigests(staging.adminUrl, SYNCED_SCHEMAS);
const sequences = () => sequenceValues(staging.adminUrl);

describe('a replace sync backs up staging, and restore-staging.ts brings it back', () => {
  const cwd = emptyDirectory();
  let before: Digests;
  let sequencesBefore: { name: string; last_value: string | null }[];
  let backup: string;

  beforeAll(async () => {
    staging = await stack.createProject('backup_restore');
    const first = await sync(cwd);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/No backup needed: the \d+ staging tables replaced were empty\./);
    expect(existsSync(join(cwd, '.supasync'))).toBe(false);
    // Staging's own life since: edits, deletions, ids handed out, a sign-in.
    await query(
      staging.adminUrl,
      `${STAGING_LIFE}
       INSERT INTO public.audit_events (table_name) VALUES ('staging-only');`,
    );
    before = await everyTable();
    sequencesBefore = await sequences();
  });

  it('saves every staging table it empties before replacing them, then staging equals production', async () => {
    const result = await sync(cwd);
    expect(result.code, result.stderr).toBe(0);
    const line = backupLine(result.stdout);
    expect(line, result.stdout).not.toBeNull();
    const { tables, rows, directory, restoreArgument } = line as NonNullable<typeof line>;
    expect(restoreArgument).toBe(directory);
    backup = directory;

    const manifest = JSON.parse(readFileSync(join(cwd, backup, 'manifest.json'), 'utf8')) as BackupManifest;
    expect(manifest.staging.database).toBe(new URL(staging.dbUrl).pathname.slice(1));
    expect(JSON.stringify(manifest)).not.toContain(new URL(staging.dbUrl).password || 'no password');
    expect(manifest.tables).toHaveLength(tables);
    const names = await digestNames(staging.adminUrl, manifest.tables);
    for (const [index, table] of manifest.tables.entries()) {
      const name = names[index] as string;
      expect(table.rows, name).toBe(before[name]?.rows);
      if (table.rows) expect(existsSync(join(cwd, backup, table.file as string)), name).toBe(true);
      else expect(table.file, name).toBeNull();
    }
    expect(manifest.tables.map((t) => `${t.schema}.${t.name}`)).toEqual(
      expect.arrayContaining(['auth.sessions', 'auth.refresh_tokens', 'public.booking_events']),
    );
    expect(rows).toBe(manifest.tables.reduce((sum, t) => sum + t.rows, 0));
    // type_zoo holds an empty tsquery, which binary COPY writes and then refuses to read: saved as text, so it restores.
    const saved = (name: string) => manifest.tables.find((t) => t.schema === 'public' && t.name === name);
    expect([saved('type_zoo')?.format, saved('type_zoo')?.file]).toEqual(['text', expect.stringMatching(/-public\.type_zoo\.txt$/)]);
    expect([saved('binary_zoo')?.format, saved('binary_zoo')?.file]).toEqual(['binary', expect.stringMatching(/-public\.binary_zoo\.bin$/)]);
    expect(manifest.tables.find((t) => t.name === 'code_embeddings')?.sequences).toEqual([
      expect.objectContaining({ column: 'id', lastValue: sequencesBefore.find((s) => s.name === 'public.code_embeddings_id_seq')?.last_value }),
    ]);

    const [expected, actual] = await Promise.all([syncedDigests(production.adminUrl), syncedDigests(staging.adminUrl)]);
    expect(actual).toEqual(expected);
  });

  it('refuses to restore without a manifest, into another database, or unconfirmed without a terminal', async () => {
    const notABackup = emptyDirectory();
    const [missing, elsewhere, unconfirmed] = await Promise.all([
      restore(cwd, [notABackup, '--yes']),
      restore(cwd, [backup, '--yes'], envFor(production, otherStaging)),
      restore(cwd, [backup]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${notABackup} has no manifest.json`);
    const gone = await restore(cwd, [join(notABackup, 'no-such-backup'), '--yes']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`${join(notABackup, 'no-such-backup')}: no such directory`);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(/This backup is of .*, but SUPABASE_STAGING_DB_URL points at .*refusing/);
    expect(elsewhere.stderr).not.toContain(new URL(otherStaging.dbUrl).password || 'no password');
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('run again with --yes');
    expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
  });

  it('refuses a backup whose staging carried another sync-target mark: another database at the same address', async () => {
    await refusedUnderAnotherMark(staging, () => restore(cwd, [backup, '--yes']));
  });

  it('refuses a manifest edited to name another database, a format supasync does not write or a file outside the backup, naming the field', async () => {
    const edited = (name: string, edit: (manifest: BackupManifest) => void) => {
      const directory = join(cwd, name);
      cpSync(join(cwd, backup), directory, { recursive: true });
      const manifest = JSON.parse(readFileSync(join(directory, 'manifest.json'), 'utf8')) as BackupManifest;
      edit(manifest);
      writeFileSync(join(directory, 'manifest.json'), JSON.stringify(manifest));
      return name;
    };
    const [elsewhere, csv, outside] = await Promise.all([
      restore(cwd, [
        edited('edited-elsewhere', (m) =>
          Object.assign(m.staging, { database: 'elsewhere', location: m.staging.location.replace(/[^/]*$/, 'elsewhere'), projectRef: null }),
        ),
        '--yes',
      ]),
      restore(cwd, [edited('edited-csv', (m) => Object.assign(m.tables[0] as object, { format: 'csv' })), '--yes']),
      restore(cwd, [
        edited('edited-outside', (m) => Object.assign(m.tables.find((table) => table.file) as object, { file: `../${backup}/manifest.json` })),
        '--yes',
      ]),
    ]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(/This backup is of .*elsewhere.*, but SUPABASE_STAGING_DB_URL points at .*refusing/);
    expect(csv.code).toBe(2);
    expect(csv.stderr).toContain('is not a supasync backup manifest');
    expect(csv.stderr).toContain('tables.0.format');
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/tables\.\d+\.file: a file name inside the backup directory/);
    expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
  });

  it('restores staging exactly as the sync found it: every table, and the ids it hands out next', async () => {
    const result = await restore(cwd, [backup, '--yes']);
    expect(result.code, result.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(cwd, backup, 'manifest.json'), 'utf8')) as BackupManifest;
    const saved = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
    expect(result.stdout).toContain(`Restored ${manifest.tables.length} staging tables (${saved.toLocaleString('en-US')} rows) from `);
    expect(await everyTable()).toEqual(before);
    expect(await sequences()).toEqual(sequencesBefore);
    const [{ max }] = (await query<{ max: string }>(staging.adminUrl, 'SELECT max(id)::text AS max FROM public.code_embeddings')) as [{ max: string }];
    const [{ id }] = (await query<{ id: string }>(
      staging.dbUrl,
      `INSERT INTO public.code_embeddings (file_path, chunk_index) VALUES ('after-restore.ts', 0) RETURNING id::text`,
    )) as [{ id: string }];
    expect(BigInt(id)).toBe(BigInt(max) + 1n);
    await query(staging.adminUrl, `DELETE FROM public.code_embeddings WHERE file_path = 'after-restore.ts'`);
  });

  it('stops before emptying anything when the backup cannot be written, and --no-backup replaces without one', async () => {
    const blocked = emptyDirectory();
    mkdirSync(join(blocked, '.supasync'));
    writeFileSync(join(blocked, '.supasync', 'backups'), 'a file where the backups directory belongs');
    const refused = await sync(blocked);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Cannot write the backup of staging's tables to ${join(blocked, '.supasync', 'backups')}`);
    expect(refused.stderr).toContain('--no-backup');
    expect(await everyTable()).toEqual(before);

    const unbacked = await sync(blocked, ['--no-backup']);
    expect(unbacked.code, unbacked.stderr).toBe(0);
    expect(unbacked.stdout).not.toContain('Backup of');
    expect(readFileSync(join(blocked, '.supasync', 'backups'), 'utf8')).toContain('a file');
    expect(readdirSync(join(cwd, '.supasync', 'backups'))).toHaveLength(1);
    expect(await syncedDigests(staging.adminUrl)).toEqual(await syncedDigests(production.adminUrl));
  });

  it('backs up over REST too, as JSON lines (tests/backup-restore-rest.test.ts restores one)', async () => {
    const result = await runScript('sync.ts', ['--via', 'rest', '--tables', 'feature_flags', '--mode', 'replace', '--yes'], {
      env: envFor(production, staging),
      cwd,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/warning/i);
    expect(result.stdout).toMatch(/Backup of 1 staging table \([\d,]+ rows\) before the replace: \.supasync\/backups\/\S+/);
    const directories = readdirSync(join(cwd, '.supasync', 'backups'));
    expect(directories).toHaveLength(2);
    const manifests = directories.map((name) => JSON.parse(readFileSync(join(cwd, '.supasync', 'backups', name, 'manifest.json'), 'utf8')) as { via: string });
    expect(manifests.map((manifest) => manifest.via).sort()).toEqual(['postgres', 'rest']);
  });

  it('backs up the tables an upsert writes into, and restore-staging.ts gives back the rows it overwrote and removes the ones it inserted', async () => {
    await upsertThenRestore({
      stagingUrl: staging.adminUrl,
      everyTable,
      upsert: () => sync(cwd, ['--tables', 'guest_reservations', '--mode', 'upsert']),
      restore: (directory) => restore(cwd, [directory, '--yes']),
    });
  });
});
