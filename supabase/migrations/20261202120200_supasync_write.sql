-- supasync: the functions the REST path writes staging with.
-- INSTALL IN STAGING ONLY, after *_supasync_read.sql and *_supasync_target_mark.sql, then mark staging
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
RETURNS boolean LANGUAGE plpgsql SET search_path = ''
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
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $check$
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_marked();
  RETURN supasync_private.try_replica_role();
END
$check$;

-- Before a REST run or a restore writes: waits until no write of an earlier
-- run is still running here (each holds assert_sync_target's lock, shared,
-- until its transaction ends), `wait_seconds` at most (0: not at all),
-- within the request's statement timeout (the client asks again while it
-- wants to wait longer). Then it raises lock_not_available, naming the
-- backends still writing.
CREATE OR REPLACE FUNCTION public.supasync_settle_writes(wait_seconds integer)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $settle$
DECLARE
  writers text;
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  BEGIN
    -- A transaction's own shared hold does not stand in the way of its exclusive request.
    IF wait_seconds > 0 THEN
      PERFORM pg_catalog.set_config('lock_timeout', (wait_seconds * 1000)::text, true);
      PERFORM pg_catalog.pg_advisory_xact_lock(1937076321, 1);
    ELSIF NOT pg_catalog.pg_try_advisory_xact_lock(1937076321, 1) THEN
      RAISE EXCEPTION USING ERRCODE = 'lock_not_available';
    END IF;
  EXCEPTION WHEN lock_not_available THEN
    -- pg_locks lists every database's locks; an advisory key is one database's.
    SELECT pg_catalog.string_agg('backend ' || l.pid
             || COALESCE(', in a transaction since ' || pg_catalog.to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS TZ'), ''), '; ' ORDER BY l.pid)
      INTO writers
      FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.classid = 1937076321 AND l.objid = 1 AND l.objsubid = 2
        AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
        AND l.granted AND l.pid <> pg_catalog.pg_backend_pid();
    RAISE EXCEPTION 'a write of another supasync run is still running in staging (%)', COALESCE(writers, 'ended since')
      USING ERRCODE = 'lock_not_available';
  END;
END
$settle$;

REVOKE ALL ON FUNCTION public.supasync_settle_writes(integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_settle_writes(integer) TO service_role;

-- A REST run's hold on staging (supasync_private.run_lease): taken before
-- its first write, for `seconds`, renewed while it runs, ended with it.
-- Answers {"taken": true} (and whose expired lease it took over, if any),
-- or, while another run's lease is live, {"taken": false} and what that run
-- is, when it was last heard from and when its lease ends: the client tells
-- a run that is alive (refused) from one stopped without ending its lease
-- (waited out). A direct run holding staging is refused outright.
CREATE OR REPLACE FUNCTION public.supasync_take_lease(run uuid, about text, seconds integer)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $take$
DECLARE
  lease supasync_private.run_lease;
  live jsonb;
  stopped record;
  put_back jsonb := '[]';
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_marked();
  IF NOT pg_catalog.pg_try_advisory_xact_lock_shared(1937076321, 2) THEN
    RAISE EXCEPTION 'a direct supasync run is writing staging (%)', COALESCE(supasync_private.direct_runs(), 'ended since')
      USING ERRCODE = 'SUPA1', HINT = 'Run one sync or restore at a time: run this one again once it has ended. Nothing was changed.';
  END IF;
  SELECT * INTO lease FROM supasync_private.run_lease FOR UPDATE;
  live := supasync_private.live_lease();
  IF lease.holder <> run AND live IS NOT NULL THEN
    RETURN live || pg_catalog.jsonb_build_object('taken', false);
  END IF;
  INSERT INTO supasync_private.run_lease (holder, about, expires_at)
    VALUES (run, about, pg_catalog.now() + seconds * interval '1 second')
    ON CONFLICT (only_row) DO UPDATE
      SET holder = EXCLUDED.holder, about = EXCLUDED.about, taken_at = EXCLUDED.taken_at,
          renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at;
  -- Rows a run stopped outright (killed, its machine gone) had cleared and never wrote again go back first.
  FOR stopped IN SELECT DISTINCT h.run FROM supasync_private.cleared_rows h WHERE h.run <> supasync_take_lease.run LOOP
    put_back := put_back || supasync_private.put_back_once(stopped.run);
  END LOOP;
  RETURN pg_catalog.jsonb_build_object('taken', true, 'putBack', put_back,
    'tookOverFrom', CASE WHEN lease.holder <> run THEN lease.about END,
    'heardSecondsAgo', CASE WHEN lease.holder <> run THEN EXTRACT(epoch FROM pg_catalog.now() - lease.renewed_at) END);
END
$take$;

-- False when the run no longer holds the lease (another took it over).
CREATE OR REPLACE FUNCTION public.supasync_renew_lease(run uuid, seconds integer)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $renew$
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_marked();
  UPDATE supasync_private.run_lease
    SET renewed_at = pg_catalog.now(), expires_at = pg_catalog.now() + seconds * interval '1 second'
    WHERE holder = run;
  RETURN FOUND;
END
$renew$;

-- Ending the lease first puts back the rows the run cleared and left
-- without a version of production's (put_back_held: a run stopped part way),
-- and answers what it put back; a run that ended well (`finished`: every
-- row it cleared written again, or put back at its table's end) only drops
-- them. Version 22's answered nothing and took no `finished`.
DROP FUNCTION IF EXISTS public.supasync_release_lease(uuid);
CREATE OR REPLACE FUNCTION public.supasync_release_lease(run uuid, finished boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $release$
DECLARE
  put_back jsonb := '[]';
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_marked();
  IF finished THEN
    DELETE FROM supasync_private.cleared_rows h WHERE h.run = supasync_release_lease.run;
  ELSE
    -- A run stopped part way (Ctrl-C) may have a clear still running in
    -- staging, PostgREST serving it on: rows it keeps after they were put
    -- back would stay held, and missing, until the next run (version 29).
    -- Its writes end first, a few seconds at most; then what they kept goes
    -- back too, and no write of the run lands after (the lease is gone).
    BEGIN
      PERFORM pg_catalog.set_config('lock_timeout', '5000', true);
      PERFORM pg_catalog.pg_advisory_xact_lock(1937076321, 1);
    EXCEPTION WHEN lock_not_available THEN
      -- Still running: what it keeps is put back by the next run to take staging.
      NULL;
    END;
    put_back := supasync_private.put_back_once(run);
  END IF;
  DELETE FROM supasync_private.run_lease WHERE holder = run;
  RETURN put_back;
END
$release$;

-- put_back_held for every table of a run, where a failure must not keep the
-- lease from changing hands: its rows then stay kept, and the next run to
-- take the lease puts them back.
CREATE OR REPLACE FUNCTION supasync_private.put_back_once(of_run uuid)
RETURNS jsonb LANGUAGE plpgsql SET search_path = ''
AS $put_back_once$
BEGIN
  RETURN supasync_private.put_back_held(of_run, NULL);
EXCEPTION WHEN OTHERS THEN
  RETURN pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('error', SQLERRM));
END
$put_back_once$;

REVOKE ALL ON FUNCTION supasync_private.put_back_once(uuid) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.supasync_take_lease(uuid, text, integer) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_renew_lease(uuid, integer) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_release_lease(uuid, boolean) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_take_lease(uuid, text, integer) TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_renew_lease(uuid, integer) TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_release_lease(uuid, boolean) TO service_role;

-- Empties the tables of a replace sync, all in one statement: TRUNCATE
-- refuses when a table outside the list references one of them. Staging's
-- TRUNCATE triggers (an audit log's) do not fire, nor rules: the replica
-- role silences those enabled ORIGIN, and the others are off until the
-- TRUNCATE is done (user_triggers), as the direct path empties them.
CREATE OR REPLACE FUNCTION public.supasync_truncate(tables jsonb)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $truncate$
DECLARE
  relations regclass[];
  relation regclass;
  replica boolean;
  triggers text[] := '{}';
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  SELECT array_agg(pg_catalog.format('%I.%I', t ->> 'schema', t ->> 'name')::regclass)
    INTO relations FROM jsonb_array_elements(tables) AS t;
  IF relations IS NULL THEN
    RETURN;
  END IF;
  replica := supasync_private.try_replica_role();
  FOREACH relation IN ARRAY relations LOOP
    triggers := triggers || supasync_private.disable_user_triggers(relation, replica);
  END LOOP;
  EXECUTE 'TRUNCATE ' || (SELECT string_agg(supasync_private.own_rows(r), ', ') FROM unnest(relations) AS r);
  -- Each entry names its own relation (user_triggers): one call puts them all back.
  PERFORM supasync_private.enable_triggers(relations[1], triggers);
END
$truncate$;

-- After a load: each sequence set where the engine decided
-- (lib/engine/sequences.ts): production's value and is_called, as
-- pg_dump --data-only sets them, unless staging's must not go backwards.
-- setval needs UPDATE on the sequence: the functions' owner has it on what
-- it owns, and a sequence it may not set stops the run with its name.
CREATE OR REPLACE FUNCTION supasync_private.set_sequences(sequences jsonb)
RETURNS integer LANGUAGE sql SET search_path = ''
AS $set_sequences$
SELECT pg_catalog.count(pg_catalog.setval(pg_catalog.format('%I.%I', s ->> 'schema', s ->> 'name')::pg_catalog.regclass,
                                          (s ->> 'lastValue')::bigint, (s ->> 'isCalled')::boolean))::integer
FROM pg_catalog.jsonb_array_elements($1::jsonb) AS s
$set_sequences$;

-- The CREATE SEQUENCE statements for the sequences of $1 that carry
-- "create" (their options, from production's catalog): ones production's
-- app made as it ran (Chatwoot's counter per account, made by a trigger on
-- the accounts table, which the load silences), which no migration of
-- staging's makes. Every option is cast to what it must be, so no text of
-- the caller's but the names (quoted) reaches the statement. NULL: none.
CREATE OR REPLACE FUNCTION supasync_private.create_sequences_query(sequences jsonb)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $create_sequences_query$
SELECT pg_catalog.string_agg(pg_catalog.format(
         'CREATE SEQUENCE IF NOT EXISTS %I.%I AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s;',
         s ->> 'schema', s ->> 'name', (d ->> 'type')::pg_catalog.regtype, (d ->> 'increment')::bigint, (d ->> 'min')::bigint,
         (d ->> 'max')::bigint, (d ->> 'start')::bigint, (d ->> 'cache')::bigint,
         CASE WHEN (d ->> 'cycle')::boolean THEN 'CYCLE' ELSE 'NO CYCLE' END), E'\n' ORDER BY s ->> 'schema', s ->> 'name')
FROM pg_catalog.jsonb_array_elements($1::jsonb) AS s
CROSS JOIN LATERAL (SELECT s -> 'create' AS d) AS created
WHERE d IS NOT NULL AND pg_catalog.jsonb_typeof(d) = 'object'
$create_sequences_query$;

-- The statements that move each sequence of $1 carrying "beyondColumn" (a
-- staging sequence a copied column draws from where production's does not,
-- lib/plan/sequences.ts planSequenceFloors) past that column's largest value
-- (below its smallest, for a descending one), never backwards: staging's next number is then one no row holds. The
-- names are quoted here; nothing else of the caller's reaches the text.
-- NULL: none. (Version 24; older functions' set_sequences passes over such
-- entries: their lastValue is NULL, and setval() of NULL does nothing.)
CREATE OR REPLACE FUNCTION supasync_private.sequence_floors_query(sequences jsonb)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $sequence_floors_query$
SELECT pg_catalog.string_agg(pg_catalog.format(
         -- A descending sequence ("descending": true) is moved below the column's smallest value.
         'SELECT pg_catalog.setval(%1$L::pg_catalog.regclass, top.value) FROM (SELECT pg_catalog.%7$s(%2$I)::bigint AS value FROM %3$I.%4$I) AS top, %5$I.%6$I AS now '
         'WHERE top.value IS NOT NULL AND top.value %8$s CASE WHEN now.is_called THEN now.last_value %9$s 1 ELSE now.last_value END;',
         pg_catalog.format('%I.%I', s ->> 'schema', s ->> 'name'), b ->> 'column', b ->> 'schema', b ->> 'table', s ->> 'schema', s ->> 'name',
         CASE WHEN (s ->> 'descending')::boolean THEN 'min' ELSE 'max' END,
         CASE WHEN (s ->> 'descending')::boolean THEN '<=' ELSE '>=' END,
         CASE WHEN (s ->> 'descending')::boolean THEN '-' ELSE '+' END),
       E'\n' ORDER BY s ->> 'schema', s ->> 'name', b ->> 'table', b ->> 'column')
FROM pg_catalog.jsonb_array_elements($1::jsonb) AS s
CROSS JOIN LATERAL (SELECT s -> 'beyondColumn' AS b) AS floor
WHERE b IS NOT NULL AND pg_catalog.jsonb_typeof(b) = 'object'
$sequence_floors_query$;

CREATE OR REPLACE FUNCTION public.supasync_set_sequences(sequences jsonb)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $sequences$
DECLARE
  created text;
  floors text;
  set_count integer;
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  created := supasync_private.create_sequences_query(sequences);
  IF created IS NOT NULL THEN
    EXECUTE created;
  END IF;
  set_count := supasync_private.set_sequences(sequences);
  floors := supasync_private.sequence_floors_query(sequences);
  IF floors IS NOT NULL THEN
    EXECUTE floors;
  END IF;
  RETURN set_count;
END
$sequences$;

REVOKE ALL ON FUNCTION supasync_private.try_replica_role() FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.set_sequences(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.create_sequences_query(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.sequence_floors_query(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_can_disable_checks() FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_truncate(jsonb) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_set_sequences(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_can_disable_checks() TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_truncate(jsonb) TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_set_sequences(jsonb) TO service_role;
-- ------------------------------------------------------------ checks kept on: triggers, two passes

-- Where staging's write functions may not SET session_replication_role
-- (installed by a role without the permission: a self-hosted PostgREST, or
-- not `postgres` on Supabase).
-- Without the replica role every batch is checked and triggered as it
-- commits, so the load runs in foreign-key order with user triggers disabled
-- around each batch, and a table that references itself loads in two passes:
-- its rows first with the self-referencing columns NULL, then those columns
-- set by key (supasync_set_columns).
-- The user triggers and rules that would fire on a table as this transaction
-- writes it (user_triggers: the direct path asks the same), on the table and
-- on each of its partitions, where the rows land and their own row triggers
-- fire (a partition may have triggers of its own, and its clones of the
-- table's keep a mode of their own). Under the replica role those enabled
-- ALWAYS ('A') or REPLICA ('R'), which the role does not silence (an audit
-- trigger set to fire on a replica too would add rows of its own to
-- staging); without it those enabled ORIGIN ('O', the default) or ALWAYS.
-- Rules likewise (a soft-delete rule would turn the deletes of a mirror into
-- updates; an INSERT rule refuses ON CONFLICT), and checks added NOT VALID,
-- of the table or of a domain its columns are of (production's rows that
-- predate one would be refused, see below). Each entry is its kind (T
-- trigger, R rule, U ON UPDATE rule, C table check, D domain check), its mode, its
-- relation's (or domain's) oid and its name
-- ('TA:16384:audit'), disabled on that relation alone (ONLY) until this
-- transaction enables it again in the mode it had: ALTER TABLE is
-- transactional, so a failed batch leaves them as they were. Only the
-- relation's owner may do this; supasync_write_checks() finds the tables
-- where the functions' owner is not, before anything is written.
DROP FUNCTION IF EXISTS supasync_private.user_triggers(regclass);
CREATE OR REPLACE FUNCTION supasync_private.user_triggers(relation regclass, replica boolean)
RETURNS text[] LANGUAGE sql STABLE SET search_path = ''
AS $user_triggers$
WITH RECURSIVE tree AS (
  SELECT $1::pg_catalog.regclass::pg_catalog.oid AS relid
  UNION
  SELECT relid FROM pg_catalog.pg_partition_tree($1::pg_catalog.regclass)
), column_types AS (
  -- The types of the table's columns, and what each is over: a domain's base
  -- type (a domain over a domain), an array's element type.
  SELECT a.atttypid AS type_id FROM pg_catalog.pg_attribute a
  WHERE a.attrelid = $1::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped
  UNION
  SELECT under.type_id FROM column_types c JOIN pg_catalog.pg_type t ON t.oid = c.type_id
  CROSS JOIN LATERAL (VALUES (t.typbasetype), (t.typelem)) AS under(type_id)
  WHERE under.type_id <> 0
), firing AS (
  SELECT CASE WHEN $2::boolean THEN ARRAY['A', 'R'] ELSE ARRAY['O', 'A'] END AS modes
)
SELECT COALESCE(pg_catalog.array_agg(entry ORDER BY entry), '{}')
FROM (
  SELECT 'T' || t.tgenabled::text || ':' || t.tgrelid::text || ':' || t.tgname::text AS entry
  FROM tree JOIN pg_catalog.pg_trigger t ON t.tgrelid = tree.relid CROSS JOIN firing
  WHERE NOT t.tgisinternal AND t.tgenabled::text = ANY (firing.modes)
  UNION ALL
  SELECT 'R' || r.ev_enabled::text || ':' || r.ev_class::text || ':' || r.rulename::text
  FROM tree JOIN pg_catalog.pg_rewrite r ON r.ev_class = tree.relid CROSS JOIN firing
  WHERE r.rulename <> '_RETURN' AND r.ev_type <> '2' AND r.ev_enabled::text = ANY (firing.modes)
  UNION ALL
  -- An ON UPDATE rule refuses INSERT ... ON CONFLICT whatever its mode,
  -- disabled too (PostgreSQL counts it before it looks at whether it
  -- fires): dropped, and created again as it was, in its mode
  -- ('UO:16384:12:keep_historyCREATE RULE keep_history AS ...;').
  SELECT 'U' || r.ev_enabled::text || ':' || r.ev_class::text || ':' || pg_catalog.length(r.rulename::text)::text || ':' || r.rulename::text
         || pg_catalog.pg_get_ruledef(r.oid)
  FROM tree JOIN pg_catalog.pg_rewrite r ON r.ev_class = tree.relid
  WHERE r.ev_type = '2'
  UNION ALL
  -- A check added NOT VALID, which production's older rows may break, on a
  -- table (or partition) of the role's own: dropped, and added again NOT
  -- VALID, as it was (no rows are scanned). The entry carries the name's
  -- length, the name and the definition ('CN:16384:3:qtyCHECK (...) NOT VALID').
  -- So is a foreign key added NOT VALID, whose older rows may name no parent,
  -- where the replica role is not there to keep its triggers from firing,
  -- and a NOT NULL added NOT VALID (PostgreSQL 18: 'NOT NULL v NOT VALID').
  SELECT 'CN:' || c.conrelid::text || ':' || pg_catalog.length(c.conname::text)::text || ':' || c.conname::text || pg_catalog.pg_get_constraintdef(c.oid)
  FROM tree JOIN pg_catalog.pg_constraint c ON c.conrelid = tree.relid
  JOIN pg_catalog.pg_class k ON k.oid = c.conrelid
  WHERE (c.contype IN ('c', 'n') OR c.contype = 'f' AND NOT $2::boolean) AND NOT c.convalidated AND c.conislocal AND k.relkind = 'r'
    AND pg_catalog.pg_has_role(k.relowner, 'USAGE')
  UNION ALL
  -- The same for a domain's check added NOT VALID, on a domain of the role's
  -- own ('DN:16390:8:no_spaceCHECK (...) NOT VALID'). A domain other tables
  -- share is dropped once: a table listed after the drop finds it gone.
  SELECT 'DN:' || c.contypid::text || ':' || pg_catalog.length(c.conname::text)::text || ':' || c.conname::text || pg_catalog.pg_get_constraintdef(c.oid)
  FROM column_types JOIN pg_catalog.pg_constraint c ON c.contypid = column_types.type_id
  JOIN pg_catalog.pg_type d ON d.oid = c.contypid
  WHERE c.contype = 'c' AND NOT c.convalidated AND pg_catalog.pg_has_role(d.typowner, 'USAGE')
) listed
$user_triggers$;

-- The ALTER TABLE that disables (`enable` false) or enables again in its
-- mode one entry of user_triggers, or the ALTER TABLE or ALTER DOMAIN that
-- drops and adds again a NOT VALID check (the direct path runs this body
-- too).
DROP FUNCTION IF EXISTS supasync_private.enable_trigger_query(regclass, text);
CREATE OR REPLACE FUNCTION supasync_private.trigger_switch_query(entry text, enable boolean)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $trigger_switch_query$
SELECT CASE WHEN e.kind = 'U' THEN
         CASE WHEN $2::boolean
           THEN substr(e.check_rest, e.name_length + 1) || CASE e.mode WHEN 'O' THEN ''
             ELSE pg_catalog.format(' ALTER TABLE ONLY %s %s RULE %I', e.relation,
                    CASE e.mode WHEN 'A' THEN 'ENABLE ALWAYS' WHEN 'R' THEN 'ENABLE REPLICA' ELSE 'DISABLE' END, left(e.check_rest, e.name_length)) END
           ELSE pg_catalog.format('DROP RULE %I ON %s', left(e.check_rest, e.name_length), e.relation) END
       WHEN e.kind = 'C' THEN
         CASE WHEN $2::boolean
           THEN pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s', e.relation, left(e.check_rest, e.name_length), substr(e.check_rest, e.name_length + 1))
           ELSE pg_catalog.format('ALTER TABLE ONLY %s DROP CONSTRAINT %I', e.relation, left(e.check_rest, e.name_length)) END
       WHEN e.kind = 'D' THEN
         CASE WHEN $2::boolean
           THEN pg_catalog.format('ALTER DOMAIN %s ADD CONSTRAINT %I %s', e.domain, left(e.check_rest, e.name_length), substr(e.check_rest, e.name_length + 1))
           ELSE pg_catalog.format('ALTER DOMAIN %s DROP CONSTRAINT %I', e.domain, left(e.check_rest, e.name_length)) END
       ELSE pg_catalog.format('ALTER TABLE ONLY %s %s %s %I', e.relation,
         CASE WHEN NOT $2::boolean THEN 'DISABLE'
              ELSE 'ENABLE' || CASE e.mode WHEN 'A' THEN ' ALWAYS' WHEN 'R' THEN ' REPLICA' ELSE '' END END,
         CASE e.kind WHEN 'R' THEN 'RULE' ELSE 'TRIGGER' END, e.rest) END
FROM (
  SELECT left($1::text, 1) AS kind, substr($1::text, 2, 1) AS mode,
         pg_catalog.split_part($1::text, ':', 2)::pg_catalog.oid::pg_catalog.regclass AS relation,
         pg_catalog.split_part($1::text, ':', 2)::pg_catalog.oid::pg_catalog.regtype AS domain,
         substr($1::text, length(pg_catalog.split_part($1::text, ':', 1)) + length(pg_catalog.split_part($1::text, ':', 2)) + 3) AS rest,
         CASE WHEN left($1::text, 1) IN ('C', 'D', 'U') THEN pg_catalog.split_part($1::text, ':', 3)::integer END AS name_length,
         substr($1::text, length(pg_catalog.split_part($1::text, ':', 1)) + length(pg_catalog.split_part($1::text, ':', 2))
           + length(pg_catalog.split_part($1::text, ':', 3)) + 4) AS check_rest
) e
$trigger_switch_query$;

DROP FUNCTION IF EXISTS supasync_private.disable_user_triggers(regclass);
CREATE OR REPLACE FUNCTION supasync_private.disable_user_triggers(relation regclass, replica boolean)
RETURNS text[] LANGUAGE plpgsql SET search_path = ''
AS $disable$
DECLARE
  triggers text[];
  entry text;
BEGIN
  triggers := supasync_private.user_triggers(relation, replica);
  IF cardinality(triggers) > 0 THEN
    -- Batches of one table arrive side by side over REST. Another may be
    -- switching the same triggers and rules (an ON UPDATE rule is dropped and
    -- created again, under a new oid): what was read before it committed can
    -- name a rule gone by now (pg_get_ruledef: NULL, and the run failed on
    -- "null values cannot be formatted as an SQL identifier"). The lock the
    -- switches take anyway, taken first, and the list read again under it.
    EXECUTE pg_catalog.format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', relation);
    triggers := supasync_private.user_triggers(relation, replica);
  END IF;
  FOREACH entry IN ARRAY triggers LOOP
    -- A domain's check is shared by the tables of its columns, which no table
    -- lock keeps apart (version 35): two requests writing two such tables
    -- both drop it. The second finds the check by name, waits for the
    -- first's lock on it, and once the first commits (having added it again,
    -- under a new oid) PostgreSQL fails the drop on the oid it found ("cache
    -- lookup failed for constraint"). Dropped again, the name is looked up
    -- afresh and finds the check as the first left it; only a run of such
    -- commits one after another could fail it every time. (Only these
    -- switches pay for the exception block's subtransaction.)
    IF left(entry, 1) <> 'D' THEN
      EXECUTE supasync_private.trigger_switch_query(entry, false);
      CONTINUE;
    END IF;
    FOR attempt IN 1 .. 10 LOOP
      BEGIN
        EXECUTE supasync_private.trigger_switch_query(entry, false);
        EXIT;
      EXCEPTION WHEN internal_error THEN
        IF attempt = 10 OR SQLERRM NOT LIKE 'cache lookup failed for constraint %' THEN
          RAISE;
        END IF;
      END;
    END LOOP;
  END LOOP;
  RETURN triggers;
END
$disable$;

-- Each trigger and rule user_triggers listed, enabled again in its mode,
-- once the request's rows are written. A table with checks still pending (a
-- foreign key DEFERRABLE INITIALLY DEFERRED, without the replica role)
-- cannot be altered: they are run now, as the request's COMMIT would.
CREATE OR REPLACE FUNCTION supasync_private.enable_triggers(relation regclass, triggers text[])
RETURNS void LANGUAGE plpgsql SET search_path = ''
AS $enable$
DECLARE
  entry text;
BEGIN
  IF cardinality(triggers) > 0 THEN
    SET CONSTRAINTS ALL IMMEDIATE;
  END IF;
  FOREACH entry IN ARRAY triggers LOOP
    EXECUTE supasync_private.trigger_switch_query(entry, true);
  END LOOP;
END
$enable$;

-- The tables of $1 ([{"schema", "name"}, ...]) with user triggers or rules
-- that would fire as the role writes them (user_triggers, with or without
-- the replica role: $2) and that it may not disable, not owning the table or
-- the partition they are on: for supasync_write_checks below, and asked the
-- same on the direct path. Each such relation is named with its owner and
-- the triggers' and rules' names.
DROP FUNCTION IF EXISTS supasync_private.foreign_triggers(jsonb);
CREATE OR REPLACE FUNCTION supasync_private.foreign_triggers(tables jsonb, replica boolean)
RETURNS jsonb LANGUAGE sql STABLE SET search_path = ''
AS $foreign_triggers$
SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('table', name, 'owner', owner, 'triggers', triggers) ORDER BY name), '[]')
FROM (
  SELECT pg_catalog.format('%I.%I', pn.nspname, pc.relname) AS name,
         pg_catalog.pg_get_userbyid(pc.relowner) AS owner,
         pg_catalog.array_agg(found.name ORDER BY found.name) AS triggers
  FROM pg_catalog.jsonb_array_elements($1::jsonb) AS wanted
  JOIN pg_catalog.pg_namespace n ON n.nspname = wanted ->> 'schema'
  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = wanted ->> 'name'
  CROSS JOIN LATERAL (
    SELECT c.oid AS relid UNION SELECT relid FROM pg_catalog.pg_partition_tree(c.oid)
  ) tree
  JOIN pg_catalog.pg_class pc ON pc.oid = tree.relid
  JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
  CROSS JOIN LATERAL (
    SELECT t.tgname::text AS name FROM pg_catalog.pg_trigger t
    WHERE t.tgrelid = pc.oid AND NOT t.tgisinternal
      AND t.tgenabled::text = ANY (CASE WHEN $2::boolean THEN ARRAY['A', 'R'] ELSE ARRAY['O', 'A'] END)
    UNION ALL
    SELECT 'rule ' || r.rulename::text FROM pg_catalog.pg_rewrite r
    WHERE r.ev_class = pc.oid AND r.rulename <> '_RETURN'
      AND (r.ev_enabled::text = ANY (CASE WHEN $2::boolean THEN ARRAY['A', 'R'] ELSE ARRAY['O', 'A'] END) OR r.ev_type = '2')
  ) found
  -- The role that writes: in a SECURITY DEFINER function, the function's owner.
  WHERE NOT pg_catalog.pg_has_role(pc.relowner, 'USAGE')
  GROUP BY 1, 2
) listed
$foreign_triggers$;

-- The tables of $1 ([{"schema", "name"}, ...]), or their partitions, that
-- a publication of staging's sends the updates or deletes of while they have
-- no replica identity (REPLICA IDENTITY NOTHING, or DEFAULT without a primary
-- key: a table keyed by a UNIQUE NOT NULL column): PostgreSQL refuses every
-- UPDATE and DELETE of them, the upsert's ON CONFLICT DO UPDATE included.
-- For each, a unique index that could serve (NOT NULL columns, no
-- expression nor predicate), for the ALTER TABLE the refusal prints.
--   -> [{"of": the table of $1, "table": it or its partition, quoted, "publication", "index"}, ...]
CREATE OR REPLACE FUNCTION supasync_private.unidentified_published(tables jsonb)
RETURNS jsonb LANGUAGE sql STABLE SET search_path = ''
AS $unidentified_published$
SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('of', found.of, 'table', found.name, 'publication', found.publication, 'index', found.index)
                                     ORDER BY found.name), '[]')
FROM (
  SELECT DISTINCT ON (pc.oid) n.nspname || '.' || c.relname AS of, pg_catalog.format('%I.%I', pn.nspname, pc.relname) AS name,
         pub.pubname::text AS publication,
         (SELECT ic.relname::text FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
          WHERE i.indrelid = pc.oid AND i.indisunique AND i.indimmediate AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
            AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = pc.oid AND a.attnum = ANY (i.indkey::int2[]) AND NOT a.attnotnull)
          ORDER BY ic.relname LIMIT 1) AS index
  FROM pg_catalog.jsonb_array_elements($1::jsonb) AS wanted
  JOIN pg_catalog.pg_namespace n ON n.nspname = wanted ->> 'schema'
  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = wanted ->> 'name'
  CROSS JOIN LATERAL (
    SELECT c.oid AS relid UNION SELECT relid FROM pg_catalog.pg_partition_tree(c.oid)
  ) tree
  JOIN pg_catalog.pg_class pc ON pc.oid = tree.relid AND pc.relkind = 'r'
  JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
  JOIN pg_catalog.pg_publication pub ON pub.pubupdate OR pub.pubdelete
  WHERE (pc.relreplident = 'n'
         OR pc.relreplident = 'd' AND NOT EXISTS (SELECT FROM pg_catalog.pg_index i WHERE i.indrelid = pc.oid AND i.indisprimary))
    -- Published as itself, or through the table it is a partition of.
    AND EXISTS (SELECT FROM pg_catalog.pg_publication_tables pt
                WHERE pt.pubname = pub.pubname
                  AND (pt.schemaname = pn.nspname AND pt.tablename = pc.relname OR pt.schemaname = n.nspname AND pt.tablename = c.relname))
  ORDER BY pc.oid, pub.pubname
) found
$unidentified_published$;

-- Staging's event triggers enabled ALWAYS: they fire under the replica role
-- too, on the ALTER TABLE a load runs to silence a table's triggers or drop
-- a NOT VALID check, and only a superuser may disable them. What they write
-- lands in staging: said as a warning before the load.
CREATE OR REPLACE FUNCTION supasync_private.always_event_triggers()
RETURNS text[] LANGUAGE sql STABLE SET search_path = ''
AS $always_event_triggers$
SELECT COALESCE(pg_catalog.array_agg(e.evtname::text ORDER BY e.evtname), '{}')
FROM pg_catalog.pg_event_trigger e
WHERE e.evtenabled = 'A'
$always_event_triggers$;

-- The privileges the role that writes (the connection's, or a SECURITY
-- DEFINER function's owner) lacks on the tables of $1 ([{"schema", "name"},
-- ...]) among those a load needs: SELECT too, since ON CONFLICT DO UPDATE
-- reads the conflicting row. For supasync_write_checks below, and asked the
-- same on the direct path; lib/transport/write-privileges.ts words the
-- refusal. Tables staging lacks are skipped.
--   -> [{"schema", "name", "privileges": ["INSERT", ...], "sequence": false}, ...]
CREATE OR REPLACE FUNCTION supasync_private.missing_privileges(tables jsonb)
RETURNS jsonb LANGUAGE sql STABLE SET search_path = ''
AS $missing_privileges$
SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('schema', schema_name, 'name', table_name, 'privileges', missing, 'sequence', sequence)
                                     ORDER BY sequence, schema_name, table_name), '[]')
FROM (
  SELECT n.nspname AS schema_name, c.relname AS table_name, false AS sequence,
         pg_catalog.array_agg(CASE WHEN p.privilege = 'TRUNCATE' OR lacking.columns = lacking.of THEN p.privilege
                                   ELSE p.privilege || ' (' || lacking.names || ')' END ORDER BY p.privilege)
           FILTER (WHERE NOT pg_catalog.has_table_privilege(c.oid, p.privilege) AND (p.privilege = 'TRUNCATE' OR lacking.of = 0 OR lacking.columns > 0)) AS missing
  FROM pg_catalog.jsonb_array_elements($1::jsonb) AS wanted
  JOIN pg_catalog.pg_namespace n ON n.nspname = wanted ->> 'schema'
  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = wanted ->> 'name'
  CROSS JOIN pg_catalog.unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'TRUNCATE']) AS p(privilege)
  -- Granted column by column (GRANT INSERT (a, b) ON t) is granted where
  -- every column is: the columns that lack it are named, so the GRANT the
  -- refusal prints is the one that is missing.
  CROSS JOIN LATERAL (
    SELECT pg_catalog.count(*) FILTER (WHERE NOT pg_catalog.has_column_privilege(c.oid, a.attnum, p.privilege)) AS columns,
           pg_catalog.count(*) AS of,
           pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
             FILTER (WHERE NOT pg_catalog.has_column_privilege(c.oid, a.attnum, p.privilege)) AS names
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND p.privilege <> 'TRUNCATE'
      -- A generated column is never written: its INSERT and UPDATE are not needed.
      AND (a.attgenerated = '' OR p.privilege = 'SELECT')
  ) lacking
  GROUP BY 1, 2
  UNION ALL
  -- The sequences the tables' columns draw from (owned, an identity's, or
  -- named in a default), which the run sets after the rows: UPDATE, which
  -- setval needs, checked before a row is written rather than after all of them.
  SELECT DISTINCT sn.nspname, sc.relname, true, ARRAY['UPDATE']
  FROM pg_catalog.jsonb_array_elements($1::jsonb) AS wanted
  JOIN pg_catalog.pg_namespace n ON n.nspname = wanted ->> 'schema'
  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = wanted ->> 'name'
  JOIN pg_catalog.pg_depend d ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
    AND (d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = c.oid AND d.deptype IN ('a', 'i')
         OR d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
            AND d.objid IN (SELECT ad.oid FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid = c.oid))
  JOIN pg_catalog.pg_class sc ON sc.oid = CASE WHEN d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass THEN d.objid ELSE d.refobjid END
    AND sc.relkind = 'S'
  JOIN pg_catalog.pg_namespace sn ON sn.oid = sc.relnamespace
  -- In a CASE: the planner may test rows before the join keeps sequences alone (an index also depends on its table).
  WHERE CASE WHEN sc.relkind = 'S' THEN NOT pg_catalog.has_sequence_privilege(sc.oid, 'UPDATE') ELSE false END
) found
WHERE missing IS NOT NULL
$missing_privileges$;

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
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $checks$
DECLARE
  foreign_triggers jsonb;
  missing_privileges jsonb;
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_marked();
  missing_privileges := supasync_private.missing_privileges(tables);
  foreign_triggers := supasync_private.foreign_triggers(tables, false);
  RETURN jsonb_build_object('owner', current_user, 'foreign_triggers', foreign_triggers, 'missing_privileges', missing_privileges,
    'foreign_replica_triggers', supasync_private.foreign_triggers(tables, true),
    'unidentified_published', supasync_private.unidentified_published(tables),
    'always_event_triggers', supasync_private.always_event_triggers(),
    -- PostgREST writes in READ WRITE transactions whatever the database's default; the direct path would be refused (version 23).
    'read_only_default', pg_catalog.current_setting('default_transaction_read_only')::boolean);
