-- What a Supabase database holds before the app's migrations run: GoTrue's
-- `auth` schema and Storage's `storage` schema, as far as a sync meets them.
-- Column names and types follow supabase/auth and supabase/storage's
-- migrations (generated columns included); tables nobody syncs are left out.
--
-- Runs as the cluster's superuser (standing in for supabase_admin). As on
-- hosted Supabase, the services' own roles own these tables and `postgres`,
-- the app's owner, may read and write their rows (DML) but not alter them
-- (DDL): no ALTER TABLE, no DROP INDEX, no DISABLE TRIGGER.

CREATE SCHEMA auth AUTHORIZATION supabase_auth_admin;
CREATE SCHEMA storage AUTHORIZATION supabase_storage_admin;

SET ROLE supabase_auth_admin;

CREATE TABLE auth.schema_migrations (
  version varchar(255) PRIMARY KEY
);

CREATE TABLE auth.users (
  instance_id                  uuid,
  id                           uuid PRIMARY KEY,
  aud                          varchar(255),
  role                         varchar(255),
  email                        varchar(255),
  encrypted_password           varchar(255),
  email_confirmed_at           timestamptz,
  invited_at                   timestamptz,
  confirmation_token           varchar(255),
  confirmation_sent_at         timestamptz,
  recovery_token               varchar(255),
  recovery_sent_at             timestamptz,
  email_change_token_new       varchar(255),
  email_change                 varchar(255),
  email_change_sent_at         timestamptz,
  last_sign_in_at              timestamptz,
  raw_app_meta_data            jsonb,
  raw_user_meta_data           jsonb,
  is_super_admin               boolean,
  created_at                   timestamptz,
  updated_at                   timestamptz,
  phone                        text DEFAULT NULL,
  phone_confirmed_at           timestamptz,
  phone_change                 text DEFAULT '',
  phone_change_token           varchar(255) DEFAULT '',
  phone_change_sent_at         timestamptz,
  confirmed_at                 timestamptz GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED,
  email_change_token_current   varchar(255) DEFAULT '',
  email_change_confirm_status  smallint DEFAULT 0 CHECK (email_change_confirm_status >= 0 AND email_change_confirm_status <= 2),
  banned_until                 timestamptz,
  reauthentication_token       varchar(255) DEFAULT '',
  reauthentication_sent_at     timestamptz,
  is_sso_user                  boolean NOT NULL DEFAULT false,
  deleted_at                   timestamptz,
  is_anonymous                 boolean NOT NULL DEFAULT false
);
CREATE INDEX users_instance_id_idx ON auth.users (instance_id);
CREATE INDEX users_instance_id_email_idx ON auth.users (instance_id, lower(email::text));
CREATE UNIQUE INDEX users_email_partial_key ON auth.users (email) WHERE is_sso_user = false;
CREATE UNIQUE INDEX users_phone_key ON auth.users (phone);
CREATE INDEX users_is_anonymous_idx ON auth.users (is_anonymous);

CREATE TABLE auth.identities (
  provider_id      text NOT NULL,
  user_id          uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  identity_data    jsonb NOT NULL,
  provider         text NOT NULL,
  last_sign_in_at  timestamptz,
  created_at       timestamptz,
  updated_at       timestamptz,
  email            text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
  id               uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  CONSTRAINT identities_provider_id_provider_unique UNIQUE (provider_id, provider)
);
CREATE INDEX identities_user_id_idx ON auth.identities (user_id);
CREATE INDEX identities_email_idx ON auth.identities (email text_pattern_ops);

CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2', 'aal3');
CREATE TABLE auth.sessions (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  created_at    timestamptz,
  updated_at    timestamptz,
  factor_id     uuid,
  aal           auth.aal_level,
  not_after     timestamptz,
  refreshed_at  timestamp,
  user_agent    text,
  ip            inet,
  tag           text
);
CREATE INDEX sessions_user_id_idx ON auth.sessions (user_id);

