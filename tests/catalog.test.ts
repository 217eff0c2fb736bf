import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCatalogRest } from '../lib/catalog/read.ts';
import { findTable, type Catalog } from '../lib/catalog/types.ts';
import { connectSupabase } from '../lib/connect/supabase.ts';
import { withClient, type Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { catalogAt } from './helpers/catalog.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, staging, stack } = sharedStack();

const directCatalog = catalogAt;

describe('the schema catalog', () => {
  let catalog: Catalog;
  beforeAll(async () => {
    catalog = await directCatalog(production.dbUrl, 'production');
  });
  const table = (schema: string, name: string) => {
    const found = findTable(catalog, { schema, name });
    if (!found) throw new Error(`${schema}.${name} is not in the catalog`);
    return found;
  };

  it('detects primary keys that are not called id', () => {
    expect(table('public', 'sire_countries').primaryKey?.columns).toEqual(['country_code']);
    expect(table('public', 'sire_cities').primaryKey?.columns).toEqual(['city_code']);
    expect(table('public', 'staff_users').primaryKey?.columns).toEqual(['user_id']);
    expect(table('public', 'tenant_registry').primaryKey?.columns).toEqual(['tenant_id']);
    expect(table('public', 'unit_daily_rates').primaryKey?.columns).toEqual(['accommodation_unit_id', 'rate_date']);
  });

  it('sees the generated column of guest_reservations and the identity columns', () => {
    const reservations = table('public', 'guest_reservations');
    const generated = reservations.columns.filter((column) => column.generated);
    expect(generated.map((column) => [column.name, column.generated])).toEqual([['accommodation_unit_id_key', 'stored']]);
    expect(table('public', 'audit_events').columns.find((c) => c.name === 'id')?.identity).toBe('always');
    expect(table('public', 'code_embeddings').columns.find((c) => c.name === 'id')?.identity).toBe('by default');
  });

  it('describes types, keys, foreign keys, sequences and triggers', () => {
    const reservations = table('public', 'guest_reservations');
    expect(reservations.columns.find((c) => c.name === 'guest_email')?.typeKind).toBe('domain');
    expect(reservations.columns.find((c) => c.name === 'status')?.typeKind).toBe('enum');
    expect(reservations.rlsEnabled).toBe(true);
    expect(table('public', 'feature_flags').primaryKey).toBeNull();
    expect(table('public', 'feature_flags').uniqueKeys.map((key) => key.columns)).toEqual([['flag_key']]);
    expect(table('public', 'event_log').primaryKey).toBeNull();
    expect(table('public', 'event_log').uniqueKeys).toEqual([]);
    const parent = table('public', 'chat_messages').foreignKeys.find((fk) => fk.columns[0] === 'parent_message_id');
    expect(parent).toMatchObject({ referencedSchema: 'public', referencedTable: 'chat_messages', referencedColumns: ['id'] });
    expect(table('public', 'booking_notes').sequences.map((s) => s.column)).toEqual(['id']);
    expect(table('public', 'hotels').triggers.map((t) => t.name)).toContain('hotels_touch_updated_at');
    expect(table('public', 'booking_events').kind).toBe('partitioned');
    expect(catalog.tables.some((t) => t.name.startsWith('booking_events_'))).toBe(false);
    expect(table('public', 'MixedCase').columns.map((c) => c.name)).toContain('User Name');
    expect(table('analytics', 'page_views').foreignKeys[0]).toMatchObject({ referencedSchema: 'public', referencedTable: 'hotels' });
  });

  it('gives a partitioned table the foreign keys its partitions declare, one per definition, naming each partition and its constraint', () => {
    const partitions = (constraint: string) => [
      { schema: 'public', name: 'invoices_2025', constraint: `invoices_2025_${constraint}` },
      { schema: 'public', name: 'invoices_2026', constraint: `invoices_2026_${constraint}` },
    ];
    expect(table('public', 'invoices').foreignKeys).toEqual([
      {
        name: 'invoices_2025_range_id_fkey',
        columns: ['range_id'],
        referencedSchema: 'public',
        referencedTable: 'invoicing_ranges',
        referencedColumns: ['id'],
        period: false,
        referencedPartition: null,
        deferrable: false,
        initiallyDeferred: false,
        definition: 'FOREIGN KEY (range_id) REFERENCES public.invoicing_ranges(id)',
        declaredOn: partitions('range_id_fkey'),
      },
      {
        name: 'invoices_2025_reservation_id_fkey',
        columns: ['reservation_id'],
        referencedSchema: 'public',
        referencedTable: 'guest_reservations',
        referencedColumns: ['id'],
        period: false,
        referencedPartition: null,
        deferrable: false,
        initiallyDeferred: false,
        definition: 'FOREIGN KEY (reservation_id) REFERENCES public.guest_reservations(id)',
        declaredOn: partitions('reservation_id_fkey'),
      },
    ]);
    // Declared on the table itself, and to a partitioned table: one key, not one per referenced partition.
    expect(table('public', 'invoicing_ranges').foreignKeys.map((fk) => [fk.columns.join(), fk.referencedTable, fk.declaredOn])).toEqual([
      ['hotel_id', 'hotels', []],
      ['last_invoice_id,last_invoice_issued_on', 'invoices', []],
    ]);
    expect(table('public', 'booking_events').foreignKeys).toMatchObject([{ columns: ['hotel_id'], referencedTable: 'hotels', declaredOn: [] }]);
  });

  it("sees Supabase's auth and storage tables, with their generated columns and the app's foreign keys into them", () => {
    const generated = (schema: string, name: string) =>
      table(schema, name)
        .columns.filter((c) => c.generated)
        .map((c) => [c.name, c.generated, c.generationExpression]);
    expect(generated('auth', 'users')).toEqual([['confirmed_at', 'stored', 'LEAST(email_confirmed_at, phone_confirmed_at)']]);
    expect(generated('auth', 'identities')).toEqual([['email', 'stored', "lower((identity_data ->> 'email'::text))"]]);
    expect(generated('storage', 'objects')).toEqual([['path_tokens', 'stored', "string_to_array(name, '/'::text)"]]);
    expect(table('auth', 'identities').foreignKeys[0]).toMatchObject({ referencedSchema: 'auth', referencedTable: 'users' });
    expect(table('auth', 'refresh_tokens').sequences.map((s) => s.column)).toEqual(['id']);
    expect(table('auth', 'users').triggers.map((t) => t.name)).toEqual(['on_auth_user_created']);
    expect(table('public', 'profiles').foreignKeys[0]).toMatchObject({ referencedSchema: 'auth', referencedTable: 'users', columns: ['id'] });
    expect(table('auth', 'users').rlsHidesRows).toBe(false);
  });

  it('is the same read over REST as read directly', async () => {
    for (const project of [production, staging]) {
      const side = project === production ? 'production' : 'staging';
      const direct = await directCatalog(project.dbUrl, side);
      const rest = await readCatalogRest(side, connectSupabase(project.apiUrl, project.serviceRoleKey), project.apiUrl);
      expect(rest).toEqual(direct);
      expect(direct.tables.length).toBeGreaterThan(20);
    }
  });
});

// A run names schemas; a database may hold thousands of tables in others (a
// schema per tenant), which took the catalog seconds to deparse for a run of
// `public` alone, over REST near the 8 s a statement may take. Read for some
// schemas (functions version 32), the catalog lists their tables and what
// they reach along foreign keys and inheritance in any schema, and Auth's
// and Storage's tables; no other table.
describe('a catalog read for the schemas a run names', () => {
  let project: Project;
  beforeAll(async () => {
    project = await stack.createProject('catalog_scope');
    await query(
      project.adminUrl,
      `
      CREATE SCHEMA lookups; CREATE SCHEMA reports; CREATE SCHEMA tenant_a; CREATE SCHEMA "Tenant B";
      -- parents a public table reaches (and their parent), a table of the same schema it does not
      CREATE TABLE lookups.region (code text PRIMARY KEY);
      CREATE TABLE lookups.country (code text PRIMARY KEY, region text REFERENCES lookups.region);
      CREATE TABLE lookups.unused (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
      ALTER TABLE public.hotels ADD COLUMN country text REFERENCES lookups.country;
      -- children of public tables (a replace's cascade, a mirror's delete reach them), their child, one inheriting
      CREATE TABLE reports.stay_report (id bigserial PRIMARY KEY, hotel_id uuid REFERENCES public.hotels ON DELETE CASCADE);
      CREATE TABLE reports.report_line (id int PRIMARY KEY, report_id bigint REFERENCES reports.stay_report ON DELETE CASCADE);
      CREATE TABLE reports.flag_history (changed_at timestamptz) INHERITS (public.feature_flags);
      -- a tenant's own tables, reaching nothing of public's; one referencing auth.users
      CREATE TABLE tenant_a.docs (id bigserial PRIMARY KEY, owner uuid REFERENCES auth.users);
      CREATE TABLE tenant_a.pages (id int PRIMARY KEY, doc_id bigint REFERENCES tenant_a.docs);
      CREATE TABLE "Tenant B"."Notes" (id int PRIMARY KEY);`,
    );
  });
  afterAll(() => project?.stop());

  const names = (catalog: Catalog) => catalog.tables.map((table) => `${table.schema}.${table.name}`);
  const sequences = (catalog: Catalog) => catalog.sequences.map((sequence) => `${sequence.schema}.${sequence.name}`);

  it('lists the schemas tables, what they reach along foreign keys and inheritance, and Auth and Storage; over REST the same', async () => {
    const scoped = await directCatalog(project.dbUrl, 'staging', ['public']);
    const listed = names(scoped);
    for (const name of [
      'public.hotels',
      'public.booking_events',
      'lookups.country',
      'lookups.region',
      'reports.stay_report',
      'reports.report_line',
      'reports.flag_history',
      'auth.users',
      'storage.objects',
    ])
      expect(listed, name).toContain(name);
    for (const name of ['lookups.unused', 'tenant_a.docs', 'tenant_a.pages', 'Tenant B.Notes']) expect(listed, name).not.toContain(name);
    expect(sequences(scoped)).toContain('reports.stay_report_id_seq');
    expect(sequences(scoped)).toContain('lookups.unused_id_seq');
    expect(sequences(scoped)).not.toContain('tenant_a.docs_id_seq');
    // What is not listed in full is still there to name: every schema, and the views and partitions of all.
    expect(scoped.schemas).toEqual(expect.arrayContaining(['tenant_a', 'Tenant B', 'lookups']));
    expect(scoped.otherRelations?.map((r) => `${r.schema}.${r.name}`)).toContain('public.booking_events_2026');

    const rest = await readCatalogRest('staging', connectSupabase(project.apiUrl, project.serviceRoleKey), project.apiUrl, ['public']);
    expect(rest).toEqual(scoped);
    // A schema spelled in another case, as --schemas may be, reaches the same tables.
    const folded = await readCatalogRest('staging', connectSupabase(project.apiUrl, project.serviceRoleKey), project.apiUrl, ['tenant b']);
    expect(names(folded)).toContain('Tenant B.Notes');
    expect(names(folded)).not.toContain('public.hotels');
  });

  it('lists every table without schemas, as functions before version 32 always did', async () => {
    const whole = names(await directCatalog(project.dbUrl, 'staging'));
    for (const name of ['lookups.unused', 'tenant_a.docs', 'tenant_a.pages', 'Tenant B.Notes', 'public.hotels']) expect(whole, name).toContain(name);
  });

  it('finds the public tables a config names by bare name, and its masking rules, whatever schemas the run takes', async () => {
    const cwd = emptyDirectory();
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { feature_flags: { where: 'true' } }, mask: { 'profiles.full_name': 'name' } }));
    const run = await runScript('sync.ts', ['--dry-run', '--schemas', 'analytics', '--allow-orphans'], { cwd, env: envFor(production, staging) });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('analytics.page_views');
  });

  it('reads every table from functions that take no schemas (before version 32), and a run over REST works with them', async () => {
    const older = await stack.createProject('catalog_scope_older');
    try {
      // A table no run of public reaches: listed all the same, as those functions list every table.
      await query(
        older.adminUrl,
        `CREATE SCHEMA elsewhere; CREATE TABLE elsewhere.unreached (id int PRIMARY KEY);
         DROP FUNCTION public.supasync_catalog(text[]);
         CREATE FUNCTION public.supasync_catalog() RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
           AS $$ BEGIN PERFORM supasync_private.assert_trusted_caller(); RETURN supasync_private.catalog(NULL); END $$;
         REVOKE ALL ON FUNCTION public.supasync_catalog() FROM PUBLIC, anon, authenticated;
         GRANT EXECUTE ON FUNCTION public.supasync_catalog() TO service_role;
         NOTIFY pgrst, 'reload schema';`,
      );
      const catalog = await readCatalogRest('staging', connectSupabase(older.apiUrl, older.serviceRoleKey), older.apiUrl, ['public']);
      expect(names(catalog)).toContain('elsewhere.unreached');
      expect(names(catalog)).toEqual(names(await directCatalog(older.dbUrl, 'staging')));
      const env = envFor(production, older);
      delete env.SUPABASE_PROD_DB_URL;
      delete env.SUPABASE_STAGING_DB_URL;
      const run = await runScript('sync.ts', ['--via', 'rest', '--tables', 'feature_flags', '--yes', '--no-backup'], { env });
      expect(run.code, run.stderr).toBe(0);
      expect(await query(older.adminUrl, 'SELECT flag_key FROM public.feature_flags ORDER BY 1')).toEqual(
        await query(production.adminUrl, 'SELECT flag_key FROM public.feature_flags ORDER BY 1'),
      );
    } finally {
      await older.stop();
    }
  });
});