END
$checks$;

-- The expression a write reads value `position` of a row (a JSON array of
-- text values, `r`) with, as a value of type `type_oid`: a text value cast
-- to the type without its modifier (see supasync_set_columns). regclass is
-- read by its input function: text's own cast to it looks a name up, and
-- refuses what regclassout prints for 0 ('-') and for a dropped relation's
-- oid, which a column of it may hold.
CREATE OR REPLACE FUNCTION supasync_private.from_text(at bigint, type_oid oid)
RETURNS text LANGUAGE sql IMMUTABLE SET search_path = ''
AS $from_text$
SELECT CASE WHEN $2 = 'pg_catalog.regclass'::pg_catalog.regtype
            THEN pg_catalog.format('pg_catalog.regclassin((r ->> %s)::pg_catalog.cstring)', $1)
            ELSE pg_catalog.format('(r ->> %s)::%s', $1, pg_catalog.format_type($2, -1)) END
$from_text$;

REVOKE ALL ON FUNCTION supasync_private.from_text(bigint, oid) FROM PUBLIC;

-- The search_path a statement that writes `relation`'s rows runs under
-- (version 29): the comparing path (pg_catalog first, no built-in shadowed,
-- then the schemas of the key's comparisons), then the path a session of
-- these functions' owner starts with in this database, the one the direct
-- path writes under (on Supabase "$user", public, extensions). Staging's
-- CHECKs, domain checks and generated columns run inside the write, and the
-- functions they call without a search_path of their own (Supabase's linter
-- warns of them; apps have many) look names up in it: under the comparing
-- path alone, `reserved_slugs` or `citext` was not found, and every REST
-- write of such a table failed.
CREATE OR REPLACE FUNCTION supasync_private.owner_path()
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $owner_path$
-- As a new session takes it: the role's setting in this database, the role's, the database's, else the
-- server's as configured (reset_val: this session's starting value, where no role or database sets one).
SELECT COALESCE(
  (SELECT pg_catalog.substr(c.setting, pg_catalog.length('search_path=') + 1)
   FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) AS c(setting)
   WHERE c.setting LIKE 'search_path=%'
     AND s.setrole IN (0, (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER))
     AND s.setdatabase IN (0, (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()))
   ORDER BY s.setrole = 0, s.setdatabase = 0 LIMIT 1),
  (SELECT p.reset_val FROM pg_catalog.pg_settings p WHERE p.name = 'search_path'))
