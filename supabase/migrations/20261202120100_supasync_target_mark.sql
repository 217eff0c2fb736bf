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

-- Which run writes staging now (functions version 22). A REST run is a
-- string of requests, each its own transaction, so no lock of PostgreSQL's
-- can span it: it takes this row before its first write
-- (public.supasync_take_lease), renews it every few seconds and deletes it
-- at its end. Its requests carry the run's id in the header x-supasync-run,
-- and every write function refuses a request of any other run while the
-- lease is live. A direct run holds advisory lock (1937076321, 2) for its
-- session instead, which every REST write needs shared: so two runs, on
-- either path, never write one staging at once. Readable by every role, as
-- the mark is: the direct path reads it as whatever role it connects as.
CREATE TABLE IF NOT EXISTS supasync_private.run_lease (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  holder uuid NOT NULL,
  -- What the run is, for the person another run refuses: the command, host and process.
  about text NOT NULL,
  taken_at timestamptz NOT NULL DEFAULT now(),
  renewed_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
REVOKE ALL ON supasync_private.run_lease FROM PUBLIC;
GRANT SELECT ON supasync_private.run_lease TO PUBLIC;

-- Refuses a database without the mark.
CREATE OR REPLACE FUNCTION supasync_private.assert_marked()
RETURNS void LANGUAGE plpgsql SET search_path = ''
AS $marked$
BEGIN
  IF NOT EXISTS (SELECT FROM supasync_private.sync_target) THEN
    RAISE EXCEPTION 'this database is not marked as a supasync sync target, so supasync will not write to it'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'If this really is staging, mark it: npx tsx scripts/install-rpcs.ts --staging --mark-only';
  END IF;
END
$marked$;

REVOKE ALL ON FUNCTION supasync_private.assert_marked() FROM PUBLIC;

-- The run a REST request belongs to: its x-supasync-run header, which
-- PostgREST hands every request's transaction in request.headers. NULL for
-- a request without it (a client older than version 22, or anyone else's).
CREATE OR REPLACE FUNCTION supasync_private.calling_run()
RETURNS uuid LANGUAGE plpgsql STABLE SET search_path = ''
AS $calling$
DECLARE
  run text := NULLIF(pg_catalog.current_setting('request.headers', true), '')::json ->> 'x-supasync-run';
BEGIN
  RETURN CASE WHEN run ~ '^[0-9a-fA-F-]{36}$' THEN run::uuid END;
END
$calling$;

REVOKE ALL ON FUNCTION supasync_private.calling_run() FROM PUBLIC;

-- The direct runs holding staging (advisory lock 2 for their session), as a
-- person tells them apart: backend, application, since when. NULL: none.
-- (The direct path runs this body too, before supasync's functions need be
-- installed.)
CREATE OR REPLACE FUNCTION supasync_private.direct_runs()
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $direct_runs$
  SELECT pg_catalog.string_agg('backend ' || l.pid || COALESCE(' (' || NULLIF(a.application_name, '') || ')', '')
           || COALESCE(', connected since ' || pg_catalog.to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), ''), '; ' ORDER BY l.pid)
    FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.classid = 1937076321 AND l.objid = 2 AND l.objsubid = 2
      AND l.mode = 'ExclusiveLock' AND l.granted AND l.pid <> pg_catalog.pg_backend_pid()
      AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
$direct_runs$;

REVOKE ALL ON FUNCTION supasync_private.direct_runs() FROM PUBLIC;

-- The lease of the REST run holding staging, while it is live: what the run
-- is, since when, how long ago it was last heard from and when the lease
-- ends. NULL: none. (The direct path runs this body too.)
CREATE OR REPLACE FUNCTION supasync_private.live_lease()
RETURNS jsonb LANGUAGE sql STABLE SET search_path = ''
AS $live_lease$
  SELECT pg_catalog.jsonb_build_object(
           'about', about, 'takenAt', taken_at,
           'heardSecondsAgo', EXTRACT(epoch FROM pg_catalog.now() - renewed_at),
           'endsInSeconds', EXTRACT(epoch FROM expires_at - pg_catalog.now()))
    FROM supasync_private.run_lease WHERE expires_at > pg_catalog.now()
$live_lease$;

REVOKE ALL ON FUNCTION supasync_private.live_lease() FROM PUBLIC;

-- Every write function calls this first: the last line of defence when a
-- REST call reaches a database it should not, or a run writes while another
-- holds staging.
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
DECLARE
  run uuid := supasync_private.calling_run();
  lease supasync_private.run_lease;
BEGIN
  PERFORM supasync_private.assert_marked();
  -- (1937076321 is 'supa' in ASCII; 1, its writes.)
  PERFORM pg_catalog.pg_advisory_xact_lock_shared(1937076321, 1);
  -- 2: staging held. A direct run holds it for its session, alone.
  IF NOT pg_catalog.pg_try_advisory_xact_lock_shared(1937076321, 2) THEN
    RAISE EXCEPTION 'a direct supasync run is writing staging (%), so this run may not', COALESCE(supasync_private.direct_runs(), 'ended since')
      USING ERRCODE = 'SUPA1',
            HINT = 'Run one sync or restore at a time; this one stopped where it was: run it again once the other has ended.';
  END IF;
  SELECT * INTO lease FROM supasync_private.run_lease;
  IF run IS NOT NULL AND lease.holder IS DISTINCT FROM run THEN
    RAISE EXCEPTION 'this run no longer holds staging: %', COALESCE('another run took it over (' || lease.about || ', at '
             || pg_catalog.to_char(lease.taken_at, 'YYYY-MM-DD HH24:MI:SS TZ') || ')', 'its lease was ended')
      USING ERRCODE = 'SUPA1',
            HINT = 'This run could not renew its lease for a minute (the network, or the machine asleep), and another run began. Run one at a time; run this one again once the other has ended.';
  END IF;
  IF run IS NULL AND lease.expires_at > pg_catalog.now() THEN
    RAISE EXCEPTION 'another supasync run is writing staging (%, since %)', lease.about, pg_catalog.to_char(lease.taken_at, 'YYYY-MM-DD HH24:MI:SS TZ')
      USING ERRCODE = 'SUPA1', HINT = 'Run one at a time, with the same version of supasync as the functions installed in staging.';
  END IF;
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
-- The columns the run copied, with production's types, as a short hash
-- (version 29): a run that finds them otherwise (a column added on both
-- sides with a volatile default, one --allow-drift left out) compares the
-- table whole once, as rows behind the watermark may hold what changed.
ALTER TABLE supasync_private.watermarks ADD COLUMN IF NOT EXISTS copied_columns text;
REVOKE ALL ON supasync_private.watermarks FROM PUBLIC;

-- The tables staging holds masked (functions version 39): per table, the
-- columns a masked sync wrote and each one's rule, as {"column": "rule"}.
-- A later run that would write production's raw values over them is refused
-- unless told --unmask, and verify without the masking names them rather than
-- suggesting a sync that would. No secret here: rules are described, never keyed.
CREATE TABLE IF NOT EXISTS supasync_private.masked_tables (
  table_schema text NOT NULL,
  table_name text NOT NULL,
  columns jsonb NOT NULL,
  masked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (table_schema, table_name)
);
REVOKE ALL ON supasync_private.masked_tables FROM PUBLIC;

-- The staging rows a REST re-sync cleared to write production's version
-- afresh (functions version 23), as their own row's text, kept until the
-- run ends: one staging then refused production's version of, or that a run
-- stopped part way never wrote again, is put back as staging held it
-- (supasync_private.put_back_held). Over REST each request commits on its
-- own, so no rollback would. UNLOGGED: written and read within a run, it
-- needs no WAL (a server that crashes mid-run empties it; the run's backup
-- holds the rows as well).
CREATE UNLOGGED TABLE IF NOT EXISTS supasync_private.cleared_rows (
  run uuid NOT NULL,
  relation oid NOT NULL,
  key_columns text[] NOT NULL,
  row_text text NOT NULL
);
ALTER TABLE supasync_private.cleared_rows SET UNLOGGED;
CREATE INDEX IF NOT EXISTS cleared_rows_of_run ON supasync_private.cleared_rows (run, relation);
REVOKE ALL ON supasync_private.cleared_rows FROM PUBLIC;
