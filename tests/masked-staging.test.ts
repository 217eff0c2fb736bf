// Staging keeps which of its tables a sync masked. A later run without that
// masking (the rules taken out of the config, the preset left off the command
// line) would write production's raw values over the masked ones: refused
// before writing, dry runs too, naming the columns and the masking; --unmask
// writes them, and staging then holds them raw. Verify without the masking
// says the table is masked in staging rather than suggest a sync that would
// be refused (or, unmasked, copy the raw values).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Via } from '../lib/config/env.ts';
import type { Project } from '../stack/index.ts';
import { query, tableDigests } from './helpers/content.ts';
import { projectPair } from './helpers/project-pair.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';

const SCHEMA = `CREATE SCHEMA app;
  CREATE TABLE app.guests (id int PRIMARY KEY, email text NOT NULL, note text);
  CREATE TABLE app.stays (id int PRIMARY KEY, guest_id int NOT NULL REFERENCES app.guests (id), nights int);`;
const ROWS = `INSERT INTO app.guests SELECT g, 'guest' || g || '@mail.example', 'note ' || g FROM generate_series(1, 40) g;
  INSERT INTO app.stays SELECT g, 1 + g % 40, g % 7 FROM generate_series(1, 80) g;`;
const SECRET = 'a-secret-of-the-tests-0123456789';