CREATE TABLE auth.refresh_tokens (
  instance_id  uuid,
  id           bigserial PRIMARY KEY,
  token        varchar(255) UNIQUE,
  user_id      varchar(255),
  revoked      boolean,
  created_at   timestamptz,
  updated_at   timestamptz,
  parent       varchar(255),
  session_id   uuid REFERENCES auth.sessions (id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_session_id_revoked_idx ON auth.refresh_tokens (session_id, revoked);

CREATE TYPE auth.factor_type AS ENUM ('totp', 'webauthn', 'phone');
CREATE TYPE auth.factor_status AS ENUM ('unverified', 'verified');
CREATE TABLE auth.mfa_factors (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  friendly_name  text,
  factor_type    auth.factor_type NOT NULL,
  status         auth.factor_status NOT NULL,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  secret         text
);

-- Newer sign-in state (GoTrue 2024-2026): SSO providers, SCIM-provisioned
-- users, passkeys, and OAuth providers configured per project with their
-- client secrets.
CREATE TABLE auth.sso_providers (
  id           uuid PRIMARY KEY,
  resource_id  text,
  created_at   timestamptz,
  updated_at   timestamptz,
  disabled     boolean
);

CREATE TABLE auth.scim_users (
  id               uuid PRIMARY KEY,
  sso_provider_id  uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
  user_id          uuid REFERENCES auth.users (id) ON DELETE SET NULL,
  resource         jsonb NOT NULL,
  user_name        text GENERATED ALWAYS AS (lower(resource ->> 'userName')) STORED NOT NULL,
  deleted_at       timestamptz
);

CREATE TABLE auth.webauthn_credentials (
  id              uuid PRIMARY KEY,
  user_id         uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  credential_id   bytea NOT NULL UNIQUE,
  public_key      bytea NOT NULL,
  sign_count      bigint NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth.custom_oauth_providers (
  id             uuid PRIMARY KEY,
  identifier     text NOT NULL UNIQUE,
  client_id      text NOT NULL,
  client_secret  text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth.audit_log_entries (
  instance_id  uuid,
  id           uuid PRIMARY KEY,
  payload      json,
  created_at   timestamptz,
  ip_address   varchar(64) NOT NULL DEFAULT ''
);

-- GoTrue's RLS on its own tables (20240612123726): nobody but roles that
-- bypass RLS sees their rows.
ALTER TABLE auth.schema_migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_factors ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.audit_log_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sso_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.scim_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.webauthn_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.custom_oauth_providers ENABLE ROW LEVEL SECURITY;

-- Who the request is, from the JWT claims PostgREST sets (GoTrue 20211202183645).
CREATE FUNCTION auth.uid() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$
  SELECT nullif(
    coalesce(
      current_setting('request.jwt.claim.sub', true),
      (current_setting('request.jwt.claims', true)::jsonb ->> 'sub')
    ),
    ''
  )::uuid
$$;

-- The claims' other readers GoTrue installs with auth.uid(), which apps'
-- policies and triggers use (`auth.role() = 'authenticated'`, `auth.jwt() ->> 'email'`).
CREATE FUNCTION auth.role() RETURNS text
  LANGUAGE sql STABLE
  AS $$
  SELECT coalesce(
    current_setting('request.jwt.claim.role', true),
    (current_setting('request.jwt.claims', true)::jsonb ->> 'role')
  )::text
$$;

CREATE FUNCTION auth.email() RETURNS text
  LANGUAGE sql STABLE
  AS $$
  SELECT coalesce(
    current_setting('request.jwt.claim.email', true),
    (current_setting('request.jwt.claims', true)::jsonb ->> 'email')
  )::text
$$;

CREATE FUNCTION auth.jwt() RETURNS jsonb
  LANGUAGE sql STABLE
  AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

-- GoTrue records its migrations as it boots, in every project alike.
INSERT INTO auth.schema_migrations (version) VALUES
  ('00'), ('20210710035447'), ('20210722035447'), ('20210909172000'), ('20221215195800'),
  ('20231117164230'), ('20240214120130'), ('20240427152123'), ('20240612123726');

RESET ROLE;
SET ROLE supabase_storage_admin;

CREATE TABLE storage.migrations (
  id           integer PRIMARY KEY,
  name         varchar(100) UNIQUE NOT NULL,
  hash         varchar(40) NOT NULL,
  executed_at  timestamp DEFAULT current_timestamp
);

CREATE TABLE storage.buckets (
  id                  text PRIMARY KEY,
  name                text NOT NULL,
  owner               uuid,
  created_at          timestamptz DEFAULT now(),
  updated_at          timestamptz DEFAULT now(),
  public              boolean DEFAULT false,
  avif_autodetection  boolean DEFAULT false,
  file_size_limit     bigint,
  allowed_mime_types  text[],
  owner_id            text
);
CREATE UNIQUE INDEX bname ON storage.buckets (name);

CREATE TABLE storage.objects (
  id                uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  bucket_id         text REFERENCES storage.buckets (id),
  name              text,
  owner             uuid,
  created_at        timestamptz DEFAULT now(),
  updated_at        timestamptz DEFAULT now(),
  last_accessed_at  timestamptz DEFAULT now(),
  metadata          jsonb,
  path_tokens       text[] GENERATED ALWAYS AS (string_to_array(name, '/')) STORED,
  version           text,
  owner_id          text,
  user_metadata     jsonb
);
CREATE UNIQUE INDEX bucketid_objname ON storage.objects (bucket_id, name);
CREATE INDEX name_prefix_search ON storage.objects (name text_pattern_ops);

-- Storage stamps updated_at on every update: a sync must not let it fire.
CREATE FUNCTION storage.update_updated_at_column() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at = now();
  RETURN NEW;
END $$;
CREATE TRIGGER update_objects_updated_at BEFORE UPDATE ON storage.objects
  FOR EACH ROW EXECUTE FUNCTION storage.update_updated_at_column();

-- The path helpers Storage installs, which apps' policies on storage.objects
-- call (`(storage.foldername(name))[1] = (select auth.uid())::text`).
CREATE FUNCTION storage.foldername(name text) RETURNS text[]
  LANGUAGE sql IMMUTABLE AS $$
  SELECT parts[1:array_length(parts, 1) - 1] FROM string_to_array(name, '/') AS parts
$$;
CREATE FUNCTION storage.filename(name text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$
  SELECT parts[array_length(parts, 1)] FROM string_to_array(name, '/') AS parts
$$;
CREATE FUNCTION storage.extension(name text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN position('.' in storage.filename(name)) > 0 THEN reverse(split_part(reverse(storage.filename(name)), '.', 1)) ELSE '' END
$$;

-- Storage's state of its own, as its later migrations make it: multipart
-- uploads in progress, the queue of events to send, and analytics buckets
-- whose data lives outside the database. A sync leaves these out unless named.
CREATE TABLE storage.s3_multipart_uploads (
  id                text PRIMARY KEY,
  in_progress_size  bigint NOT NULL DEFAULT 0,
  upload_signature  text NOT NULL,
  bucket_id         text NOT NULL REFERENCES storage.buckets (id),
  key               text COLLATE "C" NOT NULL,
  version           text NOT NULL,
  owner_id          text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  user_metadata     jsonb
);
CREATE TABLE storage.s3_multipart_uploads_parts (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  upload_id    text NOT NULL REFERENCES storage.s3_multipart_uploads (id) ON DELETE CASCADE,
  size         bigint NOT NULL DEFAULT 0,
  part_number  int NOT NULL,
  bucket_id    text NOT NULL REFERENCES storage.buckets (id),
  key          text COLLATE "C" NOT NULL,
  etag         text NOT NULL,
  owner_id     text,
  version      text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE storage.event_log (
  id            bigserial PRIMARY KEY,
  event_name    text NOT NULL,
  payload       jsonb NOT NULL,
  send_options  jsonb,
  signature     text NOT NULL,
  status        text NOT NULL DEFAULT 'PENDING',
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TYPE storage.buckettype AS ENUM ('STANDARD', 'ANALYTICS', 'VECTOR');
CREATE TABLE storage.buckets_analytics (
  name        text NOT NULL,
  type        storage.buckettype NOT NULL DEFAULT 'ANALYTICS',
  format      text NOT NULL DEFAULT 'ICEBERG',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  deleted_at  timestamptz
);

ALTER TABLE storage.migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.s3_multipart_uploads ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.s3_multipart_uploads_parts ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.buckets_analytics ENABLE ROW LEVEL SECURITY;

INSERT INTO storage.migrations (id, name, hash, executed_at) VALUES
  (0, 'create-migrations-table', 'e18db593bcde2aca2a408c4d1100f6abba2195df', '2025-01-01 00:00:00'),
  (1, 'initialmigration', '6ab16121fbaa08bbd11b712d05f358f9b555d777', '2025-01-01 00:00:01'),
  (2, 'storage-schema', '5c7968fd083fcea04050c1b7f6253c9771b99011', '2025-01-01 00:00:02'),
  (3, 'pathtoken-column', '2cb1b0004b817b29d5b0a971af16bafeede4b70d', '2025-01-01 00:00:03');

RESET ROLE;

-- ---------------------------------------------------------------- grants, like Supabase
-- The API roles may use the schemas (RLS policies call auth.uid()), and no
-- more on auth: Supabase's init script grants them USAGE on schema auth and
-- no table (supabase/postgres 00000000000001-auth-schema.sql). Storage's own
-- migrations grant its tables to the API roles, under RLS.
GRANT USAGE ON SCHEMA auth, storage TO anon, authenticated, service_role, postgres;
GRANT ALL ON ALL TABLES IN SCHEMA storage TO anon, authenticated, service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA storage TO anon, authenticated, service_role;
-- `postgres` gets rows, not structure: DML (and REFERENCES and TRIGGER, so
-- the app's migrations can point foreign keys and triggers at auth.users).
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA auth, storage TO postgres;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA auth, storage TO postgres;
