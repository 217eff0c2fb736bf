// What happened in production between two deploys, for the re-sync
// benchmark (bench/resync.ts): a deterministic SQL script that changes about
// 1% of the rows of a filled production (stack/fixture/generate.ts) by
// updates, inserts and deletes spread over many tables, some with an
// updated_at (hotels, profiles, storage.objects, stamped by their triggers)
// and most without. It runs as the admin with the triggers as they are, as
// the app's own writes would: a new Auth user gets its profile from
// on_auth_user_created, a new chat message its audit_events row.
//
// Which rows: those first in the order of md5(key || salt), so the same fill
// always gets the same script. Deletes take only rows nothing references
// (the foreign keys pointing at the table are read from the catalog), so no
// cascade or SET NULL reaches further; rows inserted point at rows that
// exist. Tables without a key (public.event_log) are left alone: a re-sync
// compares by key. The counts scale with the table, at least one of each
// kind a table takes.
import { withClient } from '../stack/index.ts';

/** The share of the dataset's rows the script changes. */
export const CHANGED_SHARE = 0.01;

/** What the script may do to one table. */
interface TableChanges {
  table: string;
  /** The key's columns, for picking rows. */
  key: string[];
  /** SET list of an update of the picked rows. */
  update?: string;
  /** INSERT ... SELECT of `n` new rows, `i` from 1 to n (generate_series(1, n) i). */
  insert?: (n: number) => string;
  /** Deletes `n` rows nothing references. */
  delete?: boolean;
  /** Extra statements, given the table's changes (e.g. rows moved across partitions). */
  extra?: (counts: KindCounts) => string[];
}

export interface KindCounts {
  update: number;
  insert: number;
  delete: number;
}

/**
 * What a new row points at: the join that gives generate_series's row `i`
 * one of `parent`'s existing rows as `p.id`, the `index`-th by id modulo
 * their count (one scan of the parent, not one per row).
 */
const parentJoin = (parent: string, index: string) =>
  `JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM ${parent}) p ON p.k = (${index}) % (SELECT greatest(1, count(*)) FROM ${parent})`;

/** `n` reals in [-1, 1), deterministic per (row, salt), like the fixture's embeddings. */
const vector = (n: number, row: string, salt: number) =>
  `ARRAY(SELECT (hashint4((${salt} + (${row}) * ${n} + j)::int)::float8 / 2147483648)::real FROM generate_series(1, ${n}) j ORDER BY j)`;

const T1 = `timestamptz '2027-01-01 00:00:00+00'`;

