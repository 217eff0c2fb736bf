-- supasync: everything it reads, safe to install in production and staging.
-- Read-only functions: the catalog, pages of rows, counts, checksums, the
-- references between tables, sequences, and the sync-target mark's state.
--
-- PostgREST cannot read the system catalogs, so this function returns the
-- whole schema of the database as one JSON document: every table, its
-- columns (type, generated, identity, nullable, default), primary and unique
-- keys, foreign keys, owned sequences, triggers and a row estimate; and
-- every sequence with the columns that use it.
--
-- The direct PostgreSQL path runs the very same query (the text between the
-- $catalog$ markers), so both ways of reading a database give identical
-- catalogs. `search_path = ''` makes format_type() and pg_get_*def() qualify
-- every name the same way whoever calls it.
--
-- Every function here is SECURITY DEFINER: it reads as the role that
-- installed it (on Supabase `postgres`, which may read Auth's and Storage's
-- tables), not as service_role, which Supabase gives no privilege on `auth`'s
-- tables. They only read (STABLE: PostgreSQL refuses any write inside them),
-- and EXECUTE is for service_role alone. The catalog says which role it was
-- read as (`role`): over REST that owner, directly the connection's role.

-- Names and types as PostgreSQL prints them unquoted where they need no
-- quotes, whatever the database's quote_all_identifiers (the direct path
-- pins it for its session: pin_text_settings).
CREATE SCHEMA IF NOT EXISTS supasync_private;

