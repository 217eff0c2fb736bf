// Staging written by its tables' owner, a role that may not switch off
// triggers and foreign-key checks with session_replication_role.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_PASSWORD, urlFor, type Project } from '../stack/index.ts';
import { query, tableDigests } from './helpers/content.ts';
import { runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, stack } = sharedStack();

describe('a staging owner without the replica-role permission', () => {
  let staging: Project;
  beforeAll(async () => {
    staging = await stack.createProject('unprivileged', { owner: 'plain_owner' });
    // Staging has its users already (synced once as postgres, which may switch
    // triggers off): the owner's runs below copy the app's tables only.
    const asPostgres = { ...envFor(production, staging), SUPABASE_STAGING_DB_URL: urlFor(staging.adminUrl, staging.name, 'postgres', OWNER_PASSWORD) };
    const users = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--mode', 'upsert', '--schemas', 'auth'], { env: asPostgres });
    expect(users.code).toBe(0);
  });
  afterAll(() => staging?.stop());

  it('loads in foreign-key order, with a warning, and user triggers do not fire', async () => {
    const result = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--schemas', 'public,analytics', '--exclude', 'departments,employees'], {
      env: envFor(production, staging),
    });
    expect(result.stderr).toContain('may not SET session_replication_role: loading in foreign-key order');
    expect(result.code).toBe(0);
    const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(staging.adminUrl)]);
    for (const table of ['public.departments', 'public.employees']) {
      delete expected[table];
      delete actual[table];
    }
    expect(actual).toEqual(expected);
    const enabled = await query(staging.adminUrl, `SELECT tgname, tgenabled FROM pg_trigger WHERE tgname IN ('hotels_touch_updated_at', 'chat_messages_audit') ORDER BY 1`);
    expect(enabled).toEqual([
      { tgname: 'chat_messages_audit', tgenabled: 'O' },
      { tgname: 'hotels_touch_updated_at', tgenabled: 'O' },
    ]);
  });

  it("stops before writing when it would load tables whose triggers it may not disable (Supabase's auth.users)", async () => {
    const before = await tableDigests(staging.adminUrl, ['public', 'auth', 'storage']);
    const result = await runScript('sync.ts', ['--yes', '--via', 'postgres', '--schemas', 'public,analytics,auth,storage', '--exclude', 'departments,employees'], {
      env: envFor(production, staging),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('auth.users (triggers on_auth_user_created; owned by supabase_auth_admin)');
    expect(result.stderr).toContain('storage.objects (triggers update_objects_updated_at; owned by supabase_storage_admin)');
    expect(result.stderr).toContain('GRANT SET ON PARAMETER session_replication_role');
    expect(await tableDigests(staging.adminUrl, ['public', 'auth', 'storage'])).toEqual(before);
  });

  it('stops clearly on a cycle it cannot load, naming the grant that would allow it', async () => {
    const before = await tableDigests(staging.adminUrl);
    const result = await runScript('sync.ts', ['--yes', '--via', 'postgres'], { env: envFor(production, staging) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('public.departments <-> public.employees reference each other');
    expect(result.stderr).toContain('GRANT SET ON PARAMETER session_replication_role');
    expect(await tableDigests(staging.adminUrl)).toEqual(before);
  });
});
