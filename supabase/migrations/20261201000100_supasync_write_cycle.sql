-- supasync: tables that reference each other, written in one transaction.
-- INSTALL IN STAGING ONLY, after the other *_supasync_write*.sql files: like
-- those, these functions refuse a database without the sync-target mark, are
-- SECURITY DEFINER (owned by whoever installs them) and EXECUTE is for
-- service_role alone.
--
-- Without the replica role every REST batch is checked as it commits, and a
-- NOT NULL cycle (departments.head_employee_id <-> employees.department_id)
-- has no table that can go first. So its tables' rows travel in one request,
-- and the one transaction of that request defers their foreign keys to its
-- end, checks them, and puts them back as they were: what the direct path
-- does in its staging transaction.

-- The INSERT of one batch, shared by supasync_write_rows and
-- supasync_write_cycle: text values cast by staging's own input functions,
-- an upsert on the key that leaves equal rows alone (so a retried batch is
-- harmless), plain inserts without one, identity ALWAYS values kept.
CREATE OR REPLACE FUNCTION supasync_private.insert_rows(relation regclass, columns text[], key_columns text[], rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = ''
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
SET timezone = 'UTC'
AS $insert$
DECLARE
  missing text[];
  column_list text;
  value_list text;
  has_always_identity boolean;
  conflict text := '';
  written bigint;
BEGIN
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

  EXECUTE pg_catalog.format(
    'INSERT INTO %s AS target (%s) %s SELECT %s FROM jsonb_array_elements($1) AS r %s',
    relation, column_list, CASE WHEN has_always_identity THEN 'OVERRIDING SYSTEM VALUE' ELSE '' END,
    value_list, conflict)
    USING rows;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END
$insert$;

-- As before (20261124000100_supasync_write.sql), on the shared INSERT.
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
AS $write$
DECLARE
  relation regclass := pg_catalog.format('%I.%I', table_schema, table_name)::regclass;
  replica boolean;
  triggers text[] := '{}';
  written bigint;
BEGIN
  PERFORM supasync_private.assert_sync_target();
  replica := supasync_private.try_replica_role();
  IF NOT replica THEN
    triggers := supasync_private.disable_user_triggers(relation);
  END IF;
  written := supasync_private.insert_rows(relation, columns, key_columns, rows);
  PERFORM supasync_private.enable_triggers(relation, triggers);
  RETURN jsonb_build_object('written', written, 'replica', replica);
END
$write$;

-- Writes every table of a cycle in this one transaction.
--   batches: [{"table_schema", "table_name", "columns", "key_columns", "rows"}, ...]
--   -> [{"table": "schema.name", "written": n}, ...], in the batches' order
-- Without the replica role: user triggers off on every table first (a table
-- with checks pending cannot be altered), the foreign keys among the tables
-- (their partitions' own too) made DEFERRABLE INITIALLY DEFERRED, the rows
-- written, the checks run, then keys and triggers restored exactly; a failure
-- anywhere rolls all of it back.
CREATE OR REPLACE FUNCTION public.supasync_write_cycle(batches jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $cycle$
DECLARE
  relations regclass[];
  disabled jsonb := '[]';
  altered jsonb := '[]';
  foreign_key record;
  batch jsonb;
  i integer;
  written jsonb := '[]';
BEGIN
  PERFORM supasync_private.assert_sync_target();
  SELECT array_agg(pg_catalog.format('%I.%I', b ->> 'table_schema', b ->> 'table_name')::regclass ORDER BY ordinality)
    INTO relations FROM jsonb_array_elements(batches) WITH ORDINALITY AS e(b, ordinality);
  IF NOT supasync_private.try_replica_role() THEN
    FOR i IN 1 .. cardinality(relations) LOOP
      disabled := disabled || jsonb_build_array(to_jsonb(supasync_private.disable_user_triggers(relations[i])));
    END LOOP;
    FOR foreign_key IN
      SELECT c.conrelid::regclass AS relation, c.conname, c.condeferrable, c.condeferred
      FROM pg_catalog.pg_constraint c
      -- Keys declared on a table of the cycle or on one of its partitions (each
      -- partition its own constraint), to a table of the cycle or a partition of one.
      WHERE c.contype = 'f' AND c.conparentid = 0
        AND COALESCE(pg_catalog.pg_partition_root(c.conrelid), c.conrelid::regclass) = ANY (relations)
        AND COALESCE(pg_catalog.pg_partition_root(c.confrelid), c.confrelid::regclass) = ANY (relations)
        AND NOT (c.condeferrable AND c.condeferred)
      ORDER BY 1, 2
    LOOP
      EXECUTE pg_catalog.format('ALTER TABLE %s ALTER CONSTRAINT %I DEFERRABLE INITIALLY DEFERRED', foreign_key.relation, foreign_key.conname);
      altered := altered || jsonb_build_array(jsonb_build_object(
        'relation', foreign_key.relation::text, 'name', foreign_key.conname, 'deferrable', foreign_key.condeferrable));
    END LOOP;
  END IF;

  FOR i IN 1 .. cardinality(relations) LOOP
    batch := batches -> (i - 1);
    written := written || jsonb_build_array(jsonb_build_object('table', relations[i]::text, 'written',
      supasync_private.insert_rows(relations[i],
        ARRAY(SELECT jsonb_array_elements_text(batch -> 'columns')),
        ARRAY(SELECT jsonb_array_elements_text(COALESCE(batch -> 'key_columns', '[]'))),
        batch -> 'rows')));
  END LOOP;

  -- The deferred checks, now: a constraint with checks pending cannot be altered back.
  SET CONSTRAINTS ALL IMMEDIATE;
  FOR i IN 0 .. jsonb_array_length(altered) - 1 LOOP
    EXECUTE pg_catalog.format('ALTER TABLE %s ALTER CONSTRAINT %I %s', altered -> i ->> 'relation', altered -> i ->> 'name',
      CASE WHEN (altered -> i ->> 'deferrable')::boolean THEN 'DEFERRABLE INITIALLY IMMEDIATE' ELSE 'NOT DEFERRABLE' END);
  END LOOP;
  FOR i IN 0 .. jsonb_array_length(disabled) - 1 LOOP
    PERFORM supasync_private.enable_triggers(relations[i + 1], ARRAY(SELECT jsonb_array_elements_text(disabled -> i)));
  END LOOP;
  RETURN written;
END
$cycle$;

REVOKE ALL ON FUNCTION supasync_private.insert_rows(regclass, text[], text[], jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_write_rows(text, text, text[], text[], jsonb) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_write_cycle(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_write_rows(text, text, text[], text[], jsonb) TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_write_cycle(jsonb) TO service_role;
