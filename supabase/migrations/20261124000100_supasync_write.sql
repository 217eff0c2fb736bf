-- supasync: the functions the REST path writes staging with.
-- INSTALL IN STAGING ONLY, after *_supasync_target_mark.sql, then mark staging
-- as a sync target (`npx tsx scripts/install-rpcs.ts --staging` does all of
-- it). Every function here refuses to run in a database without that mark, so
-- installing this file in production by mistake cannot let a sync write there.
--
-- They are SECURITY DEFINER, owned by whoever installs them (on Supabase:
-- `postgres`, the tables' owner), because service_role may neither TRUNCATE
-- nor set session_replication_role. EXECUTE is for service_role alone.

-- Triggers and FK checks off for this transaction when the owner may (on
-- Supabase it may, through supautils; set_config() and a function-level SET
-- clause for this setting are refused there, a SET LOCAL statement is not).
-- Returns whether it could.
CREATE OR REPLACE FUNCTION supasync_private.try_replica_role()
RETURNS boolean
LANGUAGE plpgsql
SET search_path = ''
AS $replica$
BEGIN
  SET LOCAL session_replication_role = replica;
  RETURN true;
EXCEPTION WHEN insufficient_privilege THEN
  RETURN false;
END
$replica$;

-- Before a run: is this a sync target, and may the load switch triggers and
-- FK checks off? (Raises when not a sync target.)
CREATE OR REPLACE FUNCTION public.supasync_can_disable_checks()
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $check$
BEGIN
  PERFORM supasync_private.assert_sync_target();
  RETURN supasync_private.try_replica_role();
END
$check$;

-- Empties the tables of a replace sync, all in one statement: TRUNCATE
-- refuses when a table outside the list references one of them.
CREATE OR REPLACE FUNCTION public.supasync_truncate(tables jsonb)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $truncate$
DECLARE
  list text;
BEGIN
  PERFORM supasync_private.assert_sync_target();
  SELECT string_agg(pg_catalog.format('%I.%I', t ->> 'schema', t ->> 'name'), ', ')
    INTO list FROM jsonb_array_elements(tables) AS t;
  IF list IS NOT NULL THEN
    EXECUTE 'TRUNCATE ' || list;
  END IF;
END
$truncate$;

-- Writes one batch: rows are arrays of text values in `columns` order, cast
-- by staging's own input functions. With a key, an upsert that leaves equal
-- rows alone (so a retried batch is harmless); without one, plain inserts.
-- Identity ALWAYS values are kept (OVERRIDING SYSTEM VALUE). Where the
-- replica role is refused, the table's enabled user triggers are disabled
-- around the insert instead, in this same transaction.
CREATE OR REPLACE FUNCTION public.supasync_write_rows(
  table_schema text,
  table_name text,
  columns text[],
  key_columns text[],
  rows jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
SET timezone = 'UTC'
AS $write$
DECLARE
  relation regclass := pg_catalog.format('%I.%I', table_schema, table_name)::regclass;
  replica boolean;
  missing text[];
  column_list text;
  value_list text;
  has_always_identity boolean;
  conflict text := '';
  triggers text[] := '{}';
  trigger_name text;
  written bigint;
BEGIN
  PERFORM supasync_private.assert_sync_target();

  SELECT array_agg(c.name) FILTER (WHERE a.attname IS NULL),
         string_agg(pg_catalog.format('%I', c.name), ', ' ORDER BY c.position),
         string_agg(pg_catalog.format('(r ->> %s)::%s', c.position - 1, pg_catalog.format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY c.position),
         COALESCE(bool_or(a.attidentity = 'a'), false)
    INTO missing, column_list, value_list, has_always_identity
    FROM unnest(columns) WITH ORDINALITY AS c(name, position)
    LEFT JOIN pg_catalog.pg_attribute a
      ON a.attrelid = relation AND a.attname = c.name AND a.attnum > 0 AND NOT a.attisdropped;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION '% has no column(s) %', relation, missing USING ERRCODE = 'undefined_column';
  END IF;

  IF COALESCE(cardinality(key_columns), 0) > 0 THEN
    SELECT CASE WHEN count(*) = 0 THEN 'DO NOTHING' ELSE pg_catalog.format(
             'DO UPDATE SET %s WHERE ROW(%s)::text IS DISTINCT FROM ROW(%s)::text',
             string_agg(pg_catalog.format('%I = EXCLUDED.%I', name, name), ', '),
             string_agg(pg_catalog.format('target.%I', name), ', '),
             string_agg(pg_catalog.format('EXCLUDED.%I', name), ', ')) END
      INTO conflict
      FROM unnest(columns) AS c(name)
      WHERE name <> ALL (key_columns);
    conflict := pg_catalog.format('ON CONFLICT (%s) %s',
      (SELECT string_agg(pg_catalog.format('%I', k), ', ') FROM unnest(key_columns) AS k), conflict);
  END IF;

  replica := supasync_private.try_replica_role();
  IF NOT replica THEN
    SELECT COALESCE(array_agg(tgname ORDER BY tgname), '{}') INTO triggers
      FROM pg_catalog.pg_trigger WHERE tgrelid = relation AND NOT tgisinternal AND tgenabled <> 'D';
    FOREACH trigger_name IN ARRAY triggers LOOP
      EXECUTE pg_catalog.format('ALTER TABLE %s DISABLE TRIGGER %I', relation, trigger_name);
    END LOOP;
  END IF;

  EXECUTE pg_catalog.format(
    'INSERT INTO %s AS target (%s) %s SELECT %s FROM jsonb_array_elements($1) AS r %s',
    relation, column_list, CASE WHEN has_always_identity THEN 'OVERRIDING SYSTEM VALUE' ELSE '' END,
    value_list, conflict)
    USING rows;
  GET DIAGNOSTICS written = ROW_COUNT;

  FOREACH trigger_name IN ARRAY triggers LOOP
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE TRIGGER %I', relation, trigger_name);
  END LOOP;
  RETURN jsonb_build_object('written', written, 'replica', replica);
END
$write$;

-- After a load: each sequence set where the engine decided
-- (lib/engine/sequences.ts): production's value and is_called, as
-- pg_dump --data-only sets them, unless staging's must not go backwards.
-- setval needs UPDATE on the sequence: the functions' owner has it on what
-- it owns, and a sequence it may not set stops the run with its name.
CREATE OR REPLACE FUNCTION public.supasync_set_sequences(sequences jsonb)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $sequences$
DECLARE
  wanted record;
  set_count integer := 0;
BEGIN
  PERFORM supasync_private.assert_sync_target();
  FOR wanted IN
    SELECT s ->> 'schema' AS schema_name, s ->> 'name' AS sequence_name, s ->> 'lastValue' AS last_value, (s ->> 'isCalled')::boolean AS is_called
    FROM pg_catalog.jsonb_array_elements(sequences) AS s
  LOOP
    PERFORM pg_catalog.setval(pg_catalog.format('%I.%I', wanted.schema_name, wanted.sequence_name)::pg_catalog.regclass,
                              wanted.last_value::bigint, wanted.is_called);
    set_count := set_count + 1;
  END LOOP;
  RETURN set_count;
END
$sequences$;

REVOKE ALL ON FUNCTION supasync_private.try_replica_role() FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_can_disable_checks() FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_truncate(jsonb) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_write_rows(text, text, text[], text[], jsonb) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_set_sequences(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_can_disable_checks() TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_truncate(jsonb) TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_write_rows(text, text, text[], text[], jsonb) TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_set_sequences(jsonb) TO service_role;
