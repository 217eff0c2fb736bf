// What a database holds, table by table, as PostgreSQL itself prints it:
// row count and a hash of every row's text, in a stable order.
import { withClient } from '../../stack/index.ts';

export type Digests = Record<string, { rows: number; md5: string | null }>;

/** What a full sync copies: the app's schemas and Supabase's Auth and Storage rows. */
export const SYNCED_SCHEMAS = ['public', 'analytics', 'auth', 'storage'];
/** Tables of those schemas a schema-wide sync never copies (Supabase's bookkeeping, sign-in state, Storage's work in progress). */
export const NOT_COPIED = [
  'auth.audit_log_entries',
  'auth.custom_oauth_providers',
  'auth.mfa_factors',
  'auth.refresh_tokens',
  'auth.schema_migrations',
  'auth.scim_users',
  'auth.sessions',
  'auth.sso_providers',
  'auth.webauthn_credentials',
  'storage.buckets_analytics',
  'storage.event_log',
  'storage.migrations',
  'storage.s3_multipart_uploads',
  'storage.s3_multipart_uploads_parts',
];

/** Digests of every table a full sync copies. */
export async function syncedDigests(adminUrl: string): Promise<Digests> {
  const digests = await tableDigests(adminUrl, SYNCED_SCHEMAS);
  for (const table of NOT_COPIED) delete digests[table];
  return digests;
}

export async function tableDigests(adminUrl: string, schemas = ['public', 'analytics']): Promise<Digests> {
  return withClient(adminUrl, async (client) => {
    // A table others INHERIT from: its own rows (ONLY); a partitioned one's are its partitions'.
    const { rows: tables } = await client.query<{ name: string; own: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name, CASE c.relkind WHEN 'p' THEN '' ELSE 'ONLY ' END AS own
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
      [schemas],
    );
    const digests: Digests = {};
    for (const { name, own } of tables) {
      const { rows } = await client.query<{ rows: string; md5: string | null }>(
        `SELECT count(*) AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS md5 FROM ${own}${name} t`,
      );
      digests[name] = { rows: Number(rows[0]?.rows), md5: rows[0]?.md5 ?? null };
    }
    return digests;
  });
}

export type SequenceStates = Record<string, { lastValue: string; isCalled: boolean }>;

/**
 * Where every sequence of these schemas stands, read from the sequence itself
 * (pg_sequences hides the value of one not yet called).
 */
export async function sequenceStates(adminUrl: string, schemas = SYNCED_SCHEMAS): Promise<SequenceStates> {
  return withClient(adminUrl, async (client) => {
    const { rows: sequences } = await client.query<{ name: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = ANY($1) AND c.relkind = 'S' ORDER BY 1`,
      [schemas],
    );
    const states: SequenceStates = {};
    for (const { name } of sequences) {
      const { rows } = await client.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM ${name}`);
      states[name] = { lastValue: rows[0]?.last_value as string, isCalled: rows[0]?.is_called as boolean };
    }
    return states;
  });
}

/** Sequences of the synced schemas a full sync sets: all but those of tables it never copies. */
export async function syncedSequences(adminUrl: string): Promise<SequenceStates> {
  const states = await sequenceStates(adminUrl);
  for (const name of ['auth.refresh_tokens_id_seq', 'storage.event_log_id_seq']) delete states[name];
  return states;
}

/** Every index of the synced schemas, partitions included, as PostgreSQL prints it (names and definitions). */
export async function indexDefinitions(adminUrl: string): Promise<string[]> {
  const rows = await query<{ definition: string }>(
    adminUrl,
    `SELECT pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) ORDER BY 1`,
    [SYNCED_SCHEMAS],
  );
  return rows.map((row) => row.definition);
}

export async function query<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return withClient(url, async (client) => (await client.query(sql, params)).rows as T[]);
}

/**
 * Every row of `table` (as SQL names it: `public.x`, `"__proto__"."constructor"`) as its text, sorted by it
 * (or by `orderBy`): a row moved, lost, doubled or changed in any column shows.
 */
export async function rowTexts(url: string, table: string, orderBy = '1'): Promise<string[]> {
  return (await query<{ row: string }>(url, `SELECT x::text AS row FROM ${table} x ORDER BY ${orderBy}`)).map((r) => r.row);
}

/** A database as it is before anyone installs supasync: none of its functions, no mark, no private schema. */
export async function removeSupasync(adminUrl: string): Promise<void> {
  await query(
    adminUrl,
    `
    DO $$ DECLARE f regprocedure; BEGIN
      FOR f IN SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = 'public' AND p.proname LIKE 'supasync\\_%' LOOP
        EXECUTE 'DROP FUNCTION ' || f;
      END LOOP;
    END $$;
    DROP SCHEMA IF EXISTS supasync_private CASCADE;
    NOTIFY pgrst, 'reload schema';`,
  );
}
