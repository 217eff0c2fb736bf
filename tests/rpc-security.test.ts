// supasync's SQL functions are for the service role alone, and the ones
// that write refuse a database nobody marked as a sync target.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSupabase } from '../lib/connect/supabase.ts';
import type { Project } from '../stack/index.ts';
import { query, removeSupasync, SYNCED_SCHEMAS } from './helpers/content.ts';
import { runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, staging, stack } = sharedStack();
const table = { schema: 'public', name: 'sire_countries' };
const calls: [string, Record<string, unknown>][] = [
  ['supasync_catalog', {}],
  [
    'supasync_read_rows',
    {
      table_schema: 'public',
      table_name: 'sire_countries',
      columns: ['country_code'],
      key_columns: ['country_code'],
      after: null,
      page_size: 5,
      max_bytes: 1000,
      max_row_bytes: 1000,
    },
  ],
  [
    'supasync_read_first_pages',
    {
      reads: [{ table_schema: 'public', table_name: 'sire_countries', columns: ['country_code'], key_columns: ['country_code'], page_size: 2 }],
      total_bytes: 1000,
    },
  ],
  ['supasync_count_rows', { table_schema: 'public', table_name: 'sire_countries' }],
  ['supasync_table_sizes', { tables: [table] }],
  ['supasync_sync_target', {}],
  ['supasync_sequence_values', { sequences: [table] }],
  ['supasync_orphans', { links: [] }],
  ['supasync_version', {}],
  [
    'supasync_key_ranges',
    {
      requests: [
        { table_schema: 'public', table_name: 'sire_countries', columns: ['country_code'], key_columns: ['country_code'], use_binary: false, bits: 2 },
      ],
    },
  ],
  ['supasync_key_filter', { table_schema: 'public', table_name: 'sire_countries', key_columns: ['country_code'], keys: [['ZZZ']] }],
  [
    'supasync_range_filter',
    { table_schema: 'public', table_name: 'sire_countries', key_columns: ['country_code'], use_binary: false, bits: 64, ranges: ['1'] },
  ],
  ['supasync_clock', { overlap_seconds: 0 }],
  ['supasync_checksum', { table_schema: 'public', table_name: 'sire_countries', columns: ['country_code'], key_columns: ['country_code'] }],
  ['supasync_checksums', { targets: [{ table_schema: 'public', table_name: 'sire_countries', columns: ['country_code'], key_columns: ['country_code'] }] }],
  ['supasync_tables_holding_rows', { tables: [{ schema: 'public', name: 'sire_countries', filter: null }] }],
  ['supasync_references', { table_schema: 'public', table_name: 'sire_countries', columns: ['country_code'] }],
  ['supasync_extension_rows', { tables: [table] }],
  ['supasync_missing_keys', { table_schema: 'public', table_name: 'sire_countries', columns: ['country_code'], keys: [['ZZZ']] }],
  ['supasync_dependent_views', { tables: [table] }],
  ['supasync_watermarks', {}],
  ['supasync_masked_tables', {}],
  ['supasync_json_keys', { table_schema: 'public', table_name: 'sire_countries', column_name: 'name' }],
  [
    'supasync_clashing_rows',
    {
      table_schema: 'public',
      table_name: 'sire_countries',
      index_name: 'sire_countries_pkey',
      columns: ['country_code', 'name'],
      key_columns: ['country_code'],
      rows: [['ZZZ', 'x']],
    },
  ],
  ['supasync_file_owners', { bucket: 'avatars', after: null, page: 10 }],
  ['supasync_set_file_owners', { bucket: 'avatars', owners: [{ name: 'x.png', owner_id: 'anon' }] }],
  ['supasync_can_disable_checks', {}],
  ['supasync_settle_writes', { wait_seconds: 0 }],
  ['supasync_take_lease', { run: '00000000-0000-4000-8000-0000000000bb', about: 'rpc-security', seconds: 1 }],
  ['supasync_renew_lease', { run: '00000000-0000-4000-8000-0000000000bb', seconds: 1 }],
  ['supasync_release_lease', { run: '00000000-0000-4000-8000-0000000000bb' }],
  ['supasync_truncate', { tables: [table] }],
  [
    'supasync_write_rows',
    { table_schema: 'public', table_name: 'sire_countries', columns: ['country_code', 'name'], key_columns: ['country_code'], rows: [['ZZZ', 'x']] },
  ],
  [
    'supasync_write_tables',
    {
      batches: [
        { table_schema: 'public', table_name: 'sire_countries', columns: ['country_code', 'name'], key_columns: ['country_code'], rows: [['ZZZ', 'x']] },
      ],
    },
  ],
  ['supasync_write_checks', { tables: [table] }],
  ['supasync_set_columns', { table_schema: 'public', table_name: 'sire_countries', key_columns: ['country_code'], columns: ['name'], rows: [['ZZZ', 'x']] }],
  ['supasync_backup_tables', { tables: [table] }],
  ['supasync_set_sequences', { sequences: [] }],
  [
    'supasync_write_cycle',
    {
      batches: [
        { table_schema: 'public', table_name: 'sire_countries', columns: ['country_code', 'name'], key_columns: ['country_code'], rows: [['ZZZ', 'x']] },
      ],
    },
  ],
  ['supasync_delete_rows', { tables: [table] }],
  ['supasync_set_watermarks', { marks: [{ schema: 'public', name: 'sire_countries', column: 'name', since: '2026-01-01T00:00:00Z' }] }],
  ['supasync_set_masked_tables', { marks: [{ schema: 'public', name: 'sire_countries', columns: { name: 'name: fixed' } }], unmasked: [] }],
  ['supasync_delete_where', { table_schema: 'public', table_name: 'sire_countries', row_filter: 'false' }],
  ['supasync_clear_rows', { table_schema: 'public', table_name: 'sire_countries', row_filter: 'false', key_columns: ['country_code'] }],
  ['supasync_put_back', { table_schema: 'public', table_name: 'sire_countries' }],
  ['supasync_refresh_views', { tables: [table] }],
];
/** From here on, the functions that write. */
const firstWrite = calls.findIndex(([name]) => name === 'supasync_can_disable_checks');