-- Every supasync function callable over REST reads or writes past
-- row-level security, as its owner: Supabase's default privileges give
-- anon and authenticated EXECUTE on every new function in `public`, which
-- the migrations take back, but a user's own `GRANT EXECUTE ON ALL
-- FUNCTIONS IN SCHEMA public TO anon` gives it again (the anon key then read
-- production's auth.users and emptied staging's tables). So each one first
-- asks who called it: the role PostgREST switched to (the `role` setting,
-- which SECURITY DEFINER leaves as it was), else the session's; one that
-- may not bypass row-level security itself (anon, authenticated) is
-- refused, whatever grants say.
CREATE OR REPLACE FUNCTION supasync_private.assert_trusted_caller()
RETURNS boolean LANGUAGE plpgsql STABLE SET search_path = ''
AS $trusted_caller$
DECLARE
  caller text := COALESCE(NULLIF(pg_catalog.current_setting('role', true), 'none'), session_user);
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = caller AND (r.rolsuper OR r.rolbypassrls)) THEN
    RAISE EXCEPTION 'supasync''s functions read and write past row-level security, and % may not call them: only service_role (or another role that bypasses row-level security) may', caller
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Something granted EXECUTE on supasync''s functions to this role: npx tsx scripts/install-rpcs.ts takes it back.';
  END IF;
  RETURN true;
END
$trusted_caller$;

REVOKE ALL ON FUNCTION supasync_private.assert_trusted_caller() FROM PUBLIC;

-- The catalog itself, run by the REST function below and, as its text, by the direct path.
--
-- `schemas` (version 32): the schemas a run names. Their tables are listed
-- in full, with every table they reach along foreign keys and inheritance,
-- parents upward and children downward, in any schema (a parent --with-parents
-- copies, a child a replace's cascade or a mirror's delete reaches), and
-- Supabase's auth and storage tables; no other table is. Deparsing a table
-- costs the server about half a millisecond: a database of thousands of
-- tables in other schemas (a schema per tenant) took seconds to read for a
-- run of `public`, over REST near the 8 s a statement may take. NULL: every
-- table, as before version 32. The schemas, other relations, types and
-- sequences used by the tables listed are always there.
DROP FUNCTION IF EXISTS public.supasync_catalog();
DROP FUNCTION IF EXISTS supasync_private.catalog();
CREATE OR REPLACE FUNCTION supasync_private.catalog(schemas text[])
RETURNS jsonb LANGUAGE sql STABLE SET search_path = '' SET quote_all_identifiers = off
AS $catalog$
WITH RECURSIVE locked AS MATERIALIZED (
  -- Relations another session holds or waits for an ACCESS EXCLUSIVE lock
  -- on (a migration's ALTER TABLE, VACUUM FULL, an app's LOCK TABLE), a
  -- prepared transaction's included (version 26). Deparsing an expression
  -- over a table's columns (pg_get_expr given the table, a trigger's WHEN)
  -- takes the table's ACCESS SHARE lock and would wait behind it, and the
  -- whole catalog with it, though the run may not touch that table: those
  -- expressions are left out (null) for a table under such a lock, and said
  -- so where a check needs them (lib/plan/stricter.ts). A lock taken between
  -- this list and the deparse is still waited for.
  SELECT DISTINCT l.relation FROM pg_catalog.pg_locks l
  WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
    AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()
    AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
),
-- The tables of the schemas asked for (compared as the run may have
-- spelled them, case aside: more is harmless, less is not).
seeds AS (
  SELECT c.oid
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND pg_catalog.lower(n.nspname) = ANY (SELECT pg_catalog.lower(s) FROM pg_catalog.unnest($1::text[]) AS s)
),
-- Every foreign key and inheritance as child -> parent, a partition taken
-- for its partitioned table.
links AS MATERIALIZED (
  SELECT COALESCE(pg_catalog.pg_partition_root(con.conrelid), con.conrelid) AS child,
         COALESCE(pg_catalog.pg_partition_root(con.confrelid), con.confrelid) AS parent
  FROM pg_catalog.pg_constraint con
  WHERE con.contype = 'f' AND $1::text[] IS NOT NULL
  UNION
  SELECT i.inhrelid, i.inhparent
  FROM pg_catalog.pg_inherits i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.inhrelid AND NOT ic.relispartition
  WHERE $1::text[] IS NOT NULL
),
ancestors(oid) AS (
  SELECT seeds.oid FROM seeds
  UNION
  SELECT l.parent FROM ancestors a JOIN links l ON l.child = a.oid
),
descendants(oid) AS (
  SELECT seeds.oid FROM seeds
  UNION
  SELECT l.child FROM descendants d JOIN links l ON l.parent = d.oid
),
relations AS (
  SELECT c.oid, n.oid AS schema_nsp, n.nspname AS schema_name, c.relname AS table_name, c.relkind, c.relrowsecurity,
         c.relforcerowsecurity, c.relowner, c.reltuples, c.relpages, c.oid IN (SELECT locked.relation FROM locked) AS locked
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p')
    AND NOT c.relispartition
    AND ($1::text[] IS NULL OR n.nspname IN ('auth', 'storage')
         OR c.oid IN (SELECT ancestors.oid FROM ancestors) OR c.oid IN (SELECT descendants.oid FROM descendants))
    -- supasync_private is supasync's own bookkeeping (the sync-target mark), never data to copy.
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'supasync_private')
    AND n.nspname NOT LIKE 'pg\_temp\_%'
    AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
    -- tables that belong to an extension are the extension's business
    AND NOT EXISTS (
      SELECT FROM pg_catalog.pg_depend d
      WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
        AND d.objid = c.oid AND d.deptype = 'e'
    )
),
-- Each partitioned table's partitions, every level, with the table each is
-- attached to: walked through pg_inherits rather than listed by
-- pg_partition_tree(), which takes every partition's lock (see `locked`).
partition_tree(root, relid, parentrelid) AS (
  SELECT i.inhparent, i.inhrelid, i.inhparent
  FROM pg_catalog.pg_inherits i
  JOIN relations r ON r.oid = i.inhparent AND r.relkind = 'p'
  UNION ALL
  SELECT t.root, i.inhrelid, i.inhparent
  FROM partition_tree t
  JOIN pg_catalog.pg_inherits i ON i.inhparent = t.relid
),
-- Per partitioned table: its partitions, each with its bound as PostgreSQL
-- prints it ('FOR VALUES IN (2)', 'DEFAULT': a bound holds no column, so it
-- is deparsed without the partition, which would lock it); the rows its
-- leaves hold (-1 where one was never analyzed); every partition's oid.
partitioned AS MATERIALIZED (
  SELECT t.root,
         pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'name', pg_catalog.format('%I.%I', pn.nspname, pc.relname),
           'parent', pg_catalog.format('%I.%I', qn.nspname, qc.relname),
           'bound', pg_catalog.pg_get_expr(pc.relpartbound, 0)) ORDER BY pn.nspname, pc.relname) AS partitions,
         CASE WHEN bool_or(pc.reltuples < 0) FILTER (WHERE pc.relkind <> 'p') THEN -1
              ELSE COALESCE(sum(pc.reltuples) FILTER (WHERE pc.relkind <> 'p'), 0)::bigint END AS row_estimate,
         pg_catalog.array_agg(t.relid) AS relids
  FROM partition_tree t
  JOIN pg_catalog.pg_class pc ON pc.oid = t.relid
  JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
  JOIN pg_catalog.pg_class qc ON qc.oid = t.parentrelid
  JOIN pg_catalog.pg_namespace qn ON qn.oid = qc.relnamespace
  GROUP BY t.root
),
-- Each type the tables' columns use, with the types under it (a domain's
-- base, down to one that is not a domain): what binaryPortable below reads,
-- worked out once per type rather than per column.
under_domains(type_oid, under) AS (
  SELECT DISTINCT a.atttypid, a.atttypid
  FROM pg_catalog.pg_attribute a
  JOIN relations r ON r.oid = a.attrelid
  WHERE a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT u.type_oid, d.typbasetype FROM under_domains u
  JOIN pg_catalog.pg_type d ON d.oid = u.under AND d.typtype = 'd'
),
-- Materialized: referenced once, it would be inlined into the columns'
-- subquery and worked out again for every table (pg_type scanned 700 times
-- over in a GitLab-sized schema).
portable AS MATERIALIZED (
  SELECT u.type_oid, b.typtype = 'e' OR (COALESCE(el.typnamespace, b.typnamespace) = 'pg_catalog'::pg_catalog.regnamespace
    AND COALESCE(el.typname, b.typname) = ANY (ARRAY[
      'bool', 'bytea', 'char', 'name', 'text', 'varchar', 'bpchar', 'uuid', 'json', 'jsonb',
      'int2', 'int4', 'int8', 'oid', 'float4', 'float8', 'numeric', 'money',
      'date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval',
      'inet', 'cidr', 'macaddr', 'macaddr8', 'bit', 'varbit',
      'int4range', 'int8range', 'numrange', 'daterange', 'tsrange', 'tstzrange']::pg_catalog.name[])) AS portable
  FROM under_domains u
  JOIN pg_catalog.pg_type b ON b.oid = u.under AND b.typtype <> 'd'
  -- an array type is its element's typarray (int2vector and the like are not)
  LEFT JOIN pg_catalog.pg_type el ON el.oid = b.typelem AND el.typarray = b.oid
),
-- Every listed table's columns, built in one pass over pg_attribute for all
-- of them (version 35): a subquery per table joined all of pg_type and
-- `portable` afresh for each (a warm read of a small schema 45 ms, now 34).
table_columns AS MATERIALIZED (
  SELECT a.attrelid AS relid,
         pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'name', a.attname,
           'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
           'typeSchema', tn.nspname,
           'typeName', ty.typname,
           'typeKind', CASE ty.typtype
             WHEN 'b' THEN 'base' WHEN 'c' THEN 'composite' WHEN 'd' THEN 'domain'
             WHEN 'e' THEN 'enum' WHEN 'r' THEN 'range' WHEN 'm' THEN 'multirange'
             ELSE 'other' END,
           -- Whether the direct path may copy this column in COPY's binary
           -- format. A type's binary output and input are not inverse for
           -- every value (an empty tsquery, as plainto_tsquery('english',
           -- 'the') makes, is written and then refused), and some types
           -- send what means something else in another database (a
           -- regclass travels as its OID, not its name); pg_dump copies
           -- data as text for this reason. So binary is for the built-in
           -- types listed here alone, each of whose receive function reads
           -- back exactly what its send function wrote (proven value by
           -- value by the fixture's public.binary_zoo), through domains,
           -- and for arrays of them (an array carries its element's OID,
           -- equal everywhere for a built-in type). An enum travels as its
           -- label. Everything else (tsquery, tsvector, xml, reg*,
           -- geometric types, composites, arrays of user types, extension
           -- types such as citext, hstore or vector) goes as text.
           'binaryPortable', COALESCE(portable.portable, false),
           -- A NOT NULL added NOT VALID (PostgreSQL 18) sets attnotnull, but
           -- older rows may still hold NULL: such a column is nullable here
           -- (no key of it is a NOT NULL key).
           'nullable', NOT a.attnotnull OR EXISTS (
             SELECT FROM pg_catalog.pg_constraint nn
             WHERE nn.conrelid = a.attrelid AND nn.contype = 'n' AND NOT nn.convalidated AND a.attnum = ANY (nn.conkey)),
           -- The column's collation where it is nondeterministic (NULL: it
           -- compares bytes, or the type has none): values equal under one
           -- side's may differ under the other's (a case-insensitive one
           -- holds 'abc' and 'ABC' as one key). Deterministic collations
           -- differ in order alone, which no comparison here relies on.
           'collation', (
             SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN pg_catalog.quote_ident(co.collname)
                         ELSE pg_catalog.format('%I.%I', cn.nspname, co.collname) END
             FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
             WHERE co.oid = a.attcollation AND NOT co.collisdeterministic),
           -- A default holds no column: deparsed without the table (which would lock it).
           'default', CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, 0) END,
           'generated', CASE a.attgenerated WHEN 's' THEN 'stored' WHEN 'v' THEN 'virtual' END,
           -- null where the table is locked (see `locked` above): not compared
           'generationExpression', CASE WHEN a.attgenerated <> '' AND NOT r.locked THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END,
           'identity', CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END
         ) ORDER BY a.attnum) AS columns
  FROM relations r
  JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid
  JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
  JOIN pg_catalog.pg_namespace tn ON tn.oid = ty.typnamespace
  LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  LEFT JOIN portable ON portable.type_oid = a.atttypid
  WHERE a.attnum > 0 AND NOT a.attisdropped
  GROUP BY a.attrelid
)
SELECT pg_catalog.jsonb_build_object(
  'database', pg_catalog.current_database(),
  -- How the database stores and compares text (version 26): where the two
  -- sides' encodings, collations or character classes differ, lower(),
  -- to_tsvector() and what is built on them (generated columns, CHECKs,
  -- unique indexes) compute otherwise in staging; said before a run writes.
  -- Read through to_jsonb: the locale's column is daticulocale before
  -- PostgreSQL 17, datlocale since.
  'text', (SELECT pg_catalog.jsonb_build_object(
             'encoding', pg_catalog.pg_encoding_to_char(d.encoding),
             'collate', d.datcollate,
             'ctype', d.datctype,
             'provider', CASE j ->> 'datlocprovider' WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END,
             'locale', COALESCE(j ->> 'datlocale', j ->> 'daticulocale'))
           FROM pg_catalog.pg_database d CROSS JOIN LATERAL pg_catalog.to_jsonb(d) AS j
           WHERE d.datname = pg_catalog.current_database()),
  -- Who this server and database are, whatever address reached them: two
  -- connection strings or URLs for one database are caught by comparing these.
  'systemIdentifier', (SELECT system_identifier::text FROM pg_catalog.pg_control_system()),
  'databaseOid', (SELECT oid::text FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()),
  'serverVersion', pg_catalog.current_setting('server_version_num')::int,
  -- The role reading (see above): what `readable` and `rlsHidesRows` speak for.
  'role', current_user,
  -- Every schema but PostgreSQL's own, tables or not: --schemas tells one
  -- that exists and holds none yet from a typo.
  'schemas', (SELECT COALESCE(pg_catalog.jsonb_agg(n.nspname ORDER BY n.nspname), '[]') FROM pg_catalog.pg_namespace n
              WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'),
  -- The relations a user may name that are not tables supasync copies:
  -- views, materialized views, foreign tables and partitions (with the
  -- partitioned table whose rows they hold). --tables says what such a name
  -- is rather than "no such table", and a foreign table in a synced schema
  -- is named in the plan as not copied.
  'otherRelations', (
    SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'schema', n.nspname,
             'name', c.relname,
             'kind', CASE WHEN ext.name IS NOT NULL THEN 'extension table'
                          WHEN c.relispartition THEN 'partition'
                          WHEN c.relkind = 'v' THEN 'view'
                          WHEN c.relkind = 'm' THEN 'materialized view'
                          ELSE 'foreign table' END,
             'extension', ext.name,
             -- (version 40) A table pg_extension_config_dump marks: the rows
             -- its condition picks are the app's (what pg_dump copies).
             'configRows', ext.config,
             'partitionOf', CASE WHEN c.relispartition THEN (
               SELECT pg_catalog.jsonb_build_object('schema', rn.nspname, 'name', rc.relname)
               FROM pg_catalog.pg_class rc JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
               WHERE rc.oid = pg_catalog.pg_partition_root(c.oid)) END)
             ORDER BY n.nspname, c.relname), '[]')
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    -- The extension a table belongs to (its tables are the extension's to make and fill: never copied), if any.
    LEFT JOIN LATERAL (
      SELECT e.extname AS name, c.oid = ANY (e.extconfig) AS config
      FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
      WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e'
        AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
      LIMIT 1) ext ON true
    WHERE (c.relkind IN ('v', 'm', 'f') OR c.relkind IN ('r', 'p') AND (c.relispartition OR ext.name IS NOT NULL))
      AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'supasync_private')
      AND (ext.name IS NULL OR c.relkind IN ('r', 'p'))),
  'tables', COALESCE((
    SELECT pg_catalog.jsonb_agg(t ORDER BY t ->> 'schema', t ->> 'name')
    FROM (
      SELECT pg_catalog.jsonb_build_object(
        'schema', r.schema_name,
        'name', r.table_name,
        'kind', CASE r.relkind WHEN 'p' THEN 'partitioned' ELSE 'table' END,
        -- A partitioned table's partitions, every level: each with the
        -- partitioned table it is attached to and its bound as PostgreSQL
        -- prints it ('FOR VALUES IN (2)', 'DEFAULT'). A row production holds
        -- in a partition whose bound staging's tree lacks finds no partition
        -- there.
        'partitions', CASE WHEN r.relkind = 'p' THEN
          COALESCE((SELECT p.partitions FROM partitioned p WHERE p.root = r.oid), '[]') END,
        'rlsEnabled', r.relrowsecurity,
        -- Row-level security filters what the role reading this catalog sees
        -- of the table: it neither bypasses RLS nor owns the table (owners
        -- are exempt unless FORCE ROW LEVEL SECURITY).
        'rlsHidesRows', r.relrowsecurity AND NOT (
          SELECT rolsuper OR rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user
        ) AND (r.relforcerowsecurity OR NOT pg_catalog.pg_has_role(r.relowner, 'USAGE')),
        -- Whether that role may read every column at all: a run refuses a
        -- table it could not read before it empties staging's copy.
        'readable', pg_catalog.has_schema_privilege(r.schema_nsp, 'USAGE') AND (
          pg_catalog.has_table_privilege(r.oid, 'SELECT') OR NOT EXISTS (
            SELECT FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
              AND NOT pg_catalog.has_column_privilege(r.oid, a.attnum, 'SELECT'))),
        -- Without SELECT on the table, the columns the role may not read
        -- either (version 25): the refusal names them, and the GRANT that
        -- fixes it. NULL: it holds SELECT on the table.
        -- Whether it may use the table's schema (version 26): a role lacking
        -- that and SELECT too needs both GRANTs.
        'schemaUsable', pg_catalog.has_schema_privilege(r.schema_nsp, 'USAGE'),
        'unreadableColumns', CASE WHEN NOT pg_catalog.has_table_privilege(r.oid, 'SELECT') THEN (
          SELECT COALESCE(pg_catalog.jsonb_agg(a.attname ORDER BY a.attnum), '[]'::jsonb)
          FROM pg_catalog.pg_attribute a
          WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
            AND NOT pg_catalog.has_column_privilege(r.oid, a.attnum, 'SELECT')) END,
        -- reltuples is -1 until the table was first analyzed or vacuumed;
        -- a partitioned table holds no rows of its own, its partitions do.
        -- (Each case its own query: one condition OR-ing both scanned all of
        -- pg_class for every table.)
        'rowEstimate', CASE WHEN r.relkind = 'r' THEN CASE WHEN r.reltuples < 0 THEN -1 ELSE r.reltuples::bigint END
          ELSE COALESCE((SELECT p.row_estimate FROM partitioned p WHERE p.root = r.oid), 0) END,
        -- Its blocks by the same statistics (0 until counted; none for a partitioned table): a large table's
        -- questions over REST are asked in slices of them.
        'pages', CASE WHEN r.relkind = 'r' THEN r.relpages END,
        'columns', COALESCE(tc.columns, '[]'::jsonb),
        'primaryKey', (
          SELECT pg_catalog.jsonb_build_object(
            'name', con.conname,
            'columns', (
              SELECT pg_catalog.jsonb_agg(a.attname ORDER BY k.ord)
              FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum = k.attnum
            ))
          FROM pg_catalog.pg_constraint con
          -- Not a key WITHOUT OVERLAPS (PostgreSQL 18; version 31): its rows
          -- conflict by overlapping ranges, which no ON CONFLICT matches on,
          -- so it holds rows apart as an exclusion constraint does
          -- (enforcedIndexes) and the table has no key to match rows on.
          WHERE con.conrelid = r.oid AND con.contype = 'p' AND con.conexclop IS NULL
        ),
        -- The table's CHECK constraints (version 24): one staging has and
        -- production lacks may refuse production's rows, asked of them before
        -- anything is written (lib/engine/stricter-staging.ts).
        'checks', (
          SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
            'name', con.conname,
            -- null where the table is locked (see `locked` above)
            'expression', CASE WHEN NOT r.locked THEN pg_catalog.pg_get_expr(con.conbin, con.conrelid) END,
            -- the columns it reads (version 26): one only staging has is not copied
            'columns', (SELECT COALESCE(pg_catalog.jsonb_agg(a.attname ORDER BY a.attnum), '[]'::jsonb)
                        FROM pg_catalog.pg_attribute a WHERE a.attrelid = r.oid AND a.attnum = ANY (con.conkey)),
            'validated', con.convalidated) ORDER BY con.conname), '[]'::jsonb)
          FROM pg_catalog.pg_constraint con
          WHERE con.conrelid = r.oid AND con.contype = 'c'
        ),
        -- Unique indexes usable as an ON CONFLICT target: no expression, no
        -- predicate. Their key columns alone: `UNIQUE (email) INCLUDE (name)`
        -- is unique by email, its INCLUDE columns merely stored alongside
        -- (indkey lists them after the first indnkeyatts).
        'uniqueKeys', (
          SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
            'name', ic.relname,
            'columns', (
              SELECT pg_catalog.jsonb_agg(a.attname ORDER BY k.ord)
              FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum = k.attnum
            ),
            'nullsNotDistinct', i.indnullsnotdistinct
          ) ORDER BY ic.relname), '[]'::jsonb)
          FROM pg_catalog.pg_index i
          JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
          WHERE i.indrelid = r.oid AND i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
            AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indisvalid
        ),
        -- Every column a unique index holds, partial and expression ones
        -- included (`UNIQUE (sku) WHERE deleted_at IS NULL`, `lower(username)`;
        -- not a predicate's columns): no ON CONFLICT target, but masked values
        -- there must stay apart all the same. An expression's columns are the
        -- variables of its stored tree.
        'uniqueColumns', (
          SELECT COALESCE(pg_catalog.jsonb_agg(DISTINCT a.attname), '[]'::jsonb)
          FROM pg_catalog.pg_index i
          CROSS JOIN LATERAL (
            SELECT k.attnum FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) AS k(attnum) WHERE k.attnum > 0
            UNION
            SELECT v[1]::int2 FROM pg_catalog.regexp_matches(COALESCE(i.indexprs::text, ''), ':varattno (\d+)', 'g') AS v
          ) held
          JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum = held.attnum
          WHERE i.indrelid = r.oid AND i.indisunique
        ),
        -- Every rule an index enforces over the table's rows (version 25):
        -- unique indexes (primary, partial, on expressions) and exclusion
        -- constraints, each key column by name (NULL for an expression) with
        -- the operator an exclusion compares it by and the collation where
        -- it is not the column's own. Expressions and predicates come as
        -- their stored trees (positions in the statement that made them
        -- left out), never deparsed: pg_get_expr and pg_get_indexdef wait
        -- for the table's lock, and the catalog must not stop behind an
        -- app's ACCESS EXCLUSIVE lock. One staging has and production lacks
        -- may refuse production's rows: asked of them before anything is
        -- written where its key is plain columns (lib/plan/stricter-indexes.ts).
        'enforcedIndexes', (
          SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
            'name', ic.relname,
            'kind', CASE WHEN xc.oid IS NOT NULL THEN 'exclusion' WHEN i.indisprimary THEN 'primary' ELSE 'unique' END,
            'valid', i.indisvalid,
            'columns', (
              SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                'column', a.attname,
                'operator', (SELECT pg_catalog.format('%I.%s', opn.nspname, op.oprname)
                             FROM pg_catalog.pg_operator op JOIN pg_catalog.pg_namespace opn ON opn.oid = op.oprnamespace
                             WHERE op.oid = xc.conexclop[k.ord]),
                'collation', (SELECT pg_catalog.format('%I.%I', cn.nspname, co.collname)
                              FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                              WHERE co.oid = (i.indcollation::oid[])[k.ord - 1] AND co.oid IS DISTINCT FROM a.attcollation)) ORDER BY k.ord)
              FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, ord)
              LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum = k.attnum AND k.attnum > 0),
            'expressions', pg_catalog.regexp_replace(i.indexprs::text, ' :location -?\d+', '', 'g'),
            'predicate', pg_catalog.regexp_replace(i.indpred::text, ' :location -?\d+', '', 'g'),
            -- The same deparsed (version 26), which the sides are compared by:
            -- a tree names types, functions and enum labels by object ids,
            -- which differ between two databases. Not where the table is
            -- locked (see `locked` above).
            'expressionsText', CASE WHEN i.indexprs IS NOT NULL AND NOT r.locked THEN pg_catalog.pg_get_expr(i.indexprs, i.indrelid) END,
            'predicateText', CASE WHEN i.indpred IS NOT NULL AND NOT r.locked THEN pg_catalog.pg_get_expr(i.indpred, i.indrelid) END,
            'nullsNotDistinct', i.indnullsnotdistinct,
            'withoutOverlaps', COALESCE(xc.contype IN ('p', 'u'), false)
          ) ORDER BY ic.relname), '[]'::jsonb)
          FROM pg_catalog.pg_index i
          JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
          -- An exclusion constraint, or a key WITHOUT OVERLAPS (version 31), which is one.
          LEFT JOIN pg_catalog.pg_constraint xc ON xc.conindid = i.indexrelid AND xc.conexclop IS NOT NULL AND xc.conrelid = r.oid
          WHERE i.indrelid = r.oid AND (i.indisunique OR xc.oid IS NOT NULL)
        ),
        -- Foreign keys declared on the table, and those declared on its
        -- partitions (each partition its own constraint, as PostgreSQL 10
        -- required): for the load order they are the table's. Partitions that
        -- declare the same key (one definition) give one entry listing each
        -- partition with its constraint's name, which DDL must use. A key to
        -- a partition counts as one to the partitioned table listed here.
        'foreignKeys', (
          SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
            'name', con.conname,
            'columns', (
              SELECT pg_catalog.jsonb_agg(a.attname ORDER BY k.ord)
              FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
              WHERE NOT (temporal.period AND k.ord = pg_catalog.cardinality(con.conkey))
            ),
            'referencedSchema', fn.nspname,
            'referencedTable', fc.relname,
            'referencedColumns', (
              SELECT pg_catalog.jsonb_agg(a.attname ORDER BY k.ord)
              FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
              WHERE NOT (temporal.period AND k.ord = pg_catalog.cardinality(con.confkey))
            ),
            'period', temporal.period,
            'referencedPartition', CASE WHEN fc.oid <> con.confrelid THEN pg_catalog.jsonb_build_object('schema', pn.nspname, 'name', pc.relname) END,
            'deferrable', con.condeferrable,
            'initiallyDeferred', con.condeferred,
            'definition', declared.definition,
            'declaredOn', declared.partitions
          ) ORDER BY con.conname, declared.definition), '[]'::jsonb)
          FROM (
            SELECT pg_catalog.pg_get_constraintdef(dc.oid) AS definition,
                   (pg_catalog.array_agg(dc.oid ORDER BY dc.conname, dn.nspname, dr.relname))[1] AS oid,
                   COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('schema', dn.nspname, 'name', dr.relname, 'constraint', dc.conname)
                     ORDER BY dn.nspname, dr.relname, dc.conname) FILTER (WHERE dc.conrelid <> r.oid), '[]'::jsonb) AS partitions
            FROM pg_catalog.pg_constraint dc
            JOIN pg_catalog.pg_class dr ON dr.oid = dc.conrelid
            JOIN pg_catalog.pg_namespace dn ON dn.oid = dr.relnamespace
            -- a foreign key to a partitioned table is repeated per partition, as is one
            -- declared on a partitioned table: keep the original (conparentid = 0)
            WHERE dc.contype = 'f' AND dc.conparentid = 0
              -- = ANY of the table and its partitions, through conrelid's index (an OR scanned all of pg_constraint per table)
              AND dc.conrelid = ANY (CASE WHEN r.relkind = 'p' THEN ARRAY[r.oid] || COALESCE((SELECT p.relids FROM partitioned p WHERE p.root = r.oid), '{}')
                                          ELSE ARRAY[r.oid] END)
            -- one entry per definition among the partitions; each of the table's own keys alone
            GROUP BY 1, CASE WHEN dc.conrelid = r.oid THEN dc.oid END
          ) declared
          -- Looked up by its oid (version 35): joined, it was found by reading
          -- all of pg_constraint once per table.
          CROSS JOIN LATERAL (SELECT c.* FROM pg_catalog.pg_constraint c WHERE c.oid = declared.oid OFFSET 0) con
          -- A key with PERIOD (PostgreSQL 18; version 31) ties its last
          -- column's range to the union of its parents' ranges, a containment
          -- no equality check can make: the key is listed without that pair
          -- of columns, so every check of parents (before writing, after, in
          -- verify) asks for a parent row with the columns before it alone.
          -- conperiod is read from the row, as older servers lack the column.
          CROSS JOIN LATERAL (SELECT COALESCE((pg_catalog.to_jsonb(con) ->> 'conperiod')::boolean, false) AS period) temporal
          JOIN pg_catalog.pg_class pc ON pc.oid = con.confrelid
          JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
          JOIN pg_catalog.pg_class fc ON fc.oid = COALESCE(pg_catalog.pg_partition_root(con.confrelid), con.confrelid)
          JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
        ),
        'sequences', (
          SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
            'schema', sn.nspname,
            'name', s.relname,
            'column', a.attname
          ) ORDER BY a.attnum), '[]'::jsonb)
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
          JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
          JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
          WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
            AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
            AND d.refobjid = r.oid AND d.deptype IN ('a', 'i')
        ),
        -- Tables that INHERIT from this one (not its partitions): a query of
        -- it reads their rows too, and TRUNCATE empties them.
        'inheritedBy', (
          SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.format('%I.%I', cn.nspname, cc.relname) ORDER BY cn.nspname, cc.relname), '[]'::jsonb)
          FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class cc ON cc.oid = i.inhrelid
          JOIN pg_catalog.pg_namespace cn ON cn.oid = cc.relnamespace
          WHERE i.inhparent = r.oid AND NOT cc.relispartition
        ),
        -- A partitioned table whose every leaf partition has a row trigger
        -- of its own that fires before every UPDATE in ordinary sessions,
        -- with no WHEN (version 26): its rows are stamped though the table
        -- itself has none (lib/plan/plan.ts stampedOnUpdate).
        'leavesStampedOnUpdate', CASE WHEN r.relkind = 'p' THEN
          EXISTS (SELECT FROM partition_tree t WHERE t.root = r.oid) AND NOT EXISTS (
            SELECT FROM partition_tree t
            JOIN pg_catalog.pg_class pc ON pc.oid = t.relid AND pc.relkind <> 'p'
            WHERE t.root = r.oid AND NOT EXISTS (
              SELECT FROM pg_catalog.pg_trigger tg
              WHERE tg.tgrelid = t.relid AND NOT tg.tgisinternal AND (tg.tgtype & 19) = 19
                AND pg_catalog.cardinality(tg.tgattr::pg_catalog.int2[]) = 0 AND tg.tgenabled IN ('O', 'A') AND tg.tgqual IS NULL)) END,
        'triggers', (
          SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
            'name', tg.tgname,
            'enabled', tg.tgenabled <> 'D',
            -- a WHEN clause is deparsed over the table's columns: null where the table is locked
            'definition', CASE WHEN tg.tgqual IS NULL OR NOT r.locked THEN pg_catalog.pg_get_triggerdef(tg.oid) END,
            -- (version 26) FOR EACH ROW (1), BEFORE (2), UPDATE (16), not
            -- UPDATE OF some columns; fired in ordinary sessions (not
            -- ENABLE REPLICA); with a WHEN clause: what may stamp updated_at.
            'beforeEachUpdate', (tg.tgtype & 19) = 19 AND pg_catalog.cardinality(tg.tgattr::pg_catalog.int2[]) = 0,
            'firesInSessions', tg.tgenabled IN ('O', 'A'),
            'conditional', tg.tgqual IS NOT NULL,
            -- (version 37) the tables its function's body names after INSERT
            -- INTO, as written there (quoted or not, with a schema or not):
            -- what a sync, which fires no trigger, leaves unmade
            -- (lib/plan/untriggered-rows.ts). Read from the text, not parsed.
            -- (version 44) Its comments and string literals left out first
            -- (no backslash in that pattern: a role whose
            -- standard_conforming_strings is off reads one as an escape).
            'inserts', (
              SELECT COALESCE(pg_catalog.jsonb_agg(DISTINCT m.found[1]), '[]'::jsonb)
              FROM pg_catalog.pg_proc p
              CROSS JOIN LATERAL pg_catalog.regexp_replace(p.prosrc, '--[^\n]*|/[*][^*]*[*]+(?:[^/*][^*]*[*]+)*/|''(?:[^'']|'''')*''', ' ', 'g') AS b(body)
              CROSS JOIN LATERAL pg_catalog.regexp_matches(b.body,
                '\minsert\s+into\s+((?:"(?:[^"]|"")+"|[[:alnum:]_$]+)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[[:alnum:]_$]+))?)', 'gi') AS m(found)
              WHERE p.oid = tg.tgfoid),
            -- (version 42) the tables its function's body names after UPDATE
            -- (ONLY): counts and totals kept in other tables as rows come and
            -- go (a post's author's post_count), stale in staging for the rows a
            -- sync copies outside the tables it writes. Read as `inserts` is;
            -- (version 44) an INSERT ... ON CONFLICT ... DO UPDATE counts too
            -- (a counts table kept by upserts).
            'updates', (
              SELECT COALESCE(pg_catalog.jsonb_agg(DISTINCT COALESCE(m.found[1], m.found[2])), '[]'::jsonb)
              FROM pg_catalog.pg_proc p
              CROSS JOIN LATERAL pg_catalog.regexp_replace(p.prosrc, '--[^\n]*|/[*][^*]*[*]+(?:[^/*][^*]*[*]+)*/|''(?:[^'']|'''')*''', ' ', 'g') AS b(body)
              CROSS JOIN LATERAL pg_catalog.regexp_matches(b.body,
                '\mupdate\s+(?:only\s+)?((?:"(?:[^"]|"")+"|[[:alnum:]_$]+)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[[:alnum:]_$]+))?)\s+(?:as\s+)?(?:"(?:[^"]|"")+"\s+|[[:alnum:]_$]+\s+)?set\M'
                '|\minsert\s+into\s+((?:"(?:[^"]|"")+"|[[:alnum:]_$]+)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[[:alnum:]_$]+))?)[^;]*\mon\s+conflict\M[^;]*\mdo\s+update\M', 'gi') AS m(found)
              WHERE p.oid = tg.tgfoid),
            -- (version 38) the columns its function sets in NEW, where the
            -- text tells: a plpgsql body's `NEW.col := ...` (or `=`) begun as
            -- a statement (its comments left out), moddatetime's argument;
            -- null for a function in another language. What tells a trigger
            -- that stamps updated_at from one that only guards the row
            -- (lib/plan/changed-column.ts stampedOnUpdate).
            'stamps', (
              SELECT CASE
                WHEN p.proname = 'moddatetime' THEN (
                  SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.quote_ident(a.arg)), '[]'::jsonb)
                  FROM pg_catalog.unnest(pg_catalog.regexp_split_to_array(pg_catalog.encode(tg.tgargs, 'escape'), '\\000')) AS a(arg)
                  WHERE a.arg <> '')
                WHEN l.lanname = 'plpgsql' THEN (
                  SELECT COALESCE(pg_catalog.jsonb_agg(DISTINCT m.found[1]), '[]'::jsonb)
                  FROM pg_catalog.regexp_matches(pg_catalog.regexp_replace(p.prosrc, '--[^\n]*', '', 'g'),
                    '(?:^|;|\mthen|\melse|\mbegin|\mloop)\s*new\s*\.\s*("(?:[^"]|"")+"|[[:alnum:]_$]+)\s*:?=', 'gi') AS m(found))
              END
              FROM pg_catalog.pg_proc p
              JOIN pg_catalog.pg_language l ON l.oid = p.prolang
              WHERE p.oid = tg.tgfoid)
          ) ORDER BY tg.tgname), '[]'::jsonb)
          FROM pg_catalog.pg_trigger tg
          WHERE tg.tgrelid = r.oid AND NOT tg.tgisinternal
        )
      ) AS t
      FROM relations r
      LEFT JOIN table_columns tc ON tc.relid = r.oid
      -- OFFSET 0 keeps this subquery whole: pulled up, each table's object
      -- would be built again for every sort key of the aggregate above.
      OFFSET 0
    ) tables
  ), '[]'::jsonb),
  -- Every enum's labels, every composite type's attributes (CREATE TYPE
  -- ... AS) and every domain's base, outside the system's schemas and
  -- extensions: a column of
  -- the same type name on both sides may still hold values one side
  -- refuses or reads otherwise (a label staging lacks, an attribute
  -- narrower, another, or in another place), which the drift check compares.
  'types', COALESCE((
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
      'name', pg_catalog.format_type(t.oid, NULL),
      'labels', CASE WHEN t.typtype = 'e' THEN COALESCE((
        SELECT pg_catalog.jsonb_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid), '[]'::jsonb) END,
      'attributes', CASE WHEN t.typtype = 'c' THEN COALESCE((
        SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', a.attname, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum)
        FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '[]'::jsonb) END,
      -- A domain: what it is over, down to a type that is not one
      -- ('public.amount_d -> numeric(12,4)'): a narrower numeric or
      -- timestamp on one side rounds values as they are written.
      'base', CASE WHEN t.typtype = 'd' THEN (
        WITH RECURSIVE chain AS (
          SELECT t.typbasetype AS oid, t.typtypmod AS typmod, 1 AS depth
          UNION ALL
          SELECT b.typbasetype, b.typtypmod, chain.depth + 1
          FROM chain JOIN pg_catalog.pg_type b ON b.oid = chain.oid AND b.typtype = 'd'
        )
        SELECT pg_catalog.string_agg(pg_catalog.format_type(chain.oid, chain.typmod), ' -> ' ORDER BY chain.depth) FROM chain) END,
      -- A domain's own CHECKs and NOT NULL (version 24): one staging has and
      -- production lacks may refuse production's values, asked of them
      -- before anything is written (lib/plan/stricter.ts).
      'checks', CASE WHEN t.typtype = 'd' THEN (
        SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                 'name', c.conname, 'expression', pg_catalog.pg_get_expr(c.conbin, 0), 'validated', c.convalidated) ORDER BY c.conname), '[]'::jsonb)
        FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c') END,
      'notNull', CASE WHEN t.typtype = 'd' THEN t.typnotnull END
    ) ORDER BY tn.nspname, t.typname)
    FROM pg_catalog.pg_type t
    JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
    WHERE (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND EXISTS (SELECT FROM pg_catalog.pg_class tc WHERE tc.oid = t.typrelid AND tc.relkind = 'c')))
      AND tn.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'supasync_private')
      AND tn.nspname NOT LIKE 'pg\_temp\_%'
      AND NOT EXISTS (
        SELECT FROM pg_catalog.pg_depend d
        WHERE d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.objid = t.oid AND d.deptype = 'e'
      )
  ), '[]'::jsonb),
  -- Every sequence, with the columns that draw from it: the one that owns
  -- it (serial, identity) and any whose default calls nextval() on it, as
  -- hand-written and Rails/Django-era schemas do without OWNED BY. One no
  -- column uses (a function's counter) has an empty `usedBy`. A partition's
  -- column counts as its partitioned table's. Values are read apart, after
  -- the rows (a sequence is not transactional: read later, it is at least
  -- as far as every row copied).
  'sequences', COALESCE((
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
      'schema', sn.nspname,
      'name', s.relname,
      'increment', sq.seqincrement::text,
      'readable', pg_catalog.has_sequence_privilege(s.oid, 'SELECT'),
      -- What CREATE SEQUENCE makes it again, for a staging that lacks one an
      -- app made as it ran (functions version 22).
      'definition', pg_catalog.jsonb_build_object(
        'type', pg_catalog.format_type(sq.seqtypid, NULL), 'increment', sq.seqincrement::text,
        'min', sq.seqmin::text, 'max', sq.seqmax::text, 'start', sq.seqstart::text, 'cache', sq.seqcache::text, 'cycle', sq.seqcycle),
      'usedBy', COALESCE((
        SELECT pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_object(
          'schema', un.nspname, 'table', uc.relname, 'column', ua.attname, 'owned', u.owned))
        FROM (
          SELECT d.refobjid AS relid, d.refobjsubid AS attnum, true AS owned
          FROM pg_catalog.pg_depend d
          WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = s.oid
            AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
          UNION ALL
          SELECT ad.adrelid, ad.adnum, false
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_attrdef ad ON ad.oid = d.objid
          WHERE d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
            AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = s.oid
        ) u
        JOIN pg_catalog.pg_attribute ua ON ua.attrelid = u.relid AND ua.attnum = u.attnum
        JOIN pg_catalog.pg_class uc ON uc.oid = COALESCE(pg_catalog.pg_partition_root(u.relid), u.relid)
        JOIN pg_catalog.pg_namespace un ON un.oid = uc.relnamespace
      ), '[]'::jsonb)
    ) ORDER BY sn.nspname, s.relname)
    FROM pg_catalog.pg_class s
    JOIN pg_catalog.pg_sequence sq ON sq.seqrelid = s.oid
    JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
    WHERE s.relkind = 'S'
      -- With `schemas` (version 32): those in a listed table's schema, and those a listed table's column draws from.
      AND ($1::text[] IS NULL OR s.relnamespace IN (SELECT r.schema_nsp FROM relations r) OR EXISTS (
        SELECT FROM pg_catalog.pg_depend d
        WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = s.oid
          AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid IN (SELECT r.oid FROM relations r)) OR EXISTS (
        SELECT FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_attrdef ad ON ad.oid = d.objid
        WHERE d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
          AND d.refobjid = s.oid AND COALESCE(pg_catalog.pg_partition_root(ad.adrelid), ad.adrelid) IN (SELECT r.oid FROM relations r)))
      AND sn.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'supasync_private')
      AND sn.nspname NOT LIKE 'pg\_temp\_%'
      AND NOT EXISTS (
        SELECT FROM pg_catalog.pg_depend d
        WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
          AND d.objid = s.oid AND d.deptype = 'e'
      )
  ), '[]'::jsonb)
)
$catalog$;

REVOKE ALL ON FUNCTION supasync_private.catalog(text[]) FROM PUBLIC;

-- Version 22 and before were SQL functions holding the query themselves;
-- version 31 and before took no `schemas` (every table).
CREATE OR REPLACE FUNCTION public.supasync_catalog(schemas text[] DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $catalog_rpc$
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  RETURN supasync_private.catalog(schemas);
END
$catalog_rpc$;

-- Supabase grants EXECUTE on new functions in `public` to anon and
-- authenticated by default: take it back, only the service role may read this.
REVOKE ALL ON FUNCTION public.supasync_catalog(text[]) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_catalog(text[]) TO service_role;

-- ------------------------------------------------------------ queries both paths run
-- Each query that the REST path runs through a function here and the direct
-- path runs over its own connection is built in one place: a function of
-- supasync_private that returns the query's text and reads nothing but its
-- arguments and the system catalogs. The RPCs EXECUTE what it builds. The
-- direct path, which needs nothing installed, runs the builder's body itself
-- (lib/sql/shared.ts reads it from this file by its $tag$), then the query it
-- returns. The two paths are equal by construction, not by a test.
-- The bodies name their arguments $1, $2, ... with their types, so they run
-- as a plain query too, and use only pg_catalog.
-- A table's rows are its own (`own.rows` in the builders, own_rows below):
-- `ONLY` where other tables INHERIT from it, for a query of it reads their
-- rows too and a DELETE or TRUNCATE of it empties them; never for a
-- partitioned table, whose rows are its partitions'. Each builder looks it
-- up itself, so each side answers for its own tables.

CREATE SCHEMA IF NOT EXISTS supasync_private;

CREATE OR REPLACE FUNCTION supasync_private.own_rows(relation regclass)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $own_rows$
SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'r'
                         WHERE i.inhparent = $1::pg_catalog.regclass)
            THEN 'ONLY ' ELSE '' END || $1::pg_catalog.regclass::text
$own_rows$;

-- ROW(columns)::text in the checksum: see supasync_checksum below.
-- `row_filter` (version 27): only the rows it picks, a slice of a large
-- table's blocks over REST, whose answers add up (rest/checksum-slices.ts).
-- `column_types` (version 36), beside `columns`: a column is hashed cast to
-- the type given for it (NULL: as it is). Verify gives production's column
-- staging's type where staging's keeps the value but writes it otherwise
-- (a timestamp made timestamptz: '10:00:00' and '10:00:00+00'), so the
-- two sides' text of a value a sync copied is the same
-- (plan/compared-types.ts).
DROP FUNCTION IF EXISTS supasync_private.checksum_query(text, text, text[], text[], integer, integer[], integer);
DROP FUNCTION IF EXISTS supasync_private.checksum_query(text, text, text[], text[], integer, integer[], integer, text);
CREATE OR REPLACE FUNCTION supasync_private.checksum_query(
  table_schema text, table_name text, columns text[], key_columns text[], buckets integer, only_buckets integer[], row_limit integer,
  row_filter text, column_types text[])
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $checksum_query$
-- Each column as the row's text names it: cast where a type is given. The
-- types verify casts to are numbers' and times' as format_type writes them,
-- modifiers included (numeric(12,4), timestamp with time zone[]), taken as
-- written where they are exactly such a name; any other is read as a
-- regtype (a name the server parsed), so no text of the caller's reaches
-- the query but a type's name.
WITH typed AS (
  SELECT u.c, u.o, CASE WHEN u.t IS NULL THEN pg_catalog.format('%I', u.c)
                        WHEN u.t ~ '^(numeric|real|double precision|timestamp|time)(\([0-9]+(,[0-9]+)?\))?( with time zone| without time zone)?(\[\])*$'
                          THEN pg_catalog.format('%I::%s', u.c, u.t)
                        ELSE pg_catalog.format('%I::%s', u.c, u.t::pg_catalog.regtype) END AS text
  FROM ROWS FROM (pg_catalog.unnest($3::text[]), pg_catalog.unnest($9::text[])) WITH ORDINALITY AS u(c, t, o)
  WHERE u.c IS NOT NULL
)
SELECT CASE
  WHEN $5::integer IS NULL THEN pg_catalog.format(
    'SELECT jsonb_build_object(''rows'', count(*)::text, ''hash'', COALESCE(sum(%s), 0)::text) FROM %s WHERE %s',
    row_hash, own.rows, COALESCE($8::text, 'true'))
  WHEN $6::integer[] IS NULL THEN pg_catalog.format(
    'SELECT COALESCE(jsonb_agg(jsonb_build_object(''bucket'', b, ''rows'', n::text, ''hash'', h::text) ORDER BY b), ''[]'') FROM (
       SELECT b, count(*) AS n, sum(row_hash) AS h FROM (SELECT %s AS b, %s AS row_hash FROM %s WHERE %s OFFSET 0) hashed GROUP BY 1) s',
    bucket, row_hash, own.rows, COALESCE($8::text, 'true'))
  ELSE pg_catalog.format(
    'SELECT COALESCE(jsonb_agg(jsonb_build_object(''key'', k, ''hash'', h)), ''[]'') FROM (
       SELECT %s AS k, left(md5(%s), 15) AS h FROM %s WHERE %s = ANY(%L::int[]) AND (%s) LIMIT %s) s',
    key_text, row_text, own.rows, bucket, $6::integer[], COALESCE($8::text, 'true'), COALESCE($7::integer, 1000))
END
FROM (
  SELECT row_text, key_text,
         pg_catalog.format('((''x'' || left(md5(%s), 4))::bit(16)::int %% %s)', key_text, COALESCE($5::integer, 1)) AS bucket,
         pg_catalog.format('(''x'' || left(md5(%s), 15))::bit(60)::bigint', row_text) AS row_hash
  FROM (
    SELECT whole.text AS row_text, COALESCE(keyed.text, whole.text) AS key_text
    FROM (SELECT 'ROW(' || COALESCE(pg_catalog.string_agg(typed.text, ', ' ORDER BY typed.o), '') || ')::text' AS text
          FROM typed) whole,
         (SELECT 'ROW(' || pg_catalog.string_agg(COALESCE(typed.text, pg_catalog.format('%I', u.c)), ', ' ORDER BY u.o) || ')::text' AS text
          FROM pg_catalog.unnest($4::text[]) WITH ORDINALITY AS u(c, o) LEFT JOIN typed ON typed.c = u.c) keyed
  ) texts
) parts,
(SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'r'
                        WHERE i.inhparent = pg_catalog.format('%I.%I', $1::text, $2::text)::pg_catalog.regclass)
             THEN 'ONLY ' ELSE '' END || pg_catalog.format('%I.%I', $1::text, $2::text) AS rows) own
$checksum_query$;

-- Key ranges, for a re-sync to find what changed (lib/engine/changed-ranges.ts).
-- A row's key hash is a 64-bit hash of its key columns, and its row hash one
-- of the columns compared: hash_array_extended over each column's binary
-- form (its type's send function, as COPY BINARY writes it; NULL hashes
-- apart from empty) where the caller copies the table in binary
-- (`use_binary`: built-in types whose binary form reads back what it wrote),
-- else hashtextextended of ROW(...)::text, as verify sees rows. Both are the
-- server's own hash functions, a few times cheaper per row than md5 of the
-- row's text, and the same on any server of these versions: production and
-- staging hash alike. A row's range at `bits` bits is the first `bits` bits
-- of its key hash (at 64, the key hash itself), so each range splits into
-- 2^k ranges at `bits + k` and a difference narrows level by level.
-- hash_expression and range_expression are the one source of those
-- expressions; the builders below take what they return (the direct path
-- runs each builder's body alone, so none calls another), and
-- tests/resync-ranges.test.ts holds the filter and the sums to them.

-- Earlier builds of version 3 hashed md5 of the key's text, and took other
-- arguments: dropped.
DROP FUNCTION IF EXISTS public.supasync_key_range_filter(text[], integer, bigint[]);
DROP FUNCTION IF EXISTS supasync_private.key_range_filter(text[], integer, bigint[]);
DROP FUNCTION IF EXISTS supasync_private.range_sums_query(text, text, text[], text[], integer, text, boolean);

-- The expression that hashes `columns` of a row of the table (see above).
-- `column_types` (version 36): as checksum_query's, each column's text
-- hashed cast to the type beside it (a re-sync of a column whose type
-- staging changed, hashed as staging writes it: plan/compared-types.ts);
-- only where not binary, which types that differ never are.
DROP FUNCTION IF EXISTS supasync_private.hash_expression(text, text, text[], boolean);
CREATE OR REPLACE FUNCTION supasync_private.hash_expression(table_schema text, table_name text, columns text[], use_binary boolean, column_types text[])
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $hash_expression$
SELECT CASE WHEN $4::boolean
  THEN 'pg_catalog.hash_array_extended(ARRAY[' ||
       -- Only where binary: a type with no send function (cube) has no name to format, and the aggregate runs whatever CASE picks.
       pg_catalog.string_agg(CASE
         -- An array's has-nulls flag (its second word) tells whether the
         -- value carries a null bitmap, which a slice keeps from its source
         -- ((ARRAY[NULL, 2])[2:2]) and a copy does not: the elements say
         -- which are NULL, so the flag is left out of the hash.
         WHEN sn.nspname = 'pg_catalog' AND sp.proname = 'array_send'
           THEN pg_catalog.format('pg_catalog.overlay(%I.%I(%I), pg_catalog.decode(''00000000'', ''hex''), 5, 4)', sn.nspname, sp.proname, u.c)
         -- A NaN's sign and payload bits, which its text and = ignore and a
         -- copy through text does not keep: every NaN hashed as one.
         WHEN sn.nspname = 'pg_catalog' AND sp.proname IN ('float4send', 'float8send')
           THEN pg_catalog.format('%I.%I(CASE WHEN %I = ''NaN'' THEN ''NaN'' ELSE %I END)', sn.nspname, sp.proname, u.c, u.c)
         ELSE pg_catalog.format('%I.%I(%I)', sn.nspname, sp.proname, u.c) END, ', ' ORDER BY u.o) FILTER (WHERE $4::boolean) || ']::bytea[], 0)'
  ELSE 'pg_catalog.hashtextextended(ROW(' || pg_catalog.string_agg(CASE WHEN u.ty IS NULL THEN pg_catalog.format('%I', u.c)
         WHEN u.ty ~ '^(numeric|real|double precision|timestamp|time)(\([0-9]+(,[0-9]+)?\))?( with time zone| without time zone)?(\[\])*$'
           THEN pg_catalog.format('%I::%s', u.c, u.ty)
         ELSE pg_catalog.format('%I::%s', u.c, u.ty::pg_catalog.regtype) END, ', ' ORDER BY u.o) || ')::text, 0)' END
FROM ROWS FROM (pg_catalog.unnest($3::text[]), pg_catalog.unnest($5::text[])) WITH ORDINALITY AS u(c, ty, o)
JOIN pg_catalog.pg_attribute a ON a.attrelid = pg_catalog.format('%I.%I', $1::text, $2::text)::pg_catalog.regclass AND a.attname = u.c
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_proc sp ON sp.oid = t.typsend
LEFT JOIN pg_catalog.pg_namespace sn ON sn.oid = sp.pronamespace
$hash_expression$;

-- A row's range at `bits` bits, from its key hash (hash_expression): its
-- first `bits` bits, as a number from 0 to 2^bits - 1; at 64 bits the key
-- hash itself.
CREATE OR REPLACE FUNCTION supasync_private.range_expression(key_hash text, bits integer)
RETURNS text LANGUAGE sql IMMUTABLE SET search_path = ''
AS $range_expression$
SELECT CASE WHEN $2::integer >= 64 THEN $1::text
            WHEN $2::integer <= 0 THEN '0::bigint'
            ELSE pg_catalog.format('((%s >> %s) & %s::bigint)', $1::text, 64 - $2::integer, (1::bigint << $2::integer) - 1) END
$range_expression$;

-- An incremental run's row hash: where the row matches `flagged` (the rows
-- past the run's watermark), its key hash (`key_hash`, what hash_expression
-- returned for the key) hashed once more; else, with `others_by_key`, the key
-- hash itself, or 0. Production's side flags; staging's, flagged by `false`,
-- hashes every row as the others: the ranges, and the rows, that differ are
-- those holding a row past the watermark as well as those whose keys differ.
-- A hash of the key's hash, not a 1, for the rows flagged: per range the
-- rows' hashes are XORed, and two equal flags would cancel out. The key hash
-- for the others wherever a row may be added unflagged (a column the app
-- sets, and one inserted with an old stamp): a range where production added
-- such a row and deleted another would otherwise sum alike on both sides,
-- the same count and no flag. By xmin every row added is flagged, and 0 (a
-- shorter answer over REST) is enough.
DROP FUNCTION IF EXISTS supasync_private.flag_expression(text, text);
CREATE OR REPLACE FUNCTION supasync_private.flag_expression(key_hash text, flagged text, others_by_key boolean)
RETURNS text LANGUAGE sql IMMUTABLE SET search_path = ''
AS $flag_expression$
SELECT pg_catalog.format('(CASE WHEN %s THEN pg_catalog.hashint8extended(%s, 1) ELSE %s END)', $2::text, $1::text,
  CASE WHEN $3::boolean THEN $1::text ELSE '0::bigint' END)
$flag_expression$;

-- The condition "the row's key is in one of these ranges" (`range`: what
-- range_expression returned), for reading, summing or deleting the rows of
-- the ranges that differ.
CREATE OR REPLACE FUNCTION supasync_private.key_range_filter(range text, ranges bigint[])
RETURNS text LANGUAGE sql IMMUTABLE SET search_path = ''
AS $key_range_filter$
SELECT pg_catalog.format('%s = ANY (%L::bigint[])', $1::text, $2::bigint[])
$key_range_filter$;

-- Per range (`range`: what range_expression returned) of the rows
-- `row_filter` matches: its row count and the XOR of its rows' hashes
-- (`row_hash`, 48 bits of it) in hex, as one compact text
-- "range:rows:hash,..." (ranges without rows left out): over REST these
-- answers are bytes on the user's link. With `range` NULL, the rows one by
-- one instead, inside the ranges that differ: each row's key (its columns'
-- text, as a jsonb array) and hash, as one jsonb array of [key, hash]; both
-- sides list theirs, and the rows whose hash differs or that one side lacks
-- are what a re-sync writes or deletes, by key_filter below. The hashes are
-- computed below an OFFSET 0 fence: the planner, which cannot know that a
-- range holds many rows, would otherwise sort the table's whole rows by
-- range before hashing them (past work_mem, on disk), not two numbers a row.
CREATE OR REPLACE FUNCTION supasync_private.range_sums_query(
  table_schema text, table_name text, key_columns text[], range text, row_hash text, row_filter text)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $range_sums_query$
SELECT CASE WHEN $4::text IS NULL THEN pg_catalog.format(
  'SELECT COALESCE(jsonb_agg(jsonb_build_array(jsonb_build_array(%s), to_hex(%s))), ''[]'') FROM %s WHERE %s',
  keyed.texts, $5::text, own.rows, COALESCE($6::text, 'true'))
ELSE pg_catalog.format(
  'SELECT to_jsonb(COALESCE(string_agg(b || '':'' || n || '':'' || to_hex(h), '','' ORDER BY b), '''')) FROM (
     SELECT b, count(*) AS n, bit_xor(row_hash) & 281474976710655 AS h FROM (
       SELECT %s AS b, %s AS row_hash FROM %s WHERE %s OFFSET 0) hashed GROUP BY 1) s',
  $4::text, $5::text, own.rows, COALESCE($6::text, 'true')) END
FROM (SELECT pg_catalog.string_agg(pg_catalog.format('%I::text', c), ', ' ORDER BY o) AS texts
      FROM pg_catalog.unnest($3::text[]) WITH ORDINALITY AS u(c, o)) keyed,
(SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'r'
                        WHERE i.inhparent = pg_catalog.format('%I.%I', $1::text, $2::text)::pg_catalog.regclass)
             THEN 'ONLY ' ELSE '' END || pg_catalog.format('%I.%I', $1::text, $2::text) AS rows) own
$range_sums_query$;

-- Every row `row_filter` matches as (key hash, row hash), `ordered` by both:
-- the direct path streams both sides' answers through COPY BINARY and merges
-- them, 26 bytes a row, instead of asking range by range (bytes are cheap on
-- that path, round trips and scans are not). The key hashes that differ are
-- its ranges at 64 bits. Unordered, the pairs are sorted by the client
-- (lib/transport/postgres/sorted-hashes.ts): cheaper than the server's sort,
-- for a table whose pairs fit in its memory.
DROP FUNCTION IF EXISTS supasync_private.row_hashes_query(text, text, text, text, text);
CREATE OR REPLACE FUNCTION supasync_private.row_hashes_query(
  table_schema text, table_name text, key_hash text, row_hash text, row_filter text, ordered boolean)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $row_hashes_query$
SELECT pg_catalog.format('SELECT %s AS k, %s AS h FROM %s WHERE %s%s', $3::text, $4::text, own.rows, COALESCE($5::text, 'true'),
  CASE WHEN $6::boolean THEN ' ORDER BY 1, 2' ELSE '' END)
FROM (SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'r'
                        WHERE i.inhparent = pg_catalog.format('%I.%I', $1::text, $2::text)::pg_catalog.regclass)
             THEN 'ONLY ' ELSE '' END || pg_catalog.format('%I.%I', $1::text, $2::text) AS rows) own
$row_hashes_query$;

-- The condition "the row's key is one of these" (keys: a jsonb array of
-- arrays of the key columns' text, as range_sums_query lists them), each
-- value read by its column's type, so the table's key index can find them.
-- A key holding a NULL (a unique key NULLS NOT DISTINCT) is matched by IS
-- NULL in its own arm, as = never matches a NULL; still indexable.
CREATE OR REPLACE FUNCTION supasync_private.key_filter(table_schema text, table_name text, key_columns text[], keys jsonb)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $key_filter$
WITH key_column AS (
  SELECT u.c, u.o, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_catalog.unnest($3::text[]) WITH ORDINALITY AS u(c, o)
  JOIN pg_catalog.pg_attribute a ON a.attrelid = pg_catalog.format('%I.%I', $1::text, $2::text)::pg_catalog.regclass AND a.attname = u.c
)
SELECT pg_catalog.format('((%s) IN (SELECT %s FROM pg_catalog.jsonb_array_elements(%L::jsonb) AS wanted(k))%s)',
  (SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ' ORDER BY o) FROM key_column),
  (SELECT pg_catalog.string_agg(pg_catalog.format('(wanted.k ->> %s)::%s', o - 1, type), ', ' ORDER BY o) FROM key_column),
  (SELECT COALESCE(pg_catalog.jsonb_agg(k), '[]') FROM pg_catalog.jsonb_array_elements($4::jsonb) AS given(k) WHERE NOT k @> '[null]'),
  COALESCE((
    SELECT pg_catalog.string_agg(' OR (' || (
      SELECT pg_catalog.string_agg(CASE WHEN k ->> (o - 1)::integer IS NULL THEN pg_catalog.format('%I IS NULL', c)
                                        ELSE pg_catalog.format('%I = %L::%s', c, k ->> (o - 1)::integer, type) END, ' AND ' ORDER BY o)
      FROM key_column) || ')', '')
    FROM pg_catalog.jsonb_array_elements($4::jsonb) AS given(k) WHERE k @> '[null]'), ''))
$key_filter$;

-- Production's clock for an incremental sync's watermark: where the next run
-- reads from, `overlap_seconds` before the earlier of now() (on the direct
-- path the start of the run's snapshot transaction) and the start of the
-- oldest transaction open in this database that this role can see
-- (pg_stat_activity shows another role's only to pg_read_all_stats). A row
-- such a transaction writes carries its start as now() and commits after the
-- run: the next run must read from before it. As ISO 8601 UTC, with the parts.
-- And for the tables without such a column, `xmin`: the oldest transaction
-- of this database (or of none known) still running when this snapshot was
-- taken, or the next to begin (64 bits, never wrapping). Every row the
-- snapshot does not see, committed later or by a transaction running then,
-- carries an xmin at or after it. `system`: the cluster's identifier
-- (its replicas' and point-in-time restores' too), which a watermark is kept
-- with: one read from another production bounds nothing here. NULL where this
-- role may not call pg_control_system(), decided when the query is built (a
-- call in a branch not taken is still refused).
CREATE OR REPLACE FUNCTION supasync_private.clock_query(overlap_seconds integer)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $clock_query$
SELECT pg_catalog.format('SELECT jsonb_build_object(''since'', to_char((least(now(), oldest) - make_interval(secs => %s)) AT TIME ZONE ''UTC'',
    ''YYYY-MM-DD"T"HH24:MI:SS.US"Z"''), ''now'', now()::text, ''oldestTransaction'', oldest::text,
    ''xmin'', horizon.xid::text, ''system'', %s)
  FROM (SELECT min(xact_start) AS oldest FROM pg_catalog.pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_catalog.pg_backend_pid() AND xact_start IS NOT NULL) s,
  -- The oldest transaction that may still write rows here: the snapshot''s
  -- in-progress ones but those of other databases (known by their backends:
  -- one that ended meanwhile is kept, to be safe), this session''s own, and
  -- the next to begin. The cluster-wide xmin alone let a long transaction in
  -- another database make every row written since it began look recent.
  (SELECT LEAST(pg_catalog.pg_snapshot_xmax(snap), pg_catalog.pg_current_xact_id_if_assigned(),
          (SELECT x FROM pg_catalog.pg_snapshot_xip(snap) AS x
           WHERE x::text::xid NOT IN (SELECT a.backend_xid FROM pg_catalog.pg_stat_activity a
                                      WHERE a.datname IS DISTINCT FROM pg_catalog.current_database() AND a.backend_xid IS NOT NULL)
           ORDER BY x LIMIT 1)) AS xid
   FROM pg_catalog.pg_current_snapshot() AS snap) horizon', $1::integer,
  CASE WHEN pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')
       THEN '(SELECT system_identifier::text FROM pg_catalog.pg_control_system())' ELSE 'NULL::text' END)
$clock_query$;

-- The distinct values of `columns` (NULLs left out) with how many rows hold
-- each, as a jsonb object: see supasync_references below.
CREATE OR REPLACE FUNCTION supasync_private.references_query(table_schema text, table_name text, columns text[], row_filter text)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $references_query$
SELECT pg_catalog.format(
  'SELECT COALESCE(jsonb_object_agg(k, n), ''{}'') FROM (SELECT %s AS k, count(*) AS n FROM %s WHERE %s AND (%s) GROUP BY 1) s',
  'ROW(' || pg_catalog.string_agg(pg_catalog.format('%I', c), ', ' ORDER BY o) || ')::text', own.rows,
  pg_catalog.string_agg(pg_catalog.format('%I IS NOT NULL', c), ' AND ' ORDER BY o), COALESCE($4::text, 'true'))
FROM pg_catalog.unnest($3::text[]) WITH ORDINALITY AS u(c, o),
(SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'r'
                        WHERE i.inhparent = pg_catalog.format('%I.%I', $1::text, $2::text)::pg_catalog.regclass)
             THEN 'ONLY ' ELSE '' END || pg_catalog.format('%I.%I', $1::text, $2::text) AS rows) own
GROUP BY own.rows
$references_query$;

-- Which of `keys` no row holds in `columns`, as a sorted jsonb array of
-- their positions (from 0): `keys` a jsonb array of keys, each an array of
-- its values' text in `columns`' order. Compared as a foreign key compares
-- them: each value read by its column's type, without the column's typmod
-- (a varchar(4) must not cut a longer value down to a match), and compared
-- by the type's own = (the caller parses the query under comparing_path):
-- a citext key that differs only in case, a numeric one only in scale,
-- finds its row, as it does in the foreign key. The key's index answers.
-- Version 13 and before took the keys as ROW(...)::text, compared as text.
DROP FUNCTION IF EXISTS supasync_private.missing_keys_query(text, text, text[], text[], text);
CREATE OR REPLACE FUNCTION supasync_private.missing_keys_query(table_schema text, table_name text, columns text[], keys jsonb, row_filter text)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $missing_keys_query$
SELECT pg_catalog.format(
  'SELECT COALESCE(jsonb_agg(wanted.n - 1 ORDER BY wanted.n), ''[]'') FROM jsonb_array_elements(%L::jsonb) WITH ORDINALITY AS wanted(k, n)
   WHERE NOT EXISTS (SELECT FROM %s p WHERE (%s) = (%s) AND (%s))',
  $4::text, own.rows,
  pg_catalog.string_agg(pg_catalog.format('p.%I', u.c), ', ' ORDER BY u.o),
  pg_catalog.string_agg(pg_catalog.format('(wanted.k ->> %s)::%s', u.o - 1, pg_catalog.format_type(a.atttypid, NULL)), ', ' ORDER BY u.o),
  COALESCE($5::text, 'true'))
FROM pg_catalog.unnest($3::text[]) WITH ORDINALITY AS u(c, o)
JOIN pg_catalog.pg_attribute a
  ON a.attrelid = pg_catalog.format('%I.%I', $1::text, $2::text)::pg_catalog.regclass AND a.attname = u.c AND a.attnum > 0 AND NOT a.attisdropped
CROSS JOIN (SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'r'
                        WHERE i.inhparent = pg_catalog.format('%I.%I', $1::text, $2::text)::pg_catalog.regclass)
             THEN 'ONLY ' ELSE '' END || pg_catalog.format('%I.%I', $1::text, $2::text) AS rows) own
GROUP BY own.rows
$missing_keys_query$;

-- Per link, in the links' order, the child rows whose key finds no parent:
-- one statement answering a jsonb array of {"rows", "keys"}. See
-- supasync_orphans below for the links' shape.
CREATE OR REPLACE FUNCTION supasync_private.orphans_query(links jsonb)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $orphans_query$
SELECT COALESCE(
  'SELECT COALESCE(pg_catalog.jsonb_agg(found ORDER BY link), ''[]'') FROM (' ||
    pg_catalog.string_agg(pg_catalog.format(
      'SELECT %s AS link, (SELECT pg_catalog.jsonb_build_object(''rows'', pg_catalog.count(*), ''keys'', COALESCE(pg_catalog.to_jsonb((pg_catalog.array_agg(DISTINCT k ORDER BY k))[1:5]), ''[]''))
         FROM (SELECT ROW(%s)::text AS k FROM %s c WHERE %s AND (%s) AND NOT EXISTS (SELECT FROM %s p WHERE (%s) = (%s))) orphan) AS found',
      l.n, child.key, own.child, child.not_null, COALESCE(l.link ->> 'child_rows', 'true'),
      own.parent, parent.key, child.key), ' UNION ALL ' ORDER BY l.n) ||
    ') links',
  'SELECT ''[]''::jsonb')
FROM pg_catalog.jsonb_array_elements($1::jsonb) WITH ORDINALITY AS l(link, n)
CROSS JOIN LATERAL (
  SELECT pg_catalog.string_agg(pg_catalog.format('c.%I', c), ', ' ORDER BY o) AS key,
         pg_catalog.string_agg(pg_catalog.format('c.%I IS NOT NULL', c), ' AND ' ORDER BY o) AS not_null
  FROM pg_catalog.jsonb_array_elements_text(l.link -> 'columns') WITH ORDINALITY AS u(c, o)) child
CROSS JOIN LATERAL (
  SELECT pg_catalog.string_agg(pg_catalog.format('p.%I', c), ', ' ORDER BY o) AS key
  FROM pg_catalog.jsonb_array_elements_text(l.link -> 'parent_columns') WITH ORDINALITY AS u(c, o)) parent
CROSS JOIN LATERAL (
  SELECT pg_catalog.max(t.rows) FILTER (WHERE t.side = 'child') AS child, pg_catalog.max(t.rows) FILTER (WHERE t.side = 'parent') AS parent
  FROM (VALUES ('child', l.link ->> 'child_schema', l.link ->> 'child_table'), ('parent', l.link ->> 'parent_schema', l.link ->> 'parent_table')) AS r(side, s, n)
  CROSS JOIN LATERAL (SELECT r.side, CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'r'
                        WHERE i.inhparent = pg_catalog.format('%I.%I', r.s, r.n)::pg_catalog.regclass)
             THEN 'ONLY ' ELSE '' END || pg_catalog.format('%I.%I', r.s, r.n) AS rows) t) own
$orphans_query$;

-- Where the sequences named in $1 ([{"schema", "name"}, ...]) stand, read
-- from each sequence itself, as a jsonb array in the order asked; a name
-- that is no sequence here is left out. See supasync_sequence_values below.
CREATE OR REPLACE FUNCTION supasync_private.sequence_values_query(sequences jsonb)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $sequence_values_query$
SELECT COALESCE(
  'SELECT COALESCE(jsonb_agg(state ORDER BY n), ''[]'') FROM (' ||
    pg_catalog.string_agg(pg_catalog.format(
      'SELECT %s AS n, jsonb_build_object(''schema'', %L, ''name'', %L, ''lastValue'', last_value::text, ''isCalled'', is_called) AS state FROM %I.%I',
      w.n, sn.nspname, s.relname, sn.nspname, s.relname), ' UNION ALL ' ORDER BY w.n) ||
    ') sequences',
  'SELECT ''[]''::jsonb')
FROM pg_catalog.jsonb_array_elements($1::jsonb) WITH ORDINALITY AS w(wanted, n)
JOIN pg_catalog.pg_namespace sn ON sn.nspname = w.wanted ->> 'schema'
JOIN pg_catalog.pg_class s ON s.relnamespace = sn.oid AND s.relname = w.wanted ->> 'name' AND s.relkind = 'S'
$sequence_values_query$;

-- The settings that fix how a value is written as text and read back from
-- it, pinned by everything that reads or writes values as text, so the same
-- text means the same value on both sides whatever the servers' defaults.
-- $1: for the rest of the transaction (the functions here, each a request of
-- its own over REST) or of the session (the direct path's connections).
-- xmloption decides what xml text reads back: under DOCUMENT a fragment
-- ("text <b>bold</b>") is refused, under CONTENT both are read. lc_monetary
-- decides money's text and the number of its minor units (binary COPY sends
-- those units): C is on every server.
CREATE OR REPLACE FUNCTION supasync_private.pin_text_settings(transaction_only boolean)
RETURNS void LANGUAGE sql SET search_path = ''
AS $pin_text_settings$
SELECT FROM (VALUES
  (pg_catalog.set_config('datestyle', 'ISO, YMD', $1::boolean)),
  (pg_catalog.set_config('intervalstyle', 'postgres', $1::boolean)),
  (pg_catalog.set_config('timezone', 'UTC', $1::boolean)),
  (pg_catalog.set_config('extra_float_digits', '3', $1::boolean)),
  (pg_catalog.set_config('bytea_output', 'hex', $1::boolean)),
  (pg_catalog.set_config('xmloption', 'content', $1::boolean)),
  (pg_catalog.set_config('lc_monetary', 'C', $1::boolean)),
  -- Off, an array's NULL element is read back as the string 'NULL'.
  (pg_catalog.set_config('array_nulls', 'on', $1::boolean)),
  -- On, format_type() and the catalog quote every name: "public"."mood" on
  -- one side, public.mood on the other, would read as drift.
  (pg_catalog.set_config('quote_all_identifiers', 'off', $1::boolean)),
  -- Off (a database set so for an old app), a backslash in a plain string
  -- literal of the queries built here would be an escape.
  (pg_catalog.set_config('standard_conforming_strings', 'on', $1::boolean)),
  -- Off, a query that row-level security would filter fails, naming the
  -- table, rather than reading (or comparing) fewer rows than there are.
  (pg_catalog.set_config('row_security', 'off', $1::boolean))
) AS pinned(value)
$pin_text_settings$;

-- A type's comparisons (=, <, >) are the operators of its default btree
-- operator class: what its indexes, ORDER BY and ON CONFLICT use. Those of
-- an extension's type live in the extension's schema (on Supabase
-- `extensions`: citext, ltree, isn), which the functions here, run with an
-- empty search_path, do not see: there `k > $1` on a citext key meant text's
-- `>` (through citext's cast to text) while ORDER BY k meant citext's order,
-- and a keyset page skipped rows; on an ltree key no `=` was found at all.
-- operator_schemas names the schemas holding those operators for the types
-- of `relation`'s columns (through domains), or, for a NULL relation, of
-- every type of the database; pg_catalog and schemas of no such operator
-- left out. The functions that compare keys search them after pg_catalog,
-- only while a statement is parsed; the direct path adds them to its
-- session's search_path. (NULL: there are none.)
CREATE OR REPLACE FUNCTION supasync_private.operator_schemas(relation regclass)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $operator_schemas$
WITH RECURSIVE typed(type_oid) AS (
  SELECT a.atttypid FROM pg_catalog.pg_attribute a
  WHERE ($1::pg_catalog.regclass IS NULL OR a.attrelid = $1::pg_catalog.regclass) AND a.attnum > 0 AND NOT a.attisdropped
  UNION
  SELECT t.typbasetype FROM typed JOIN pg_catalog.pg_type t ON t.oid = typed.type_oid AND t.typtype = 'd'
)
SELECT pg_catalog.string_agg(DISTINCT pg_catalog.quote_ident(n.nspname), ', ')
FROM typed
JOIN pg_catalog.pg_opclass oc ON oc.opcintype = typed.type_oid AND oc.opcdefault
JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod AND am.amname = 'btree'
JOIN pg_catalog.pg_amop ao ON ao.amopfamily = oc.opcfamily
JOIN pg_catalog.pg_operator o ON o.oid = ao.amopopr
JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace AND n.nspname <> 'pg_catalog'
$operator_schemas$;

-- The search_path under which a statement comparing `relation`'s columns
-- is parsed: pg_catalog first, so no other schema's function or operator
-- of the same arguments takes the place of a built-in one, then the
-- schemas of those columns' comparisons. The statements parsed under it
-- name every polymorphic or variadic function with its schema.
CREATE OR REPLACE FUNCTION supasync_private.comparing_path(relation regclass)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $comparing_path$
SELECT pg_catalog.concat_ws(', ', 'pg_catalog', supasync_private.operator_schemas($1))
$comparing_path$;

-- Runs what a builder made, for the REST path's functions, under the pinned
-- settings.
CREATE OR REPLACE FUNCTION supasync_private.answer(query text)
RETURNS jsonb LANGUAGE plpgsql STABLE SET search_path = ''
AS $answer$
DECLARE
  result jsonb;
BEGIN
  PERFORM supasync_private.pin_text_settings(true);
  EXECUTE query INTO result;
  RETURN result;
END
$answer$;

REVOKE ALL ON FUNCTION supasync_private.pin_text_settings(boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.own_rows(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.answer(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.operator_schemas(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.comparing_path(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.checksum_query(text, text, text[], text[], integer, integer[], integer, text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.references_query(text, text, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.hash_expression(text, text, text[], boolean, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.range_expression(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.flag_expression(text, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.key_range_filter(text, bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.range_sums_query(text, text, text[], text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.row_hashes_query(text, text, text, text, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.key_filter(text, text, text[], jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.clock_query(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.missing_keys_query(text, text, text[], jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.orphans_query(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION supasync_private.sequence_values_query(jsonb) FROM PUBLIC;

-- Row counts of some tables, for the status table over REST (PostgREST's
-- own counts reach only the exposed schemas).
CREATE OR REPLACE FUNCTION public.supasync_count_rows(table_schema text, table_name text)
RETURNS bigint LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $count$
DECLARE
  counted bigint;
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  EXECUTE pg_catalog.format('SELECT count(*) FROM %s', supasync_private.own_rows(pg_catalog.format('%I.%I', table_schema, table_name)::regclass)) INTO counted;
  RETURN counted;
END
$count$;

REVOKE ALL ON FUNCTION public.supasync_count_rows(text, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_count_rows(text, text) TO service_role;

-- Tables' sizes as they are now (version 28), for a REST run to ask about a
-- large table in slices of its blocks (lib/transport/rest/table-sizes.ts):
-- the planner's statistics are missing until a table is first analyzed and
-- stale after a bulk load, and each side has its own. Per table of $1
-- ([{"schema", "name"}, ...]), in order, [blocks, largest leaf's blocks,
-- live rows]: a partitioned table's summed over its leaves; live rows by the
-- cumulative statistics, counted as rows are written, no ANALYZE needed (0
-- after a crash or pg_stat_reset: the blocks still tell). null for a name that
-- is no table here. Each size takes its table's ACCESS SHARE lock, as reading
-- the table does.
CREATE OR REPLACE FUNCTION public.supasync_table_sizes(tables jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $table_sizes$
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  RETURN (
    SELECT COALESCE(pg_catalog.jsonb_agg(sized.answer ORDER BY t.position), '[]')
    FROM pg_catalog.jsonb_array_elements(tables) WITH ORDINALITY AS t(item, position)
    CROSS JOIN LATERAL (SELECT pg_catalog.to_regclass(pg_catalog.format('%I.%I', t.item ->> 'schema', t.item ->> 'name')) AS relation) r
    CROSS JOIN LATERAL (
      SELECT CASE WHEN r.relation IS NULL THEN NULL
                  ELSE pg_catalog.jsonb_build_array(COALESCE(sum(leaf.blocks), 0), COALESCE(max(leaf.blocks), 0), COALESCE(sum(leaf.live), 0)) END AS answer
      FROM (SELECT pg_catalog.pg_relation_size(p.relid) / pg_catalog.current_setting('block_size')::bigint AS blocks,
                   pg_catalog.pg_stat_get_live_tuples(p.relid) AS live
            -- pg_partition_tree lists nothing for a table not partitioned: the table itself is added (a partitioned one has no blocks of its own).
            FROM (SELECT tree.relid FROM pg_catalog.pg_partition_tree(r.relation) tree WHERE tree.isleaf UNION SELECT r.relation) p) leaf
    ) sized
  );
END
$table_sizes$;

REVOKE ALL ON FUNCTION public.supasync_table_sizes(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_table_sizes(jsonb) TO service_role;

-- Content checksums for verification, computed where the data is: rows are
-- never shipped to the client to be hashed. Each row is hashed in a canonical
-- text form (its columns' output functions under pinned settings, generated
-- columns left out by the caller), and a table's hash is the sum of its rows'
-- 60-bit hashes: independent of row order and of collations, so equal data
-- gives equal numbers on any two servers. To narrow a difference down, rows
-- are spread over buckets by a hash of their key, which is equally stable.
--   buckets NULL                    -> {"rows": n, "hash": h}
--   buckets N, only_buckets NULL    -> [{"bucket": b, "rows": n, "hash": h}, ...]
--   buckets N, only_buckets {b,...} -> [{"key": k, "hash": h}, ...] (at most row_limit)
--   row_filter (version 27)         -> of the rows it picks alone
--   column_types (version 36)       -> columns cast to them (checksum_query)
-- The query is supasync_private.checksum_query's (above), as on the direct path.
-- Version 26 and before took no row_filter, 35 and before no column_types:
-- a call without them finds this one.
DROP FUNCTION IF EXISTS public.supasync_checksum(text, text, text[], text[], integer, integer[], integer);
DROP FUNCTION IF EXISTS public.supasync_checksum(text, text, text[], text[], integer, integer[], integer, text);
CREATE OR REPLACE FUNCTION public.supasync_checksum(
  table_schema text,
  table_name text,
  columns text[],
  key_columns text[],
  buckets integer DEFAULT NULL,
  only_buckets integer[] DEFAULT NULL,
  row_limit integer DEFAULT 1000,
  row_filter text DEFAULT NULL,
  column_types text[] DEFAULT NULL
)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $checksum$ SELECT CASE WHEN supasync_private.assert_trusted_caller() THEN (SELECT supasync_private.answer(supasync_private.checksum_query(table_schema, table_name, columns, key_columns, buckets, only_buckets, row_limit, row_filter, column_types))) END $checksum$;

REVOKE ALL ON FUNCTION public.supasync_checksum(text, text, text[], text[], integer, integer[], integer, text, text[]) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_checksum(text, text, text[], text[], integer, integer[], integer, text, text[]) TO service_role;

-- Whole-table checksums of several tables in one request (version 34):
-- verify asked each small table on its own, a round trip apiece on each
-- side. `targets`: [{table_schema, table_name, columns, key_columns,
-- column_types (version 36, may be absent)}, ...]
-- -> [{"rows": n, "hash": h}, ...] in that order, each what
-- supasync_checksum answers for the whole table, all of one snapshot (the
-- calling statement's). The caller keeps a request's rows few: one that
-- hashes too long is refused as a whole, and its tables are asked alone.
CREATE OR REPLACE FUNCTION public.supasync_checksums(targets jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $checksums$
DECLARE
  target jsonb;
  sums jsonb[] := '{}';
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  FOR target IN SELECT t.t FROM pg_catalog.jsonb_array_elements(targets) WITH ORDINALITY AS t(t, n) ORDER BY t.n LOOP
    sums := sums || public.supasync_checksum(
      target ->> 'table_schema', target ->> 'table_name',
      ARRAY(SELECT c FROM pg_catalog.jsonb_array_elements_text(target -> 'columns') WITH ORDINALITY AS e(c, i) ORDER BY i),
      ARRAY(SELECT c FROM pg_catalog.jsonb_array_elements_text(target -> 'key_columns') WITH ORDINALITY AS e(c, i) ORDER BY i),
      column_types => CASE WHEN pg_catalog.jsonb_typeof(target -> 'column_types') = 'array'
        THEN ARRAY(SELECT c FROM pg_catalog.jsonb_array_elements_text(target -> 'column_types') WITH ORDINALITY AS e(c, i) ORDER BY i) END);
  END LOOP;
  RETURN pg_catalog.to_jsonb(sums);
END
$checksums$;

REVOKE ALL ON FUNCTION public.supasync_checksums(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_checksums(jsonb) TO service_role;

-- Which of the tables of $1 ({"schema", "name", "filter"} each; filter NULL:
-- every row) hold a row, as a JSON array of booleans in their order (version
-- 24). A replace neither reads nor rebuilds a table production leaves empty:
-- to a remote project a statement a table is a round trip a table, and an
-- app's schema often holds hundreds its features leave empty. Each table's
-- own rows (own_rows, inlined: the direct path runs this body itself).
CREATE OR REPLACE FUNCTION supasync_private.holding_rows_query(tables jsonb)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $holding_rows_query$
SELECT 'SELECT pg_catalog.to_jsonb(ARRAY[' || pg_catalog.string_agg(
         pg_catalog.format('EXISTS (SELECT FROM %s%s WHERE %s)',
           CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'r'
                             WHERE i.inhparent = named.relation) THEN 'ONLY ' ELSE '' END,
           named.relation::text, COALESCE(t ->> 'filter', 'true')),
         ', ' ORDER BY o) || ']::boolean[])'
FROM pg_catalog.jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(t, o)
CROSS JOIN LATERAL (SELECT pg_catalog.format('%I.%I', t ->> 'schema', t ->> 'name')::pg_catalog.regclass AS relation) AS named
$holding_rows_query$;

CREATE OR REPLACE FUNCTION public.supasync_tables_holding_rows(tables jsonb)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $holding$ SELECT CASE WHEN supasync_private.assert_trusted_caller() THEN (SELECT supasync_private.answer(supasync_private.holding_rows_query(tables))) END $holding$;

REVOKE ALL ON FUNCTION supasync_private.holding_rows_query(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_tables_holding_rows(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_tables_holding_rows(jsonb) TO service_role;

-- For a re-sync over REST: several key-range questions in one request, one
-- per table compared, so that a level of the comparison costs one round
-- trip for every table instead of one each. Each request:
-- {table_schema, table_name, columns, key_columns, use_binary, row_filter,
--  bits, within_bits, within_ranges, flagged, flagged_others_by_key,
--  column_types (version 36, may be absent)}: with `bits`, per range at
-- `bits` the rows' count and hash (range_sums_query); without, the rows one
-- by one. Only the rows of `row_filter` and, if given, of the ranges
-- `within_ranges` at `within_bits` bits. With `flagged` (an incremental
-- run's), rows are hashed by flag_expression instead of by `columns`, the
-- others by key unless `flagged_others_by_key` is false. The answers come in
-- the requests' order.
CREATE OR REPLACE FUNCTION public.supasync_key_ranges(requests jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $key_ranges$
DECLARE
  request jsonb;
  key_columns text[];
  key_hash text;
  row_filter text;
  answers jsonb := '[]';
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  FOR request IN SELECT value FROM pg_catalog.jsonb_array_elements(requests) LOOP
    key_columns := ARRAY(SELECT pg_catalog.jsonb_array_elements_text(request -> 'key_columns'));
    key_hash := supasync_private.hash_expression(request ->> 'table_schema', request ->> 'table_name', key_columns, (request ->> 'use_binary')::boolean, NULL);
    row_filter := request ->> 'row_filter';
    IF request ->> 'within_bits' IS NOT NULL THEN
      row_filter := pg_catalog.concat_ws(' AND ', '(' || row_filter || ')', '(' || supasync_private.key_range_filter(
        supasync_private.range_expression(key_hash, (request ->> 'within_bits')::integer),
        ARRAY(SELECT pg_catalog.jsonb_array_elements_text(request -> 'within_ranges'))::bigint[]) || ')');
    END IF;
    answers := answers || pg_catalog.jsonb_build_array(supasync_private.answer(supasync_private.range_sums_query(
      request ->> 'table_schema', request ->> 'table_name', key_columns,
      CASE WHEN request ->> 'bits' IS NULL THEN NULL ELSE supasync_private.range_expression(key_hash, (request ->> 'bits')::integer) END,
      CASE WHEN request ->> 'flagged' IS NOT NULL
           THEN supasync_private.flag_expression(key_hash, request ->> 'flagged', COALESCE((request ->> 'flagged_others_by_key')::boolean, true))
           ELSE supasync_private.hash_expression(request ->> 'table_schema', request ->> 'table_name',
             ARRAY(SELECT pg_catalog.jsonb_array_elements_text(request -> 'columns')), (request ->> 'use_binary')::boolean,
             CASE WHEN pg_catalog.jsonb_typeof(request -> 'column_types') = 'array'
                  THEN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(request -> 'column_types')) END) END,
      row_filter)));
  END LOOP;
  RETURN answers;
END
$key_ranges$;

-- Earlier builds of version 3 asked one table and one level at a time.
DROP FUNCTION IF EXISTS public.supasync_range_sums(text, text, text[], text[], integer, text, boolean);
DROP FUNCTION IF EXISTS public.supasync_key_range_filter(text, text, text[], integer, bigint[], boolean);
DROP FUNCTION IF EXISTS public.supasync_range_rows(text, text, text[], text[], text, boolean);

REVOKE ALL ON FUNCTION public.supasync_key_ranges(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_key_ranges(jsonb) TO service_role;

-- For a re-sync: the condition that picks rows by key (key_filter).
CREATE OR REPLACE FUNCTION public.supasync_key_filter(table_schema text, table_name text, key_columns text[], keys jsonb)
RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $key_filter_rpc$ SELECT CASE WHEN supasync_private.assert_trusted_caller() THEN (SELECT supasync_private.key_filter(table_schema, table_name, key_columns, keys)) END $key_filter_rpc$;

REVOKE ALL ON FUNCTION public.supasync_key_filter(text, text, text[], jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_key_filter(text, text, text[], jsonb) TO service_role;

-- For a re-sync's backup and its restore over REST: the condition that picks
-- the rows whose key hash falls in these ranges, hashed as the comparison
-- hashed them (hash_expression, range_expression, key_range_filter).
CREATE OR REPLACE FUNCTION public.supasync_range_filter(table_schema text, table_name text, key_columns text[], use_binary boolean, bits integer, ranges text[])
RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $range_filter_rpc$
SELECT CASE WHEN supasync_private.assert_trusted_caller() THEN (
SELECT supasync_private.key_range_filter(
  supasync_private.range_expression(supasync_private.hash_expression(table_schema, table_name, key_columns, use_binary, NULL), bits), ranges::bigint[])
) END
$range_filter_rpc$;

REVOKE ALL ON FUNCTION public.supasync_range_filter(text, text, text[], boolean, integer, text[]) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_range_filter(text, text, text[], boolean, integer, text[]) TO service_role;

-- For an incremental sync: production's clock (supasync_private.clock_query).
CREATE OR REPLACE FUNCTION public.supasync_clock(overlap_seconds integer)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $clock$ SELECT CASE WHEN supasync_private.assert_trusted_caller() THEN (SELECT supasync_private.answer(supasync_private.clock_query(overlap_seconds))) END $clock$;

REVOKE ALL ON FUNCTION public.supasync_clock(integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_clock(integer) TO service_role;

-- For a targeted sync: the distinct values a table's foreign key holds (as
-- ROW(...)::text), with how many rows hold each...
CREATE OR REPLACE FUNCTION public.supasync_references(
  table_schema text,
  table_name text,
  columns text[],
  row_filter text DEFAULT NULL
)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $references$ SELECT CASE WHEN supasync_private.assert_trusted_caller() THEN (SELECT supasync_private.answer(supasync_private.references_query(table_schema, table_name, columns, row_filter))) END $references$;

-- The rows an app added to an extension's configuration tables, per table
-- of `tables` ([{schema, name}]) that is one here: those the condition
-- pg_extension_config_dump gave picks (what pg_dump copies: PostGIS's
-- spatial_ref_sys entries of the app's own), how many, and a hash of their
-- text. supasync never writes an extension's tables: sync and verify compare
-- these to say where staging lacks what production's app added. Each side
-- reads its own condition (version 40).
CREATE OR REPLACE FUNCTION supasync_private.extension_rows_query(tables jsonb)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $extension_rows_query$
SELECT COALESCE('SELECT pg_catalog.jsonb_agg(r ORDER BY r.schema, r.name) FROM (' || pg_catalog.string_agg(
  -- One this role may not read answers null rather than failing the question (and a direct run's snapshot with it).
  CASE WHEN pg_catalog.has_schema_privilege(n.oid, 'USAGE') AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
       THEN pg_catalog.format(
         'SELECT %L AS schema, %L AS name, pg_catalog.count(*) AS rows, COALESCE(pg_catalog.md5(pg_catalog.string_agg(x::text, %L ORDER BY x::text COLLATE "C")), %L) AS hash FROM %I.%I x %s',
         n.nspname, c.relname, E'\n', '', n.nspname, c.relname, cfg.condition)
       ELSE pg_catalog.format('SELECT %L AS schema, %L AS name, NULL::bigint AS rows, NULL::text AS hash', n.nspname, c.relname) END,
  ' UNION ALL ') || ') r', 'SELECT ''[]''::jsonb')
FROM pg_catalog.jsonb_array_elements($1::jsonb) AS t
JOIN pg_catalog.pg_namespace n ON n.nspname = t ->> 'schema'
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t ->> 'name'
JOIN LATERAL (SELECT COALESCE(e.extcondition[i], '') AS condition
              FROM pg_catalog.pg_extension e, pg_catalog.generate_subscripts(e.extconfig, 1) AS i
              WHERE e.extconfig[i] = c.oid LIMIT 1) cfg ON true
$extension_rows_query$;

CREATE OR REPLACE FUNCTION public.supasync_extension_rows(tables jsonb)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $extension_rows$ SELECT CASE WHEN supasync_private.assert_trusted_caller() THEN (SELECT supasync_private.answer(supasync_private.extension_rows_query(tables))) END $extension_rows$;

REVOKE ALL ON FUNCTION supasync_private.extension_rows_query(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_extension_rows(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_extension_rows(jsonb) TO service_role;

-- The top-level keys the objects of a json or jsonb column hold (version
-- 43), 200 at most, in order: a masked run names those of a column masked by
-- keys (auth.users.raw_user_meta_data) that no rule names and that are named
-- as personal data usually is (lib/plan/personal-columns.ts).
CREATE OR REPLACE FUNCTION supasync_private.json_keys_query(relation text, column_name text)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $json_keys_query$
SELECT pg_catalog.format(
  'SELECT COALESCE(pg_catalog.jsonb_agg(k ORDER BY k), ''[]'') FROM (SELECT DISTINCT k FROM %s%s AS t,
     pg_catalog.jsonb_object_keys(CASE WHEN pg_catalog.jsonb_typeof(t.%I::jsonb) = ''object'' THEN t.%I::jsonb END) AS k LIMIT 200) AS keys',
  -- A table others INHERIT from: its own rows.
  CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'r'
                    WHERE i.inhparent = $1::pg_catalog.regclass) THEN 'ONLY ' ELSE '' END,
  $1::pg_catalog.regclass, $2::text, $2::text)
$json_keys_query$;

CREATE OR REPLACE FUNCTION public.supasync_json_keys(table_schema text, table_name text, column_name text)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $json_keys$ SELECT CASE WHEN supasync_private.assert_trusted_caller() THEN (SELECT supasync_private.answer(supasync_private.json_keys_query(pg_catalog.format('%I.%I', table_schema, table_name), column_name))) END $json_keys$;

REVOKE ALL ON FUNCTION supasync_private.json_keys_query(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_json_keys(text, text, text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_json_keys(text, text, text) TO service_role;

-- Where sequences stand, for a sync to set staging's and for verify to
-- compare: last_value (as text: a bigint passes 2^53) and is_called.
-- pg_sequences shows NULL for a sequence not yet called, which loses a
-- setval(..., false); reading the sequence itself keeps it. A name that is
-- no sequence here is left out: the caller compares what came back.
CREATE OR REPLACE FUNCTION public.supasync_sequence_values(sequences jsonb)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $values$ SELECT CASE WHEN supasync_private.assert_trusted_caller() THEN (SELECT supasync_private.answer(supasync_private.sequence_values_query(sequences))) END $values$;

REVOKE ALL ON FUNCTION public.supasync_sequence_values(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_sequence_values(jsonb) TO service_role;

-- ...and which of those values a (parent) table lacks (missing_keys_query).
-- An earlier version took no row filter: PostgREST could not choose between the two.
DROP FUNCTION IF EXISTS public.supasync_missing_keys(text, text, text[], text[]);
-- Version 1 answered text[]; a function's result type cannot be replaced in place.
-- Version 13 and before took the keys as text[]: PostgREST chooses by names alone.
DROP FUNCTION IF EXISTS public.supasync_missing_keys(text, text, text[], text[], text);
CREATE OR REPLACE FUNCTION public.supasync_missing_keys(
  table_schema text,
  table_name text,
  columns text[],
  keys jsonb,
  row_filter text DEFAULT NULL
)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $missing$
DECLARE
  query text := supasync_private.missing_keys_query(table_schema, table_name, columns, keys, row_filter);
  result jsonb;
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.pin_text_settings(true);
  PERFORM pg_catalog.set_config('search_path', supasync_private.comparing_path(pg_catalog.format('%I.%I', table_schema, table_name)::pg_catalog.regclass), true);
  EXECUTE query INTO result;
  RETURN result;
END
$missing$;

-- Rows of child tables whose foreign key finds no parent row (MATCH
-- SIMPLE: a key with a NULL in it references nothing), counted, with the
-- first few keys, one answer per link in the links' order: what a run
-- checks before it lets a replace or a filter leave rows pointing nowhere,
-- and verify reports. All in one request: over a slow link each is a round
-- trip. The query is supasync_private.orphans_query's, as on the direct path.
--   links: [{"child_schema", "child_table", "columns": [...], "child_rows": sql or null,
--            "parent_schema", "parent_table", "parent_columns": [...]}, ...]
-- child_rows, for a key its partitions declare, picks the rows it governs
-- (lib/catalog/partition-keys.ts).
-- A child's key is compared with its parent's as their types compare them
-- (comparing_path): parsed with the schemas of both tables' comparisons
-- after pg_catalog.
CREATE OR REPLACE FUNCTION public.supasync_orphans(links jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $orphans$
DECLARE
  query text := supasync_private.orphans_query(links);
  result jsonb;
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.pin_text_settings(true);
  PERFORM pg_catalog.set_config('search_path', pg_catalog.concat_ws(', ', 'pg_catalog', (
    SELECT pg_catalog.string_agg(DISTINCT schemas, ', ')
    FROM pg_catalog.jsonb_array_elements(links) AS l(link),
    LATERAL pg_catalog.unnest(ARRAY[
      supasync_private.operator_schemas(pg_catalog.format('%I.%I', l.link ->> 'child_schema', l.link ->> 'child_table')::pg_catalog.regclass),
      supasync_private.operator_schemas(pg_catalog.format('%I.%I', l.link ->> 'parent_schema', l.link ->> 'parent_table')::pg_catalog.regclass)]) AS schemas)), true);
  EXECUTE query INTO result;
  RETURN result;
END
$orphans$;

REVOKE ALL ON FUNCTION public.supasync_references(text, text, text[], text) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_missing_keys(text, text, text[], jsonb, text) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.supasync_orphans(jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_references(text, text, text[], text) TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_missing_keys(text, text, text[], jsonb, text) TO service_role;
GRANT EXECUTE ON FUNCTION public.supasync_orphans(jsonb) TO service_role;

-- Whether this database carries the sync-target mark (*_supasync_target_mark.sql),
-- for the REST path: staging must, production must not. Without the mark table
-- (production, where no mark was ever made) it answers null. SECURITY
-- DEFINER because the mark is its installer's, which service_role may not
-- read; it reveals when and by whom the database was marked, nothing more.
CREATE OR REPLACE FUNCTION public.supasync_sync_target()
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $mark$
DECLARE
  mark jsonb;
  held text;
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  IF NOT EXISTS (
    SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'supasync_private' AND c.relname = 'sync_target'
  ) THEN
    RETURN NULL;
  END IF;
  EXECUTE 'SELECT pg_catalog.jsonb_build_object(''markedAt'', marked_at, ''markedBy'', marked_by) FROM supasync_private.sync_target'
    INTO mark;
  -- Which run holds staging now, if any (version 22's hold, staging-hold.ts): a dry run and verify say so.
  IF mark IS NOT NULL AND pg_catalog.to_regprocedure('supasync_private.live_lease()') IS NOT NULL THEN
    EXECUTE $held$SELECT COALESCE('a direct run (' || supasync_private.direct_runs() || ')',
        (SELECT (l ->> 'about') || ', since ' || (l ->> 'takenAt') || ', last heard from ' || pg_catalog.round((l ->> 'heardSecondsAgo')::numeric) || ' s ago'
         FROM supasync_private.live_lease() AS l))$held$
      INTO held;
    mark := mark || pg_catalog.jsonb_build_object('heldBy', held);
  END IF;
  RETURN mark;
END
$mark$;

REVOKE ALL ON FUNCTION public.supasync_sync_target() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_sync_target() TO service_role;

-- The condition "the key comes after the bound" for a keyset page, in the
-- order ORDER BY follows: each key column's default btree operator class,
-- NULLs last. Most keys take a row comparison, `(k1, k2) > (b1, b2)`, which
-- reads the types' `>` and `=` (parsed under comparing_path) and walks an
-- index. It does not do for two kinds of key, which are spelled out column
-- by column instead, k1 > b1 OR (k1 = b1 AND (k2 > b2 OR ...)):
--  * a column whose order is not named `>`: hstore's is `#<#`/`#>#` (it has
--    no `>`), and a row comparison takes one operator name for every
--    column. Each column gets its own class's operators, schema-qualified.
--  * a column that may hold NULL (a UNIQUE NULLS NOT DISTINCT key): against
--    a NULL a row comparison is NULL, and the pages after the first NULL
--    came back empty, so a REST read stopped there, exit 0. Such a column is
--    after the bound where the bound is not NULL and it is NULL or greater,
--    and equal to it where both are NULL or `=` holds.
-- `bounds` are the bound expressions, one per key column.
CREATE OR REPLACE FUNCTION supasync_private.keys_after(relation regclass, key_columns text[], bounds text[])
RETURNS text LANGUAGE plpgsql STABLE SET search_path = ''
AS $keys_after$
DECLARE
  keyed record;
  after text;
  equal text;
  condition text;
  plain boolean := true;
