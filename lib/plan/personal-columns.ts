// A masked run copies every column no rule names as it is. Where the run's
// tables hold columns named as personal data usually is (an app's own copy of
// a user's email, a guest's phone) and no rule names them, the person who
// asked for masking is told before anything is written: the preset knows
// Auth's tables and the profiles keyed by a user's id, not the app's others.
import { qualifiedName, type Catalog, type Column, type Table } from '../catalog/types.ts';
import type { TableMask } from '../mask/types.ts';

/** Words a column's name ends with when it usually holds a person's data, its words joined by `_` (camelCase split). */
const PERSONAL_ENDINGS = [
  'email',
  'e_mail',
  'email_address',
  'phone',
  'phone_number',
  'mobile',
  'mobile_number',
  'telephone',
  'first_name',
  'last_name',
  'full_name',
  'given_name',
  'family_name',
  'middle_name',
  'legal_name',
  'surname',
  'username',
  'user_name',
  'display_name',
  'passport',
  'passport_number',
  'ssn',
  'social_security_number',
  'national_id',
  'tax_id',
  'iban',
  'address',
  'street',
  'address_line1',
  'address_line2',
  'address_line_1',
  'address_line_2',
  'date_of_birth',
  'birth_date',
  'birthdate',
];
/** `guest_name`, `customerName`: a name that is a person's by the word before it. */
const PERSON_NAMES =
  /(^|_)(guest|customer|client|contact|person|patient|recipient|sender|employee|member|owner|holder|cardholder|applicant|passenger|student)_name$/;

/** `guestEmail` -> `guest_email`, `EMAIL` -> `email`. */
function words(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toLowerCase();
}

export function namedAsPersonal(column: Pick<Column, 'name'>): boolean {
  const name = words(column.name);
  return PERSONAL_ENDINGS.some((ending) => name === ending || name.endsWith(`_${ending}`)) || PERSON_NAMES.test(name);
}

/** Text the way a masking transformer takes it (plan/mask.ts's shape): the other types hold no name or email. */
function holdsText(column: Column): boolean {
  return /^(text|character varying|character|citext|bpchar)\b/.test(column.type) || column.typeName === 'citext' || column.typeKind === 'domain';
}

export interface PersonalColumns {
  table: string;
  columns: string[];
}

/**
 * Of the run's tables, the columns named as personal data that no rule of the run masks, and no rule of the config
 * names (a `keep` says the column holds no one), nor the preset said it left. Production's catalog: what is read.
 */
export function personalColumnsLeftRaw(
  production: Catalog,
  tables: { table: { schema: string; name: string }; mask?: TableMask | null }[],
  named: (table: Table, column: Column) => boolean,
): PersonalColumns[] {
  return tables.flatMap(({ table: ref, mask }) => {
    const table = production.tables.find((t) => t.schema === ref.schema && t.name === ref.name);
    if (!table) return [];
    // The preset's profile columns it left as they are, the plan says already, with why.
    const masked = new Set([...(mask?.columns ?? []), ...(mask?.unmasked ?? [])].map((column) => column.column));
    const columns = table.columns
      .filter((column) => !column.generated && holdsText(column) && namedAsPersonal(column) && !masked.has(column.name) && !named(table, column))
      .map((column) => column.name);
    return columns.length ? [{ table: qualifiedName(table), columns }] : [];
  });
}

/**
 * Of each column the run masks by keys alone (a jsonb column's paths: auth.users.raw_user_meta_data), the keys
 * production's rows hold that no rule names and that are named as personal data usually is (an app's own
 * `company_email` in a user's metadata), as `column.key`. `keysOf`: production's keys of the column, null where it
 * cannot say.
 */
export async function personalKeysLeftRaw(
  tables: { table: { schema: string; name: string }; mask?: TableMask | null }[],
  keysOf: (table: { schema: string; name: string }, column: string) => Promise<string[] | null>,
  named: (table: { schema: string; name: string }, column: string, key: string) => boolean,
): Promise<PersonalColumns[]> {
  const found: PersonalColumns[] = [];
  for (const { table, mask } of tables) {
    for (const column of mask?.columns ?? []) {
      if (column.kind !== 'json' || !column.rules.length || column.rules.some(({ path }) => !path.length)) continue;
      const masked = new Set(column.rules.map(({ path }) => path[0]));
      const keys = (await keysOf(table, column.column)) ?? [];
      const left = keys.filter((key) => !masked.has(key) && !named(table, column.column, key) && namedAsPersonal({ name: key }));
      if (left.length) found.push({ table: qualifiedName(table), columns: left.map((key) => `${column.column}.${key}`) });
    }
  }
  return found;
}

/** Said in the plan and as a run's warning; null where there is nothing to say. */
export function personalColumnsWarning(found: readonly PersonalColumns[] | undefined): string | null {
  if (!found?.length) return null;
  const listed = found.map(({ table, columns }) => `${table}: ${columns.join(', ')}`).join('; ');
  const [first] = found;
  const example = `"${first!.table}.${first!.columns[0]}"`;
  return (
    `Copied unmasked, though named as personal data usually is: ${listed}. ` +
    `Mask each with a rule in supasync.config.json's "mask" (${example}: "email", "phone", "name", "hash" or "null"), ` +
    `or say it holds no one's data with ${example}: "keep" (docs/masking.md).`
  );
}
