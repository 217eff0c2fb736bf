-- What every Supabase database has before the app's migrations run:
-- the API roles may use `public`, and whatever `postgres` creates there is
-- granted to them by default, functions included. That default is why the
-- supasync migrations revoke EXECUTE from anon and authenticated explicitly.
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT EXECUTE ON FUNCTIONS TO anon, authenticated, service_role;

-- Supabase installs extensions into their own schema, on postgres's search
-- path, and apps' migrations name it (`extensions.uuid_generate_v4()`,
-- `create extension ... with schema extensions`, which is then a no-op).
-- No sync reads it: each project installs its own (lib/plan/managed.ts).
CREATE SCHEMA extensions AUTHORIZATION postgres;
GRANT USAGE ON SCHEMA extensions TO anon, authenticated, service_role;
CREATE EXTENSION "uuid-ossp" WITH SCHEMA extensions;
CREATE EXTENSION pgcrypto WITH SCHEMA extensions;

-- The publication Realtime listens to; apps add their tables to it
-- (`alter publication supabase_realtime add table ...`), as its owner `postgres`.
CREATE PUBLICATION supabase_realtime;
ALTER PUBLICATION supabase_realtime OWNER TO postgres;