BEGIN
  FOR keyed IN
    SELECT k.position, pg_catalog.quote_ident(k.name) AS name, NOT a.attnotnull AS nullable, bounds[k.position] AS bound,
           ops.greater, ops.equals, COALESCE(ops.named_greater, true) AS named_greater
    FROM unnest(key_columns) WITH ORDINALITY AS k(name, position)
    JOIN pg_catalog.pg_attribute a ON a.attrelid = relation AND a.attname = k.name AND a.attnum > 0 AND NOT a.attisdropped
    -- A domain compares as its base type (domains over domains included).
    CROSS JOIN LATERAL (
      WITH RECURSIVE based(type_oid, base_oid) AS (
        SELECT t.oid, t.typbasetype FROM pg_catalog.pg_type t WHERE t.oid = a.atttypid
        UNION ALL
        SELECT t.oid, t.typbasetype FROM based JOIN pg_catalog.pg_type t ON t.oid = based.base_oid
      )
      SELECT based.type_oid FROM based WHERE based.base_oid = 0 LIMIT 1
    ) AS base(type_oid)
    -- No default class of the type itself (varchar, an enum, an array: through
    -- a polymorphic or binary-coercible class): `>` and `=` are right for those.
    LEFT JOIN pg_catalog.pg_opclass oc
      ON oc.opcintype = base.type_oid AND oc.opcdefault
     AND oc.opcmethod = (SELECT am.oid FROM pg_catalog.pg_am am WHERE am.amname = 'btree')
    -- The class's "greater" (strategy 5) and "equal" (3), each as its schema names it.
    LEFT JOIN LATERAL (
      SELECT pg_catalog.max(pg_catalog.format('OPERATOR(%I.%s)', n.nspname, o.oprname)) FILTER (WHERE ao.amopstrategy = 5) AS greater,
             pg_catalog.max(pg_catalog.format('OPERATOR(%I.%s)', n.nspname, o.oprname)) FILTER (WHERE ao.amopstrategy = 3) AS equals,
             pg_catalog.bool_and(o.oprname = '>') FILTER (WHERE ao.amopstrategy = 5) AS named_greater
      FROM pg_catalog.pg_amop ao
      JOIN pg_catalog.pg_operator o ON o.oid = ao.amopopr
      JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
      WHERE ao.amopfamily = oc.opcfamily AND ao.amoplefttype = oc.opcintype
        AND ao.amoprighttype = oc.opcintype AND ao.amopstrategy IN (3, 5)
    ) AS ops ON true
    ORDER BY k.position DESC
  LOOP
    plain := plain AND keyed.named_greater AND NOT keyed.nullable;
    after := pg_catalog.format('%s %s %s', keyed.name, COALESCE(keyed.greater, '>'), keyed.bound);
    equal := pg_catalog.format('%s %s %s', keyed.name, COALESCE(keyed.equals, '='), keyed.bound);
    IF keyed.nullable THEN
      after := pg_catalog.format('(%s IS NOT NULL AND (%s IS NULL OR %s))', keyed.bound, keyed.name, after);
      equal := pg_catalog.format('(%s OR %s IS NULL AND %s IS NULL)', equal, keyed.name, keyed.bound);
    END IF;
    condition := CASE WHEN condition IS NULL THEN pg_catalog.format('(%s)', after)
                      ELSE pg_catalog.format('(%s OR %s AND %s)', after, equal, condition) END;
  END LOOP;
  IF plain THEN
    RETURN pg_catalog.format('(%s) > (%s)',
      (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k.name), ', ' ORDER BY k.position) FROM unnest(key_columns) WITH ORDINALITY AS k(name, position)),
      pg_catalog.array_to_string(bounds, ', '));
  END IF;
  RETURN condition;
