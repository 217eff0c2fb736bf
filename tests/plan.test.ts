import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qualifiedName, type Catalog } from '../lib/catalog/types.ts';
import { planSync } from '../lib/plan/plan.ts';
import type { SyncPlan } from '../lib/plan/types.ts';
import { emptiedAlongside } from '../lib/plan/supabase.ts';
import { untriggeredNotes } from '../lib/plan/untriggered-rows.ts';
import { setToProductionExactly } from '../lib/engine/sequences.ts';
import { isFurther } from '../lib/plan/sequences.ts';
import { withClient, type Project } from '../stack/index.ts';
import { SYNCED_SCHEMAS } from './helpers/content.ts';
import { catalogAt } from './helpers/catalog.ts';
import { sharedStack } from './setup/stack.ts';

const { production, staging, stack } = sharedStack();

const catalogOf = (dbUrl: string) => catalogAt(dbUrl);

const position = (plan: SyncPlan, name: string) => plan.tables.findIndex((t) => qualifiedName(t.table) === name);
const entry = (plan: SyncPlan, name: string) => plan.tables.find((t) => qualifiedName(t.table) === name);

describe("planning a full sync of public, analytics and Supabase's auth and storage", () => {
  let plan: SyncPlan;
  let upsertPlan: SyncPlan;
  beforeAll(async () => {
    const catalogs = [await catalogOf(production.dbUrl), await catalogOf(staging.dbUrl)] as const;
    plan = planSync(...catalogs, { schemas: SYNCED_SCHEMAS });
    upsertPlan = planSync(...catalogs, { schemas: SYNCED_SCHEMAS }, 'upsert');
  });

  it('loads hotels, then accommodation_units, then guest_reservations', () => {
    expect(entry(plan, 'public.hotels')?.level).toBe(0);
    expect(entry(plan, 'public.accommodation_units')?.level).toBe(1);
    expect(entry(plan, 'public.guest_reservations')?.level).toBe(2);
    expect(position(plan, 'public.hotels')).toBeLessThan(position(plan, 'public.accommodation_units'));
    expect(position(plan, 'public.accommodation_units')).toBeLessThan(position(plan, 'public.guest_reservations'));
  });

  it('puts every parent on a lower level than its children, cycles aside', async () => {
    const catalog = await catalogOf(production.dbUrl);
    const levelOf = new Map(plan.tables.map((t) => [qualifiedName(t.table), t.level]));
    const cycleOf = (name: string) => plan.cycles.findIndex((c) => c.tables.some((t) => qualifiedName(t) === name));
    let edges = 0;
    for (const table of catalog.tables.filter((t) => levelOf.has(qualifiedName(t)))) {
      const child = qualifiedName(table);
      for (const fk of table.foreignKeys) {
        const parent = `${fk.referencedSchema}.${fk.referencedTable}`;
        if (parent === child || (cycleOf(child) >= 0 && cycleOf(child) === cycleOf(parent))) continue;
        expect(levelOf.get(parent), `${parent} before ${child}`).toBeLessThan(levelOf.get(child)!);
        edges++;
      }
    }
    expect(edges).toBeGreaterThan(10);
    expect(entry(plan, 'analytics.page_views')!.level).toBeGreaterThan(entry(plan, 'public.hotels')!.level);
  });

  it('names the self-reference of chat_messages and the departments/employees cycle', () => {
    expect(plan.selfReferences.map((s) => `${qualifiedName(s.table)}.${s.foreignKey.columns.join()}`)).toEqual(['public.chat_messages.parent_message_id']);
    expect(plan.cycles.map((cycle) => cycle.tables.map(qualifiedName))).toEqual([
      ['public.departments', 'public.employees'],
      ['public.invoices', 'public.invoicing_ranges'],
    ]);
    expect(plan.cycles[0]?.foreignKeys.map((f) => `${f.table.name}.${f.foreignKey.columns.join()}`).sort()).toEqual([
      'departments.head_employee_id',
      'employees.department_id',
    ]);
    expect(entry(plan, 'public.departments')?.level).toBe(entry(plan, 'public.employees')?.level);
    expect(entry(plan, 'public.chat_messages')?.loadedTogether).toBe('self-reference');
    expect(entry(plan, 'public.employees')?.loadedTogether).toBe('cycle');
  });

  it('loads invoices, whose foreign keys its partitions declare, after the reservations they reference, in a cycle with invoicing_ranges', () => {
    // By name invoices would come first; its partitions' keys put it after guest_reservations.
    expect(entry(plan, 'public.invoices')!.level).toBeGreaterThan(entry(plan, 'public.guest_reservations')!.level);
    expect(entry(plan, 'public.invoices')?.level).toBe(entry(plan, 'public.invoicing_ranges')?.level);
    expect(entry(plan, 'public.invoices')?.loadedTogether).toBe('cycle');
    const cycle = plan.cycles.find((c) => c.tables.some((t) => t.name === 'invoices'));
    // The partitions' key, deferred on each partition where checks stay on, and the ranges' key to the partitioned table.
    expect(
      cycle?.foreignKeys.map(({ table, foreignKey }) => [table.name, foreignKey.columns.join(), foreignKey.declaredOn.map((p) => `${p.name}.${p.constraint}`)]),
    ).toEqual([
      ['invoices', 'range_id', ['invoices_2025.invoices_2025_range_id_fkey', 'invoices_2026.invoices_2026_range_id_fkey']],
      ['invoicing_ranges', 'last_invoice_id,last_invoice_issued_on', []],
    ]);
  });

  it('leaves generated columns out and keys each table on its detected key', () => {
    const reservations = entry(plan, 'public.guest_reservations')!;
    expect(reservations.generatedColumns).toEqual(['accommodation_unit_id_key']);
    expect(reservations.columns).not.toContain('accommodation_unit_id_key');
    expect(entry(plan, 'public.sire_cities')?.key).toMatchObject({ kind: 'primary key', columns: ['city_code'] });
    expect(entry(plan, 'public.unit_daily_rates')?.key?.columns).toEqual(['accommodation_unit_id', 'rate_date']);
    expect(entry(plan, 'public.feature_flags')?.key).toMatchObject({ kind: 'unique key', columns: ['flag_key'] });
    expect(entry(plan, 'public.event_log')?.key).toBeNull();
    expect(entry(plan, 'public.audit_events')?.identityColumns).toEqual([{ name: 'id', identity: 'always' }]);
  });

  it('copies in binary only the tables whose every type reads back what binary COPY wrote', () => {
    expect(entry(plan, 'public.binary_zoo')?.binarySafe).toBe(true);
    expect(entry(plan, 'public.code_embeddings')?.binarySafe).toBe(true); // real[]
    expect(entry(plan, 'public.guest_reservations')?.binarySafe).toBe(true); // a domain over text, an enum
    expect(entry(plan, 'public.type_zoo')?.binarySafe).toBe(false); // tsquery, tsvector, citext, hstore
    expect(entry(plan, 'public.staff_users')?.binarySafe).toBe(false); // citext
  });

  it('finds no drift between two databases made from the same migrations', () => {
    expect(plan.tables.filter((t) => t.drift.length).map((t) => qualifiedName(t.table))).toEqual([]);
    expect(plan.externalParents).toEqual([]);
  });

  it("copies Auth's users and identities and Storage's rows, after the users the app's tables reference", () => {
    expect(entry(plan, 'auth.users')?.level).toBe(0);
    expect(entry(plan, 'public.profiles')!.level).toBeGreaterThan(0);
    expect(entry(plan, 'storage.objects')!.level).toBeGreaterThan(entry(plan, 'storage.buckets')!.level);
    expect(entry(plan, 'auth.users')?.generatedColumns).toEqual(['confirmed_at']);
    expect(entry(plan, 'auth.identities')?.generatedColumns).toEqual(['email']);
    expect(entry(plan, 'storage.objects')?.generatedColumns).toEqual(['path_tokens']);
    expect(entry(plan, 'auth.users')?.columns).not.toContain('confirmed_at');
  });

  it("leaves out Supabase's migration records, sign-in state and Storage's work in progress, saying why", () => {
    expect(plan.leftOut.map((t) => [qualifiedName(t.table), t.onRequest])).toEqual([
      ['auth.audit_log_entries', true],
      ['auth.custom_oauth_providers', true],
      ['auth.mfa_factors', true],
      ['auth.refresh_tokens', true],
      ['auth.schema_migrations', false],
      ['auth.scim_users', true],
      ['auth.sessions', true],
      ['auth.sso_providers', true],
      ['auth.webauthn_credentials', true],
      ['storage.buckets_analytics', true],
      ['storage.event_log', true],
      ['storage.migrations', false],
      ['storage.s3_multipart_uploads', true],
      ['storage.s3_multipart_uploads_parts', true],
    ]);
    expect(plan.leftOut.find((t) => t.table.name === 's3_multipart_uploads')?.reason).toContain('uploads in progress');
    expect(plan.leftOut.find((t) => t.table.name === 'schema_migrations')?.reason).toContain("Auth's (GoTrue's) record of the migrations");
    for (const { table } of plan.leftOut) expect(entry(plan, qualifiedName(table)), qualifiedName(table)).toBeUndefined();
  });

  it('empties, when it replaces the users and buckets, the staging sign-ins and uploads that reference them, and only then', () => {
    expect(emptiedAlongside(plan).map(qualifiedName).sort()).toEqual([
      'auth.mfa_factors',
      'auth.refresh_tokens',
      'auth.scim_users',
      'auth.sessions',
      'auth.webauthn_credentials',
      'storage.s3_multipart_uploads',
      'storage.s3_multipart_uploads_parts',
    ]);
    expect(emptiedAlongside(upsertPlan)).toEqual([]);
  });

  it("names no table staging's triggers fill where the run copies them all", () => {
    expect(plan.untriggered).toEqual([]);
  });
});