describe('foreign keys that partitions declare, in the catalog', () => {
  const { stack } = sharedStack();
  let project: Project;
  beforeAll(async () => {
    project = await stack.createProject('catalog_partitions');
    // stays: 2025 is partitioned by half-year and declares a key to hotels; 2026
    // declares none of that, but a key to one partition of booking_events;
    // stays_2026 also repeats a key of the table's own, under another name.
    await query(
      project.adminUrl,
      `
      CREATE TABLE public.stays (
        id bigint, night date, hotel_id uuid, event_id bigint, event_on date, PRIMARY KEY (id, night),
        CONSTRAINT stays_hotel FOREIGN KEY (hotel_id) REFERENCES public.hotels (id) ON DELETE CASCADE
      ) PARTITION BY RANGE (night);
      CREATE TABLE public.stays_2025 PARTITION OF public.stays FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY RANGE (night);
      CREATE TABLE public.stays_2025_h1 PARTITION OF public.stays_2025 FOR VALUES FROM ('2025-01-01') TO ('2025-07-01');
      CREATE TABLE public.stays_2025_h2 PARTITION OF public.stays_2025 FOR VALUES FROM ('2025-07-01') TO ('2026-01-01');
      CREATE TABLE public.stays_2026 PARTITION OF public.stays FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
      ALTER TABLE public.stays_2025 ADD CONSTRAINT stays_2025_hotel FOREIGN KEY (hotel_id) REFERENCES public.hotels (id);
      ALTER TABLE public.stays_2026 ADD CONSTRAINT stays_2026_event FOREIGN KEY (event_id, event_on)
        REFERENCES public.booking_events_2026 (id, occurred_on) DEFERRABLE;
      ALTER TABLE public.stays_2026 ADD CONSTRAINT stays_2026_hotel FOREIGN KEY (hotel_id) REFERENCES public.hotels (id);`,
    );
  });
  afterAll(() => project?.stop());

  it('lists them once per definition, on the partitions that declare them, and a key to a partition as one to its table', async () => {
    const catalog = await directCatalog(project.dbUrl, 'staging');
    const stays = findTable(catalog, { schema: 'public', name: 'stays' });
    expect(catalog.tables.some((t) => t.name.startsWith('stays_'))).toBe(false);
    expect(stays?.foreignKeys.map((fk) => ({ ...fk, columns: fk.columns.join(), referencedColumns: fk.referencedColumns.join() }))).toEqual([
      {
        name: 'stays_2025_hotel',
        columns: 'hotel_id',
        referencedSchema: 'public',
        referencedTable: 'hotels',
        referencedColumns: 'id',
        period: false,
        referencedPartition: null,
        deferrable: false,
        initiallyDeferred: false,
        definition: 'FOREIGN KEY (hotel_id) REFERENCES public.hotels(id)',
        // Not the half-years: their copies of the key are PostgreSQL's, made from stays_2025's.
        declaredOn: [
          { schema: 'public', name: 'stays_2025', constraint: 'stays_2025_hotel' },
          { schema: 'public', name: 'stays_2026', constraint: 'stays_2026_hotel' },
        ],
      },
      {
        name: 'stays_2026_event',
        columns: 'event_id,event_on',
        referencedSchema: 'public',
        referencedTable: 'booking_events',
        referencedColumns: 'id,occurred_on',
        period: false,
        referencedPartition: { schema: 'public', name: 'booking_events_2026' },
        deferrable: true,
        initiallyDeferred: false,
        definition: 'FOREIGN KEY (event_id, event_on) REFERENCES public.booking_events_2026(id, occurred_on) DEFERRABLE',
        declaredOn: [{ schema: 'public', name: 'stays_2026', constraint: 'stays_2026_event' }],
      },
      {
        name: 'stays_hotel',
        columns: 'hotel_id',
        referencedSchema: 'public',
        referencedTable: 'hotels',
        referencedColumns: 'id',
        period: false,
        referencedPartition: null,
        deferrable: false,
        initiallyDeferred: false,
        definition: 'FOREIGN KEY (hotel_id) REFERENCES public.hotels(id) ON DELETE CASCADE',
        declaredOn: [],
      },
    ]);
    const rest = await readCatalogRest('staging', connectSupabase(project.apiUrl, project.serviceRoleKey), project.apiUrl);
    expect(rest).toEqual(catalog);
  });
});