describe("supasync's functions", () => {
  it('refuse the anon key, every one of them', async () => {
    const anon = connectSupabase(staging.apiUrl, staging.anonKey);
    for (const [name, args] of calls) {
      const { error } = await anon.rpc(name, args);
      expect(error?.code, name).toBe('42501');
    }
    expect(await query(staging.adminUrl, `SELECT count(*)::int AS n FROM public.sire_countries`)).toEqual([{ n: 0 }]);
  });

  it('refuse anon and authenticated even where a migration of the app granted them EXECUTE on every function in public', async () => {
    const granted = await stack.createProject('rpc_granted');
    try {
      // A common line in apps' migrations: it gives back what supasync's migrations took.
      await query(granted.adminUrl, 'SET ROLE postgres; GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO anon, authenticated');
      const installed = await query<{ name: string }>(
        granted.adminUrl,
        `SELECT DISTINCT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND p.proname LIKE 'supasync\\_%' AND p.prosecdef ORDER BY 1`,
      );
      // Every function that reads or writes past row-level security is called below.
      expect(installed.map(({ name }) => name).filter((name) => !calls.some(([called]) => called === name))).toEqual([]);
      const before = await query(granted.adminUrl, 'SELECT count(*)::int AS n FROM public.sire_countries');
      for (const key of [granted.anonKey, granted.publishableKey]) {
        const client = connectSupabase(granted.apiUrl, key);
        for (const [name, args] of calls.filter(([name]) => name !== 'supasync_version')) {
          const { error } = await client.rpc(name, args);
          expect(error?.code, name).toBe('42501');
          expect(error?.message, name).toMatch(/supasync's functions read and write past row-level security, and (anon|authenticated) may not call them/);
        }
      }
      const { error } = await connectSupabase(granted.apiUrl, granted.anonKey).rpc('supasync_read_rows', {
        table_schema: 'auth',
        table_name: 'users',
        columns: ['email', 'encrypted_password'],
        key_columns: ['id'],
        after: null,
        page_size: 2,
      });
      expect(error?.code).toBe('42501');
      expect(await query(granted.adminUrl, 'SELECT count(*)::int AS n FROM public.sire_countries')).toEqual(before);
      // The service role, as ever, may.
      const { error: serviceError } = await connectSupabase(granted.apiUrl, granted.secretKey).rpc('supasync_count_rows', {
        table_schema: 'public',
        table_name: 'sire_countries',
      });
      expect(serviceError).toBeNull();
    } finally {
      await granted.stop();
    }
  });

  it("give anon and authenticated nothing in supasync's own schema where the project's default privileges grant them everything", async () => {
    const defaults = await stack.createProject('rpc_default_privileges');
    try {
      await removeSupasync(defaults.adminUrl);
      await query(
        defaults.adminUrl,
        `ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT ALL ON TABLES TO anon, authenticated;
         ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT ALL ON FUNCTIONS TO anon, authenticated;
         ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT ALL ON SEQUENCES TO anon, authenticated;
         ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT ALL ON SCHEMAS TO anon, authenticated`,
      );
      for (const side of ['--production', '--staging']) {
        const env = side === '--production' ? envFor(defaults, staging) : envFor(production, defaults);
        const installed = await runScript('install-rpcs.ts', [side, '--yes'], { env });
        expect(installed.code, installed.stdout + installed.stderr).toBe(0);
        const granted = await query<{ what: string }>(
          defaults.adminUrl,
          `SELECT r.rolname || ': ' || what AS what FROM pg_roles r CROSS JOIN LATERAL (
             SELECT 'CREATE on the schema' AS what WHERE has_schema_privilege(r.oid, 'supasync_private', 'CREATE')
             UNION ALL SELECT 'EXECUTE ' || p.oid::regprocedure::text FROM pg_proc p
               WHERE p.pronamespace = 'supasync_private'::regnamespace AND has_function_privilege(r.oid, p.oid, 'EXECUTE')
             UNION ALL SELECT 'writes to ' || c.oid::regclass::text FROM pg_class c
               WHERE c.relnamespace = 'supasync_private'::regnamespace AND c.relkind IN ('r', 'S')
                 AND (has_table_privilege(r.oid, c.oid, 'INSERT') OR has_table_privilege(r.oid, c.oid, 'UPDATE') OR has_table_privilege(r.oid, c.oid, 'DELETE'))
           ) found WHERE r.rolname IN ('anon', 'authenticated') ORDER BY 1`,
        );
        expect(granted, side).toEqual([]);
      }
    } finally {
      await defaults.stop();
    }
  });

  it('where one of them is gone (a migration half applied), a run says the functions are incomplete and how to install them', async () => {
    const partial = await stack.createProject('rpc_partial');
    try {
      await query(partial.adminUrl, 'SET ROLE postgres; DROP FUNCTION supasync_private.try_replica_role()');
      const result = await runScript('sync.ts', ['--via', 'rest', '--yes', '--tables', 'sire_countries'], { env: envFor(production, partial) });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        "Asking staging's supasync functions what they may do before writing: function supasync_private.try_replica_role() does not exist",
      );
      expect(result.stderr).toContain(
        "cause: the project's supasync functions are incomplete (supasync_private dropped, or a migration half applied): install them again, npx tsx scripts/install-rpcs.ts --production or --staging",
      );
      expect(result.stderr).toContain('Nothing was changed.');
    } finally {
      await partial.stop();
    }
  });

  it('refuse to write where the database is not marked as a sync target', async () => {
    const service = connectSupabase(production.apiUrl, production.serviceRoleKey);
    const before = await query(production.adminUrl, `SELECT count(*)::int AS n FROM public.sire_countries`);
    for (const [name, args] of calls.slice(firstWrite)) {
      const { error } = await service.rpc(name, args);
      expect(error?.message, name).toContain('not marked as a supasync sync target');
    }
    expect(await query(production.adminUrl, `SELECT count(*)::int AS n FROM public.sire_countries`)).toEqual(before);
  });

  describe('a sync over REST into an unmarked staging', () => {
    let unmarked: Project;
    beforeAll(async () => {
      unmarked = await stack.createProject('rest_unmarked', { syncTarget: false });
    });
    afterAll(() => unmarked?.stop());

    it('stops before writing and says how to mark it', async () => {
      const result = await runScript('sync.ts', ['--via', 'rest', '--yes', '--schemas', SYNCED_SCHEMAS.join(',')], { env: envFor(production, unmarked) });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('is not marked as a supasync sync target');
      expect(result.stderr).toContain('npx tsx scripts/install-rpcs.ts --staging --mark-only');
      expect(await query(unmarked.adminUrl, `SELECT count(*)::int AS n FROM public.hotels`)).toEqual([{ n: 0 }]);
    });
  });
});