END
$keys_after$;

REVOKE ALL ON FUNCTION supasync_private.keys_after(regclass, text[], text[]) FROM PUBLIC;

-- One page of a table's rows, for the REST path.
--
-- Pages are bounded by bytes from the first row on: the function stops a page
-- once its rows reach `max_bytes` (always at least one row), and refuses a
-- row larger than `max_row_bytes` by its key and size before sending any of
-- it (a page bounded by rows alone once made 100 rows of 50 MB one 5 GB
-- answer). A row's bytes are those of its jsonb array of text values: each
-- value's text plus a few bytes, about what it weighs as JSON. The client
-- takes a page that holds fewer rows than page_size and counts (by this
-- count) under max_bytes as the table's last, and asks for no next one
-- (pageBytesCounted, lib/transport/rest/row-size.ts): keep the two alike.
--
-- Rows come through a cursor, one FETCH at a time, so a page never builds a
-- row past its budget: the running total is known before the next row is
-- read.
--
-- Every value travels as its text form (NULL as null), so nothing passes
-- through a JavaScript number or Date, and staging parses it back with the same input functions: int8 above
-- 2^53, numeric trailing zeros, -0, json key order and duplicates, array
-- bounds and vectors all arrive exactly. The formatting settings are pinned
-- (pin_text_settings) so the text means the same thing on both sides.
--
-- Pages follow the key (keyset pagination, never OFFSET): `after` holds the
-- last key of the previous page as text. A table without a key is paged by
-- physical position (ctid), which is only stable while nobody writes to it;
-- a partitioned one leaf partition after another, by leaf and ctid.
-- `row_filter` is a SQL condition from the user's own configuration (a
-- table's `where`, or the rows a targeted sync's children reference); like
-- the rest it runs with the rights of the function's owner (SECURITY DEFINER,
-- as the catalog's functions, above), inside a read-only
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
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $read$
DECLARE
  relation regclass := pg_catalog.format('%I.%I', table_schema, table_name)::regclass;
  keyless boolean := COALESCE(cardinality(key_columns), 0) = 0;
  -- Without a key a row's place is its ctid. A partitioned table's ctids
  -- repeat from partition to partition: its leaves are read one after
  -- another (by oid), each in ctid order, and a row's place is "leaf:ctid".
  partitioned boolean := (SELECT c.relkind = 'p' FROM pg_catalog.pg_class c WHERE c.oid = relation);
  leaves regclass[];
  leaf regclass;
  start_leaf oid;
  start_ctid tid;
  -- Without a key, a page is read a window of blocks at a time (a TID range
  -- scan): "ctid > x ORDER BY ctid" alone scans and sorts the whole rest of
  -- the table for every page, which over millions of rows outlasted the
  -- statement timeout.
  window_blocks bigint;
  window_from tid;
  window_to bigint;
  leaf_blocks bigint;
  select_list text;
  order_list text;
  bounds text[];
  source refcursor;
  row_values jsonb;
  row_bytes integer;
  page_bytes bigint := 0;
  page jsonb[] := '{}';
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  PERFORM supasync_private.pin_text_settings(true);
  IF EXISTS (
    SELECT FROM unnest(columns || COALESCE(key_columns, '{}')) AS wanted(name)
    WHERE NOT EXISTS (
      SELECT FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = relation AND a.attname = wanted.name AND a.attnum > 0 AND NOT a.attisdropped)
  ) THEN
    RAISE EXCEPTION 'supasync_read_rows: % lacks some of the columns %', relation, columns
      USING ERRCODE = 'undefined_column';
  END IF;
  -- Each row is an ARRAY[...] of its columns' text, made JSON: not
  -- jsonb_build_array, which like any function takes at most 100 arguments,
  -- where a table may have 1,600 columns.
  SELECT string_agg(pg_catalog.format('%I::text', name), ', ' ORDER BY position)
    INTO select_list FROM unnest(columns) WITH ORDINALITY AS c(name, position);

  IF keyless AND partitioned THEN
    start_leaf := COALESCE(pg_catalog.split_part(after ->> 0, ':', 1)::oid, 0);
    start_ctid := COALESCE(pg_catalog.split_part(after ->> 0, ':', 2)::tid, '(0,0)');
    leaves := ARRAY(SELECT t.relid FROM pg_catalog.pg_partition_tree(relation) AS t
                    WHERE t.isleaf AND t.relid::oid >= start_leaf ORDER BY t.relid::oid);
  ELSIF keyless THEN
    start_ctid := COALESCE((after ->> 0)::tid, '(0,0)');
    leaves := ARRAY[relation];
  ELSE
    leaves := ARRAY[relation];
    SELECT string_agg(pg_catalog.format('%I', name), ', ' ORDER BY position),
           array_agg(pg_catalog.format('($1 ->> %s)::%s', position - 1,
             (SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
              WHERE a.attrelid = relation AND a.attname = name)) ORDER BY position)
      INTO order_list, bounds
      FROM unnest(key_columns) WITH ORDINALITY AS k(name, position);
  END IF;

  FOREACH leaf IN ARRAY leaves LOOP
    IF keyless THEN
      window_from := CASE WHEN leaf::oid = start_leaf OR NOT partitioned THEN start_ctid ELSE '(0,0)'::tid END;
      leaf_blocks := pg_catalog.pg_relation_size(leaf) / pg_catalog.current_setting('block_size')::bigint;
      -- About twice the blocks a page's rows fill, by the table's last count (1,024 where never counted).
      window_blocks := (SELECT CASE WHEN c.reltuples > 0 AND c.relpages > 0
                                    THEN GREATEST(8, LEAST(1024, ceil(2 * page_size / (c.reltuples / c.relpages))))::bigint
                                    ELSE 1024 END
                        FROM pg_catalog.pg_class c WHERE c.oid = leaf);
    END IF;
    <<windows>>
    LOOP
    IF keyless THEN
      -- No key: physical order, a window of blocks at a time. The last element of each row is its place.
      window_to := (window_from::text::point)[0]::bigint + window_blocks;
      -- The window's rows sorted and cut first, made JSON after: not every row of the window.
      OPEN source NO SCROLL FOR EXECUTE pg_catalog.format(
        'SELECT pg_catalog.to_jsonb(ARRAY[%s]::text[]) FROM (SELECT ctid AS supasync_place, * FROM %s WHERE ctid > $1 AND ctid < $3 AND (%s) ORDER BY ctid LIMIT $2) w ORDER BY supasync_place',
        concat_ws(', ', select_list, CASE WHEN partitioned THEN pg_catalog.format('%L || supasync_place::text', leaf::oid || ':') ELSE 'supasync_place::text' END),
        supasync_private.own_rows(leaf), COALESCE(row_filter, 'true'))
        USING window_from, page_size - cardinality(page), pg_catalog.format('(%s,0)', window_to)::tid;
    ELSE
      -- "After" must be the order ORDER BY follows (keys_after, operator_schemas, above): parsed under the key's comparisons.
      PERFORM pg_catalog.set_config('search_path', supasync_private.comparing_path(relation), true);
      OPEN source NO SCROLL FOR EXECUTE pg_catalog.format(
        'SELECT pg_catalog.to_jsonb(ARRAY[%s]::text[]) FROM %s WHERE (%s) AND %s ORDER BY %s LIMIT $2',
        select_list, supasync_private.own_rows(relation), COALESCE(row_filter, 'true'),
        CASE WHEN after IS NULL THEN 'true' ELSE supasync_private.keys_after(relation, key_columns, bounds) END,
        order_list)
        USING after, page_size;
      PERFORM pg_catalog.set_config('search_path', '', true);
    END IF;

    LOOP
      FETCH source INTO row_values;
      EXIT WHEN NOT FOUND;
      row_bytes := pg_catalog.pg_column_size(row_values);
      -- What crosses the wire is the row's JSON text, up to six times its jsonb size
      -- (a control character is \u0001): measured where that could pass a bound.
      IF row_bytes::bigint * 6 > LEAST(max_row_bytes, max_bytes) THEN
        row_bytes := GREATEST(row_bytes, pg_catalog.octet_length(row_values::text));
      END IF;
      IF row_bytes > max_row_bytes THEN
        -- The detail is for the client to name the row: its key (its place without one) and its size.
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
    -- A keyed table is one query; a keyless one goes on to its next window until the page is full or its blocks end.
    EXIT windows WHEN NOT keyless OR page_bytes >= max_bytes OR cardinality(page) >= page_size OR window_to >= leaf_blocks;
    -- Past every row of the window's last block: the next window starts at its first.
    window_from := pg_catalog.format('(%s,65535)', window_to - 1)::tid;
    END LOOP windows;
    EXIT WHEN page_bytes >= max_bytes OR cardinality(page) >= page_size;
  END LOOP;
  RETURN pg_catalog.to_jsonb(page);
