-- supasync: what a REST sync needs to back up staging before a replace
-- empties it or an upsert overwrites it (scripts/restore-staging.ts puts it
-- back). INSTALL IN STAGING ONLY, after *_supasync_write.sql, whose
-- sync-target mark it requires: a backup is only ever of the database a
-- sync is about to change.

-- For each table: the columns staging stores (generated ones it computes
-- again), the primary key to page it by (null: paged by ctid), whether it
-- holds rows, and where its owned sequences stand (as text: a bigint
-- sequence passes 2^53). Read-only; SECURITY DEFINER only because the
-- sequences of Supabase's own schemas are not readable by service_role
-- everywhere.
CREATE OR REPLACE FUNCTION public.supasync_backup_tables(tables jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $backup$
DECLARE
  wanted record;
  relation regclass;
  holds boolean;
  sequences jsonb;
  sequence_state record;
  owned record;
  result jsonb := '[]';
BEGIN
  PERFORM supasync_private.assert_sync_target();
  FOR wanted IN SELECT t ->> 'schema' AS schema_name, t ->> 'name' AS table_name FROM jsonb_array_elements(tables) AS t LOOP
    relation := pg_catalog.format('%I.%I', wanted.schema_name, wanted.table_name)::regclass;
    EXECUTE pg_catalog.format('SELECT EXISTS (SELECT FROM %s)', relation) INTO holds;
    sequences := '[]';
    FOR owned IN
      SELECT sn.nspname AS schema_name, s.relname AS sequence_name, a.attname AS column_name, s.oid::regclass AS sequence
      FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
      JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
      JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
      WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
        AND d.refobjid = relation AND d.deptype IN ('a', 'i')
      ORDER BY a.attnum
    LOOP
      EXECUTE pg_catalog.format('SELECT last_value::text AS last_value, is_called FROM %s', owned.sequence) INTO sequence_state;
      sequences := sequences || jsonb_build_array(jsonb_build_object(
        'schema', owned.schema_name, 'name', owned.sequence_name, 'column', owned.column_name,
        'lastValue', sequence_state.last_value, 'isCalled', sequence_state.is_called));
    END LOOP;
    result := result || jsonb_build_array(jsonb_build_object(
      'schema', wanted.schema_name,
      'name', wanted.table_name,
      'partitioned', (SELECT relkind = 'p' FROM pg_catalog.pg_class WHERE oid = relation),
      'columns', (SELECT COALESCE(jsonb_agg(attname ORDER BY attnum), '[]') FROM pg_catalog.pg_attribute
                  WHERE attrelid = relation AND attnum > 0 AND NOT attisdropped AND attgenerated = ''),
      'key', (SELECT jsonb_agg(a.attname ORDER BY k.position)
              FROM pg_catalog.pg_constraint c
              CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, position)
              JOIN pg_catalog.pg_attribute a ON a.attrelid = relation AND a.attnum = k.attnum
              WHERE c.conrelid = relation AND c.contype = 'p'),
      'hasRows', holds,
      'sequences', sequences));
  END LOOP;
  RETURN result;
END
$backup$;

-- A restore's last step, each sequence back where the backup found it, is
-- supasync_set_sequences (*_supasync_write.sql).

REVOKE ALL ON FUNCTION public.supasync_backup_tables(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_backup_tables(jsonb) TO service_role;
