// --mask supabase masks a profile of Auth's users (a table keyed by
// auth.users' id) as it masks auth.users. Where a rule cannot hold there (a
// referencing varchar too short for the hash, a CHECK a masked email would
// break, a NOT NULL avatar_url), the column is left as it is and the plan
// says so with why: the preset never stops a run the config's own rules let
// through. A mirror, which cannot compare masked tables yet, says the
// preset masked the table and how to keep its columns.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { projectPair } from './helpers/project-pair.ts';
import { query } from './helpers/content.ts';
import { envFor } from './setup/stack.ts';

const SCHEMA = `CREATE SCHEMA app;
  CREATE TABLE app.profiles (
    id uuid PRIMARY KEY REFERENCES auth.users (id),
    username text UNIQUE,
    full_name text,
    email text CHECK (email LIKE '%@corp.example'),
    avatar_url text NOT NULL DEFAULT ''
  );
  CREATE TABLE app.posts (id int PRIMARY KEY, author varchar(8) REFERENCES app.profiles (username));
  -- Not a profile (its key is its own): the preset does not mask it, and its personal-looking columns are named.
  CREATE TABLE app.accounts (
    id int PRIMARY KEY,
    "contactEmail" text,
    billing_phone varchar(20),
    owner_name text,
    kept_email text,
    hotel_name text,
    email_verified boolean,
    notes text
  );`;

describe('--mask supabase on a profile of auth.users', () => {
  let production: Project;
  let staging: Project;
  const ACCOUNT = `INSERT INTO app.accounts VALUES (1, 'ana@realmail.test', '+57 300 555 0101', 'Ana Real', 'kept@realmail.test', 'Hotel Sol', true, 'quiet')`;
  projectPair('profilemask', SCHEMA, async (pair) => {
    ({ production, staging } = pair);
    await query(production.adminUrl, ACCOUNT);
    // A user whose metadata holds a key of the app's own beside the providers' (the preset masks full_name, not company_email).
    await query(
      production.adminUrl,
      `INSERT INTO auth.users (id, email, raw_user_meta_data) VALUES
         ('00000000-0000-4000-8000-000000000001', 'ana@realmail.test', '{"full_name": "Ana Real", "company_email": "ana@corp.realmail.test", "theme": "dark"}')`,
    );
  });
  const cwd = emptyDirectory();
  // "keep" says a column holds no one's data: it is not named again.
  writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ mask: { 'app.accounts.kept_email': 'keep' } }));
  const sync = (...args: string[]) =>
    runScript('sync.ts', ['--mask', 'supabase', '--schemas', 'app,auth', ...args], {
      env: { ...envFor(production, staging), SUPASYNC_MASK_SECRET: 'a-secret-of-the-tests-0123456789' },
      cwd,
    });
  const named = (more = '') =>
    `Copied unmasked, though named as personal data usually is: app.accounts: contactEmail, billing_phone, owner_name${more}. ` +
    `Mask each with a rule in supasync.config.json's "mask" ("app.accounts.contactEmail": "email", "phone", "name", "hash" or "null"), ` +
    'or say it holds no one\'s data with "app.accounts.contactEmail": "keep" (docs/masking.md).';

  it.each(['postgres', 'rest'] as const)('masks what fits and names, with why, each column it leaves as it is (via %s)', async (via) => {
    const plan = await sync('--via', via, '--dry-run');
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toContain('full_name: name (preset supabase: app.profiles is a profile of auth.users)');
    expect(plan.stdout).toMatch(
      /username: NOT masked, copied as it is \(preset supabase: hash does not fit: a column referencing it could not take the masked value/,
    );
    expect(plan.stdout).toMatch(
      /email: NOT masked, copied as it is \(preset supabase: email does not fit: its CHECK profiles_email_check may refuse a masked value/,
    );
    expect(plan.stdout).toMatch(/avatar_url: NOT masked, copied as it is \(preset supabase: null does not fit: the column is NOT NULL in staging/);
    // The profile's columns the preset left are said above, with why, and not again.
    // And the key of the app's own in a user's metadata, which the preset's keys leave as it is.
    expect(plan.stdout.replace(/\s+/g, ' ')).toContain(named('; auth.users: raw_user_meta_data.company_email'));
  });

  it.each(['postgres', 'rest'] as const)('names the columns it copies unmasked that look personal, and copies them as they are (via %s)', async (via) => {
    const run = await sync('--via', via, '--tables', 'app.accounts', '--yes', '--no-backup');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect((run.stdout + run.stderr).replace(/\s+/g, ' ')).toContain(named());
    const [production_, staging_] = await Promise.all([
      query<{ row: string }>(production.adminUrl, 'SELECT row_to_json(a)::text AS row FROM app.accounts a'),
      query<{ row: string }>(staging.adminUrl, 'SELECT row_to_json(a)::text AS row FROM app.accounts a'),
    ]);
    expect(staging_).toEqual(production_);
    expect(staging_[0]?.row).toContain('ana@realmail.test');
  });

  it('refuses a mirror of the masked profile, saying the preset masked it and how to keep its columns', async () => {
    const mirror = await sync('--via', 'postgres', '--mode', 'mirror', '--yes', '--exclude', 'auth.users,auth.identities');
    expect(mirror.code).toBe(2);
    expect(mirror.stderr).toContain('app.profiles (--mode mirror): masked tables cannot be re-synced by comparing checksums yet');
    expect(mirror.stderr).toContain(
      'Masked by --mask supabase as profiles of auth.users (the names, emails and avatars sign-up copies there): app.profiles: full_name.',
    );
    expect(mirror.stderr).toContain(`("app.profiles.full_name": "keep", one per column)`);
  });
});