// A column of every built-in type a column may have, and of its array
// (named after the type, `[]` appended), beside user-defined ones: an enum
// and an array of it, a composite, domains over a domain and over an array,
// an array of a domain, and extension types.
const EVERY_TYPE = `
  CREATE TABLE public.every_type ();
  DO $$
  DECLARE t record;
  BEGIN
    FOR t IN
      SELECT ty.typname, format_type(ty.oid, NULL) AS type, ty.typarray <> 0 AS has_array FROM pg_type ty
      WHERE ty.typnamespace = 'pg_catalog'::regnamespace AND ty.typtype IN ('b', 'r', 'm') AND ty.typisdefined
        AND NOT EXISTS (SELECT FROM pg_type e WHERE e.typarray = ty.oid)
    LOOP
      BEGIN
        EXECUTE format('ALTER TABLE public.every_type ADD COLUMN %I %s', t.typname, t.type);
        IF t.has_array THEN
          EXECUTE format('ALTER TABLE public.every_type ADD COLUMN %I %s[]', t.typname || '[]', t.type);
        END IF;
      EXCEPTION WHEN OTHERS THEN NULL; -- a type no column may have
      END;
    END LOOP;
  END $$;
  CREATE TYPE public.mood AS ENUM ('calm');
  CREATE TYPE public.pair AS (a int, b int);
  ALTER TABLE public.every_type ADD COLUMN "mood" public.mood, ADD COLUMN "mood[]" public.mood[], ADD COLUMN "pair" public.pair,
    ADD COLUMN "hotel_email" public.hotel_email, ADD COLUMN "rgb" public.rgb, ADD COLUMN "email_address[]" public.email_address[],
    ADD COLUMN "citext" public.citext, ADD COLUMN "hstore" public.hstore;`;