describe("planning a sync whose copied rows staging's triggers would have made rows elsewhere for", () => {
  it('names the trigger and the tables it inserts into that reference the copied table and are outside the run', async () => {
    const [production_, staging_] = [await catalogOf(production.dbUrl), await catalogOf(staging.dbUrl)];
    const users = planSync(production_, staging_, { schemas: ['auth'] });
    // handle_new_user inserts into public.profiles; public.staff_users references auth.users too, and nothing makes its rows.
    expect(users.untriggered).toEqual([
      { table: { schema: 'auth', name: 'users' }, triggers: ['on_auth_user_created'], children: [{ schema: 'public', name: 'profiles' }] },
    ]);
    // chat_messages' audit trigger inserts into audit_events, which names no message by a foreign key; hotels' triggers fire BEFORE.
    const chat = planSync(production_, staging_, { schemas: ['public'], tables: ['chat_conversations', 'chat_messages', 'hotels'] }, 'upsert');
    expect(chat.untriggered).toEqual([]);
    // A name as a body may write it, case and spaces and quotes, is read as SQL reads it; functions before version 37 say nothing.
    const written = (inserts: string[] | undefined): Catalog => ({
      ...staging_,
      tables: staging_.tables.map((table) => ({ ...table, triggers: table.triggers.map((trigger) => ({ ...trigger, inserts })) })),
    });
    expect(planSync(production_, written(['PUBLIC . "profiles"', 'Staff_Users']), { schemas: ['auth'] }).untriggered[0]?.children).toEqual([
      { schema: 'public', name: 'profiles' },
      { schema: 'public', name: 'staff_users' },
    ]);
    expect(planSync(production_, written(['public."Profiles"']), { schemas: ['auth'] }).untriggered).toEqual([]);
    // Copied in part (a `where`, --with-parents' rows), the table the trigger fills is still named: its other users' rows do not come.
    const partly = planSync(production_, staging_, { schemas: ['auth', 'public'], options: { 'public.profiles': { where: 'true' } } });
    expect(partly.untriggered).toEqual([
      {
        table: { schema: 'auth', name: 'users' },
        triggers: ['on_auth_user_created'],
        children: [{ schema: 'public', name: 'profiles' }],
        partly: true,
      },
    ]);
    expect(untriggeredNotes(partly.untriggered)[0]).toContain('public.profiles, which references it, is not copied whole by this run');
    // A table it fills that references one of those, not the copied table (slack-clone's user_roles, under its users).
    const profiles = staging_.tables.find((table) => qualifiedName(table) === 'public.profiles')!;
    const roles = {
      ...profiles,
      name: 'profile_roles',
      triggers: [],
      foreignKeys: [{ ...profiles.foreignKeys[0]!, name: 'profile_roles_profile', referencedSchema: 'public', referencedTable: 'profiles' }],
    };
    const chained = written(['public.profiles', 'public.profile_roles', 'public.audit_events']);
    expect(planSync(production_, { ...chained, tables: [...chained.tables, roles] }, { schemas: ['auth'] }).untriggered[0]?.children).toEqual([
      { schema: 'public', name: 'profiles' },
      { schema: 'public', name: 'profile_roles' },
    ]);
    expect(planSync(production_, written(undefined), { schemas: ['auth'] }).untriggered).toEqual([]);
  });
});

