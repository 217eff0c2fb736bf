-- supasync: what a REST sync needs to back up staging before a replace
-- empties it or an upsert overwrites it (scripts/restore-staging.ts puts it
-- back). INSTALL IN STAGING ONLY, after *_supasync_write.sql, whose
-- sync-target mark it requires: a backup is only ever of the database a
-- sync is about to change.

-- For each table of $1 ([{"schema", "name"}, ...]), in order: the columns
-- staging stores (generated ones it computes again), the primary key to page
-- it by (null: paged by ctid), whether it is partitioned, whether it holds
-- rows, and its serial and identity sequences, whose place the backup
-- records (supasync_sequence_values) so a restore hands out the same ids next.
-- A builder, as the read migration's are: supasync_backup_tables runs what
-- it builds, the direct path's backup (lib/transport/postgres/backup.ts) too.
CREATE OR REPLACE FUNCTION supasync_private.backup_tables_query(tables jsonb)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $backup_tables_query$
SELECT COALESCE(
  'SELECT COALESCE(jsonb_agg(state ORDER BY n), ''[]'') FROM (' ||
    pg_catalog.string_agg(pg_catalog.format(
      'SELECT %s AS n, jsonb_build_object(''schema'', %L, ''name'', %L, ''partitioned'', %L::boolean, ''inherited'', %L::boolean,
         ''columns'', %L::jsonb, ''key'', %L::jsonb, ''hasRows'', EXISTS (SELECT FROM %s%I.%I), ''sequences'', %L::jsonb) AS state',
      w.n, tn.nspname, c.relname, c.relkind = 'p', inherited.found, shape.columns, shape.key,
      CASE WHEN inherited.found THEN 'ONLY ' ELSE '' END, tn.nspname, c.relname, shape.sequences),
      ' UNION ALL ' ORDER BY w.n) ||
    ') tables',
  'SELECT ''[]''::jsonb')
FROM pg_catalog.jsonb_array_elements($1::jsonb) WITH ORDINALITY AS w(wanted, n)
JOIN pg_catalog.pg_namespace tn ON tn.nspname = w.wanted ->> 'schema'
JOIN pg_catalog.pg_class c ON c.relnamespace = tn.oid AND c.relname = w.wanted ->> 'name'
-- Other tables INHERIT from it: its own rows are read ONLY (see own_rows).
CROSS JOIN LATERAL (SELECT c.relkind = 'r' AND EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhparent = c.oid) AS found) inherited
CROSS JOIN LATERAL (
  SELECT
    (SELECT COALESCE(pg_catalog.jsonb_agg(a.attname ORDER BY a.attnum), '[]') FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns,
    (SELECT pg_catalog.jsonb_agg(a.attname ORDER BY k.position)
     FROM pg_catalog.pg_constraint pk
     CROSS JOIN LATERAL pg_catalog.unnest(pk.conkey) WITH ORDINALITY AS k(attnum, position)
     JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
     -- not a key WITHOUT OVERLAPS (version 31), which no ON CONFLICT matches on
     WHERE pk.conrelid = c.oid AND pk.contype = 'p' AND pk.conexclop IS NULL) AS key,
    -- serial (dependency 'a') and identity ('i') sequences: where they stand is read apart, once the backup's directory exists
    (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('schema', sn.nspname, 'name', s.relname, 'column', a.attname) ORDER BY a.attnum), '[]')
     FROM pg_catalog.pg_depend d
     JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
     JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
     JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid = c.oid AND d.deptype IN ('a', 'i')) AS sequences
) shape
$backup_tables_query$;

CREATE OR REPLACE FUNCTION public.supasync_backup_tables(tables jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $backup$
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  RETURN supasync_private.answer(supasync_private.backup_tables_query(tables));
END
$backup$;

-- A restore's last step, each sequence back where the backup found it, is
-- supasync_set_sequences (*_supasync_write.sql).

REVOKE ALL ON FUNCTION supasync_private.backup_tables_query(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_backup_tables(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_backup_tables(jsonb) TO service_role;

-- A project's default privileges (ALTER DEFAULT PRIVILEGES ... GRANT ... TO anon, authenticated, as some
-- starters' migrations set) reach supasync's own schema too: CREATE on it (an overload planted where the
-- functions look), EXECUTE on its functions, writes to the mark and the watermarks. Granted to the roles by
-- name, REVOKE ... FROM PUBLIC leaves them: taken back by name, whatever this file made above.
REVOKE ALL ON SCHEMA supasync_private FROM anon, authenticated;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA supasync_private FROM anon, authenticated;
REVOKE ALL ON ALL TABLES IN SCHEMA supasync_private FROM anon, authenticated;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA supasync_private FROM anon, authenticated;
