// Names that are also the names of JavaScript's Object.prototype: a schema
// "__proto__", tables "constructor" and "toString", columns named so. Looked
// up in a plain object, "__proto__" finds the prototype and "constructor"
// the Object function: the schema was refused as "never synced: it [object
// Object]", and a table named so took options the config never gave it.
// Every lookup by a name from the database or the command line takes own
// keys only.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, rowTexts } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE SCHEMA "__proto__";
  CREATE TABLE "__proto__"."constructor" (id int PRIMARY KEY, "__proto__" text, "constructor" text, "toString" int, "valueOf" jsonb);
  CREATE TABLE public."toString" (id int PRIMARY KEY, ref int REFERENCES "__proto__"."constructor", "hasOwnProperty" boolean);`;

/** Both tables' rows as text, in one order. */
const contents = (url: string) => Promise.all(['"__proto__"."constructor"', 'public."toString"'].map((table) => rowTexts(url, table)));

describe('names JavaScript objects already hold', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('proto_names_prod', { syncTarget: false }), stack.createProject('proto_names_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}; NOTIFY pgrst, 'reload schema'`);
    await query(
      production.adminUrl,
      `INSERT INTO "__proto__"."constructor"
       SELECT i, 'p' || i, 'c' || i, i, jsonb_build_object('__proto__', jsonb_build_object('polluted', true), 'constructor', i) FROM generate_series(1, 40) i;
       INSERT INTO public."toString" SELECT i, i, i % 2 = 0 FROM generate_series(1, 40) i;`,
    );
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('are synced, re-synced and verified like any other (via %s)', async (via) => {
    await query(staging.adminUrl, `TRUNCATE "__proto__"."constructor", public."toString"`);
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    // A config with options for another table and for "__proto__"."constructor" (its key resolved to the table it names):
    // "toString" must take none of Object.prototype's.
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { hotels: { batchSize: 5 }, '__proto__.constructor': { batchSize: 7 } } }));
    const schemas = ['--schemas', '__proto__,public', '--tables', '__proto__.constructor,toString'];

    const sync = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', ...schemas], { env, cwd });
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));

    await query(staging.adminUrl, `UPDATE "__proto__"."constructor" SET "constructor" = 'drifted' WHERE id = 7`);
    const mirror = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--mode', 'mirror', ...schemas], { env, cwd });
    expect(mirror.code, mirror.stdout + mirror.stderr).toBe(0);
    expect(await contents(staging.adminUrl)).toEqual(await contents(production.adminUrl));

    const verify = await runScript('verify-sync-status.ts', ['--via', via, ...schemas], { env, cwd });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('answers --group constructor as a group that does not exist', async () => {
    const result = await runScript('sync.ts', ['--group', 'constructor', '--dry-run'], { env: envFor(production, staging), cwd: emptyDirectory() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--group constructor: no such group.');
  });
});
