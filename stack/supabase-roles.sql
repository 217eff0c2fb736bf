-- The roles a hosted Supabase project has, as far as a sync needs them.
-- `postgres` owns the app's tables and is NOT a superuser, as on Supabase;
-- the cluster's superuser stands in for `supabase_admin`.
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT PASSWORD 'authenticator-password';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postgres') THEN
    CREATE ROLE postgres LOGIN NOSUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS PASSWORD 'postgres-password';
  END IF;
  -- The Auth (GoTrue) and Storage services own their schemas' tables. On
  -- Supabase both log in; here only Storage's stand-in (stack/storage-server.ts) does.
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_auth_admin') THEN
    CREATE ROLE supabase_auth_admin NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_storage_admin') THEN
    CREATE ROLE supabase_storage_admin NOINHERIT;
  END IF;
END
$roles$;
-- Also on a server an earlier run set up, where the role could not log in yet.
ALTER ROLE supabase_storage_admin LOGIN PASSWORD 'storage-admin-password';

GRANT anon, authenticated, service_role TO authenticator;
GRANT anon, authenticated, service_role TO postgres;
-- Storage acts as each request's JWT role (SET LOCAL ROLE), as PostgREST does.
GRANT anon, authenticated, service_role TO supabase_storage_admin;

-- The path a session of postgres starts with (supabase/postgres init-scripts, post-setup):
-- the app's functions that name tables and types unqualified find them in it.
ALTER ROLE postgres SET search_path TO "$user", public, extensions;

-- Supabase's per-role time limits (supabase/postgres init migrations).
ALTER ROLE anon SET statement_timeout = '3s';
ALTER ROLE authenticated SET statement_timeout = '8s';
ALTER ROLE authenticator SET statement_timeout = '8s';

-- Supabase lets `postgres` switch off triggers and FK checks for a load
-- through the supautils extension; on plain PostgreSQL (15+) this grant is
-- the same permission. Tests of the unprivileged case revoke it.
GRANT SET ON PARAMETER session_replication_role TO postgres;
