// A foreign key added NOT VALID (as one is added to a large table): the
// rows older than it are never checked, and production's may name parents
// long deleted. A copy takes them as they are, so the checks that guard a
// run must not call production's own orphans the run's doing: the check
// after the load skips such a key, verify counts only orphans beyond
// production's, and a targeted sync does not ask staging for a parent
// production lacks too. Where staging's role may not take the replica role,
// the key is dropped for the load and added back NOT VALID, as a check is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE TABLE public.nv_customers (id int PRIMARY KEY, name text);
  CREATE TABLE public.nv_orders (id int PRIMARY KEY, customer_id int, total numeric);
  ALTER TABLE public.nv_orders ADD CONSTRAINT nv_orders_customer_fk FOREIGN KEY (customer_id) REFERENCES public.nv_customers NOT VALID;`;
const KEY = `SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conname = 'nv_orders_customer_fk'`;
const NOT_VALID = [{ definition: 'FOREIGN KEY (customer_id) REFERENCES nv_customers(id) NOT VALID' }];

/** Both tables' rows as text, in one order. */
const contents = async (url: string) =>
  Object.fromEntries(await Promise.all(['nv_customers', 'nv_orders'].map(async (table) => [table, await rowTexts(url, `public.${table}`)])));

describe('a foreign key added NOT VALID, whose older rows name no parent', () => {
  let production: Project;
  let staging: Project;
  let unprivileged: Project;
  beforeAll(async () => {
    [production, staging, unprivileged] = await Promise.all([
      stack.createProject('not_valid_prod', { syncTarget: false }),
      stack.createProject('not_valid_staging'),
      stack.createProject('not_valid_unprivileged', { owner: 'not_valid_owner' }),
    ]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}; NOTIFY pgrst, 'reload schema'`);
    await query(unprivileged.adminUrl, `SET ROLE not_valid_owner; ${SCHEMA}; NOTIFY pgrst, 'reload schema'`);
    // Orders of customers 11 and 12, deleted before the key arrived.
    await query(
      production.adminUrl,
      `ALTER TABLE public.nv_orders DROP CONSTRAINT nv_orders_customer_fk;
       INSERT INTO public.nv_customers SELECT i, 'customer ' || i FROM generate_series(1, 10) i;
       INSERT INTO public.nv_orders SELECT i, 1 + i % 12, i FROM generate_series(1, 30) i;
       ALTER TABLE public.nv_orders ADD CONSTRAINT nv_orders_customer_fk FOREIGN KEY (customer_id) REFERENCES public.nv_customers NOT VALID;`,
    );
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop(), unprivileged?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('is copied with its orphans and verified equal, an orphan beyond production’s still found (via %s)', async (via) => {
    await query(staging.adminUrl, `TRUNCATE public.nv_customers, public.nv_orders`);
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const tables = ['--tables', 'nv_customers,nv_orders'];

    const sync = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', ...tables], { env, cwd });
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));
    expect(await query(staging.adminUrl, KEY)).toEqual(NOT_VALID);
    const verify = await runScript('verify-sync-status.ts', ['--via', via, ...tables], { env, cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).not.toContain('no parent');

    // An order of staging's own naming no customer, written past the key: one more than production has.
    await query(staging.adminUrl, `SET session_replication_role = replica; INSERT INTO public.nv_orders VALUES (99, 99, 1)`);
    const differs = await runScript('verify-sync-status.ts', ['--via', via, ...tables], { env, cwd });
    expect(differs.code).toBe(1);
    expect(differs.stdout).toMatch(
      /rows? of public\.nv_orders \(public\.nv_orders\.customer_id -> public\.nv_customers\.id, nv_orders_customer_fk\) finds? no parent/,
    );
  });

  it.each(['postgres', 'rest'] as const)('copies the orders alone, asking staging only for the customers production has (via %s)', async (via) => {
    await query(
      staging.adminUrl,
      `TRUNCATE public.nv_customers, public.nv_orders; INSERT INTO public.nv_customers SELECT i, 'staging' FROM generate_series(1, 9) i`,
    );
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const sync = () => runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'nv_orders'], { env, cwd });

    const refused = await sync();
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stderr).toContain('2 rows of public.nv_orders reference 1 public.nv_customers row missing from staging');
    expect(refused.stderr).toContain('e.g. (10)');

    await query(staging.adminUrl, `INSERT INTO public.nv_customers VALUES (10, 'staging')`);
    const copied = await sync();
    expect(copied.code, copied.stdout + copied.stderr).toBe(0);
    expect((await contents(staging.adminUrl)).nv_orders).toEqual((await contents(production.adminUrl)).nv_orders);
  });

  it.each(['postgres', 'rest'] as const)(
    'is dropped for the load and added back NOT VALID where staging may not take the replica role (via %s)',
    async (via) => {
      await query(unprivileged.adminUrl, `TRUNCATE public.nv_customers, public.nv_orders`);
      const env = envFor(production, unprivileged);
      const sync = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'nv_customers,nv_orders'], { env, cwd: emptyDirectory() });
      expect(sync.code, sync.stdout + sync.stderr).toBe(0);
      expect(await contents(unprivileged.adminUrl)).toEqual(await contents(production.adminUrl));
      expect(await query(unprivileged.adminUrl, KEY)).toEqual(NOT_VALID);
    },
  );
});