describe.each(['postgres', 'rest'] as Via[])('a table staging holds masked (via %s)', (via) => {
  let production: Project;
  let staging: Project;
  projectPair(`masked_staging_${via}`, SCHEMA, async (pair) => {
    ({ production, staging } = pair);
    await query(production.adminUrl, ROWS);
  });
  const masked = emptyDirectory();
  writeFileSync(join(masked, 'supasync.config.json'), JSON.stringify({ mask: { 'app.guests.email': 'email' } }));
  const plain = emptyDirectory();
  const run = (script: string, args: string[], cwd: string) =>
    runScript(script, ['--via', via, '--schemas', 'app', ...args], { env: { ...envFor(production, staging), SUPASYNC_MASK_SECRET: SECRET }, cwd });
  const emails = async () => (await query<{ email: string }>(staging.adminUrl, 'SELECT email FROM app.guests ORDER BY id')).map((row) => row.email);

  it('refuses a run without the masking, says it in verify, and writes raw values only when told --unmask', async () => {
    const first = await run('sync.ts', ['--yes', '--no-backup'], masked);
    expect(first.code, first.stderr).toBe(0);
    expect((await emails()).some((email) => email.endsWith('@mail.example'))).toBe(false);
    const maskedState = await tableDigests(staging.adminUrl, ['app']);

    // The config's rule taken out: the same sync, and its dry run, stop before writing, naming the column and its rule.
    for (const args of [['--yes', '--no-backup'], ['--dry-run']]) {
      const refused = await run('sync.ts', args, plain);
      expect(refused.code, refused.stdout + refused.stderr).toBe(1);
      expect(refused.stderr).toContain(
        "Staging holds these columns masked, and this run does not mask them: it would write production's raw values over them.",
      );
      expect(refused.stderr).toMatch(/ {2}app\.guests \(masked by the sync of \d{4}-\d\d-\d\d \d\d:\d\d UTC\): email: email \(mask "app\.guests\.email"\)/);
      expect(refused.stderr).toContain(
        'Run it with the masking that sync used (the same "mask" rules in supasync.config.json, with the same SUPASYNC_MASK_SECRET), or with --unmask',
      );
    }
    expect(await tableDigests(staging.adminUrl, ['app'])).toEqual(maskedState);
    // A table staging holds unmasked is written as ever.
    const stays = await run('sync.ts', ['--yes', '--no-backup', '--tables', 'app.stays', '--mode', 'mirror'], plain);
    expect(stays.code, stays.stderr).toBe(0);

    // Verify without the rule names the masked column instead of offering a sync of the table; with it, Perfect.
    const unmaskedVerify = await run('verify-sync-status.ts', [], plain);
    expect(unmaskedVerify.code).toBe(1);
    expect(unmaskedVerify.stdout).toMatch(/app\.guests: staging holds email masked \(the sync of [^)]+\), compared here with production's raw values/);
    expect(unmaskedVerify.stdout).not.toContain('--mode mirror');
    expect(unmaskedVerify.stdout).not.toContain('--mode replace');
    const maskedVerify = await run('verify-sync-status.ts', [], masked);
    expect(maskedVerify.code, maskedVerify.stdout).toBe(0);

    // Told --unmask, the run writes production's values, and staging no longer holds the table masked.
    const unmasked = await run('sync.ts', ['--yes', '--no-backup', '--unmask'], plain);
    expect(unmasked.code, unmasked.stderr).toBe(0);
    expect(unmasked.stderr).toMatch(/--unmask: production's raw values are written into app\.guests's email, masked in staging by the sync of /);
    expect(await tableDigests(staging.adminUrl, ['app'])).toEqual(await tableDigests(production.adminUrl, ['app']));
    const again = await run('sync.ts', ['--yes', '--no-backup'], plain);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('--unmask');
    expect((await run('verify-sync-status.ts', [], plain)).code).toBe(0);
  });

  it('follows the rules each masked run wrote, and keeps a table masked that an --unmask run wrote some rows of', async () => {
    await query(staging.adminUrl, 'DELETE FROM supasync_private.masked_tables; TRUNCATE app.stays, app.guests');
    expect((await run('sync.ts', ['--yes', '--no-backup'], masked)).code).toBe(0);
    const rules = (mask: Record<string, string>) => {
      const dir = emptyDirectory();
      writeFileSync(join(dir, 'supasync.config.json'), JSON.stringify({ mask }));
      return dir;
    };
    const upsert = ['--yes', '--no-backup', '--mode', 'upsert', '--tables', 'app.guests'];
    // The note masked instead of the email: refused for the email.
    const noteOnly = await run('sync.ts', upsert, rules({ 'app.guests.note': 'null' }));
    expect(noteOnly.code).toBe(1);
    expect(noteOnly.stderr).toMatch(/app\.guests \(masked by the sync of [^)]+\): email: email \(mask "app\.guests\.email"\)/);
    // Both masked: written, and staging holds both masked; the email alone is then refused for the note.
    const both = await run('sync.ts', upsert, rules({ 'app.guests.note': 'null', 'app.guests.email': 'email' }));
    expect(both.code, both.stderr).toBe(0);
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM app.guests WHERE note IS NOT NULL')).toEqual([{ n: 0 }]);
    expect(await query(staging.adminUrl, 'SELECT columns FROM supasync_private.masked_tables')).toEqual([
      { columns: { email: 'email: email (mask "app.guests.email")', note: 'note: null (mask "app.guests.note")' } },
    ]);
    const emailOnly = await run('sync.ts', upsert, masked);
    expect(emailOnly.code).toBe(1);
    expect(emailOnly.stderr).toContain('note: null (mask "app.guests.note")');
    // Told --unmask, insert-missing writes production's new row raw; the older rows stay masked, and verify says so.
    await query(production.adminUrl, `INSERT INTO app.guests VALUES (41, 'late@mail.example', 'late')`);
    const late = await run('sync.ts', ['--yes', '--no-backup', '--mode', 'insert-missing', '--tables', 'app.guests', '--unmask'], plain);
    expect(late.code, late.stderr).toBe(0);
    expect(await query(staging.adminUrl, 'SELECT email, note FROM app.guests WHERE id = 41')).toEqual([{ email: 'late@mail.example', note: 'late' }]);
    const verified = await run('verify-sync-status.ts', [], plain);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/app\.guests: staging holds email, note masked/);
  });

  it('offers, after a verify with --mask, a sync with the same flag, which runs as printed', async () => {
    await query(staging.adminUrl, 'DELETE FROM supasync_private.masked_tables; TRUNCATE app.stays, app.guests');
    expect((await run('sync.ts', ['--yes', '--no-backup', '--mask', 'supabase'], masked)).code).toBe(0);
    await query(staging.adminUrl, `UPDATE app.guests SET note = 'changed in staging' WHERE id = 1`);
    const verified = await run('verify-sync-status.ts', ['--mask', 'supabase'], masked);
    expect(verified.code).toBe(1);
    const offered = /A sync with (--mask supabase --mode replace --tables \S+) copies them whole/.exec(verified.stdout)?.[1];
    expect(offered, verified.stdout).toBe('--mask supabase --mode replace --tables app.guests');
    const synced = await run('sync.ts', ['--yes', '--no-backup', ...offered!.split(' ')], masked);
    expect(synced.code, synced.stderr).toBe(0);
    expect((await run('verify-sync-status.ts', ['--mask', 'supabase'], masked)).code).toBe(0);
  });

  it('puts back, with a backup, what staging recorded of its masked tables as the backup was taken', async () => {
    await query(staging.adminUrl, 'DELETE FROM supasync_private.masked_tables; TRUNCATE app.stays, app.guests');
    const dir = emptyDirectory();
    const sync = (mask: Record<string, string>, args: string[]) => {
      writeFileSync(join(dir, 'supasync.config.json'), JSON.stringify({ mask }));
      return run('sync.ts', ['--yes', '--tables', 'app.guests,app.stays', ...args], dir);
    };
    const restore = () => runScript('restore-staging.ts', ['latest', '--yes'], { env: envFor(production, staging), cwd: dir });
    const recorded = async () =>
      (await query<{ name: string }>(staging.adminUrl, 'SELECT table_name AS name FROM supasync_private.masked_tables')).map((r) => r.name);
    const EMAIL = { 'app.guests.email': 'email' };

    // Masked, then written raw (--unmask) over a backup of the masked rows; the restore brings back the rows and the record.
    expect((await sync(EMAIL, ['--no-backup'])).code).toBe(0);
    const maskedState = await tableDigests(staging.adminUrl, ['app']);
    const unmasked = await sync({}, ['--unmask']);
    expect(unmasked.code, unmasked.stderr).toBe(0);
    expect(await recorded()).toEqual([]);
    const back = await restore();
    expect(back.code, back.stderr).toBe(0);
    expect(await tableDigests(staging.adminUrl, ['app'])).toEqual(maskedState);
    expect(await recorded()).toEqual(['guests']);
    const refused = await sync({}, ['--dry-run']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Staging holds these columns masked');

    // Raw, then masked over a backup of the raw rows; the restore brings them back raw, no longer recorded as masked.
    expect((await sync({}, ['--unmask', '--no-backup'])).code).toBe(0);
    expect((await sync(EMAIL, [])).code).toBe(0);
    expect(await recorded()).toEqual(['guests']);
    const raw = await restore();
    expect(raw.code, raw.stderr).toBe(0);
    expect(await tableDigests(staging.adminUrl, ['app'])).toEqual(await tableDigests(production.adminUrl, ['app']));
    expect(await recorded()).toEqual([]);
    const plain = await sync({}, []);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).not.toContain('--unmask');
  });
});
