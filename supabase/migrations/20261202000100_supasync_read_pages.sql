-- supasync: one page of a table's rows, for the REST path. Read-only, safe to
-- install in production and staging, after *_supasync_catalog.sql.
--
-- Pages are bounded by bytes from the first row on: the function stops a page
-- once its rows reach `max_bytes` (always at least one row), and refuses a
-- row larger than `max_row_bytes` by its key and size before sending any of
-- it (a page bounded by rows alone once made 100 rows of 50 MB one 5 GB
-- answer). A row's bytes are those of its jsonb array of text values: each
-- value's text plus a few bytes, about what it weighs as JSON.
--
-- Rows come through a cursor, one FETCH at a time, so a page never builds a
-- row past its budget: the running total is known before the next row is
-- read.
--
-- Every value travels as its text form (NULL as null), so nothing passes
-- through a JavaScript number or Date, and staging parses it back with the same input functions: int8 above
-- 2^53, numeric trailing zeros, -0, json key order and duplicates, array
-- bounds and vectors all arrive exactly. The formatting settings are pinned so
-- the text means the same thing on both sides whatever the sessions say.
--
-- Pages follow the key (keyset pagination, never OFFSET): `after` holds the
-- last key of the previous page as text. A table without a key is paged by
-- physical position (ctid), which is only stable while nobody writes to it.
-- `row_filter` is a SQL condition from the user's own configuration (a
-- table's `where`, or the rows a targeted sync's children reference); like
-- the rest it runs with the rights of the function's owner (SECURITY DEFINER,
-- as the catalog's functions: see *_supasync_catalog.sql), inside a read-only
-- (STABLE) function that only service_role may call.
--
-- Installs made before the byte bounds have the same name with seven
-- arguments: dropped, so PostgREST has one candidate to call. The two new
-- arguments default to NULL, no bound.

DROP FUNCTION IF EXISTS public.supasync_read_rows(text, text, text[], text[], jsonb, integer, text);

CREATE OR REPLACE FUNCTION public.supasync_read_rows(
  table_schema text,
  table_name text,
  columns text[],
  key_columns text[],
  after jsonb,
  page_size integer,
  row_filter text DEFAULT NULL,
  max_bytes integer DEFAULT NULL,
  max_row_bytes integer DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
SET datestyle = 'ISO, YMD'
SET intervalstyle = 'postgres'
SET timezone = 'UTC'
SET extra_float_digits = 3
SET bytea_output = 'hex'
AS $read$
DECLARE
  relation regclass := pg_catalog.format('%I.%I', table_schema, table_name)::regclass;
  keyless boolean := COALESCE(cardinality(key_columns), 0) = 0;
  select_list text;
  order_list text;
  bound text;
  source refcursor;
  row_values jsonb;
  row_bytes integer;
  page_bytes bigint := 0;
  page jsonb[] := '{}';
BEGIN
  IF EXISTS (
    SELECT FROM unnest(columns || COALESCE(key_columns, '{}')) AS wanted(name)
    WHERE NOT EXISTS (
      SELECT FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = relation AND a.attname = wanted.name AND a.attnum > 0 AND NOT a.attisdropped)
  ) THEN
    RAISE EXCEPTION 'supasync_read_rows: % lacks some of the columns %', relation, columns
      USING ERRCODE = 'undefined_column';
  END IF;
  SELECT string_agg(pg_catalog.format('%I::text', name), ', ' ORDER BY position)
    INTO select_list FROM unnest(columns) WITH ORDINALITY AS c(name, position);

  IF keyless THEN
    -- No key: physical order. The last element of each row is its ctid.
    OPEN source NO SCROLL FOR EXECUTE pg_catalog.format(
      'SELECT jsonb_build_array(%s, ctid::text) FROM %s WHERE ctid > COALESCE($1 ->> 0, ''(0,0)'')::tid AND (%s) ORDER BY ctid LIMIT $2',
      select_list, relation, COALESCE(row_filter, 'true'))
      USING after, page_size;
  ELSE
    SELECT string_agg(pg_catalog.format('%I', name), ', ' ORDER BY position),
           string_agg(pg_catalog.format('($1 ->> %s)::%s', position - 1,
             (SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
              WHERE a.attrelid = relation AND a.attname = name)), ', ' ORDER BY position)
      INTO order_list, bound
      FROM unnest(key_columns) WITH ORDINALITY AS k(name, position);
    OPEN source NO SCROLL FOR EXECUTE pg_catalog.format(
      'SELECT jsonb_build_array(%s) FROM %s WHERE (%s) AND %s ORDER BY %s LIMIT $2',
      select_list, relation, COALESCE(row_filter, 'true'),
      CASE WHEN after IS NULL THEN 'true' ELSE pg_catalog.format('(%s) > (%s)', order_list, bound) END,
      order_list)
      USING after, page_size;
  END IF;

  LOOP
    FETCH source INTO row_values;
    EXIT WHEN NOT FOUND;
    row_bytes := pg_catalog.pg_column_size(row_values);
    IF row_bytes > max_row_bytes THEN
      -- The detail is for the client to name the row: its key (the ctid without one) and its size.
      RAISE EXCEPTION 'supasync_read_rows: a row of % holds % bytes, more than the % one answer may carry', relation, row_bytes, max_row_bytes
        USING ERRCODE = 'program_limit_exceeded',
              DETAIL = pg_catalog.jsonb_build_object(
                'key', CASE WHEN keyless THEN pg_catalog.jsonb_build_array(row_values -> -1)
                            ELSE (SELECT pg_catalog.jsonb_agg(row_values -> (pg_catalog.array_position(columns, k) - 1) ORDER BY o)
                                  FROM unnest(key_columns) WITH ORDINALITY AS u(k, o)) END,
                'bytes', row_bytes)::text;
    END IF;
    page := pg_catalog.array_append(page, row_values);
    page_bytes := page_bytes + row_bytes;
    EXIT WHEN page_bytes >= max_bytes;
  END LOOP;
  CLOSE source;
  RETURN pg_catalog.to_jsonb(page);
END
$read$;

REVOKE ALL ON FUNCTION public.supasync_read_rows(text, text, text[], text[], jsonb, integer, text, integer, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_read_rows(text, text, text[], text[], jsonb, integer, text, integer, integer) TO service_role;
