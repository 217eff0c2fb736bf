import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCatalogPostgres } from '../lib/catalog/read.ts';
import { qualifiedName, type Catalog } from '../lib/catalog/types.ts';
import { connectPostgres } from '../lib/connect/postgres.ts';
import { planSync, type SyncPlan } from '../lib/plan/plan.ts';
import { emptiedAlongside } from '../lib/plan/supabase.ts';
import { withClient, type Project } from '../stack/index.ts';
import { SYNCED_SCHEMAS } from './helpers/content.ts';
import { sharedStack } from './setup/stack.ts';

const { production, staging, stack } = sharedStack();

async function catalogOf(dbUrl: string): Promise<Catalog> {
  const client = await connectPostgres('staging', dbUrl);
  try {
    return await readCatalogPostgres('staging', client);
  } finally {
    await client.end();
  }
}

const position = (plan: SyncPlan, name: string) => plan.tables.findIndex((t) => qualifiedName(t.table) === name);
const entry = (plan: SyncPlan, name: string) => plan.tables.find((t) => qualifiedName(t.table) === name);

describe("planning a full sync of public, analytics and Supabase's auth and storage", () => {
  let plan: SyncPlan;
  beforeAll(async () => {
    plan = planSync(await catalogOf(production.dbUrl), await catalogOf(staging.dbUrl), {
      schemas: SYNCED_SCHEMAS,
    });
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
    expect(plan.selfReferences.map((s) => `${qualifiedName(s.table)}.${s.foreignKey.columns.join()}`)).toEqual([
      'public.chat_messages.parent_message_id',
    ]);
    expect(plan.cycles.map((cycle) => cycle.tables.map(qualifiedName))).toEqual([['public.departments', 'public.employees']]);
    expect(plan.cycles[0]?.foreignKeys.map((f) => `${f.table.name}.${f.foreignKey.columns.join()}`).sort()).toEqual([
      'departments.head_employee_id',
      'employees.department_id',
    ]);
    expect(entry(plan, 'public.departments')?.level).toBe(entry(plan, 'public.employees')?.level);
    expect(entry(plan, 'public.chat_messages')?.loadedTogether).toBe('self-reference');
    expect(entry(plan, 'public.employees')?.loadedTogether).toBe('cycle');
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

  it("leaves out Supabase's migration records and sign-in state, saying why", () => {
    expect(plan.leftOut.map((t) => [qualifiedName(t.table), t.onRequest])).toEqual([
      ['auth.audit_log_entries', true],
      ['auth.mfa_factors', true],
      ['auth.refresh_tokens', true],
      ['auth.schema_migrations', false],
      ['auth.sessions', true],
      ['storage.migrations', false],
    ]);
    expect(plan.leftOut.find((t) => t.table.name === 'schema_migrations')?.reason).toContain("Auth's (GoTrue's) record of the migrations");
    for (const { table } of plan.leftOut) expect(entry(plan, qualifiedName(table)), qualifiedName(table)).toBeUndefined();
  });

  it("empties, when it replaces the users, the staging sign-in state that references them, and only then", () => {
    expect(emptiedAlongside(plan, 'replace').map(qualifiedName).sort()).toEqual(['auth.mfa_factors', 'auth.refresh_tokens', 'auth.sessions']);
    expect(emptiedAlongside(plan, 'upsert')).toEqual([]);
  });
});

describe("planning a sync that names Supabase's tables", () => {
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

  it('refuses a table that does not exist, suggesting the near ones', async () => {
    const catalog = await catalogOf(production.dbUrl);
    expect(() => planSync(catalog, catalog, { schemas: ['public'], tables: ['chat_message'] })).toThrow(
      /--tables chat_message: production has no such table.*public\.chat_messages/,
    );
  });

  it('refuses a schema without a production table, suggesting the one meant, and a selection that leaves nothing', async () => {
    const catalog = await catalogOf(production.dbUrl);
    expect(() => planSync(catalog, catalog, { schemas: ['pubic'] })).toThrow(/Schema "pubic" .* has no table in production\. Did you mean "public"\?/);
    expect(() => planSync(catalog, catalog, { schemas: ['nowhere_near'] })).toThrow(/Its schemas with tables: analytics, auth, public, storage/);
    expect(() => planSync(catalog, catalog, { schemas: ['analytics'], exclude: ['page_views'] })).toThrow(/Nothing to copy/);
  });

  it('refuses schemas Supabase manages, saying why', async () => {
    const catalog = await catalogOf(production.dbUrl);
    expect(() => planSync(catalog, catalog, { schemas: ['public', 'vault'] })).toThrow(/"vault" is never synced: it holds secrets/);
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