END
$read$;

REVOKE ALL ON FUNCTION public.supasync_read_rows(text, text, text[], text[], jsonb, integer, text, integer, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_read_rows(text, text, text[], text[], jsonb, integer, text, integer, integer) TO service_role;

-- The first pages of several tables in one request (version 33): most
-- tables of an app are a page, and each page was a request of its own, a
-- round trip apiece before a table's first write. `reads`: [{table_schema,
-- table_name, columns, key_columns, page_size, row_filter, max_bytes,
-- max_row_bytes}, ...], each as supasync_read_rows takes them for its first
-- page (after NULL) -> [page, ...] in that order, each what
-- supasync_read_rows answers, until the pages' text reaches `total_bytes`:
-- the tables after that get null, and are read on their own. So the answer
-- is about one page's bytes even where first rows are large (each table's
-- page holds at least one row, of up to max_row_bytes). STABLE: every page
-- is read in the calling statement's snapshot.
-- Its first cut took no total_bytes.
DROP FUNCTION IF EXISTS public.supasync_read_first_pages(jsonb);
CREATE OR REPLACE FUNCTION public.supasync_read_first_pages(reads jsonb, total_bytes integer)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $read_first_pages$
DECLARE
  wanted jsonb;
  page jsonb;
  pages jsonb[] := '{}';
  sent bigint := 0;