$owner_path$;

CREATE OR REPLACE FUNCTION supasync_private.writing_path(relation regclass)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $writing_path$
SELECT pg_catalog.concat_ws(', ', supasync_private.comparing_path($1), NULLIF(supasync_private.owner_path(), ''))
$writing_path$;

REVOKE ALL ON FUNCTION supasync_private.owner_path() FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.writing_path(regclass) FROM PUBLIC;

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
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
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
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  PERFORM supasync_private.pin_text_settings(true);
  relation := pg_catalog.format('%I.%I', table_schema, table_name)::regclass;
  IF COALESCE(cardinality(key_columns), 0) = 0 OR COALESCE(cardinality(columns), 0) = 0 THEN
    RAISE EXCEPTION 'supasync_set_columns: % needs key columns and columns to set', relation
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- Source columns are named v1, v2, ... so no table column name can clash.
  -- Each is cast to its column's type without the type's modifier (-1, which
  -- format_type writes "bit" and "bpchar" for, not bit(1) and char(1)): the
  -- assignment then applies it as COPY's input does, refusing a value too
  -- long for varchar(10) or bit(3) where an explicit cast would cut it.
  SELECT array_agg(c.name) FILTER (WHERE a.attname IS NULL),
         string_agg(supasync_private.from_text(c.position - 1, a.atttypid) || pg_catalog.format(' AS %I', 'v' || c.position), ', ' ORDER BY c.position)
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
  triggers := supasync_private.disable_user_triggers(relation, replica);

  -- Compared as text: json has no equality operator. Keys compared as their types compare them; staging's checks find what they call (writing_path).
  PERFORM pg_catalog.set_config('search_path', supasync_private.writing_path(relation), true);
  EXECUTE pg_catalog.format(
    'UPDATE %s AS target SET %s FROM (SELECT %s FROM pg_catalog.jsonb_array_elements($1) AS r) AS source
     WHERE %s AND ROW(%s)::text IS DISTINCT FROM ROW(%s)::text',
    supasync_private.own_rows(relation), set_list, source_list, key_match, target_list, source_values)
    USING rows;
  GET DIAGNOSTICS updated = ROW_COUNT;
  PERFORM pg_catalog.set_config('search_path', '', true);

  PERFORM supasync_private.enable_triggers(relation, triggers);
  RETURN jsonb_build_object('updated', updated, 'replica', replica);
