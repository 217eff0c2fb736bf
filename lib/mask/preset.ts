// The Supabase preset (--mask supabase, or "maskPreset": "supabase"): what
// GoTrue keeps about a person in auth.users and auth.identities. The
// config's own rules win over these, key by key (a rule "keep" undoes one).
import type { Catalog, Table } from '../catalog/types.ts';
import type { MaskRuleInput } from '../config/mask-schema.ts';

/** Every masked user signs in to staging with this password: said loudly in the plan and docs/masking.md. */
export const TEST_PASSWORD = 'supasync-staging';
/** bcrypt (cost 10, as GoTrue writes) of TEST_PASSWORD. */
export const TEST_PASSWORD_HASH = '$2a$10$2X6X/pGKVuuVhkRhlAQQvuXKA.u.95QRTb/bcNcp3GNYaIJ63t7Eq';

/**
 * The keys of a user's metadata (raw_user_meta_data, and each identity's identity_data) that hold the person: what
 * the providers put there (email, name, picture, sub) and what apps' sign-up forms commonly add beside them
 * (display_name, contact_email, a handle: database.dev's). Other keys are copied as they are, and the plan says so.
 */
const METADATA_KEYS: Record<string, MaskRuleInput> = {
  email: 'email',
  email_address: 'email',
  contact_email: 'email',
  phone: 'phone',
  phone_number: 'phone',
  full_name: 'name',
  name: 'name',
  display_name: 'name',
  first_name: 'first_name',
  given_name: 'first_name',
  last_name: 'last_name',
  family_name: 'last_name',
  nickname: 'hash',
  user_name: 'hash',
  username: 'hash',
  preferred_username: 'hash',
  handle: 'hash',
  avatar_url: 'null',
  avatar: 'null',
  picture: 'null',
  sub: 'hash',
};

function metadataRules(column: string): Record<string, MaskRuleInput> {
  return Object.fromEntries(Object.entries(METADATA_KEYS).map(([key, rule]) => [`${column}.${key}`, rule]));
}

/**
 * Left as they are: ids (users.id is every public table's key into auth,
 * and a uuid says nothing of a person), raw_app_meta_data (the providers a
 * user signed in with), timestamps and flags. One-time tokens are hashed:
 * production's would otherwise confirm or recover accounts in staging.
 */
export const SUPABASE_PRESET: Record<string, MaskRuleInput> = {
  'auth.users.email': 'email',
  'auth.users.phone': 'phone',
  'auth.users.email_change': 'email',
  'auth.users.phone_change': 'phone',
  'auth.users.encrypted_password': { transformer: 'fixed', value: TEST_PASSWORD_HASH },
  'auth.users.confirmation_token': 'hash',
  'auth.users.recovery_token': 'hash',
  'auth.users.email_change_token_new': 'hash',
  'auth.users.email_change_token_current': 'hash',
  'auth.users.phone_change_token': 'hash',
  'auth.users.reauthentication_token': 'hash',
  ...metadataRules('auth.users.raw_user_meta_data'),
  'auth.identities.provider_id': 'hash',
  ...metadataRules('auth.identities.identity_data'),
};

/**
 * An app's table of one row per Auth user, keyed by the user's id (Supabase's
 * guide makes `public.profiles` so, filled by a trigger on sign-up from
 * raw_user_meta_data): what the preset masks in auth.users is copied there
 * too. Its columns of these names are masked alike, where the rule fits the
 * column (plan/mask.ts); a rule of the config's own wins, `keep` undoes one.
 */
export const PROFILE_COLUMN_RULES: ReadonlyMap<string, MaskRuleInput> = new Map(
  Object.entries({
    email: 'email',
    email_address: 'email',
    phone: 'phone',
    phone_number: 'phone',
    full_name: 'name',
    name: 'name',
    display_name: 'name',
    first_name: 'name',
    last_name: 'name',
    username: 'hash',
    user_name: 'hash',
    avatar_url: 'null',
  } satisfies Record<string, MaskRuleInput>),
);

/** Tables outside auth whose primary key is one column referencing auth.users(id). */
export function authProfileTables(catalog: Catalog): Table[] {
  return catalog.tables.filter((table) => {
    const key = table.primaryKey?.columns;
    return (
      table.schema !== 'auth' &&
      key?.length === 1 &&
      table.foreignKeys.some(
        (fk) =>
          fk.referencedSchema === 'auth' &&
          fk.referencedTable === 'users' &&
          fk.columns.length === 1 &&
          fk.columns[0] === key[0] &&
          fk.referencedColumns[0] === 'id',
      )
    );
  });
}
