// Anonymised staging (issue 17), told once and run over each transport: a
// production holding guests' emails, names and phones, and Supabase's users,
// synced with masking rules and the Supabase preset. Every assertion reads
// staging (or the files and requests that reached it), never our own code's
// idea of what it wrote.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Via } from '../../lib/config/env.ts';
import { TEST_PASSWORD, TEST_PASSWORD_HASH } from '../../lib/mask/preset.ts';
import type { Project } from '../../stack/index.ts';
import type { CapturedRequest } from '../../stack/gateway.ts';
import { query, tableDigests } from '../helpers/content.ts';
import { emptyDirectory, runScript, type ScriptResult } from '../helpers/run-script.ts';
import { envOver, sharedStack } from '../setup/stack.ts';

const SECRET = 'masking-test-secret-5b1f0c9e7a4d2e8f';

// The app's personal data, made to be found: every raw value carries a
// marker no masked value can (realmail.test, Realname), or is a number
// long enough not to occur by chance.
const APP_SCHEMA = `
  CREATE TABLE public.mask_customers (
    email        text PRIMARY KEY,
    full_name    text NOT NULL,
    phone        varchar(20) UNIQUE,
    short_email  varchar(24) UNIQUE,
    passport     text,
    notes        text,
    nickname     text
  );
  -- Unique, yet no ON CONFLICT target: an expression, and a predicate (a soft delete's).
  CREATE UNIQUE INDEX mask_customers_nickname ON public.mask_customers (lower(nickname)) WHERE notes IS NULL;
  CREATE TABLE public.mask_orders (
    id              int PRIMARY KEY,
    customer_email  text NOT NULL REFERENCES public.mask_customers (email),
    billing_email   text,
    guest           jsonb
  );
  CREATE TABLE public.mask_checked (
    id    int PRIMARY KEY,
    code  text NOT NULL CHECK (code ~ '^[A-Z]{3}[0-9]{2}$')
  );`;

const APP_ROWS = `
  INSERT INTO public.mask_customers
  SELECT 'real.person.' || i || '@realmail.test', 'Realname Surname ' || i, '+57 300 555 ' || lpad(i::text, 4, '0'),
         'rp' || i || '@rm.test', 'PA' || lpad((i * 7919)::text, 8, '0'), CASE WHEN i % 3 = 0 THEN 'prefers the quiet room' END
  FROM generate_series(1, 300) i;
  INSERT INTO public.mask_orders
  SELECT i, 'real.person.' || (1 + i % 300) || '@realmail.test',
         -- The same person typed in capitals on the invoice: masks as the customer's email does.
         upper('real.person.' || (1 + i % 300) || '@realmail.test'),
         jsonb_build_object('full_name', 'Realname Surname ' || (1 + i % 300), 'score', 1.0, 'big', 12345678901234567890,
                            'contact', jsonb_build_object('email', 'real.person.' || (1 + i % 300) || '@realmail.test', 'lang', 'es'))
  FROM generate_series(1, 600) i;
  INSERT INTO public.mask_checked SELECT i, 'ABC' || lpad(i::text, 2, '0') FROM generate_series(1, 20) i;
  -- What an app's sign-up form adds to a user's metadata beside the providers' keys (database.dev's).
  UPDATE auth.users SET raw_user_meta_data = COALESCE(raw_user_meta_data, '{}') || jsonb_build_object(
    'display_name', 'Realname Display ' || left(id::text, 8), 'contact_email', 'contact.' || left(id::text, 8) || '@realmail.test',
    'handle', 'realhandle-' || left(id::text, 8), 'bio', 'likes hiking');`;

const RULES = {
  'mask_customers.email': 'email',
  'public.mask_customers.full_name': 'name',
  'mask_customers.phone': 'phone',
  'mask_customers.short_email': 'email',
  'mask_orders.billing_email': 'email',
  'mask_orders.guest.full_name': 'name',
  'mask_orders.guest.contact.email': 'email',
  // The user's own transformer, keyed by the same secret through its helpers.
  'mask_customers.passport': { module: './mask/passport.mjs', export: 'maskPassport' },
};