END
$set$;

REVOKE ALL ON FUNCTION supasync_private.user_triggers(regclass, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.trigger_switch_query(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.foreign_triggers(jsonb, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.missing_privileges(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.unidentified_published(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.always_event_triggers() FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.disable_user_triggers(regclass, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.enable_triggers(regclass, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_write_checks(jsonb) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_set_columns(text, text, text[], text[], jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_write_checks(jsonb) TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_set_columns(text, text, text[], text[], jsonb) TO service_role;
-- ------------------------------------------------------------ cycles in one request

-- Tables that reference each other, written in one transaction.
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
-- The INSERT itself, from `source` (a relation or a parenthesised SELECT
-- giving `columns` in order): the direct path inserts from the temporary
-- table its COPY filled, the REST path from the batch's cast values.
-- update_existing false: rows staging has are left as they are (--mode insert-missing).
-- Where staging's key is DEFERRABLE (a primary key declared so to let an app
-- renumber its rows in one transaction), ON CONFLICT cannot target it ("does
-- not support deferrable unique constraints"): one statement then updates
-- the rows staging has (those that differ, as the upsert sets them) and
-- inserts the others by an anti-join on the key's index, counted as the
-- upsert counts: rows inserted or changed.
DROP FUNCTION IF EXISTS supasync_private.insert_query(regclass, text[], text[], text);
CREATE OR REPLACE FUNCTION supasync_private.insert_query(relation regclass, columns text[], key_columns text[], source text, update_existing boolean)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $insert_query$
SELECT CASE
  WHEN keyed.columns IS NULL THEN pg_catalog.format('INSERT INTO %s AS target %s %s SELECT * FROM %s AS source',
    $1::pg_catalog.regclass, COALESCE('(' || listed.columns || ')', ''), listed.overriding, $4::text)
  WHEN arbiter.found THEN pg_catalog.format('INSERT INTO %s AS target (%s) %s SELECT * FROM %s AS source ON CONFLICT (%s) %s',
    $1::pg_catalog.regclass, listed.columns, listed.overriding, $4::text, keyed.columns,
    CASE WHEN $5::boolean AND updated.set_list IS NOT NULL THEN pg_catalog.format(
      'DO UPDATE SET %s WHERE ROW(%s)::text IS DISTINCT FROM ROW(%s)::text', updated.from_excluded, updated.targets, updated.excluded)
    ELSE 'DO NOTHING' END)
  ELSE pg_catalog.format(
    'WITH source AS MATERIALIZED (SELECT * FROM %s AS source (%s)), %s
     inserted AS (INSERT INTO %s AS target (%s) %s SELECT * FROM source WHERE NOT EXISTS (SELECT FROM %s AS existing WHERE %s) RETURNING 1)
     SELECT 1 FROM inserted%s',
    $4::text, listed.columns,
    CASE WHEN $5::boolean AND updated.set_list IS NOT NULL THEN pg_catalog.format(
      'updated AS (UPDATE %s AS target SET (%s) = ROW(%s) FROM source WHERE %s AND ROW(%s)::text IS DISTINCT FROM ROW(%s)::text RETURNING 1),',
      own.rows, updated.set_list, updated.sources, keyed.match_target, updated.targets, updated.sources) ELSE '' END,
    $1::pg_catalog.regclass, listed.columns, listed.overriding, own.rows, keyed.match_existing,
    CASE WHEN $5::boolean AND updated.set_list IS NOT NULL THEN ' UNION ALL SELECT 1 FROM updated' ELSE '' END)
  END
FROM (
  SELECT pg_catalog.string_agg(pg_catalog.format('%I', c.name), ', ' ORDER BY c.position) AS columns,
         CASE WHEN COALESCE(pg_catalog.bool_or(a.attidentity = 'a'), false) THEN 'OVERRIDING SYSTEM VALUE' ELSE '' END AS overriding
  FROM pg_catalog.unnest($2::text[]) WITH ORDINALITY AS c(name, position)
  LEFT JOIN pg_catalog.pg_attribute a
    ON a.attrelid = $1::pg_catalog.regclass AND a.attname = c.name AND a.attnum > 0 AND NOT a.attisdropped
) listed,
(
  -- The merge's anti-join matches by = (through the key's index); a column that may hold NULL (a key NULLS NOT DISTINCT) matches a NULL too,
  -- and so does one whose NOT NULL was added NOT VALID (PostgreSQL 18), which older rows need not meet.
  SELECT pg_catalog.string_agg(pg_catalog.format('%I', u.k), ', ' ORDER BY u.o) AS columns,
         pg_catalog.string_agg(pg_catalog.format(CASE WHEN a.attnotnull AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint nn WHERE nn.conrelid = a.attrelid AND nn.contype = 'n' AND NOT nn.convalidated AND a.attnum = ANY (nn.conkey)) THEN 'existing.%1$I = source.%1$I'
           ELSE '(existing.%1$I = source.%1$I OR (existing.%1$I IS NULL AND source.%1$I IS NULL))' END, u.k), ' AND ' ORDER BY u.o) AS match_existing,
         pg_catalog.string_agg(pg_catalog.format(CASE WHEN a.attnotnull AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint nn WHERE nn.conrelid = a.attrelid AND nn.contype = 'n' AND NOT nn.convalidated AND a.attnum = ANY (nn.conkey)) THEN 'target.%1$I = source.%1$I'
           ELSE '(target.%1$I = source.%1$I OR (target.%1$I IS NULL AND source.%1$I IS NULL))' END, u.k), ' AND ' ORDER BY u.o) AS match_target
  FROM pg_catalog.unnest($3::text[]) WITH ORDINALITY AS u(k, o)
  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = $1::pg_catalog.regclass AND a.attname = u.k AND a.attnum > 0 AND NOT a.attisdropped
) keyed,
(
  -- An index ON CONFLICT can take as its arbiter on exactly the key's columns: unique, checked at once, whole.
  SELECT EXISTS (
    SELECT FROM pg_catalog.pg_index i
    WHERE i.indrelid = $1::pg_catalog.regclass AND i.indisunique AND i.indimmediate AND i.indisvalid
      AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indnkeyatts = pg_catalog.cardinality($3::text[])
      AND (SELECT pg_catalog.array_agg(a.attname::text ORDER BY a.attname::text)
           FROM pg_catalog.unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) AS k(attnum)
           JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
        = (SELECT pg_catalog.array_agg(u.c ORDER BY u.c) FROM pg_catalog.unnest($3::text[]) AS u(c))) AS found
) arbiter,
(
  -- Compared as text: json has no equality operator. Equal rows are not rewritten.
  -- The key's columns are set too: a key its type holds equal to production's
  -- may differ in bytes (citext 'A' and 'a', numeric 1.0 and 1.00), and takes
  -- production's. An identity ALWAYS column can only be updated to DEFAULT
  -- (a new number): left as staging has it.
  SELECT pg_catalog.string_agg(pg_catalog.format('%I', name), ', ' ORDER BY position) AS set_list,
         pg_catalog.string_agg(pg_catalog.format('%I = EXCLUDED.%I', name, name), ', ' ORDER BY position) AS from_excluded,
         pg_catalog.string_agg(pg_catalog.format('target.%I', name), ', ' ORDER BY position) AS targets,
         pg_catalog.string_agg(pg_catalog.format('EXCLUDED.%I', name), ', ' ORDER BY position) AS excluded,
         pg_catalog.string_agg(pg_catalog.format('source.%I', name), ', ' ORDER BY position) AS sources
  FROM pg_catalog.unnest($2::text[]) WITH ORDINALITY AS c(name, position)
  LEFT JOIN pg_catalog.pg_attribute a
    ON a.attrelid = $1::pg_catalog.regclass AND a.attname = c.name AND a.attnum > 0 AND NOT a.attisdropped
  WHERE a.attidentity IS DISTINCT FROM 'a'
) updated,
(SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'r'
                        WHERE i.inhparent = $1::pg_catalog.regclass)
             THEN 'ONLY ' ELSE '' END || $1::pg_catalog.regclass::text AS rows) own
$insert_query$;

-- Where an upsert under the replica role meets a unique or exclusion
-- violation: the staging rows production holds otherwise, deleted, so that
-- the INSERT, run again, writes them afresh. A value production moved
-- between two rows staging holds both of (two usernames swapped, items
-- reordered on a unique position, bookings moved into each other's slots)
-- otherwise meets the other row's old value, one row at a time. Only under
-- the replica role: there no foreign key fires on the DELETE, so nothing
-- cascades and no child waits for its parent, which the INSERT then writes
-- again. Rows compared as the upsert compares them (identity ALWAYS columns
-- left out), keys matched as its merge matches them.
CREATE OR REPLACE FUNCTION supasync_private.clear_changed_query(relation regclass, columns text[], key_columns text[], source text)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $clear_changed_query$
SELECT pg_catalog.format('DELETE FROM %s AS target USING %s AS source (%s) WHERE %s AND ROW(%s)::text IS DISTINCT FROM ROW(%s)::text',
  own.rows, $4::text, compared.listed, keyed.match_target, compared.targets, compared.sources)
FROM (
  SELECT pg_catalog.string_agg(pg_catalog.format(CASE WHEN a.attnotnull AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint nn WHERE nn.conrelid = a.attrelid AND nn.contype = 'n' AND NOT nn.convalidated AND a.attnum = ANY (nn.conkey)) THEN 'target.%1$I = source.%1$I'
           ELSE '(target.%1$I = source.%1$I OR (target.%1$I IS NULL AND source.%1$I IS NULL))' END, u.k), ' AND ' ORDER BY u.o) AS match_target
  FROM pg_catalog.unnest($3::text[]) WITH ORDINALITY AS u(k, o)
  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = $1::pg_catalog.regclass AND a.attname = u.k AND a.attnum > 0 AND NOT a.attisdropped
) keyed,
(
  -- Every column named, as the source gives them in order; compared, all but identity ALWAYS ones.
  SELECT pg_catalog.string_agg(pg_catalog.format('%I', c.name), ', ' ORDER BY c.position) AS listed,
         pg_catalog.string_agg(pg_catalog.format('target.%I', c.name), ', ' ORDER BY c.position) FILTER (WHERE a.attidentity IS DISTINCT FROM 'a') AS targets,
         pg_catalog.string_agg(pg_catalog.format('source.%I', c.name), ', ' ORDER BY c.position) FILTER (WHERE a.attidentity IS DISTINCT FROM 'a') AS sources
  FROM pg_catalog.unnest($2::text[]) WITH ORDINALITY AS c(name, position)
  LEFT JOIN pg_catalog.pg_attribute a
    ON a.attrelid = $1::pg_catalog.regclass AND a.attname = c.name AND a.attnum > 0 AND NOT a.attisdropped
) compared,
(SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'r'
                        WHERE i.inhparent = $1::pg_catalog.regclass)
             THEN 'ONLY ' ELSE '' END || $1::pg_catalog.regclass::text AS rows) own
WHERE compared.targets IS NOT NULL AND keyed.match_target IS NOT NULL
$clear_changed_query$;

-- A unique value staging refused between a row it holds and one being
-- written (version 41): which rows, by key. PostgreSQL names the value
-- (Key (email)=(...)); the person at the terminal must change or remove
-- staging's row holding it, a user who signed up in staging alone, a row
-- production re-keyed. Matched by the columns of the unique index the error
-- names (the table's or, for a partitioned table, a partition's: PostgreSQL
-- names the one that refused), among the columns written; NULL for an index
-- on expressions or with a predicate.
-- Answers {"columns": [...], "pairs": [{"staging": [key], "production": [key]}]},
-- three pairs at most, each key as text in `key_columns` order.
CREATE OR REPLACE FUNCTION supasync_private.clashing_rows_query(relation regclass, index_name text, columns text[], key_columns text[], source text)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $clashing_rows_query$
SELECT pg_catalog.format(
  'SELECT pg_catalog.jsonb_build_object(''columns'', %L::jsonb, ''pairs'', COALESCE(pg_catalog.jsonb_agg(pair), ''[]''))
   FROM (SELECT pg_catalog.jsonb_build_object(''staging'', pg_catalog.jsonb_build_array(%s), ''production'', pg_catalog.jsonb_build_array(%s)) AS pair
         FROM %s%s AS s JOIN %s AS t (%s) ON %s WHERE ROW(%s) IS DISTINCT FROM ROW(%s) LIMIT 3) AS pairs',
  pg_catalog.to_jsonb(indexed.names)::text, keyed.staging_text, keyed.production_text,
  -- A table others INHERIT from: its own rows (the index holds no other's).
  CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'r'
                    WHERE i.inhparent = $1::pg_catalog.regclass) THEN 'ONLY ' ELSE '' END,
  $1::pg_catalog.regclass, $5::text,
  (SELECT pg_catalog.string_agg(pg_catalog.format('%I', c.name), ', ' ORDER BY c.position) FROM pg_catalog.unnest($3::text[]) WITH ORDINALITY AS c(name, position)),
  -- NULLS NOT DISTINCT: two NULLs clash as two equal values do.
  (SELECT pg_catalog.string_agg(pg_catalog.format(CASE WHEN indexed.nulls_equal THEN 's.%1$I IS NOT DISTINCT FROM t.%1$I' ELSE 's.%1$I = t.%1$I' END, n), ' AND ')
   FROM pg_catalog.unnest(indexed.names) AS n),
  keyed.staging_row, keyed.production_row)
FROM (
  SELECT CASE WHEN pg_catalog.bool_and(i.indpred IS NULL AND a.attname IS NOT NULL AND a.attname::text = ANY ($3::text[]))
              THEN pg_catalog.array_agg(a.attname::text ORDER BY k.ord) END AS names,
         pg_catalog.bool_or(i.indnullsnotdistinct) AS nulls_equal
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum AND k.attnum > 0
  -- pg_partition_tree lists nothing for a table that is not partitioned.
  WHERE (i.indrelid = $1::pg_catalog.regclass OR i.indrelid IN (SELECT t.relid FROM pg_catalog.pg_partition_tree($1::pg_catalog.regclass) AS t))
    AND ic.relname = $2::text AND i.indisunique AND k.ord <= i.indnkeyatts
  GROUP BY i.indexrelid
  ORDER BY i.indexrelid
  LIMIT 1
) indexed,
(
  SELECT pg_catalog.string_agg(pg_catalog.format('s.%I::text', u.k), ', ' ORDER BY u.o) AS staging_text,
         pg_catalog.string_agg(pg_catalog.format('t.%I::text', u.k), ', ' ORDER BY u.o) AS production_text,
         pg_catalog.string_agg(pg_catalog.format('s.%I', u.k), ', ' ORDER BY u.o) AS staging_row,
         pg_catalog.string_agg(pg_catalog.format('t.%I', u.k), ', ' ORDER BY u.o) AS production_row
  FROM pg_catalog.unnest($4::text[]) WITH ORDINALITY AS u(k, o)
) keyed
WHERE indexed.names IS NOT NULL
$clashing_rows_query$;

-- A batch's rows (arrays of text values in `columns` order, the query's $1)
-- as a subquery of the relation's column types, cast by staging's own input
-- functions without the type's modifier, which the INSERT's assignment
-- applies (see supasync_set_columns).
CREATE OR REPLACE FUNCTION supasync_private.rows_source(relation regclass, columns text[])
RETURNS text LANGUAGE plpgsql STABLE SET search_path = ''
AS $rows_source$
DECLARE
  missing text[];
  value_list text;
BEGIN
  SELECT array_agg(c.name) FILTER (WHERE a.attname IS NULL),
         string_agg(supasync_private.from_text(c.position - 1, a.atttypid) || pg_catalog.format(' AS %I', 'v' || c.position), ', ' ORDER BY c.position)
    INTO missing, value_list
    FROM unnest(columns) WITH ORDINALITY AS c(name, position)
    LEFT JOIN pg_catalog.pg_attribute a
      ON a.attrelid = relation AND a.attname = c.name AND a.attnum > 0 AND NOT a.attisdropped;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION '% has no column(s) %', relation, missing USING ERRCODE = 'undefined_column';
  END IF;
  RETURN pg_catalog.format('(SELECT %s FROM pg_catalog.jsonb_array_elements($1) AS r)', value_list);
END
$rows_source$;

DROP FUNCTION IF EXISTS supasync_private.insert_rows(regclass, text[], text[], jsonb);
CREATE OR REPLACE FUNCTION supasync_private.insert_rows(relation regclass, columns text[], key_columns text[], rows jsonb, update_existing boolean)
RETURNS bigint LANGUAGE plpgsql SET search_path = ''
AS $insert$
DECLARE
  source text;
  insert text;
  clear text;
  written bigint;
BEGIN
  -- Text values are read back under the settings they were written under.
  PERFORM supasync_private.pin_text_settings(true);
  source := supasync_private.rows_source(relation, columns);
  insert := supasync_private.insert_query(relation, columns, key_columns, source, update_existing);
  -- A unique or exclusion value the batch moves between rows staging holds
  -- meets their old values: under the replica role, an upsert clears those
  -- rows (clear_changed_query) and runs again. Any batch pays for it one
  -- subtransaction, the exception block's. Keys compared as their types
  -- compare them (comparing_path), and staging's checks find what they
  -- call (writing_path); the path is this function's alone.
  PERFORM pg_catalog.set_config('search_path', supasync_private.writing_path(relation), true);
  BEGIN
    EXECUTE insert USING rows;
    GET DIAGNOSTICS written = ROW_COUNT;
  EXCEPTION WHEN unique_violation OR exclusion_violation THEN
    IF update_existing AND pg_catalog.current_setting('session_replication_role') = 'replica' THEN
      clear := supasync_private.clear_changed_query(relation, columns, key_columns, source);
    END IF;
    IF clear IS NULL THEN
      RAISE;
    END IF;
    EXECUTE clear USING rows;
    EXECUTE insert USING rows;
    GET DIAGNOSTICS written = ROW_COUNT;
  END;
  RETURN written;
END
$insert$;

-- Writes one batch: rows are arrays of text values in `columns` order, cast
-- by staging's own input functions, through the shared INSERT above. Where
-- the replica role is refused, the table's enabled user triggers are
-- disabled around the insert instead, in this same transaction.
-- An earlier version had no update_existing: PostgREST could not choose between the two.
DROP FUNCTION IF EXISTS public.supasync_write_rows(text, text, text[], text[], jsonb);
CREATE OR REPLACE FUNCTION public.supasync_write_rows(
  table_schema text,
  table_name text,
  columns text[],
  key_columns text[],
  rows jsonb,
  update_existing boolean DEFAULT true
)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $write$
DECLARE
  relation regclass := pg_catalog.format('%I.%I', table_schema, table_name)::regclass;
  replica boolean;
  triggers text[] := '{}';
  written bigint;
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  replica := supasync_private.try_replica_role();
  triggers := supasync_private.disable_user_triggers(relation, replica);
  written := supasync_private.insert_rows(relation, columns, key_columns, rows, update_existing);
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
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $cycle$
DECLARE
  relations regclass[];
  disabled jsonb := '[]';
  altered jsonb := '[]';
  replica boolean;
  foreign_key record;
  batch jsonb;
  i integer;
  written jsonb := '[]';
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  SELECT array_agg(pg_catalog.format('%I.%I', b ->> 'table_schema', b ->> 'table_name')::regclass ORDER BY ordinality)
    INTO relations FROM jsonb_array_elements(batches) WITH ORDINALITY AS e(b, ordinality);
  replica := supasync_private.try_replica_role();
  FOR i IN 1 .. cardinality(relations) LOOP
    disabled := disabled || jsonb_build_array(to_jsonb(supasync_private.disable_user_triggers(relations[i], replica)));
  END LOOP;
  IF NOT replica THEN
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
        batch -> 'rows', COALESCE((batch ->> 'update_existing')::boolean, true))));
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

