// A name given to --tables, --exclude or supasync.config.json's tables that
// is no table supasync copies but another relation of production's (a
// partition, a view, a materialized view, a foreign table) is told as what it
// is, with what to name instead, on both paths (the catalog lists them from
// functions version 20); a foreign table in a synced schema is named in the
// plan as never copied.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCatalogPostgres } from '../lib/catalog/read.ts';
import { connectPostgres } from '../lib/connect/postgres.ts';
import { planSync } from '../lib/plan/plan.ts';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE SCHEMA shop;
  CREATE TABLE shop.orders (id int, region int, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
  CREATE TABLE shop.orders_eu PARTITION OF shop.orders FOR VALUES IN (1) PARTITION BY RANGE (id);
  CREATE TABLE shop.orders_eu_early PARTITION OF shop.orders_eu FOR VALUES FROM (0) TO (1000);
  CREATE VIEW shop.open_orders AS SELECT * FROM shop.orders;
  CREATE MATERIALIZED VIEW shop.order_count AS SELECT count(*) AS n FROM shop.orders;`;

// file_fdw's server and file need a superuser; the foreign table is then postgres's, as an app's would be.
const FOREIGN = `
  CREATE EXTENSION IF NOT EXISTS file_fdw;
  CREATE SERVER IF NOT EXISTS exports FOREIGN DATA WRAPPER file_fdw;
  CREATE FOREIGN TABLE shop.supplier_prices (sku text, price numeric) SERVER exports OPTIONS (filename '/dev/null', format 'csv');
  ALTER FOREIGN TABLE shop.supplier_prices OWNER TO postgres;`;

describe('a name that is no table supasync copies', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('relnames_prod', { syncTarget: false }), stack.createProject('relnames_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}; NOTIFY pgrst, 'reload schema'`);
    await query(production.adminUrl, FOREIGN);
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it('is told as the partition, view, materialized view or foreign table it is, with what to name instead', async () => {
    const client = await connectPostgres('production', production.dbUrl);
    const catalog = await readCatalogPostgres('production', client).finally(() => client.end());
    const plan = (selection: { tables?: string[]; exclude?: string[] }) => () => planSync(catalog, catalog, { schemas: ['shop'], ...selection });
    expect(plan({ tables: ['orders_eu_early'] })).toThrow(
      "--tables orders_eu_early: shop.orders_eu_early is a partition of shop.orders, not a table copied on its own: its rows are copied with shop.orders. Name shop.orders; to copy only its rows, give shop.orders a `where` on its partition key in supasync.config.json's tables.",
    );
    expect(plan({ tables: ['shop.Orders_EU'] })).toThrow('--tables shop.Orders_EU: shop.orders_eu is a partition of shop.orders');
    expect(plan({ tables: ['open_orders'] })).toThrow(
      "--tables open_orders: shop.open_orders is a view, not a table: it holds no rows of its own, and shows staging's",
    );
    expect(plan({ tables: ['order_count'] })).toThrow('--tables order_count: shop.order_count is a materialized view, not a table: staging refreshes its own');
    expect(plan({ tables: ['supplier_prices'] })).toThrow(
      "--tables supplier_prices: shop.supplier_prices is a foreign table: its rows live on the server it reads (postgres_fdw, file_fdw, a wrapper), not in production's database, so supasync does not copy it.",
    );
    // A typo is still a typo.
    expect(plan({ tables: ['open_order'] })).toThrow(/--tables open_order: production has no such table in schemas shop/);
  });

  it.each(['postgres', 'rest'] as const)('is refused before anything is written, and a foreign table is named in the plan (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const excluded = await runScript('sync.ts', ['--via', via, '--yes', '--schemas', 'shop', '--exclude', 'orders_eu'], { env, cwd });
    expect(excluded.code, excluded.stdout + excluded.stderr).toBe(2);
    expect(excluded.stderr).toContain(
      '--exclude orders_eu: shop.orders_eu is a partition of shop.orders, not a table copied on its own: its rows are copied with shop.orders. Name shop.orders; to leave its rows out, give shop.orders a `where`',
    );
    const plan = await runScript('sync.ts', ['--via', via, '--schemas', 'shop', '--dry-run'], { env, cwd });
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toContain('shop.supplier_prices: never copied: it is a foreign table: its rows live on the server it reads');
    expect(plan.stdout).toContain('shop.orders');
    expect(plan.stdout).not.toContain('shop.orders_eu');
  });
});