const PASSPORT_MODULE = `export function maskPassport(value, { hmacHex }) {
  return 'XX' + BigInt('0x' + hmacHex(value, 12)).toString().slice(0, 8).padStart(8, '0');
}
`;

const TABLES = ['mask_customers', 'mask_orders', 'auth.users', 'auth.identities'];

/** Every raw personal value production holds in the masked columns. */
async function rawValues(production: Project): Promise<string[]> {
  const rows = await query<{ value: string | null }>(
    production.adminUrl,
    `SELECT email AS value FROM public.mask_customers UNION SELECT full_name FROM public.mask_customers
     UNION SELECT phone FROM public.mask_customers UNION SELECT short_email FROM public.mask_customers
     UNION SELECT passport FROM public.mask_customers
     UNION SELECT billing_email FROM public.mask_orders UNION SELECT guest ->> 'full_name' FROM public.mask_orders
     UNION SELECT email FROM auth.users UNION SELECT phone FROM auth.users
     UNION SELECT raw_user_meta_data ->> 'full_name' FROM auth.users UNION SELECT raw_user_meta_data ->> 'avatar_url' FROM auth.users
     UNION SELECT raw_user_meta_data ->> 'display_name' FROM auth.users UNION SELECT raw_user_meta_data ->> 'contact_email' FROM auth.users
     UNION SELECT raw_user_meta_data ->> 'handle' FROM auth.users
     UNION SELECT identity_data ->> 'email' FROM auth.identities UNION SELECT identity_data ->> 'full_name' FROM auth.identities
     UNION SELECT identity_data ->> 'phone' FROM auth.identities UNION SELECT provider_id FROM auth.identities WHERE provider = 'google'`,
  );
  return rows.map((row) => row.value).filter((value): value is string => !!value && value.length >= 5);
}

/** The raw values found in `text`, compared without case (emails are masked without it). */
function rawIn(text: string, raw: string[]): string[] {
  const lower = text.toLowerCase();
  return raw.filter((value) => lower.includes(value.toLowerCase()));
}

async function stagingText(staging: Project): Promise<string> {
  const rows = await query<{ row: string }>(
    staging.adminUrl,
    `SELECT row_to_json(t)::text AS row FROM public.mask_customers t UNION ALL SELECT row_to_json(t)::text FROM public.mask_orders t
     UNION ALL SELECT row_to_json(t)::text FROM auth.users t UNION ALL SELECT row_to_json(t)::text FROM auth.identities t`,
  );
  return rows.map((row) => row.row).join('\n');
}

function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

