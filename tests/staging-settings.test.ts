// What a value's text means depends on the session's settings: DateStyle,
// IntervalStyle, TimeZone, extra_float_digits, bytea_output, xmloption,
// lc_monetary, array_nulls (off, an array's NULL element reads back as the
// string 'NULL'), quote_all_identifiers (on, the catalog names a type
// "public"."probe_label" and it reads as drift). A staging database whose defaults differ from production's
// (a DMY DateStyle, xmloption DOCUMENT, which refuses the xml fragments
// production holds) must still receive every value exactly, on both paths:
// supasync pins the settings wherever values travel as text
// (supasync_private.pin_text_settings).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE DOMAIN public.probe_label AS text;
  CREATE TABLE public.settings_probe (
    id int PRIMARY KEY, fragment xml, document xml, cash money, at timestamptz, day date, span interval,
    blob bytea, ratio float8, note text, tags text[], counts int[], labels public.probe_label[]);`;

const STAGING_DEFAULTS = [
  'xmloption = document',
  `DateStyle = 'SQL, DMY'`,
  `IntervalStyle = 'sql_standard'`,
  `TimeZone = 'Asia/Tokyo'`,
  'bytea_output = escape',
  'extra_float_digits = 0',
  'array_nulls = off',
  'quote_all_identifiers = on',
];

/** Every row as text under one fixed set of settings: equal text, equal values. */
const rows = (url: string) =>
  query<{ row: string }>(
    url,
    `SET DateStyle = 'ISO, YMD'; SET IntervalStyle = postgres; SET TimeZone = 'UTC'; SET extra_float_digits = 3; SET bytea_output = hex;
     SELECT x::text AS row FROM public.settings_probe x ORDER BY id`,
  );

describe('a staging whose text settings differ from production', () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('settings_prod', { syncTarget: false }), stack.createProject('settings_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}`);
    await query(
      production.adminUrl,
      `INSERT INTO public.settings_probe
       SELECT i, ('text &amp; <b>' || i || '</b> tail')::xml, ('<?xml version="1.0"?><doc n="' || i || '"/>')::xml, i * 1234.56,
              '2025-03-04 05:06:07.891234+00'::timestamptz + i * interval '1 day', '2025-01-02'::date + i,
              make_interval(days => i, secs => i * 1.5), decode('00ff' || lpad(to_hex(i), 4, '0'), 'hex'), 1.0 / (i + 2), 'row ' || i,
              ARRAY[NULL, 'tag ' || i], ARRAY[i, NULL], ARRAY[NULL, 'NULL', 'label ' || i]::public.probe_label[]
       FROM generate_series(1, 40) i`,
    );
    const settings = STAGING_DEFAULTS.map((setting) => `ALTER DATABASE ${staging.name} SET ${setting};`).join('\n');
    // PostgREST's open connections keep the old defaults: end them, so its next ones start with these.
    await query(
      staging.adminUrl,
      `${settings}
       SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('receives every value exactly, in a replace and a mirror (via %s)', async (via) => {
    const env = envFor(production, staging);
    await query(staging.adminUrl, 'TRUNCATE public.settings_probe');
    const replace = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'settings_probe'], { env });
    expect(replace.code, replace.stderr).toBe(0);
    expect(await rows(staging.adminUrl)).toEqual(await rows(production.adminUrl));

    await query(staging.adminUrl, `UPDATE public.settings_probe SET note = 'stale' WHERE id % 4 = 0; DELETE FROM public.settings_probe WHERE id % 9 = 0`);
    const mirror = await runScript('sync.ts', ['--via', via, '--mode', 'mirror', '--yes', '--no-backup', '--tables', 'settings_probe'], { env });
    expect(mirror.code, mirror.stderr).toBe(0);
    expect(await rows(staging.adminUrl)).toEqual(await rows(production.adminUrl));

    const verify = await runScript('verify-sync-status.ts', ['--via', via, '--tables', 'settings_probe'], { env });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('1 of 1 tables Perfect');
  });
});
