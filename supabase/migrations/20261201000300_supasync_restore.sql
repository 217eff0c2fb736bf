-- supasync: emptying the tables of a backup that TRUNCATE may not empty
-- (scripts/restore-staging.ts over REST). INSTALL IN STAGING ONLY, after
-- 20261124000100_supasync_write.sql, whose sync-target mark it requires.
--
-- A restore empties its backup's tables with supasync_truncate first: the
-- fast way. PostgreSQL refuses a TRUNCATE while a table outside the list
-- references one of them, however few rows either holds, and a backup taken
-- before an upsert of a table others reference (guest_reservations, which
-- chat_conversations references) meets that. DELETE with
-- session_replication_role = replica fires no foreign-key trigger (nor any
-- other), so the referencing rows stay as they are and find their parents
-- again once the restore writes the saved rows back. Without the replica
-- role each DELETE would be checked or cascade, so it is refused instead.
CREATE OR REPLACE FUNCTION public.supasync_delete_rows(tables jsonb)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $delete$
DECLARE
  wanted record;
BEGIN
  PERFORM supasync_private.assert_sync_target();
  IF NOT supasync_private.try_replica_role() THEN
    RAISE EXCEPTION 'supasync_delete_rows empties tables with foreign-key checks off, and its owner may not SET session_replication_role'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Install supasync''s functions as a role that may (on Supabase, postgres).';
  END IF;
  FOR wanted IN SELECT t ->> 'schema' AS schema_name, t ->> 'name' AS table_name FROM jsonb_array_elements(tables) AS t LOOP
    EXECUTE pg_catalog.format('DELETE FROM %I.%I', wanted.schema_name, wanted.table_name);
  END LOOP;
END
$delete$;

REVOKE ALL ON FUNCTION public.supasync_delete_rows(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_delete_rows(jsonb) TO service_role;