export function defineMaskingSuite(via: Via): void {
  const { stack } = sharedStack();
  let production: Project;
  let staging: Project;
  let raw: string[];
  let first: ScriptResult;
  let requests: CapturedRequest[] = [];
  const cwd = emptyDirectory();
  const made: Project[] = [];

  const sync = (target: Project, args: string[], options: { secret?: string | null; config?: object; dir?: string } = {}) => {
    const dir = options.dir ?? cwd;
    writeFileSync(join(dir, 'supasync.config.json'), JSON.stringify(options.config ?? { mask: RULES, maskPreset: 'supabase' }));
    const secret = options.secret === undefined ? SECRET : options.secret;
    return runScript('sync.ts', ['--via', via, '--schemas', 'public,auth', ...args], {
      cwd: dir,
      env: { ...envOver(via, production, target), ...(secret ? { SUPASYNC_MASK_SECRET: secret } : {}) },
    });
  };

  const verify = (args: string[]) =>
    runScript('verify-sync-status.ts', ['--via', via, '--schemas', 'public,auth', '--tables', TABLES.join(','), ...args], {
      cwd,
      env: { ...envOver(via, production, staging), SUPASYNC_MASK_SECRET: SECRET },
    });

  beforeAll(async () => {
    mkdirSync(join(cwd, 'mask'));
    writeFileSync(join(cwd, 'mask', 'passport.mjs'), PASSPORT_MODULE);
    production = await stack.createProject(`mask_prod_${via}`, { fill: 'tiny' });
    staging = await stack.createProject(`mask_staging_${via}`);
    made.push(production, staging);
    await query(production.adminUrl, `SET ROLE postgres; ${APP_SCHEMA} ${APP_ROWS}`);
    await query(staging.adminUrl, `SET ROLE postgres; ${APP_SCHEMA}`);
    raw = await rawValues(production);
    staging.gateway.captureRequests(true);
    first = await sync(staging, ['--tables', TABLES.join(','), '--yes']);
    requests = staging.gateway.capturedRequests();
    staging.gateway.captureRequests(false);
  });

  afterAll(async () => {
    await Promise.all(made.splice(0).map((project) => project.stop()));
  });

  describe(`a masked sync (via ${via})`, () => {
    it('copies every row, and staging holds none of production’s personal values', async () => {
      expect(first.stderr).not.toContain('Error');
      expect(first.code, first.stdout + first.stderr).toBe(0);
      const counts = await query<{ customers: string; orders: string; users: string; identities: string }>(
        staging.adminUrl,
        `SELECT (SELECT count(*) FROM public.mask_customers) AS customers, (SELECT count(*) FROM public.mask_orders) AS orders,
                (SELECT count(*) FROM auth.users) AS users, (SELECT count(*) FROM auth.identities) AS identities`,
      );
      const expected = await query(
        production.adminUrl,
        `SELECT (SELECT count(*) FROM public.mask_customers) AS customers, (SELECT count(*) FROM public.mask_orders) AS orders,
                (SELECT count(*) FROM auth.users) AS users, (SELECT count(*) FROM auth.identities) AS identities`,
      );
      expect(counts).toEqual(expected);
      expect(raw.length).toBeGreaterThan(1000);
      expect(rawIn(await stagingText(staging), raw)).toEqual([]);
      expect(first.stdout).toMatch(/Masked on the way \(22 columns\): .*public\.mask_customers \(email, full_name, phone, short_email, passport\)/);
      expect(first.stdout).toContain('public.mask_orders (billing_email, guest, customer_email)');
      // The run says the test password too, not only the plan.
      expect(first.stderr).toContain(`same password: "${TEST_PASSWORD}"`);
      // The secret is never printed.
      expect(first.stdout + first.stderr).not.toContain(SECRET);
    });

    it('masks deterministically: one person gets one masked email in every table and column, whatever its case', async () => {
      // mask_orders.customer_email follows its key by the foreign key; billing_email has the same rule and, in capitals, the same person.
      const mismatched = await query(
        staging.adminUrl,
        `SELECT o.id FROM public.mask_orders o WHERE o.billing_email <> o.customer_email OR o.guest -> 'contact' ->> 'email' <> o.customer_email`,
      );
      expect(mismatched).toEqual([]);
      // Auth: a user's email and the email inside their identity (typed User1@Example.COM) mask alike, and stay joined by user_id.
      const identities = await query<{ same: boolean }>(
        staging.adminUrl,
        `SELECT u.email = i.identity_data ->> 'email' AS same FROM auth.users u JOIN auth.identities i ON i.user_id = u.id WHERE i.provider = 'email'`,
      );
      expect(identities.length).toBeGreaterThan(10);
      expect(identities.every((row) => row.same)).toBe(true);
      // identity_data.sub and provider_id, equal in production, hash alike.
      const subs = await query(staging.adminUrl, `SELECT id FROM auth.identities WHERE identity_data ->> 'sub' <> provider_id`);
      expect(subs).toEqual([]);
      const sample = await query<{ email: string; full_name: string; phone: string }>(
        staging.adminUrl,
        `SELECT email, full_name, phone FROM public.mask_customers ORDER BY email LIMIT 1`,
      );
      expect(sample[0]?.email).toMatch(/^[a-z]+\.[a-z]+\.[0-9a-f]{16}@example\.com$/);
      expect(sample[0]?.full_name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
      expect(sample[0]?.phone).toMatch(/^\+\d\d \d{3} \d{3} \d{4}$/);
    });

    it('keeps the foreign key over a masked key, unique columns unique, and lengths within varchar(n)', async () => {
      const orphans = await query(
        staging.adminUrl,
        `SELECT o.id FROM public.mask_orders o LEFT JOIN public.mask_customers c ON c.email = o.customer_email WHERE c.email IS NULL`,
      );
      expect(orphans).toEqual([]);
      const unique = await query<Record<string, string>>(
        staging.adminUrl,
        `SELECT count(DISTINCT email) AS email, count(DISTINCT phone) AS phone, count(DISTINCT short_email) AS short_email,
                max(length(short_email)) AS longest, (SELECT count(DISTINCT email) FROM auth.users) AS users_email,
                (SELECT count(email) FROM auth.users) AS users_with_email
         FROM public.mask_customers`,
      );
      expect(unique[0]).toMatchObject({ email: '300', phone: '300', short_email: '300' });
      expect(Number(unique[0]?.longest)).toBeLessThanOrEqual(24);
      expect(unique[0]?.users_email).toBe(unique[0]?.users_with_email);
      // The jsonb's other keys keep their exact text: 1.0 stays 1.0, a 20-digit number stays exact.
      const kept = await query(
        staging.adminUrl,
        `SELECT DISTINCT guest -> 'score' AS score, (guest ->> 'big') AS big, guest -> 'contact' ->> 'lang' AS lang FROM public.mask_orders`,
      );
      expect(kept).toEqual([{ score: 1.0, big: '12345678901234567890', lang: 'es' }]);
      const notes = await query(staging.adminUrl, `SELECT count(*) AS n FROM public.mask_customers WHERE notes = 'prefers the quiet room'`);
      expect(notes).toEqual([{ n: '100' }]);
      // The user's own transformer ran on every passport, and kept them apart.
      const passports = await query(
        staging.adminUrl,
        `SELECT count(*) FILTER (WHERE passport ~ '^XX[0-9]{8}$') AS masked, count(DISTINCT passport) AS distinct FROM public.mask_customers`,
      );
      expect(passports).toEqual([{ masked: '300', distinct: '300' }]);
    });

    it('gives every masked user the one test password, which bcrypt accepts, and says so loudly in the plan', async () => {
      const passwords = await query<{ encrypted_password: string; n: string }>(
        staging.adminUrl,
        `SELECT encrypted_password, count(*) AS n FROM auth.users GROUP BY 1`,
      );
      expect(passwords.map((row) => row.encrypted_password)).toEqual([TEST_PASSWORD_HASH]);
      // GoTrue checks a password with bcrypt, as pgcrypto's crypt() does (in Supabase's `extensions` schema).
      const signIn = await query(staging.adminUrl, `SELECT extensions.crypt($1, $2) = $2 AS ok`, [TEST_PASSWORD, TEST_PASSWORD_HASH]);
      expect(signIn).toEqual([{ ok: true }]);
      const plan = await sync(staging, ['--tables', TABLES.join(','), '--dry-run']);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain(`same password: "${TEST_PASSWORD}"`);
      expect(plan.stdout).toMatch(/customer_email: email \(carried from public\.mask_customers\.email by its foreign key/);
      expect(plan.stdout).toContain('guest.contact.email: email (mask "mask_orders.guest.contact.email")');
      expect(plan.stdout).toContain('raw_user_meta_data.full_name: name (preset supabase)');
    });

    it('gives the same staging on a second run, and its backup of staging holds no raw value', async () => {
      const tables = [
        { schema: 'public', name: 'mask_customers' },
        { schema: 'public', name: 'mask_orders' },
      ];
      const before = await tableDigests(staging.adminUrl, ['public', 'auth']);
      const again = await sync(staging, ['--tables', TABLES.join(','), '--yes']);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      const after = await tableDigests(staging.adminUrl, ['public', 'auth']);
      for (const table of [...tables.map((t) => `public.${t.name}`), 'auth.users', 'auth.identities']) expect(after[table], table).toEqual(before[table]);
      const files = filesUnder(join(cwd, '.supasync', 'backups'));
      expect(files.length).toBeGreaterThan(2);
      const found = files.flatMap((file) => rawIn(readFileSync(file).toString('latin1'), raw).map((value) => `${file}: ${value}`));
      expect(found).toEqual([]);
    });

    it('syncs a masked table alone: its masked references find their masked parents in staging, and the parent can be replaced under them', async () => {
      staging.gateway.captureRequests(true);
      const children = await sync(staging, ['--tables', 'mask_orders', '--yes']);
      const parents = await sync(staging, ['--tables', 'mask_customers', '--yes']);
      const sent = staging.gateway.capturedRequests();
      staging.gateway.captureRequests(false);
      // Without masking production's keys first, all 300 customers would look missing from staging, and the replace would orphan 600 orders.
      expect(children.code, children.stdout + children.stderr).toBe(0);
      expect(parents.code, parents.stdout + parents.stderr).toBe(0);
      const orphans = await query(
        staging.adminUrl,
        `SELECT o.id FROM public.mask_orders o LEFT JOIN public.mask_customers c ON c.email = o.customer_email WHERE c.email IS NULL`,
      );
      expect(orphans).toEqual([]);
      expect(rawIn(await stagingText(staging), raw)).toEqual([]);
      if (via === 'rest') {
        expect(sent.some((r) => r.path.startsWith('/rpc/supasync_missing_keys'))).toBe(true);
        expect(sent.flatMap((request) => rawIn(`${request.path}\n${request.body}`, raw))).toEqual([]);
      }
    });

    it('verifies a masked sync Perfect against production-as-masked, and not Perfect once a masked value is tampered with', async () => {
      const perfect = await verify([]);
      expect(perfect.code, perfect.stdout + perfect.stderr).toBe(0);
      for (const table of ['public.mask_customers', 'public.mask_orders', 'auth.users', 'auth.identities']) {
        expect(perfect.stdout).toMatch(new RegExp(`${table.replace('.', '\\.')}\\s*\\|[^\\n]*Perfect`));
      }
      const [row] = await query<{ email: string; full_name: string }>(
        staging.adminUrl,
        `SELECT email, full_name FROM public.mask_customers ORDER BY email LIMIT 1`,
      );
      await query(staging.adminUrl, `UPDATE public.mask_customers SET full_name = 'Tampered Name' WHERE email = $1`, [row?.email]);
      try {
        const tampered = await verify([]);
        expect(tampered.code).toBe(1);
        expect(tampered.stdout).toMatch(/public\.mask_customers\s*\|[^\n]*content differs/);
        expect(tampered.stdout).toContain(`differ from production: (${row?.email})`);
        // A mirror cannot compare a masked table: the way back is a replace.
        expect(tampered.stdout).toContain('A sync with --mode replace --tables public.mask_customers copies them whole (no key, or masked');
        expect(tampered.stdout).not.toContain('--mode mirror');
      } finally {
        await query(staging.adminUrl, `UPDATE public.mask_customers SET full_name = $2 WHERE email = $1`, [row?.email, row?.full_name]);
      }
    });

    it('audits staging for raw values of masked columns: none after the sync, and each one planted named by table, column and key', async () => {
      const clean = await verify(['--audit-masking']);
      expect(clean.code, clean.stdout + clean.stderr).toBe(0);
      expect(clean.stdout).toContain('No raw production value of a masked column or key found in staging');
      // A raw phone back in its row, a raw name inside a jsonb path, a raw email in auth.users.
      const [customer] = await query<{ email: string; phone: string }>(
        production.adminUrl,
        `SELECT email, phone FROM public.mask_customers WHERE email = 'real.person.7@realmail.test'`,
      );
      const [masked] = await query<{ email: string; phone: string }>(
        staging.adminUrl,
        `SELECT email, phone FROM public.mask_customers ORDER BY email OFFSET 6 LIMIT 1`,
      );
      const [user] = await query<{ id: string; email: string }>(
        production.adminUrl,
        `SELECT id, email FROM auth.users WHERE email IS NOT NULL ORDER BY id LIMIT 1`,
      );
      const [stagingUser] = await query<{ email: string }>(staging.adminUrl, `SELECT email FROM auth.users WHERE id = $1`, [user?.id]);
      const [order] = await query<{ guest: string }>(staging.adminUrl, `SELECT guest::text FROM public.mask_orders WHERE id = 7`);
      await query(staging.adminUrl, `UPDATE public.mask_customers SET phone = $2 WHERE email = $1`, [masked?.email, customer?.phone]);
      await query(staging.adminUrl, `UPDATE public.mask_orders SET guest = jsonb_set(guest, '{full_name}', '"Realname Surname 5"') WHERE id = 7`);
      await query(staging.adminUrl, `UPDATE auth.users SET email = $2 WHERE id = $1`, [user?.id, user?.email]);
      try {
        const leaked = await verify(['--audit-masking']);
        expect(leaked.code).toBe(1);
        expect(leaked.stdout).toContain(`phone at email=${masked?.email}`);
        expect(leaked.stdout).toContain('guest.full_name at id=7');
        expect(leaked.stdout).toContain(`email at id=${user?.id}`);
        expect(leaked.stdout).not.toContain(customer?.phone);
      } finally {
        await query(staging.adminUrl, `UPDATE public.mask_customers SET phone = $2 WHERE email = $1`, [masked?.email, masked?.phone]);
        await query(staging.adminUrl, `UPDATE public.mask_orders SET guest = $1::jsonb WHERE id = 7`, [order?.guest]);
        await query(staging.adminUrl, `UPDATE auth.users SET email = $2 WHERE id = $1`, [user?.id, stagingUser?.email]);
      }
    });

    if (via === 'rest') {
      it('sends staging no raw value in any request body or URL', () => {
        // Every table's rows went to staging in these requests: a table alone or several at once.
        const writes = requests.filter((r) => /^\/rpc\/supasync_write_(rows|tables)/.test(r.path));
        const written = new Set(writes.flatMap((r) => [...r.body.matchAll(/"table_name":"(\w+)"/g)].map((match) => match[1])));
        expect([...written].sort()).toEqual(['identities', 'mask_customers', 'mask_orders', 'users']);
        const found = requests.flatMap((request) => rawIn(`${request.path}\n${request.body}`, raw).map((value) => `${request.path}: ${value}`));
        expect(found).toEqual([]);
      });
    }

    it('fails loudly, naming the table, column rule and fix, when masked values break a CHECK, and writes no raw value', async () => {
      const result = await sync(staging, ['--tables', 'mask_checked', '--yes', '--no-backup'], {
        config: { mask: { 'mask_checked.code': 'name' } },
      });
      expect(result.code).toBe(1);
      const output = result.stdout + result.stderr;
      expect(output).toContain('public.mask_checked');
      expect(output).toMatch(/mask_checked_code_check/);
      expect(output).toMatch(/code: name/);
      const rows = await query<{ code: string }>(staging.adminUrl, `SELECT code FROM public.mask_checked`);
      expect(rows.filter((row) => /^ABC\d\d$/.test(row.code))).toEqual([]);
    });

    it('runs the full sync script masked over the whole app and Auth, and its closing verification calls every table Perfect', async () => {
      const target = await stack.createProject(`mask_full_${via}`);
      made.push(target);
      await query(target.adminUrl, `SET ROLE postgres; ${APP_SCHEMA}`);
      const dir = emptyDirectory();
      mkdirSync(join(dir, 'mask'));
      writeFileSync(join(dir, 'mask', 'passport.mjs'), PASSPORT_MODULE);
      writeFileSync(join(dir, 'supasync.config.json'), JSON.stringify({ mask: RULES, maskPreset: 'supabase' }));
      const result = await runScript('sync-prod-to-staging-ultimate.ts', ['--via', via, '--yes', '--schemas', 'public,auth'], {
        cwd: dir,
        env: { ...envOver(via, production, target), SUPASYNC_MASK_SECRET: SECRET },
      });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      for (const table of ['public.mask_customers', 'public.mask_orders', 'auth.users', 'auth.identities', 'public.profiles', 'public.staff_users']) {
        expect(result.stdout).toMatch(new RegExp(`${table.replace('.', '\\.')}\\s*\\|[^\\n]*Perfect`));
      }
      expect(result.stdout).not.toMatch(/differs|missing in staging/);
      // Everything else came as it is: public.profiles references the users by their (unmasked) id.
      const profiles = await query(target.adminUrl, `SELECT count(*)::int AS n FROM public.profiles p JOIN auth.users u ON u.id = p.id`);
      expect(profiles).toEqual(await query(production.adminUrl, `SELECT count(*)::int AS n FROM public.profiles`));
      // What sign-up's trigger copied from auth.users into the profiles is masked as auth.users is: no name, username or avatar of production's.
      const personal = `SELECT id, full_name, username, avatar_url FROM public.profiles ORDER BY id`;
      type Profile = { id: string; full_name: string | null; username: string | null; avatar_url: string | null };
      const [before, after] = await Promise.all([query<Profile>(production.adminUrl, personal), query<Profile>(target.adminUrl, personal)]);
      expect(before.filter((row) => row.full_name && row.avatar_url).length).toBeGreaterThan(0);
      expect(after.map((row) => row.id)).toEqual(before.map((row) => row.id));
      const raw = new Set(before.flatMap((row) => [row.full_name, row.username, row.avatar_url]).filter(Boolean));
      expect(after.flatMap((row) => [row.full_name, row.username]).filter((value) => raw.has(value))).toEqual([]);
      expect(after.filter((row) => row.avatar_url !== null)).toEqual([]);
      expect(after.filter((row) => (row.full_name === null) !== (before.find((b) => b.id === row.id)?.full_name === null))).toEqual([]);
      expect(result.stdout).toContain('public.profiles (username, full_name, avatar_url)');
      const plan = await runScript('sync.ts', ['--via', via, '--dry-run', '--tables', 'public.profiles'], {
        cwd: dir,
        env: { ...envOver(via, production, target), SUPASYNC_MASK_SECRET: SECRET },
      });
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain('full_name: name (preset supabase: public.profiles is a profile of auth.users)');
    });

    it('refuses a masked sync without SUPASYNC_MASK_SECRET before reading a row, and a rule that cannot hold, naming it and the fix', async () => {
      const target = await stack.createProject(`mask_refused_${via}`);
      made.push(target);
      await query(target.adminUrl, `SET ROLE postgres; ${APP_SCHEMA}`);
      const noSecret = await sync(target, ['--tables', TABLES.join(','), '--yes'], { secret: null });
      expect(noSecret.code).toBe(2);
      expect(noSecret.stderr).toContain('but SUPASYNC_MASK_SECRET is not set: no row was read or written');
      // A run of tables no rule masks needs no secret.
      const unmasked = await sync(target, ['--tables', 'hotels', '--dry-run'], { secret: null });
      expect(unmasked.code, unmasked.stderr).toBe(0);
      expect(unmasked.stdout).not.toContain('Masked on the way');
      const badRule = await sync(target, ['--tables', TABLES.join(','), '--yes'], {
        config: {
          mask: {
            'mask_customers.email': { transformer: 'fixed', value: 'x@y.z' },
            'mask_customers.nickname': { transformer: 'fixed', value: 'guest' },
            // Read by that index's predicate alone: not unique.
            'mask_customers.notes': { transformer: 'fixed', value: 'none' },
            'mask_orders.nope': 'email',
          },
        },
      });
      expect(badRule.code).toBe(2);
      expect(badRule.stderr).toMatch(/mask "mask_customers\.email" \(public\.mask_customers\.email, text\): the column is unique in staging.*Use hash/);
      expect(badRule.stderr).toMatch(/mask "mask_customers\.nickname" \(public\.mask_customers\.nickname, text\): the column is unique in staging.*Use hash/);
      expect(badRule.stderr).not.toContain('mask_customers.notes');
      expect(badRule.stderr).toContain('mask "mask_orders.nope": production has no column it names');
      // Re-syncs that compare checksums cannot compare a masked table yet: refused, with the modes that can.
      const mirror = await sync(target, ['--tables', 'mask_customers', '--mode', 'mirror', '--yes']);
      expect(mirror.code).toBe(2);
      expect(mirror.stderr).toContain('public.mask_customers (--mode mirror): masked tables cannot be re-synced by comparing checksums yet');
      const wrote = await query(target.adminUrl, `SELECT (SELECT count(*) FROM public.mask_customers) + (SELECT count(*) FROM auth.users) AS n`);
      expect(wrote).toEqual([{ n: '0' }]);
    });
  });
}
