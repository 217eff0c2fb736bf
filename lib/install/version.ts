// Which version of supasync's functions a database holds, and which this
// checkout installs: the number supasync_version() returns, read from the
// migration itself so the two cannot disagree.
import type pg from 'pg';
import { readMigration } from '../sql/migrations.ts';

/** This checkout's functions. */
export function functionsVersion(): number {
  const { file, sql } = readMigration('_supasync_read');
  const version = /\$version\$\s*SELECT\s+(\d+)\s*\$version\$/.exec(sql)?.[1];
  if (!version) throw new Error(`${file} defines no supasync_version()`);
  return Number(version);
}

/** none: no supasync function there; 0: functions from before versions were recorded. */
export type InstalledVersion = { kind: 'none' } | { kind: 'installed'; version: number };

export async function installedVersion(client: pg.ClientBase): Promise<InstalledVersion> {
  const { rows } = await client.query<{ versioned: boolean; any: boolean }>(
    `SELECT pg_catalog.to_regprocedure('public.supasync_version()') IS NOT NULL AS versioned,
            EXISTS (SELECT FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = 'public' AND p.proname LIKE 'supasync\\_%') AS any`,
  );
  if (rows[0]?.versioned) {
    const { rows: version } = await client.query<{ version: number }>('SELECT public.supasync_version() AS version');
    return { kind: 'installed', version: Number(version[0]?.version) };
  }
  return rows[0]?.any ? { kind: 'installed', version: 0 } : { kind: 'none' };
}