describe("planning a sync that names Supabase's tables", () => {
  it('takes tables named with their schema when public holds none, and suggests no schema it would refuse', async () => {
    const full = await catalogOf(production.dbUrl);
    const users = full.tables.find((t) => qualifiedName(t) === 'auth.users')!;
    // A project whose app has no table yet; Realtime's own schema has one.
    const bare: Catalog = { ...full, tables: [...full.tables.filter((t) => t.schema !== 'public'), { ...users, schema: 'realtime', name: 'messages' }] };
    const named = planSync(bare, bare, { schemas: ['public'], tables: ['auth.users', 'storage.buckets'] }, 'upsert');
    expect(named.tables.map((t) => qualifiedName(t.table)).sort()).toEqual(['auth.users', 'storage.buckets']);
    expect(() => planSync(bare, bare, { schemas: ['public'], tables: ['users'] })).toThrow(
      '--tables users: production has no such table in schemas public. Did you mean auth.users?',
    );
    // A typo of another schema's table too; never a table of a schema Supabase runs itself.
    expect(() => planSync(bare, bare, { schemas: ['public'], tables: ['user'] })).toThrow(
      '--tables user: production has no such table in schemas public. Did you mean auth.users?',
    );
    expect(() => planSync(bare, bare, { schemas: ['public'], tables: ['mesages'] })).toThrow(
      /^--tables mesages: production has no such table in schemas public\.$/,
    );
    // Unquoted, a schema is folded as SQL folds it.
    const folded = planSync(bare, bare, { schemas: ['public'], tables: ['Auth.Users'] }, 'upsert');
    expect(folded.tables.map((t) => qualifiedName(t.table))).toEqual(['auth.users']);
    expect(() => planSync(bare, bare, { schemas: ['public'], tables: ['"Auth".users'] })).toThrow('no such table in schema "Auth"');
    // A schema that exists without a table yet is taken; a run left with nothing to copy is refused.
    expect(() => planSync(bare, bare, { schemas: ['public'] })).toThrow('Nothing to copy');
    expect(() => planSync(bare, bare, { schemas: ['pubic'] })).toThrow(
      'Schema "pubic" (--schemas, or supasync.config.json\'s schemas) is not a schema of production. Did you mean "public"?',
    );
    expect(() => planSync(bare, bare, { schemas: ['reporting'] })).toThrow(/is not a schema of production\. Its schemas: [a-z, ]+\./);
    expect(() => planSync(bare, bare, { schemas: ['reporting'] })).not.toThrow(/realtime/);
    const empty = planSync(bare, bare, { schemas: ['auth', 'public'] }, 'upsert');
    expect(empty.tables.some((t) => t.table.schema === 'auth')).toBe(true);
  });

  it('lists auth.users as a parent of a sync of public alone', async () => {
    const plan = planSync(await catalogOf(production.dbUrl), await catalogOf(staging.dbUrl), { schemas: ['public', 'analytics'] });
    expect(plan.externalParents.map((p) => `${qualifiedName(p.table)}.${p.foreignKey.columns.join()} -> ${qualifiedName(p.parent)}`)).toEqual([
      'public.profiles.id -> auth.users',
      'public.staff_users.auth_user_id -> auth.users',
    ]);
  });

  it('copies sessions when named, and never the migration records', async () => {
    const catalog = await catalogOf(production.dbUrl);
    const plan = planSync(catalog, catalog, { schemas: ['auth'], tables: ['users', 'sessions', 'refresh_tokens'] });
    expect(plan.tables.map((t) => qualifiedName(t.table))).toEqual(['auth.users', 'auth.sessions', 'auth.refresh_tokens']);
    expect(() => planSync(catalog, catalog, { schemas: ['auth'], tables: ['schema_migrations'] })).toThrow(
      /auth\.schema_migrations is never synced: it is Auth's \(GoTrue's\) record/,
    );
  });
});