-- Writes one batch each of several tables, in this one transaction, each
-- by supasync_write_rows (version 34): a schema of small tables
-- was a request per table. The caller sends it under the replica role
-- alone, where the order of the tables does not matter; any failure rolls
-- every batch back, and the caller then sends each on its own.
--   batches: [{"table_schema", "table_name", "columns", "key_columns", "rows", "update_existing"}, ...]
--   -> [{"written": n}, ...], in the batches' order
CREATE OR REPLACE FUNCTION public.supasync_write_tables(batches jsonb)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $write_tables$
DECLARE
  batch jsonb;
  written jsonb := '[]';
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  FOR batch IN SELECT b.b FROM jsonb_array_elements(batches) WITH ORDINALITY AS b(b, n) ORDER BY b.n LOOP
    written := written || jsonb_build_array(jsonb_build_object('written', public.supasync_write_rows(
      batch ->> 'table_schema', batch ->> 'table_name',
      ARRAY(SELECT c FROM jsonb_array_elements_text(batch -> 'columns') WITH ORDINALITY AS e(c, i) ORDER BY i),
      ARRAY(SELECT c FROM jsonb_array_elements_text(COALESCE(batch -> 'key_columns', '[]')) WITH ORDINALITY AS e(c, i) ORDER BY i),
      batch -> 'rows', COALESCE((batch ->> 'update_existing')::boolean, true)) -> 'written'));
  END LOOP;
  RETURN written;