const CHANGES: TableChanges[] = [
  {
    table: 'public.hotels',
    key: ['id'],
    // hotels_touch_updated_at stamps updated_at = now() on both.
    update: `name = name || ' (renovado)', stars = (1 + stars % 5)::smallint`,
    insert: (n) => `INSERT INTO public.hotels (id, name, city, stars, created_at)
      SELECT md5('hotel-after' || i)::uuid, 'Hotel nuevo ' || i, 'Providencia', 4, ${T1} + i * interval '1 hour' FROM generate_series(1, ${n}) i`,
    delete: true,
  },
  {
    table: 'auth.users',
    key: ['id'],
    update: `raw_user_meta_data = coalesce(raw_user_meta_data, '{}') || '{"plan": "pro"}', last_sign_in_at = ${T1}, updated_at = ${T1}`,
    // on_auth_user_created gives each its profile (updated_at = now()).
    insert: (n) => `INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, raw_app_meta_data, raw_user_meta_data,
        created_at, updated_at, is_sso_user, is_anonymous)
      SELECT '00000000-0000-0000-0000-000000000000', md5('user-after' || i)::uuid, 'authenticated', 'authenticated',
             'after' || i || '@example.com', '', '{"provider": "email", "providers": ["email"]}',
             jsonb_build_object('full_name', 'Nueva ' || i, 'avatar_url', 'https://cdn.example/n/' || i || '.png'),
             ${T1} + i * interval '1 minute', ${T1} + i * interval '1 minute', false, false
      FROM generate_series(1, ${n}) i`,
  },
  {
    table: 'public.profiles',
    key: ['id'],
    update: `full_name = coalesce(full_name, '') || ' (editado)', updated_at = ${T1}`,
    delete: true,
  },
  {
    table: 'public.guest_reservations',
    key: ['id'],
    update: `status = 'cancelled', total_price = total_price + 1`,
    insert: (
      n,
    ) => `INSERT INTO public.guest_reservations (id, accommodation_unit_id, guest_name, guest_email, check_in, check_out, total_price, status, created_at)
      SELECT md5('reservation-after' || i)::uuid, p.id, 'Huésped ' || i, 'after' || i || '@example.com',
             date '2026-06-01' + i % 200, date '2026-06-03' + i % 200, 100 + i, 'pending', ${T1} + i * interval '1 minute'
      FROM generate_series(1, ${n}) i ${parentJoin('public.accommodation_units', 'i')}`,
    delete: true,
  },
  {
    table: 'public.chat_messages',
    key: ['id'],
    update: `content = coalesce(content, '') || ' (editado)'`,
    // Replies to existing messages; chat_messages_audit adds an audit_events row for each.
    insert: (n) => `INSERT INTO public.chat_messages (id, conversation_id, parent_message_id, role, content, created_at)
      SELECT md5('message-after' || k)::uuid, conversation_id, id, 'user', 'Mensaje nuevo ' || k, ${T1} + k * interval '1 second'
      FROM (SELECT id, conversation_id, row_number() OVER (ORDER BY md5(id::text || 'reply')) AS k FROM public.chat_messages) m
      WHERE k <= ${n}`,
    delete: true,
  },
  {
    table: 'public.unit_daily_rates',
    key: ['accommodation_unit_id', 'rate_date'],
    update: 'price = price + 10',
    // The days after the last one with a rate.
    insert: (n) => `INSERT INTO public.unit_daily_rates (accommodation_unit_id, rate_date, price)
      SELECT p.id, (SELECT max(rate_date) FROM public.unit_daily_rates) + 1 + (i - 1) / (SELECT greatest(1, count(*)) FROM public.accommodation_units)::int,
             150 + i % 100
      FROM generate_series(1, ${n}) i ${parentJoin('public.accommodation_units', 'i - 1')}`,
    delete: true,
  },
  {
    table: 'analytics.page_views',
    key: ['id'],
    update: `path = path || '?ref=after'`,
    // Ids from the identity's sequence, as the app inserts them.
    insert: (n) => `INSERT INTO analytics.page_views (hotel_id, path, viewed_at)
      SELECT p.id, '/hotels/after/' || i, ${T1} + i * interval '7 seconds' FROM generate_series(1, ${n}) i ${parentJoin('public.hotels', 'i')}`,
    delete: true,
  },
  {
    table: 'public.booking_events',
    key: ['id', 'occurred_on'],
    update: `kind = 'refunded', payload = payload || '{"refunded": true}'`,
    insert: (n) => `INSERT INTO public.booking_events (id, occurred_on, hotel_id, kind, payload)
      SELECT (SELECT max(id) FROM public.booking_events) + i, date '2025-01-01' + (i * 37) % 730, p.id, 'created',
             jsonb_build_object('seq', i, 'after', true)
      FROM generate_series(1, ${n}) i ${parentJoin('public.hotels', 'i')}`,
    delete: true,
    // A few events rebooked a year later: their key changes and they move to the 2026 partition.
    extra: ({ update }) => [
      `UPDATE public.booking_events SET occurred_on = occurred_on + 365 WHERE (id, occurred_on) IN (
         SELECT id, occurred_on FROM public.booking_events WHERE occurred_on < date '2026-01-01' AND kind <> 'refunded'
         ORDER BY md5(id::text || 'move') LIMIT ${Math.max(1, Math.round(update / 10))})`,
    ],
  },
  {
    table: 'public.code_embeddings',
    key: ['id'],
    // A file edited: its chunk embedded again.
    update: `content = content || '// edited' || chr(10), embedding = ${vector(1536, 'id', 7_000_000)}`,
    insert: (n) => `INSERT INTO public.code_embeddings (file_path, chunk_index, content, embedding, metadata)
      SELECT 'src/after/module_' || i || '.ts', 0, repeat('export const after' || i || ' = ' || i || ';' || chr(10), 1 + i % 20),
             ${vector(1536, 'i', 9_000_000)}, jsonb_build_object('language', 'typescript', 'after', true)
      FROM generate_series(1, ${n}) i`,
    delete: true,
  },
  {
    table: 'public.booking_notes',
    key: ['id'],
    update: `note = coalesce(note, '') || ' (actualizada)'`,
    insert: (n) => `INSERT INTO public.booking_notes (reservation_id, note)
      SELECT p.id, 'Nota nueva ' || i FROM generate_series(1, ${n}) i ${parentJoin('public.guest_reservations', 'i * 7')}`,
    delete: true,
  },
  {
    table: 'storage.objects',
    key: ['id'],
    // update_objects_updated_at stamps updated_at = now().
    update: `metadata = metadata || '{"cacheControl": "no-cache"}', last_accessed_at = ${T1}`,
    insert: (n) => `INSERT INTO storage.objects (id, bucket_id, name, owner, created_at, updated_at, last_accessed_at, metadata, version)
      SELECT md5('object-after' || i)::uuid, 'exports', 'exports/2027/after-' || i || '.csv', NULL, ${T1}, ${T1}, ${T1},
             jsonb_build_object('size', i, 'mimetype', 'text/csv'), md5('version-after' || i)
      FROM generate_series(1, ${n}) i`,
    delete: true,
  },
  {
    // No primary key: its unique key, NOT NULL, is the key.
    table: 'public.feature_flags',
    key: ['flag_key'],
    update: `enabled = NOT coalesce(enabled, false), rollout = 0.5`,
    insert: (n) => `INSERT INTO public.feature_flags (flag_key, enabled, rollout) SELECT 'after_' || i, true, 1 FROM generate_series(1, ${n}) i`,
    delete: true,
  },
  {
    table: 'public.type_zoo',
    key: ['id'],
    update: `note = coalesce(note, '') || ' ✎', j = coalesce(j, '{}') || '{"after": [1, 2.50, null]}'`,
  },
];