describe('planning a targeted sync', () => {
  it('lists the parents of guest_reservations that the run does not copy', async () => {
    const plan = planSync(await catalogOf(production.dbUrl), await catalogOf(staging.dbUrl), {
      schemas: ['public'],
      tables: ['guest_reservations'],
    });
    expect(plan.tables.map((t) => qualifiedName(t.table))).toEqual(['public.guest_reservations']);
    expect(plan.externalParents.map((p) => qualifiedName(p.parent))).toEqual(['public.accommodation_units']);
  });

  it('lists the parents its partitions reference of a partitioned table synced alone', async () => {
    const plan = planSync(await catalogOf(production.dbUrl), await catalogOf(staging.dbUrl), { schemas: ['public'], tables: ['invoices'] });
    expect(plan.externalParents.map((p) => `${qualifiedName(p.table)}.${p.foreignKey.columns.join()} -> ${qualifiedName(p.parent)}`)).toEqual([
      'public.invoices.range_id -> public.invoicing_ranges',
      'public.invoices.reservation_id -> public.guest_reservations',
    ]);
  });

  it('refuses a table that does not exist, suggesting the near ones', async () => {
    const catalog = await catalogOf(production.dbUrl);
    expect(() => planSync(catalog, catalog, { schemas: ['public'], tables: ['chat_message'] })).toThrow(
      /--tables chat_message: production has no such table.*public\.chat_messages/,
    );
  });

  it('finds a table whose name holds a dot, capitals or a quote, written as is or in SQL quotes', async () => {
    const real = await catalogOf(production.dbUrl);
    const mixed = real.tables.find((t) => t.name === 'MixedCase');
    if (!mixed) throw new Error('the fixture has public."MixedCase"');
    const named = (name: string) => ({ ...mixed, name });
    const catalog = { ...real, tables: [...real.tables, named('Guest List.2024'), named('mixedcase'), named('say "hi"')] };
    const chosen = (tables: string[]) => planSync(catalog, catalog, { schemas: ['public'], tables }).tables.map((t) => t.table.name);
    expect(chosen(['Guest List.2024'])).toEqual(['Guest List.2024']);
    expect(chosen(['public.Guest List.2024'])).toEqual(['Guest List.2024']);
    expect(chosen(['public."Guest List.2024"'])).toEqual(['Guest List.2024']);
    expect(chosen(['"say ""hi"""'])).toEqual(['say "hi"']);
    // In quotes, case is the name's own: "MixedCase" is not mixedcase, which bare MixedCase names as well.
    expect(chosen(['"MixedCase"'])).toEqual(['MixedCase']);
    expect(chosen(['"mixedcase"'])).toEqual(['mixedcase']);
    expect(() => chosen(['"Mixedcase"'])).toThrow(/--tables "Mixedcase": production has no such table/);
    // Unquoted, MixedCase is mixedcase to SQL: with both tables there, neither is guessed.
    expect(() => chosen(['public.MixedCase'])).toThrow(
      '--tables public.MixedCase matches two tables: public."MixedCase" and public.mixedcase. Write public."MixedCase" for the first (SQL reads the unquoted name as public.mixedcase), or public.mixedcase for the second.',
    );
    expect(() => chosen(['MIXEDCASE'])).toThrow('Write the one meant as SQL quotes it, schema and name: public."MixedCase", public.mixedcase.');
    expect(() => chosen(['public."Guest List'])).toThrow(/public."Guest List: not a table name\. Write it as name, schema\.name, or with SQL's double quotes/);
  });

  it('refuses a schema production does not have, suggesting the one meant, and a selection that leaves nothing', async () => {
    const catalog = await catalogOf(production.dbUrl);
    expect(() => planSync(catalog, catalog, { schemas: ['pubic'] })).toThrow(/Schema "pubic" .* is not a schema of production\. Did you mean "public"\?/);
    expect(() => planSync(catalog, catalog, { schemas: ['nowhere_near'] })).toThrow(/Its schemas: analytics, auth, public, storage\./);
    expect(() => planSync(catalog, catalog, { schemas: ['analytics'], exclude: ['page_views'] })).toThrow(/Nothing to copy/);
  });

  it('refuses schemas Supabase manages, saying why', async () => {
    const catalog = await catalogOf(production.dbUrl);
    expect(() => planSync(catalog, catalog, { schemas: ['public', 'vault'] })).toThrow(/"vault" is never synced: it holds secrets/);
  });
});

describe('planning the sequences a run sets', () => {
  const names = (plan: SyncPlan) => Object.fromEntries(plan.sequences.map((s) => [qualifiedName(s.sequence), s.usedBy]));

  it('sets every sequence a copied column draws from, owned or only in a default, and over whole schemas the counters no column uses', async () => {
    const catalog = await catalogOf(production.dbUrl);
    const full = planSync(catalog, catalog, { schemas: SYNCED_SCHEMAS });
    expect(names(full)).toEqual({
      'analytics.countdown_seq': [],
      'analytics.page_views_id_seq': ['analytics.page_views'],
      'public.audit_events_id_seq': ['public.audit_events'],
      'public.booking_notes_id_seq': ['public.booking_notes'],
      'public.code_embeddings_id_seq': ['public.code_embeddings'],
      'public.feature_flags_shown_as_seq': ['public.feature_flags'],
      'public.order_id_seq': ['public.order'],
      'public.ticket_number_seq': [],
    });
    // auth.refresh_tokens is never copied in a schema-wide run: its sequence is staging's business.
    expect(catalog.sequences.map(qualifiedName)).toContain('auth.refresh_tokens_id_seq');
  });

  it('sets, for named tables, their sequences alone, and none of a table left out', async () => {
    const catalog = await catalogOf(production.dbUrl);
    expect(names(planSync(catalog, catalog, { schemas: ['public'], tables: ['order', 'hotels'] }))).toEqual({ 'public.order_id_seq': ['public.order'] });
    expect(names(planSync(catalog, catalog, { schemas: ['public'], exclude: ['order'] }))).not.toHaveProperty('public.order_id_seq');
  });

  it('moves a sequence forward only where staging keeps rows of its own that drew from it', async () => {
    const catalog = await catalogOf(production.dbUrl);
    const plan = planSync(catalog, catalog, { schemas: ['public'] });
    const sequence = (name: string) => plan.sequences.find((s) => qualifiedName(s.sequence) === name)!;
    expect(setToProductionExactly(sequence('public.order_id_seq'), plan.tables, 'replace')).toBe(true);
    const upserted = planSync(catalog, catalog, { schemas: ['public'] }, 'upsert');
    expect(setToProductionExactly(sequence('public.order_id_seq'), upserted.tables, 'upsert')).toBe(false);
    expect(setToProductionExactly(sequence('public.ticket_number_seq'), plan.tables, 'replace')).toBe(true);
    const withOrderUpserted = plan.tables.map((t) => (t.table.name === 'order' ? { ...t, mode: 'upsert' as const } : t));
    expect(setToProductionExactly(sequence('public.order_id_seq'), withOrderUpserted, 'replace')).toBe(false);
    expect(setToProductionExactly({ ...sequence('public.order_id_seq'), alsoUsedOutside: true }, plan.tables, 'replace')).toBe(false);
  });

  it('counts "further along" the way the sequence counts, is_called included', () => {
    const at = (lastValue: string, isCalled: boolean) => ({ schema: 'public', name: 's', lastValue, isCalled });
    expect(isFurther(at('10', true), at('10', false), '1')).toBe(true);
    expect(isFurther(at('10', false), at('10', true), '1')).toBe(false);
    expect(isFurther(at('9', true), at('10', false), '1')).toBe(false);
    expect(isFurther(at('5', true), at('6', true), '-1')).toBe(true);
    expect(isFurther(at('9223372036854775806', true), at('9223372036854775805', true), '1')).toBe(true);
  });
});

describe('drift between production and staging', () => {
  let drifted: Project;
  beforeAll(async () => {
    drifted = await stack.createProject('plan_drift');
    await withClient(drifted.adminUrl, async (client) => {
      await client.query(`ALTER TABLE public.hotels ADD COLUMN staging_note text NOT NULL DEFAULT ''`);
      await client.query(`ALTER TABLE public.muva_content ALTER COLUMN source_url TYPE varchar(500)`);
      await client.query(`ALTER TABLE public.staff_users DROP COLUMN permissions`);
      await client.query(`DROP TABLE public.event_log`);
    });
  });
  afterAll(() => drifted?.stop());

  it('reports each difference per table, in words', async () => {
    const plan = planSync(await catalogOf(production.dbUrl), await catalogOf(drifted.dbUrl), { schemas: ['public'] });
    expect(entry(plan, 'public.hotels')?.drift).toEqual([{ kind: 'extra-columns', columns: [{ name: 'staging_note', required: false }] }]);
    expect(entry(plan, 'public.muva_content')?.drift).toEqual([
      { kind: 'type-changes', columns: [{ name: 'source_url', production: 'text', staging: 'character varying(500)' }] },
    ]);
    expect(entry(plan, 'public.staff_users')?.drift).toEqual([{ kind: 'missing-columns', columns: ['permissions'] }]);
    expect(entry(plan, 'public.staff_users')?.columns).not.toContain('permissions');
    expect(entry(plan, 'public.event_log')?.drift).toEqual([{ kind: 'missing-table' }]);
    expect(entry(plan, 'public.guest_reservations')?.drift).toEqual([]);
  });
});
