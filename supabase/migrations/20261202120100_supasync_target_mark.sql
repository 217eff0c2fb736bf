-- supasync: the sync-target mark. INSTALL IN STAGING ONLY.
--
-- supasync writes into a database only when it carries this mark: one row in
-- supasync_private.sync_target, put there by one deliberate step that names the
-- project (`npx tsx scripts/install-rpcs.ts --staging`, or `--staging
-- --mark-only` to mark without installing any function). Both paths refuse an
-- unmarked staging, and refuse a marked database as production: with the two
-- connection strings swapped, the run stops instead of emptying production.
-- By hand, in staging's SQL editor:
--     INSERT INTO supasync_private.sync_target (marked_by) VALUES ('<your name>');

CREATE SCHEMA IF NOT EXISTS supasync_private;
REVOKE ALL ON SCHEMA supasync_private FROM PUBLIC;

CREATE TABLE IF NOT EXISTS supasync_private.sync_target (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  marked_at timestamptz NOT NULL DEFAULT now(),
  marked_by text
);
REVOKE ALL ON supasync_private.sync_target FROM PUBLIC;
-- The mark is no secret, and every role must be able to see it: the direct
-- path reads it as whatever role the connection strings name (a read-only
-- production role seeing it stops a swapped run). The functions in this
-- schema stay EXECUTE-revoked.
GRANT USAGE ON SCHEMA supasync_private TO PUBLIC;
GRANT SELECT ON supasync_private.sync_target TO PUBLIC;

-- Every write function calls this first: the last line of defence when a
-- REST call reaches a database it should not.
--
-- It also takes supasync's write lock, shared, until the call's transaction
-- ends: supasync_settle_writes (in the write functions' migration) waits for
-- every write still running. A REST run stopped with Ctrl-C is gone, but the
-- request PostgREST was serving for it goes on, and would commit after what
-- comes next: a batch of the run a restore undoes, landing under the
-- restore's rows.
CREATE OR REPLACE FUNCTION supasync_private.assert_sync_target()
RETURNS void LANGUAGE plpgsql SET search_path = ''
AS $assert$
BEGIN
  IF NOT EXISTS (SELECT FROM supasync_private.sync_target) THEN
    RAISE EXCEPTION 'this database is not marked as a supasync sync target, so supasync will not write to it'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'If this really is staging, mark it: npx tsx scripts/install-rpcs.ts --staging --mark-only';
  END IF;
  -- (1937076321 is 'supa' in ASCII; 1, its writes.)
  PERFORM pg_catalog.pg_advisory_xact_lock_shared(1937076321, 1);
END
$assert$;

REVOKE ALL ON FUNCTION supasync_private.assert_sync_target() FROM PUBLIC;

-- Where each table's incremental sync stands (--mode incremental): the moment
-- of production's clock from which the next run reads the rows whose
-- changed_column moved, written by the run that copied everything before it
-- (the direct path in its staging transaction). Staging's own bookkeeping,
-- read and written by supasync alone.
CREATE TABLE IF NOT EXISTS supasync_private.watermarks (
  table_schema text NOT NULL,
  table_name text NOT NULL,
  changed_column text NOT NULL,
  since timestamptz NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (table_schema, table_name)
);
-- A table without such a column follows production's transaction ids
-- (changed_column 'xmin'): since_xid is the transaction from which the next
-- run reads the rows written, `since` then unused.
ALTER TABLE supasync_private.watermarks ADD COLUMN IF NOT EXISTS since_xid bigint;
ALTER TABLE supasync_private.watermarks ALTER COLUMN since DROP NOT NULL;
-- Which production the watermark was read from (its cluster's system
-- identifier): a run against another compares the table whole instead.
ALTER TABLE supasync_private.watermarks ADD COLUMN IF NOT EXISTS production_system text;
REVOKE ALL ON supasync_private.watermarks FROM PUBLIC;