/** How many of each kind a table of `rows` rows gets, `share` of its rows in all. */
function countsFor(spec: TableChanges, rows: number, share: number): KindCounts {
  const total = Math.max(3, Math.round(rows * share));
  const update = spec.update ? Math.max(1, Math.round(total * 0.6)) : 0;
  const insert = spec.insert ? Math.max(1, Math.round(total * 0.25)) : 0;
  const remove = spec.delete ? Math.max(1, total - update - insert) : 0;
  // A table that takes one kind only gets all of it.
  if (!spec.insert && !spec.delete) return { update: total, insert: 0, delete: 0 };
  return { update, insert, delete: remove };
}

/** The condition on `alias`'s rows: no row of any table references it (foreign keys from the catalog, the table's own included). */
async function unreferencedCondition(url: string, table: string, alias: string): Promise<string> {
  const { rows } = await withClient(url, (client) =>
    client.query<{ child: string; columns: string[]; referenced: string[] }>(
      `SELECT c.conrelid::regclass::text AS child,
              ARRAY(SELECT quote_ident(a.attname) FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS columns,
              ARRAY(SELECT quote_ident(a.attname) FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS referenced
         FROM pg_constraint c
        WHERE c.contype = 'f' AND c.conparentid = 0 AND c.confrelid = $1::regclass
        ORDER BY 1, 2`,
      [table],
    ),
  );
  const conditions = rows.map(
    ({ child, columns, referenced }) =>
      `NOT EXISTS (SELECT FROM ${child} r WHERE ${columns.map((column, n) => `r.${column} = ${alias}.${referenced[n] ?? ''}`).join(' AND ')})`,
  );
  return conditions.length ? conditions.join(' AND ') : 'true';
}

export interface ChangeScript {
  statements: string[];
}

/**
 * The script for a production filled with the fixture, from its row counts
 * per "schema.table" (`rowsPerTable`, all copied tables: the share is of
 * their total). Deletes first (rows nothing references then), updates, then
 * inserts (which point at rows that exist after the deletes).
 */
export async function changeScript(url: string, rowsPerTable: Map<string, number>, share = CHANGED_SHARE): Promise<ChangeScript> {
  const total = [...rowsPerTable.values()].reduce((a, b) => a + b, 0);
  const specs = CHANGES.filter((spec) => (rowsPerTable.get(spec.table) ?? 0) > 0);
  const inChanged = specs.reduce((sum, spec) => sum + (rowsPerTable.get(spec.table) ?? 0), 0);
  // Spread over the tables that change, so that the whole dataset changes by `share`.
  const perTable = inChanged ? (share * total) / inChanged : 0;
  const deletes: string[] = [];
  const updates: string[] = [];
  const inserts: string[] = [];
  for (const spec of specs) {
    const counts = countsFor(spec, rowsPerTable.get(spec.table) ?? 0, perTable);
    const key = spec.key.join(', ');
    const keyText = `ROW(${spec.key.map((column) => `t.${column}`).join(', ')})::text`;
    const pick = (n: number, salt: string, where = 'true') =>
      `(${key}) IN (SELECT ${key} FROM ${spec.table} t WHERE ${where} ORDER BY md5(${keyText} || '${salt}') LIMIT ${n})`;
    if (counts.delete) deletes.push(`DELETE FROM ${spec.table} WHERE ${pick(counts.delete, 'delete', await unreferencedCondition(url, spec.table, 't'))}`);
    if (spec.update && counts.update) updates.push(`UPDATE ${spec.table} SET ${spec.update} WHERE ${pick(counts.update, 'update')}`);
    if (spec.extra) updates.push(...spec.extra(counts));
    if (spec.insert && counts.insert) inserts.push(spec.insert(counts.insert));
  }
  return { statements: [...deletes, ...updates, ...inserts] };
}

/** Runs the script in one transaction as the admin (triggers as they are); returns each statement's row count. */
export async function applyChanges(adminUrl: string, script: ChangeScript): Promise<number[]> {
  return withClient(adminUrl, async (client) => {
    await client.query('BEGIN');
    try {
      const counts: number[] = [];
      for (const statement of script.statements) counts.push((await client.query(statement)).rowCount ?? 0);
      await client.query('COMMIT');
      await client.query('ANALYZE');
      return counts;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}