describe('which types the direct path copies in binary', () => {
  let every: Project;
  beforeAll(async () => {
    every = await stack.createProject('catalog_every_type');
    await withClient(every.adminUrl, (client) => client.query(EVERY_TYPE));
  });
  afterAll(() => every?.stop());

  it("are the built-in types of the fixture's binary_zoo, their arrays, domains over them and enums", async () => {
    const [zoo, everyType] = await Promise.all([
      directCatalog(production.dbUrl, 'production').then((catalog) => findTable(catalog, { schema: 'public', name: 'binary_zoo' })),
      directCatalog(every.dbUrl, 'staging').then((catalog) => findTable(catalog, { schema: 'public', name: 'every_type' })),
    ]);
    if (!zoo || !everyType) throw new Error('binary_zoo or every_type is not in the catalog');
    expect(zoo.columns.filter((column) => !column.binaryPortable).map((column) => column.name)).toEqual([]);
    // binary_zoo holds a column of each built-in type the catalog calls portable, and of no other.
    const builtIn = everyType.columns.filter((column) => column.typeSchema === 'pg_catalog');
    const portable = builtIn
      .filter((column) => column.binaryPortable && !column.name.endsWith('[]'))
      .map((column) => column.name)
      .sort();
    const scalarsInZoo = zoo.columns.filter((column) => column.typeSchema === 'pg_catalog' && !column.typeName.startsWith('_'));
    expect(portable).toEqual([...new Set(scalarsInZoo.map((column) => column.typeName))].sort());
    // An array is portable exactly when its element is.
    const arrays = builtIn.filter((column) => column.name.endsWith('[]'));
    expect(arrays.length).toBeGreaterThan(portable.length);
    for (const column of arrays) {
      expect(column.binaryPortable, column.name).toBe(portable.includes(column.name.slice(0, -2)));
    }
    const expected = {
      tsquery: false,
      tsvector: false,
      regclass: false,
      xml: false,
      point: false,
      jsonpath: false,
      mood: true,
      'mood[]': false,
      pair: false,
      hotel_email: true,
      rgb: true,
      'email_address[]': false,
      citext: false,
      hstore: false,
    };
    const portability = Object.keys(expected).map((name) => [name, everyType.columns.find((column) => column.name === name)?.binaryPortable]);
    expect(Object.fromEntries(portability)).toEqual(expected);
  });
});

describe('who may read the catalog', () => {
  it('refuses the anon key at the catalog function', async () => {
    const anon = connectSupabase(production.apiUrl, production.anonKey);
    const { data, error } = await anon.rpc('supasync_catalog');
    expect(data).toBeNull();
    expect(error?.code).toBe('42501');
  });

  it('turns away requests without a key, or with a wrong one, at the gateway', async () => {
    const missing = await fetch(`${production.apiUrl}/rest/v1/rpc/supasync_catalog`, { method: 'POST' });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ message: 'No API key found in request' });
    const wrong = await fetch(`${production.apiUrl}/rest/v1/rpc/supasync_catalog`, {
      method: 'POST',
      headers: { apikey: staging.serviceRoleKey, authorization: `Bearer ${staging.serviceRoleKey}` },
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ message: 'Invalid API key' });
  });

  it('tells a user who configured the anon key what to use instead', async () => {
    const anon = connectSupabase(production.apiUrl, production.anonKey);
    await expect(readCatalogRest('production', anon, production.apiUrl)).rejects.toThrow(/service_role key/);
  });
});
