// A table that references itself (an employee's manager, chinook's
// employee.reports_to), copied in part: --with-parents brings the rows a
// selected table names and, up the table's own chain, the rows those name;
// a `where` that leaves out a row others name stops the run before COMMIT
// (or, with --allow-orphans, is named, and verify names it too). Copied
// whole, a self-referencing table holds its own parents.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

// Two references to itself: whom an employee reports to, and their mentor.
const SCHEMA = `
  CREATE TABLE public.employee (id int PRIMARY KEY, reports_to int REFERENCES public.employee, mentor_id int REFERENCES public.employee, name text);
  CREATE TABLE public.customer (id int PRIMARY KEY, support_rep_id int NOT NULL REFERENCES public.employee, name text);`;

// 1 <- 2 <- 3 <- 4 (reports_to); 4's mentor is 10, who reports to 11; 20 reports to 21; no customer's chain names 30 or 31.
const PRODUCTION_ROWS = `
  TRUNCATE public.employee, public.customer;
  INSERT INTO public.employee VALUES (1, NULL, NULL, 'ceo'), (11, NULL, NULL, 'cto'), (21, NULL, NULL, 'cfo'), (31, NULL, NULL, 'coo');
  INSERT INTO public.employee VALUES (2, 1, NULL, 'vp'), (10, 11, NULL, 'mentor'), (20, 21, NULL, 'accountant'), (30, 31, NULL, 'clerk');
  INSERT INTO public.employee VALUES (3, 2, NULL, 'manager'), (4, 3, 10, 'agent');
  INSERT INTO public.customer VALUES (500, 4, 'served by the agent'), (501, 20, 'served by the accountant');`;

const rows = (url: string, table: string) =>
  query<{ row: string }>(url, `SELECT x::text AS row FROM public.${table} x ORDER BY x.id`).then((found) => found.map(({ row }) => row));

describe('a table that references itself, copied in part', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('selfref_prod', { syncTarget: false }), stack.createProject('selfref_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}; NOTIFY pgrst, 'reload schema'`);
    await query(production.adminUrl, PRODUCTION_ROWS);
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('comes with its own chain of parents under --with-parents (via %s)', async (via) => {
    await query(staging.adminUrl, 'TRUNCATE public.employee, public.customer');
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const run = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', 'upsert', '--tables', 'customer', '--with-parents'], {
      env,
      cwd,
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // Every employee either customer names, up both references, and no other.
    const wanted = (await rows(production.adminUrl, 'employee')).filter((row) => !/^\((30|31),/.test(row));
    expect(await rows(staging.adminUrl, 'employee')).toEqual(wanted);
    expect(wanted).toHaveLength(8);
    expect(await rows(staging.adminUrl, 'customer')).toEqual(await rows(production.adminUrl, 'customer'));
  });

  it('says when --with-parents brings no table: no foreign key leads out of the chosen ones', async () => {
    const cwd = emptyDirectory();
    const env = envFor(production, staging);
    const alone = await runScript('sync.ts', ['--dry-run', '--tables', 'employee', '--with-parents'], { env, cwd });
    expect(alone.code, alone.stdout + alone.stderr).toBe(0);
    expect(alone.stdout).toContain('--with-parents brings no table: no foreign key leads from the chosen tables to another.');
    const parents = await runScript('sync.ts', ['--dry-run', '--tables', 'customer', '--with-parents'], { env, cwd });
    expect(parents.code, parents.stdout + parents.stderr).toBe(0);
    expect(parents.stdout).not.toContain('--with-parents brings no table');
  });

  it.each(['postgres', 'rest'] as const)("stops a run whose where leaves out a row the table's own rows name (via %s)", async (via) => {
    await query(staging.adminUrl, 'TRUNCATE public.employee, public.customer');
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { 'public.employee': { where: 'id <> 2' } } }));
    const args = ['--via', via, '--yes', '--no-backup', '--tables', 'employee'];
    const stopped = await runScript('sync.ts', args, { env, cwd });
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(1);
    expect(stopped.stderr).toContain('pointing nowhere');
    expect(stopped.stderr).toMatch(/public\.employee\.reports_to -> public\.employee\.id/);
    expect(stopped.stderr).toMatch(/\d+ rows? of public\.employee \(.*\) finds? no parent: they name e\.g\. \(2\)/);
    if (via === 'postgres') expect(await rows(staging.adminUrl, 'employee')).toEqual([]);

    const allowed = await runScript('sync.ts', [...args, '--allow-orphans'], { env, cwd });
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    expect(allowed.stdout + allowed.stderr).toContain('--allow-orphans: ');
    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--tables', 'employee'], { env, cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(1);
    expect(verify.stdout).toMatch(/public\.employee\.reports_to -> public\.employee\.id/);
  });
});
