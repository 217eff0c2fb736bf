// --mask supabase masks a profile of Auth's users (a table keyed by
// auth.users' id) as it masks auth.users. Where a rule cannot hold there (a
// referencing varchar too short for the hash, a CHECK a masked email would
// break, a NOT NULL avatar_url), the column is left as it is and the plan
// says so with why: the preset never stops a run the config's own rules let
// through. A mirror, which cannot compare masked tables yet, says the
// preset masked the table and how to keep its columns.
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { projectPair } from './helpers/project-pair.ts';
import { envFor } from './setup/stack.ts';

const SCHEMA = `CREATE SCHEMA app;
  CREATE TABLE app.profiles (
    id uuid PRIMARY KEY REFERENCES auth.users (id),
    username text UNIQUE,
    full_name text,
    email text CHECK (email LIKE '%@corp.example'),
    avatar_url text NOT NULL DEFAULT ''
  );
  CREATE TABLE app.posts (id int PRIMARY KEY, author varchar(8) REFERENCES app.profiles (username));`;

describe('--mask supabase on a profile of auth.users', () => {
  let production: Project;
  let staging: Project;
  projectPair('profilemask', SCHEMA, (pair) => {
    ({ production, staging } = pair);
  });
  const sync = (...args: string[]) =>
    runScript('sync.ts', ['--mask', 'supabase', '--schemas', 'app,auth', ...args], {
      env: { ...envFor(production, staging), SUPASYNC_MASK_SECRET: 'a-secret-of-the-tests-0123456789' },
      cwd: emptyDirectory(),
    });

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