BEGIN
  PERFORM supasync_private.assert_trusted_caller();
  FOR wanted IN SELECT w.r FROM pg_catalog.jsonb_array_elements(reads) WITH ORDINALITY AS w(r, n) ORDER BY w.n LOOP
    IF sent >= total_bytes THEN
      pages := pages || 'null'::jsonb;
      CONTINUE;
    END IF;
    page := public.supasync_read_rows(
      wanted ->> 'table_schema', wanted ->> 'table_name',
      ARRAY(SELECT c FROM pg_catalog.jsonb_array_elements_text(wanted -> 'columns') WITH ORDINALITY AS e(c, i) ORDER BY i),
      ARRAY(SELECT c FROM pg_catalog.jsonb_array_elements_text(wanted -> 'key_columns') WITH ORDINALITY AS e(c, i) ORDER BY i),
      NULL, (wanted ->> 'page_size')::integer, wanted ->> 'row_filter', (wanted ->> 'max_bytes')::integer, (wanted ->> 'max_row_bytes')::integer);
    sent := sent + pg_catalog.octet_length(page::text);
    pages := pages || page;
  END LOOP;
  RETURN pg_catalog.to_jsonb(pages);
END
$read_first_pages$;

REVOKE ALL ON FUNCTION public.supasync_read_first_pages(jsonb, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_read_first_pages(jsonb, integer) TO service_role;

-- ------------------------------------------------------------ files' owners

-- Whom a bucket's files belong to (storage.objects), by name, `page` of them
-- after `after` (NULL: from the first): [{name, owner, owner_id,
-- user_metadata}], with whichever of those columns this Storage's schema
-- has (owner_id and user_metadata came with later Storage versions). Storage
-- takes a file's owner from the key that uploads it, so a copy through its
-- API belongs to no user: a sync sets staging's from these. Where Storage
-- keeps versions (archived_at, is_delete_marker), a file is its current row:
-- not an archived version, not a delete marker.
CREATE OR REPLACE FUNCTION supasync_private.file_owners_query(bucket text, after text, page integer)
RETURNS text LANGUAGE sql STABLE SET search_path = ''
AS $file_owners_query$
SELECT pg_catalog.format(
  'SELECT COALESCE(pg_catalog.jsonb_agg((SELECT pg_catalog.jsonb_object_agg(c.key, c.value) FROM pg_catalog.jsonb_each(pg_catalog.to_jsonb(o)) AS c '
  'WHERE c.key IN (''name'', ''owner'', ''owner_id'', ''user_metadata'')) ORDER BY o.name), ''[]'') '
  'FROM (SELECT * FROM storage.objects WHERE bucket_id = %L AND name IS NOT NULL%s%s ORDER BY name LIMIT %s) AS o',
  $1::text, CASE WHEN $2::text IS NULL THEN '' ELSE pg_catalog.format(' AND name > %L', $2::text) END,
  (SELECT COALESCE(pg_catalog.string_agg(CASE a.attname WHEN 'archived_at' THEN ' AND archived_at IS NULL' ELSE ' AND NOT is_delete_marker' END, '' ORDER BY a.attname), '')
   FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = pg_catalog.to_regclass('storage.objects') AND a.attname IN ('archived_at', 'is_delete_marker') AND NOT a.attisdropped), $3::integer)
$file_owners_query$;

CREATE OR REPLACE FUNCTION public.supasync_file_owners(bucket text, after text, page integer)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $file_owners$ SELECT CASE WHEN supasync_private.assert_trusted_caller() THEN (SELECT supasync_private.answer(supasync_private.file_owners_query(bucket, after, page))) END $file_owners$;

REVOKE ALL ON FUNCTION supasync_private.file_owners_query(text, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.supasync_file_owners(text, text, integer) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_file_owners(text, text, integer) TO service_role;

-- Functions earlier versions defined and these no longer do, in whatever
-- signature they were installed with: an upgrade leaves none behind (the
-- oldest wrote staging's sequences as SECURITY DEFINER).
DO $retired$
DECLARE
  retired regprocedure;
BEGIN
  FOR retired IN
    SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE (n.nspname, p.proname) IN (('public', 'supasync_delete_missing'), ('public', 'supasync_key_range_filter'),
                                     ('public', 'supasync_range_rows'), ('public', 'supasync_range_sums'),
                                     ('public', 'supasync_reset_sequences'), ('public', 'supasync_restore_sequences'),
                                     ('supasync_private', 'delete_missing_query'), ('supasync_private', 'enable_trigger_query'),
                                     ('supasync_private', 'range_rows_query'))
  LOOP
    EXECUTE pg_catalog.format('DROP FUNCTION %s', retired);
  END LOOP;
END
$retired$;

-- Which version of supasync's functions this database holds:
-- scripts/install-rpcs.ts says whether it installs, upgrades or reinstalls,
-- and refuses to put older functions over newer ones. Raised with every
-- release that changes a function; a released migration is never edited,
-- a new one redefines what changes (and this).
CREATE OR REPLACE FUNCTION public.supasync_version()
RETURNS integer LANGUAGE sql IMMUTABLE SET search_path = ''
AS $version$ SELECT 44 $version$;

REVOKE ALL ON FUNCTION public.supasync_version() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.supasync_version() TO service_role;

-- A project's default privileges (ALTER DEFAULT PRIVILEGES ... GRANT ... TO anon, authenticated, as some
-- starters' migrations set) reach supasync's own schema too: CREATE on it (an overload planted where the
-- functions look), EXECUTE on its functions, writes to the mark and the watermarks. Granted to the roles by
-- name, REVOKE ... FROM PUBLIC leaves them: taken back by name, whatever this file made above.
REVOKE ALL ON SCHEMA supasync_private FROM anon, authenticated;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA supasync_private FROM anon, authenticated;
REVOKE ALL ON ALL TABLES IN SCHEMA supasync_private FROM anon, authenticated;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA supasync_private FROM anon, authenticated;