END
$write_tables$;

REVOKE ALL ON FUNCTION supasync_private.insert_query(regclass, text[], text[], text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.clear_changed_query(regclass, text[], text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.insert_rows(regclass, text[], text[], jsonb, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_write_rows(text, text, text[], text[], jsonb, boolean) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_write_cycle(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_write_rows(text, text, text[], text[], jsonb, boolean) TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_write_cycle(jsonb) TO service_role;
REVOKE ALL ON FUNCTION public.supasync_write_tables(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_write_tables(jsonb) TO service_role;

-- The rows a unique value was refused between, for a REST run's report
-- (version 41): staging's holding it, and the rejected ones (`rows`, as a
-- batch sends them) bringing it, by key; see clashing_rows_query. NULL where
-- the index cannot be matched so.
CREATE OR REPLACE FUNCTION public.supasync_clashing_rows(
  table_schema text,
  table_name text,
  index_name text,
  columns text[],
  key_columns text[],
  rows jsonb
)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $clashing_rows$
DECLARE
  relation regclass := pg_catalog.format('%I.%I', table_schema, table_name)::regclass;
  query text;
  answer jsonb;
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.pin_text_settings(true);
  query := supasync_private.clashing_rows_query(relation, index_name, columns, key_columns, supasync_private.rows_source(relation, columns));
  IF query IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM pg_catalog.set_config('search_path', supasync_private.writing_path(relation), true);
  EXECUTE query INTO answer USING rows;
  RETURN answer;
END
$clashing_rows$;

REVOKE ALL ON FUNCTION supasync_private.rows_source(regclass, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.clashing_rows_query(regclass, text, text[], text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_clashing_rows(text, text, text, text[], text[], jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_clashing_rows(text, text, text, text[], text[], jsonb) TO service_role;
-- ------------------------------------------------------------ emptying what TRUNCATE may not

-- Emptying tables that TRUNCATE may not empty: a backup's, for
-- scripts/restore-staging.ts over REST, and a replaced table that staging
-- tables outside the run reference.
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
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $delete$
DECLARE
  wanted record;
  triggers text[];
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  IF NOT supasync_private.try_replica_role() THEN
    RAISE EXCEPTION 'supasync_delete_rows empties tables with foreign-key checks off, and its owner may not SET session_replication_role'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Install supasync''s functions as a role that may (on Supabase, postgres).';
  END IF;
  FOR wanted IN SELECT pg_catalog.format('%I.%I', t ->> 'schema', t ->> 'name')::regclass AS relation FROM jsonb_array_elements(tables) AS t LOOP
    -- Triggers the replica role does not silence (user_triggers) stay off for the DELETE.
    triggers := supasync_private.disable_user_triggers(wanted.relation, true);
    EXECUTE 'DELETE FROM ' || supasync_private.own_rows(wanted.relation);
    PERFORM supasync_private.enable_triggers(wanted.relation, triggers);
  END LOOP;
END
$delete$;

REVOKE ALL ON FUNCTION public.supasync_delete_rows(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_delete_rows(jsonb) TO service_role;

-- ------------------------------------------------------------ mirroring deletes

-- A mirror or incremental sync deletes the staging rows production no longer
-- has, picked by key (supasync_private.key_filter, built in staging). The
-- DELETE both paths run.
CREATE OR REPLACE FUNCTION supasync_private.delete_where_query(relation regclass, row_filter text)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $delete_where_query$
SELECT pg_catalog.format('DELETE FROM %s WHERE %s', own.rows, $2::text)
FROM (SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'r'
                        WHERE i.inhparent = $1::pg_catalog.regclass)
             THEN 'ONLY ' ELSE '' END || $1::pg_catalog.regclass::text AS rows) own
$delete_where_query$;

-- Over REST, with foreign-key checks off as supasync_delete_rows has them:
-- a staging row left pointing at a deleted one is found by the run's check
-- once every table is written, not by a cascade that would delete it unseen.
DROP FUNCTION IF EXISTS public.supasync_delete_missing(text, text, text[], text, text[]);
CREATE OR REPLACE FUNCTION public.supasync_delete_where(table_schema text, table_name text, row_filter text)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $delete_where$
DECLARE
  relation regclass := pg_catalog.format('%I.%I', table_schema, table_name)::regclass;
  deleted bigint;
  triggers text[];
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  IF NOT supasync_private.try_replica_role() THEN
    RAISE EXCEPTION 'supasync_delete_where deletes rows with foreign-key checks off, and its owner may not SET session_replication_role'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Install supasync''s functions as a role that may (on Supabase, postgres), or sync with --mode upsert, which deletes nothing.';
  END IF;
  PERFORM supasync_private.pin_text_settings(true);
  triggers := supasync_private.disable_user_triggers(relation, true);
  -- The filter picks keys as their types compare them (comparing_path).
  PERFORM pg_catalog.set_config('search_path', supasync_private.comparing_path(relation), true);
  EXECUTE supasync_private.delete_where_query(relation, row_filter);
  GET DIAGNOSTICS deleted = ROW_COUNT;
  PERFORM pg_catalog.set_config('search_path', '', true);
  PERFORM supasync_private.enable_triggers(relation, triggers);
  RETURN jsonb_build_object('deleted', deleted);
END
$delete_where$;

REVOKE ALL ON FUNCTION supasync_private.delete_where_query(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_delete_where(text, text, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_delete_where(text, text, text) TO service_role;

-- ------------------------------------------------------------ rows cleared to be rewritten

-- A REST re-sync with checks off clears the staging rows it is about to
-- write again (values swapped between rows then land), and each request
-- commits on its own: this clear keeps what it deleted, per run, in
-- supasync_private.cleared_rows (the row's own text, under the pinned
-- settings it is read back under), so that one staging then refuses
-- production's version of, or that a stopped run never wrote again, can be
-- put back as staging held it. `key_columns`: the run's key for the table.
CREATE OR REPLACE FUNCTION public.supasync_clear_rows(table_schema text, table_name text, row_filter text, key_columns text[])
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $clear_rows$
DECLARE
  relation regclass := pg_catalog.format('%I.%I', table_schema, table_name)::regclass;
  run uuid := supasync_private.calling_run();
  deleted bigint;
  triggers text[];
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  IF run IS NULL THEN
    RAISE EXCEPTION 'supasync_clear_rows keeps the rows it clears for the run that asks, and this request names none (header x-supasync-run)'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT supasync_private.try_replica_role() THEN
    RAISE EXCEPTION 'supasync_clear_rows deletes rows with foreign-key checks off, and its owner may not SET session_replication_role'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Install supasync''s functions as a role that may (on Supabase, postgres).';
  END IF;
  PERFORM supasync_private.pin_text_settings(true);
  triggers := supasync_private.disable_user_triggers(relation, true);
  PERFORM pg_catalog.set_config('search_path', supasync_private.comparing_path(relation), true);
  -- The alias names the whole row; ROW(alias.*) cannot be taken for a column of that name.
  EXECUTE pg_catalog.format(
    'WITH gone AS (DELETE FROM %s AS supasync_cleared WHERE %s RETURNING ROW(supasync_cleared.*)::text AS row_text)
     INSERT INTO supasync_private.cleared_rows (run, relation, key_columns, row_text) SELECT $1, $2, $3, gone.row_text FROM gone',
    supasync_private.own_rows(relation), row_filter)
    USING run, relation::oid, key_columns;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  PERFORM pg_catalog.set_config('search_path', '', true);
  PERFORM supasync_private.enable_triggers(relation, triggers);
  RETURN jsonb_build_object('deleted', deleted);
END
$clear_rows$;

-- Puts back the rows a run cleared (supasync_clear_rows) whose key staging
-- no longer holds: production's version was refused, or never written
-- (the run stopped). Rows staging holds a version of stay as they are.
-- Under the replica role, with user triggers off, as the run wrote. A row
-- that cannot go back (another row now holds one of its unique values) is
-- counted, with the first such error; the others still go back. Those of
-- `only_relation` alone, or of every table (NULL). The kept rows are
-- dropped once handled. Per table: held, put back, left out.
CREATE OR REPLACE FUNCTION supasync_private.put_back_held(of_run uuid, only_relation regclass)
RETURNS jsonb LANGUAGE plpgsql SET search_path = ''
AS $put_back$
DECLARE
  held record;
  one record;
  replica boolean;
  triggers text[];
  columns text[];
  source text;
  put bigint;
  n bigint;
  failed bigint;
  first_error text;
  answer jsonb := '[]';
BEGIN
  FOR held IN
    SELECT h.relation, h.key_columns, pg_catalog.count(*) AS rows
    FROM supasync_private.cleared_rows h
    WHERE h.run = of_run AND (only_relation IS NULL OR h.relation = only_relation::oid)
    GROUP BY h.relation, h.key_columns
    ORDER BY h.relation
  LOOP
    -- A table dropped since has nothing to put back into.
    IF EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = held.relation) THEN
      replica := supasync_private.try_replica_role();
      PERFORM supasync_private.pin_text_settings(true);
      triggers := supasync_private.disable_user_triggers(held.relation::regclass, replica);
      SELECT pg_catalog.array_agg(a.attname::text ORDER BY a.attnum) INTO columns
        FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = held.relation AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
      source := pg_catalog.format(
        '(SELECT %s FROM (SELECT h.row_text::%s AS r FROM supasync_private.cleared_rows h WHERE h.run = %L AND h.relation = %s %%s) kept)',
        (SELECT pg_catalog.string_agg(pg_catalog.format('(kept.r).%I', c.name), ', ' ORDER BY c.position)
           FROM pg_catalog.unnest(columns) WITH ORDINALITY AS c(name, position)),
        held.relation::regclass, of_run, held.relation);
      PERFORM pg_catalog.set_config('search_path', supasync_private.writing_path(held.relation::regclass), true);
      put := 0;
      failed := 0;
      first_error := NULL;
      BEGIN
        EXECUTE supasync_private.insert_query(held.relation::regclass, columns, held.key_columns, pg_catalog.format(source, ''), false);
        GET DIAGNOSTICS put = ROW_COUNT;
      EXCEPTION WHEN OTHERS THEN
        -- One row at a time, so that one that cannot go back keeps none of the others out.
        FOR one IN SELECT h.ctid AS id FROM supasync_private.cleared_rows h WHERE h.run = of_run AND h.relation = held.relation LOOP
          BEGIN
            EXECUTE supasync_private.insert_query(held.relation::regclass, columns, held.key_columns,
              pg_catalog.format(source, pg_catalog.format('AND h.ctid = %L::pg_catalog.tid', one.id)), false);
            GET DIAGNOSTICS n = ROW_COUNT;
            put := put + n;
          EXCEPTION WHEN OTHERS THEN
            failed := failed + 1;
            first_error := COALESCE(first_error, SQLERRM);
          END;
        END LOOP;
      END;
      PERFORM pg_catalog.set_config('search_path', '', true);
      PERFORM supasync_private.enable_triggers(held.relation::regclass, triggers);
      answer := answer || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
        'table', held.relation::regclass::text, 'held', held.rows, 'putBack', put, 'left', failed, 'error', first_error));
    END IF;
    DELETE FROM supasync_private.cleared_rows h WHERE h.run = of_run AND h.relation = held.relation;
  END LOOP;
  RETURN answer;
END
$put_back$;

-- A table's cleared rows, put back at its end where staging refused any of
-- production's version: before the run checks what the load left pointing
-- nowhere.
CREATE OR REPLACE FUNCTION public.supasync_put_back(table_schema text, table_name text)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $put_back_rpc$
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  RETURN supasync_private.put_back_held(supasync_private.calling_run(), pg_catalog.format('%I.%I', table_schema, table_name)::regclass);
END
$put_back_rpc$;

REVOKE ALL ON FUNCTION supasync_private.put_back_held(uuid, regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_clear_rows(text, text, text, text[]) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_put_back(text, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_clear_rows(text, text, text, text[]) TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_put_back(text, text) TO service_role;

-- ------------------------------------------------------------ incremental watermarks

-- Staging's watermarks (supasync_private.watermarks), read and written by
-- both paths (the direct path runs these bodies from this file).
-- marks: [{"schema", "name", "column", "since", "system", "columns"}, ...].
CREATE OR REPLACE FUNCTION supasync_private.read_watermarks()
RETURNS jsonb LANGUAGE sql STABLE SET search_path = ''
AS $watermarks$
SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
  'schema', table_schema, 'name', table_name, 'column', changed_column,
  'since', CASE WHEN changed_column = 'xmin' THEN since_xid::text ELSE pg_catalog.to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END,
  'system', production_system,
  -- Through the row's JSON: a staging marked before version 29 has no such column, and is read all the same.
  'columns', pg_catalog.to_jsonb(w) ->> 'copied_columns')), '[]')
FROM supasync_private.watermarks w
$watermarks$;

CREATE OR REPLACE FUNCTION public.supasync_watermarks()
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $watermarks_rpc$
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  RETURN supasync_private.read_watermarks();
END
$watermarks_rpc$;
REVOKE ALL ON FUNCTION supasync_private.read_watermarks() FROM PUBLIC;

CREATE OR REPLACE FUNCTION supasync_private.set_watermarks(marks jsonb)
RETURNS void LANGUAGE sql SET search_path = ''
AS $set_watermarks$
INSERT INTO supasync_private.watermarks AS w (table_schema, table_name, changed_column, since, since_xid, production_system, copied_columns)
SELECT m ->> 'schema', m ->> 'name', m ->> 'column',
       CASE WHEN m ->> 'column' = 'xmin' THEN NULL ELSE (m ->> 'since')::timestamptz END,
       CASE WHEN m ->> 'column' = 'xmin' THEN (m ->> 'since')::bigint END,
       m ->> 'system', m ->> 'columns'
FROM pg_catalog.jsonb_array_elements($1::jsonb) AS m
ON CONFLICT (table_schema, table_name) DO UPDATE
  SET changed_column = EXCLUDED.changed_column, since = EXCLUDED.since, since_xid = EXCLUDED.since_xid,
      production_system = EXCLUDED.production_system, copied_columns = EXCLUDED.copied_columns, synced_at = pg_catalog.now()
$set_watermarks$;

CREATE OR REPLACE FUNCTION public.supasync_set_watermarks(marks jsonb)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $write_watermarks$
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  PERFORM supasync_private.set_watermarks(marks);
END
$write_watermarks$;

REVOKE ALL ON FUNCTION supasync_private.set_watermarks(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_watermarks() FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_set_watermarks(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_watermarks() TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_set_watermarks(jsonb) TO service_role;

-- ------------------------------------------------------------ masked tables

-- Which tables staging holds masked (supasync_private.masked_tables), read
-- and written by both paths (the direct path runs these bodies from this file).
-- A staging marked before version 39 has no such table: read as none.
CREATE OR REPLACE FUNCTION supasync_private.read_masked_tables()
RETURNS jsonb LANGUAGE sql STABLE SET search_path = ''
AS $read_masked_tables$
SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
  'schema', table_schema, 'name', table_name, 'columns', columns,
  'maskedAt', pg_catalog.to_char(masked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'))
  ORDER BY table_schema, table_name), '[]')
FROM supasync_private.masked_tables
$read_masked_tables$;

CREATE OR REPLACE FUNCTION public.supasync_masked_tables()
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $masked_tables_rpc$
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  RETURN supasync_private.read_masked_tables();
END
$masked_tables_rpc$;

-- marks: [{"schema", "name", "columns": {"column": "rule"}}], the tables a
-- run masked (replaced or upserted: every production row rewritten masked);
-- unmasked: [{"schema", "name"}], those it rewrote whole without masking
-- (--unmask): staging holds no masked row of them any more.
CREATE OR REPLACE FUNCTION supasync_private.set_masked_tables(marks jsonb, unmasked jsonb)
RETURNS void LANGUAGE sql SET search_path = ''
AS $set_masked_tables$
WITH unmasked AS (
  DELETE FROM supasync_private.masked_tables t
  USING pg_catalog.jsonb_array_elements($2::jsonb) AS u
  WHERE t.table_schema = u ->> 'schema' AND t.table_name = u ->> 'name'
)
INSERT INTO supasync_private.masked_tables AS t (table_schema, table_name, columns)
SELECT m ->> 'schema', m ->> 'name', m -> 'columns'
FROM pg_catalog.jsonb_array_elements($1::jsonb) AS m
ON CONFLICT (table_schema, table_name) DO UPDATE SET columns = EXCLUDED.columns, masked_at = pg_catalog.now()
$set_masked_tables$;

CREATE OR REPLACE FUNCTION public.supasync_set_masked_tables(marks jsonb, unmasked jsonb)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $set_masked_tables_rpc$
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  PERFORM supasync_private.set_masked_tables(marks, unmasked);
END
$set_masked_tables_rpc$;

REVOKE ALL ON FUNCTION supasync_private.read_masked_tables() FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.set_masked_tables(jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_masked_tables() FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_set_masked_tables(jsonb, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_masked_tables() TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_set_masked_tables(jsonb, jsonb) TO service_role;

-- ------------------------------------------------------------ materialized views

-- The materialized views of staging that read the tables in `tables`
-- ([{schema, name}]: a partitioned one with its partitions), or the tables
-- they INHERIT from (whose every query reads their rows), directly or
-- through views and other materialized views, each after those it reads:
-- after a sync they still hold what they held before it, until refreshed.
-- Per view: whether it holds rows at all (one created WITH NO DATA is left
-- so) and whether this role may refresh it (its owner's rights).
CREATE OR REPLACE FUNCTION supasync_private.dependent_views(tables jsonb)
RETURNS jsonb LANGUAGE sql STABLE SET search_path = ''
AS $dependent_views$
WITH RECURSIVE named AS (
  SELECT c.oid
  FROM pg_catalog.jsonb_array_elements($1::jsonb) AS w(wanted)
  JOIN pg_catalog.pg_namespace n ON n.nspname = w.wanted ->> 'schema'
  JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.wanted ->> 'name'
),
-- pg_partition_tree lists nothing for a table that is not partitioned.
written AS (
  SELECT named.oid FROM named
  UNION
  SELECT tree.relid FROM named CROSS JOIN LATERAL pg_catalog.pg_partition_tree(named.oid) AS tree
),
-- And every table a written one INHERITS from, up the chain.
read_through AS (
  SELECT written.oid FROM written
  UNION
  SELECT i.inhparent FROM read_through JOIN pg_catalog.pg_inherits i ON i.inhrelid = read_through.oid
),
-- A view's or materialized view's query is its rewrite rule, which depends
-- on what it reads: the written tables (depth 0), then what reads them.
readers (oid, depth) AS (
  SELECT read_through.oid, 0 FROM read_through
  UNION
  SELECT r.ev_class, readers.depth + 1
  FROM readers
  JOIN pg_catalog.pg_depend d
    ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = readers.oid AND d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
  JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid AND r.ev_class <> readers.oid
  WHERE readers.depth < 64
)
SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
    'view', pg_catalog.format('%I.%I', vn.nspname, v.relname),
    'populated', v.relispopulated,
    'owner', pg_catalog.pg_get_userbyid(v.relowner),
    'mayRefresh', pg_catalog.pg_has_role(v.relowner, 'USAGE'))
  ORDER BY found.depth, vn.nspname, v.relname), '[]')
FROM (SELECT readers.oid, max(readers.depth) AS depth FROM readers GROUP BY readers.oid) found
JOIN pg_catalog.pg_class v ON v.oid = found.oid AND v.relkind = 'm'
JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace
$dependent_views$;

-- Refreshes them, each in its own subtransaction: one that cannot be
-- refreshed (its query fails on the new rows, its unique index refuses them,
-- a time limit) keeps what it held, and is reported with why. Skipped: one
-- never populated, one whose owner this role is not.
-- Which views a run would refresh, and which it would leave, without
-- refreshing any: what a dry run lists.
CREATE OR REPLACE FUNCTION public.supasync_dependent_views(tables jsonb)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $dependent_views_rpc$ SELECT CASE WHEN supasync_private.assert_trusted_caller() THEN (SELECT supasync_private.dependent_views($1)) END $dependent_views_rpc$;

REVOKE ALL ON FUNCTION public.supasync_dependent_views(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_dependent_views(jsonb) TO service_role;

CREATE OR REPLACE FUNCTION public.supasync_refresh_views(tables jsonb)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $refresh_views$
DECLARE
  entry jsonb;
  outcome jsonb := '[]';
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  FOR entry IN SELECT pg_catalog.jsonb_array_elements(supasync_private.dependent_views(tables)) LOOP
    IF NOT (entry ->> 'populated')::boolean THEN
      outcome := outcome || pg_catalog.jsonb_build_object('view', entry ->> 'view', 'refreshed', false, 'reason', 'never populated (WITH NO DATA): left so');
    ELSIF NOT (entry ->> 'mayRefresh')::boolean THEN
      outcome := outcome || pg_catalog.jsonb_build_object('view', entry ->> 'view', 'refreshed', false, 'reason', pg_catalog.format('owned by %s', entry ->> 'owner'));
    ELSE
      BEGIN
        EXECUTE 'REFRESH MATERIALIZED VIEW ' || (entry ->> 'view');
        outcome := outcome || pg_catalog.jsonb_build_object('view', entry ->> 'view', 'refreshed', true, 'reason', NULL);
      EXCEPTION WHEN OTHERS THEN
        outcome := outcome || pg_catalog.jsonb_build_object('view', entry ->> 'view', 'refreshed', false, 'reason', SQLERRM);
      END;
    END IF;
  END LOOP;
  RETURN outcome;
END
$refresh_views$;

REVOKE ALL ON FUNCTION supasync_private.dependent_views(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_refresh_views(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_refresh_views(jsonb) TO service_role;

-- ------------------------------------------------------------ files' owners

-- Sets whom staging's files of `bucket` belong to, from production's
-- (supasync_private.file_owners_query): `owners` [{name, owner, owner_id,
-- user_metadata}], each column set only where both the list and staging's
-- storage.objects have it, each file only where it differs. A column a
-- foreign key ties to another table (older Storage schemas tie `owner` to
-- auth.users) is set to NULL where staging lacks the row it would name: such
-- files are counted as `unmatched`. Storage's own trigger stamps updated_at.
-- Only a file's current version, where Storage keeps versions (see
-- supasync_private.file_owners_query).
CREATE OR REPLACE FUNCTION supasync_private.set_file_owners_query(bucket text, owners jsonb)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $set_file_owners_query$
WITH given AS (
  SELECT DISTINCT k.key FROM pg_catalog.jsonb_array_elements($2::jsonb) AS e(file), pg_catalog.jsonb_object_keys(e.file) AS k(key)
), settable AS (
  SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnum,
         (SELECT pg_catalog.format('(SELECT p.%I FROM %s AS p WHERE p.%I = r.%I)', pa.attname, c.confrelid::pg_catalog.regclass, pa.attname, a.attname)
          FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
          WHERE c.conrelid = a.attrelid AND c.contype = 'f' AND c.conkey = ARRAY[a.attnum] LIMIT 1) AS matched
  FROM pg_catalog.pg_attribute a
  WHERE a.attrelid = pg_catalog.to_regclass('storage.objects') AND a.attname IN ('owner', 'owner_id', 'user_metadata')
    AND NOT a.attisdropped AND a.attname IN (SELECT key FROM given)
)
SELECT CASE WHEN pg_catalog.count(*) = 0 THEN 'SELECT ''{"updated": 0, "unmatched": 0}''::jsonb' ELSE pg_catalog.format(
  'WITH given AS (SELECT * FROM pg_catalog.jsonb_to_recordset(%L::jsonb) AS r(name text, %s)), '
  'r AS (SELECT r.name, %s, %s AS unmatched FROM given AS r), '
  'changed AS (UPDATE storage.objects AS o SET %s FROM r WHERE o.bucket_id = %L AND o.name = r.name%s AND ROW(%s) IS DISTINCT FROM ROW(%s) RETURNING 1) '
  'SELECT pg_catalog.jsonb_build_object(''updated'', (SELECT pg_catalog.count(*) FROM changed), ''unmatched'', (SELECT pg_catalog.count(*) FROM r WHERE r.unmatched))',
  $2::jsonb::text,
  pg_catalog.string_agg(pg_catalog.format('%I %s', name, type), ', ' ORDER BY attnum),
  pg_catalog.string_agg(pg_catalog.format('%s AS %I', COALESCE(matched, pg_catalog.format('r.%I', name)), name), ', ' ORDER BY attnum),
  COALESCE(pg_catalog.string_agg(pg_catalog.format('(r.%I IS NOT NULL AND %s IS NULL)', name, matched), ' OR ') FILTER (WHERE matched IS NOT NULL), 'false'),
  pg_catalog.string_agg(pg_catalog.format('%I = r.%I', name, name), ', ' ORDER BY attnum),
  $1::text,
  (SELECT COALESCE(pg_catalog.string_agg(CASE a.attname WHEN 'archived_at' THEN ' AND o.archived_at IS NULL' ELSE ' AND NOT o.is_delete_marker' END, '' ORDER BY a.attname), '')
   FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = pg_catalog.to_regclass('storage.objects') AND a.attname IN ('archived_at', 'is_delete_marker') AND NOT a.attisdropped),
  pg_catalog.string_agg(pg_catalog.format('o.%I', name), ', ' ORDER BY attnum),
  pg_catalog.string_agg(pg_catalog.format('r.%I', name), ', ' ORDER BY attnum)) END
FROM settable
$set_file_owners_query$;

CREATE OR REPLACE FUNCTION public.supasync_set_file_owners(bucket text, owners jsonb)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $set_file_owners$
DECLARE
  outcome jsonb;
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.assert_sync_target();
  EXECUTE supasync_private.set_file_owners_query(bucket, owners) INTO outcome;
  RETURN outcome;
END
$set_file_owners$;

REVOKE ALL ON FUNCTION supasync_private.set_file_owners_query(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_set_file_owners(text, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_set_file_owners(text, jsonb) TO service_role;
