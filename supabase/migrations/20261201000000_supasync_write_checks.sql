-- supasync: what the REST path needs where staging's write functions may not
-- SET session_replication_role (functions installed by a role without the
-- permission: a self-hosted PostgREST, or not `postgres` on Supabase).
-- INSTALL IN STAGING ONLY, after *_supasync_write.sql: like those, these
-- functions refuse a database without the sync-target mark, are SECURITY
-- DEFINER (owned by whoever installs them) and EXECUTE is for service_role alone.
--
-- Without the replica role every batch is checked and triggered as it
-- commits, so the load runs in foreign-key order with user triggers disabled
-- around each batch, and a table that references itself loads in two passes:
-- its rows first with the self-referencing columns NULL, then those columns
-- set by key (supasync_set_columns).

-- The enabled user triggers of a table, disabled until this transaction
-- re-enables them: ALTER TABLE is transactional, so a failed batch leaves them
-- on. Only the table's owner may do this; supasync_write_checks() finds the
-- tables where the functions' owner is not, before anything is written.
CREATE OR REPLACE FUNCTION supasync_private.disable_user_triggers(relation regclass)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = ''
AS $disable$
DECLARE
  triggers text[];
  trigger_name text;
BEGIN
  SELECT COALESCE(array_agg(tgname::text ORDER BY tgname), '{}') INTO triggers
    FROM pg_catalog.pg_trigger WHERE tgrelid = relation AND NOT tgisinternal AND tgenabled <> 'D';
  FOREACH trigger_name IN ARRAY triggers LOOP
    EXECUTE pg_catalog.format('ALTER TABLE %s DISABLE TRIGGER %I', relation, trigger_name);
  END LOOP;
  RETURN triggers;
END
$disable$;

CREATE OR REPLACE FUNCTION supasync_private.enable_triggers(relation regclass, triggers text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $enable$
DECLARE
  trigger_name text;
BEGIN
  FOREACH trigger_name IN ARRAY triggers LOOP
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE TRIGGER %I', relation, trigger_name);
  END LOOP;
END
$enable$;

-- Before any REST load writes: who the functions run as, the privileges that
-- role lacks on the tables to load (a replace must not empty what it cannot
-- refill), and, for a load without the replica role, the tables whose enabled
-- user triggers that role cannot disable because it does not own them (on
-- Supabase auth.users belongs to supabase_auth_admin, storage.objects to
-- supabase_storage_admin). Their triggers would fire during the load: a
-- profile trigger on auth.users would make every copied profile twice. Tables
-- staging lacks are skipped; the plan reports them.
--   tables: [{"schema": ..., "name": ...}, ...]
--   -> {"owner": role, "foreign_triggers": [{"table", "owner", "triggers"}, ...],
--       "missing_privileges": [{"schema", "name", "privileges": ["INSERT", ...]}, ...]}
CREATE OR REPLACE FUNCTION public.supasync_write_checks(tables jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $checks$
DECLARE
  foreign_triggers jsonb;
  missing_privileges jsonb;
BEGIN
  PERFORM supasync_private.assert_sync_target();
  -- SELECT too: ON CONFLICT DO UPDATE reads the conflicting row.
  SELECT COALESCE(jsonb_agg(jsonb_build_object('schema', schema_name, 'name', table_name, 'privileges', missing)
                            ORDER BY schema_name, table_name), '[]')
    INTO missing_privileges
    FROM (
      SELECT n.nspname AS schema_name, c.relname AS table_name,
             array_agg(p.privilege ORDER BY p.privilege) FILTER (WHERE NOT pg_catalog.has_table_privilege(c.oid, p.privilege)) AS missing
      FROM jsonb_array_elements(tables) AS wanted
      JOIN pg_catalog.pg_namespace n ON n.nspname = wanted ->> 'schema'
      JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = wanted ->> 'name'
      CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'TRUNCATE']) AS p(privilege)
      GROUP BY 1, 2
    ) found
    WHERE missing IS NOT NULL;
  SELECT COALESCE(jsonb_agg(jsonb_build_object('table', name, 'owner', owner, 'triggers', triggers) ORDER BY name), '[]')
    INTO foreign_triggers
    FROM (
      SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name,
             pg_catalog.pg_get_userbyid(c.relowner) AS owner,
             array_agg(t.tgname::text ORDER BY t.tgname) AS triggers
      FROM jsonb_array_elements(tables) AS wanted
      JOIN pg_catalog.pg_namespace n ON n.nspname = wanted ->> 'schema'
      JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = wanted ->> 'name'
      JOIN pg_catalog.pg_trigger t ON t.tgrelid = c.oid
      -- In a SECURITY DEFINER function the current user is the function's owner.
      WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND NOT pg_catalog.pg_has_role(c.relowner, 'USAGE')
      GROUP BY 1, 2
    ) found;
  RETURN jsonb_build_object('owner', current_user, 'foreign_triggers', foreign_triggers, 'missing_privileges', missing_privileges);
END
$checks$;

-- The second pass of a two-pass load: sets `columns` of the rows matched on
-- `key_columns`. Each row is an array of text values, the key's first, then
-- the columns', cast by staging's own input functions as supasync_write_rows
-- casts them. Rows already equal are not rewritten, so a retried batch is
-- harmless; a key staging lacks matches nothing. User triggers are off as in
-- supasync_write_rows: the replica role where the owner may set it, else
-- disabled around the UPDATE in this transaction. The UPDATE always has a
-- WHERE (pg-safeupdate rejects one without, inside functions too).
CREATE OR REPLACE FUNCTION public.supasync_set_columns(
  table_schema text,
  table_name text,
  key_columns text[],
  columns text[],
  rows jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
SET timezone = 'UTC'
AS $set$
DECLARE
  relation regclass;
  missing text[];
  source_list text;
  key_match text;
  set_list text;
  target_list text;
  source_values text;
  replica boolean;
  triggers text[] := '{}';
  updated bigint;
BEGIN
  PERFORM supasync_private.assert_sync_target();
  relation := pg_catalog.format('%I.%I', table_schema, table_name)::regclass;
  IF COALESCE(cardinality(key_columns), 0) = 0 OR COALESCE(cardinality(columns), 0) = 0 THEN
    RAISE EXCEPTION 'supasync_set_columns: % needs key columns and columns to set', relation
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- Source columns are named v1, v2, ... so no table column name can clash.
  SELECT array_agg(c.name) FILTER (WHERE a.attname IS NULL),
         string_agg(pg_catalog.format('(r ->> %s)::%s AS %I', c.position - 1,
           pg_catalog.format_type(a.atttypid, a.atttypmod), 'v' || c.position), ', ' ORDER BY c.position)
    INTO missing, source_list
    FROM unnest(key_columns || columns) WITH ORDINALITY AS c(name, position)
    LEFT JOIN pg_catalog.pg_attribute a
      ON a.attrelid = relation AND a.attname = c.name AND a.attnum > 0 AND NOT a.attisdropped;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION '% has no column(s) %', relation, missing USING ERRCODE = 'undefined_column';
  END IF;

  SELECT string_agg(pg_catalog.format('target.%I = source.%I', k.name, 'v' || k.position), ' AND ')
    INTO key_match FROM unnest(key_columns) WITH ORDINALITY AS k(name, position);
  SELECT string_agg(pg_catalog.format('%I = source.%I', c.name, 'v' || (cardinality(key_columns) + c.position)), ', ' ORDER BY c.position),
         string_agg(pg_catalog.format('target.%I', c.name), ', ' ORDER BY c.position),
         string_agg(pg_catalog.format('source.%I', 'v' || (cardinality(key_columns) + c.position)), ', ' ORDER BY c.position)
    INTO set_list, target_list, source_values
    FROM unnest(columns) WITH ORDINALITY AS c(name, position);

  replica := supasync_private.try_replica_role();
  IF NOT replica THEN
    triggers := supasync_private.disable_user_triggers(relation);
  END IF;

  -- Compared as text: json has no equality operator.
  EXECUTE pg_catalog.format(
    'UPDATE %s AS target SET %s FROM (SELECT %s FROM jsonb_array_elements($1) AS r) AS source
     WHERE %s AND ROW(%s)::text IS DISTINCT FROM ROW(%s)::text',
    relation, set_list, source_list, key_match, target_list, source_values)
    USING rows;
  GET DIAGNOSTICS updated = ROW_COUNT;

  PERFORM supasync_private.enable_triggers(relation, triggers);
  RETURN jsonb_build_object('updated', updated, 'replica', replica);
END
$set$;

REVOKE ALL ON FUNCTION supasync_private.disable_user_triggers(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.enable_triggers(regclass, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_write_checks(jsonb) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_set_columns(text, text, text[], text[], jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_write_checks(jsonb) TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_set_columns(text, text, text[], text[], jsonb) TO service_role;
