// The user's one-off scripts, run as the user runs them, against the real stack.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, SYNCED_SCHEMAS, tableDigests } from './helpers/content.ts';
import { allScripts, emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';
import { countOf } from '../lib/counts.ts';

const { production, staging: emptyStaging, stack } = sharedStack();
const made: Project[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((project) => project.stop()));
});
const staging = async (name: string, without?: string[]) => {
  const project = await stack.createProject(`targeted_${name}`);
  made.push(project);
  if (without) {
    // Upserts into an empty staging: a replace would refuse to empty tables the left-out ones reference.
    const args = ['--via', 'postgres', '--mode', 'upsert', '--schemas', SYNCED_SCHEMAS.join(','), '--exclude', [...without, 'event_log'].join(',')];
    expect((await runScript('sync.ts', args, { env: envFor(production, project) })).code).toBe(0);
  }
  return project;
};
const same = async (project: Project, tables: string[]) => {
  const [expected, actual] = await Promise.all([tableDigests(production.adminUrl), tableDigests(project.adminUrl)]);
  for (const table of tables) expect(actual[table], table).toEqual(expected[table]);
};

describe("the user's scripts", () => {
  it('sync-chat-tables.ts syncs conversations, then messages with replies to replies', async () => {
    const project = await staging('chat', ['chat_conversations', 'chat_messages']);
    const result = await runScript('sync-chat-tables.ts', ['--via', 'rest'], { env: envFor(production, project) });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/public\.chat_conversations[\s\S]*public\.chat_messages/);
    await same(project, ['public.chat_conversations', 'public.chat_messages']);
  });

  it('sync-missing-tables.ts syncs the missing group, or the tables it is given', async () => {
    const project = await staging('missing', [
      'code_embeddings',
      'muva_content',
      'guest_reservations',
      'chat_conversations',
      'chat_messages',
      'booking_notes',
      'invoices',
      'invoicing_ranges',
    ]);
    const group = await runScript('sync-missing-tables.ts', [], { env: envFor(production, project) });
    expect(group.code).toBe(0);
    await same(project, ['public.code_embeddings', 'public.muva_content', 'public.guest_reservations']);
    const named = await runScript('sync-missing-tables.ts', ['chat_conversations', 'booking_notes'], { env: envFor(production, project) });
    expect(named.code).toBe(0);
    await same(project, ['public.chat_conversations', 'public.booking_notes']);
  });

  it('fix-guest-reservations-sync.ts reports a bad row by its id, writes the rest and verifies', async () => {
    const project = await staging('fix', ['guest_reservations', 'chat_conversations', 'chat_messages', 'booking_notes', 'invoices', 'invoicing_ranges']);
    const [{ id, total_price }] = (await query<{ id: string; total_price: string }>(
      production.adminUrl,
      'SELECT id, total_price::text AS total_price FROM public.guest_reservations r ORDER BY r.total_price DESC NULLS LAST, id LIMIT 1',
    )) as [{ id: string; total_price: string }];
    // A CHECK calling what production lacks: asked of production's rows before writing, it cannot be, and staging refuses the row.
    await query(
      project.adminUrl,
      `CREATE FUNCTION public.below(value numeric, bound numeric) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT value < bound $$;
       ALTER TABLE public.guest_reservations ADD CONSTRAINT sane_price CHECK (public.below(total_price, ${total_price}))`,
    );
    const result = await runScript('fix-guest-reservations-sync.ts', ['--via', 'rest'], { env: envFor(production, project) });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`public.guest_reservations (id=${id})`);
    expect(result.stdout).toContain('sane_price');
    // The row staging rejected is not counted as copied.
    expect(result.stdout).toContain('Synced 1 table, 103 rows (1 rejected, not copied)');
    expect(result.stdout).toMatch(/\| public\.guest_reservations +\| 104 +\| 103 +\| ⚠️ counts differ +\|/);
    expect(result.stdout).toContain(`missing in staging: (${id})`);
    expect(await query(project.adminUrl, `SELECT count(*)::int AS n FROM public.guest_reservations WHERE id <> '${id}'`)).toEqual([{ n: 103 }]);
  });

  it('fix-guest-reservations-sync.ts says a staging-only row its upsert kept is kept, not that staging differs, and exits 0 as its --help promises', async () => {
    const project = await staging('fix_kept', ['guest_reservations', 'chat_conversations', 'chat_messages', 'booking_notes', 'invoices', 'invoicing_ranges']);
    await query(
      project.adminUrl,
      `INSERT INTO public.guest_reservations (id, guest_name, check_in) VALUES ('00000000-0000-4000-8000-00000000abcd', 'Staging Only', '2026-01-01')`,
    );
    const result = await runScript('fix-guest-reservations-sync.ts', ['--via', 'postgres'], { env: envFor(production, project) });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\| public\.guest_reservations +\| 104 +\| 105 +\| ✅ upserted, 1 staging-only row kept +\|/);
    expect(result.stdout).toContain('1 with staging-only rows the upsert kept');
    expect(result.stdout).not.toContain('tables differ');
  });

  for (const via of ['postgres', 'rest'] as const) {
    it(`stops a targeted sync whose parents staging lacks, and --with-parents brings only those (via ${via})`, async () => {
      const project = await staging(`parents_${via}`);
      const env = envFor(production, project);
      // The dry-run predicts the run: the plan, then the same stop and exit code.
      const predicted = await runScript('sync.ts', ['--via', via, '--tables', 'guest_reservations', '--mode', 'upsert', '--dry-run'], { env });
      expect(predicted.stdout).toContain('public.guest_reservations');
      expect(predicted.code).toBe(1);
      const stopped = await runScript('sync.ts', ['--via', via, '--tables', 'guest_reservations', '--mode', 'upsert'], { env });
      expect(stopped.code).toBe(1);
      expect(predicted.stderr).toBe(stopped.stderr);
      const [{ rows, units }] = (await query<{ rows: number; units: number }>(
        production.adminUrl,
        'SELECT count(*)::int AS rows, count(DISTINCT accommodation_unit_id)::int AS units FROM public.guest_reservations WHERE accommodation_unit_id IS NOT NULL',
      )) as [{ rows: number; units: number }];
      expect(stopped.stderr).toContain(
        `${countOf(rows, 'row')} of public.guest_reservations reference ${countOf(units, 'public.accommodation_units row')} missing from staging`,
      );
      expect(stopped.stderr).toContain('--with-parents');
      // The run names its tables: a schema added would add none, so the parents are offered by name.
      expect(stopped.stderr).toContain('  name public.accommodation_units too (--tables)   also copy that table whole');
      expect(stopped.stderr).not.toContain('--schemas ');
      expect(await query(project.adminUrl, 'SELECT count(*)::int AS n FROM public.guest_reservations')).toEqual([{ n: 0 }]);

      const synced = await runScript('sync.ts', ['--via', via, '--tables', 'guest_reservations', '--mode', 'upsert', '--with-parents'], { env });
      expect(synced.code).toBe(0);
      await same(project, ['public.guest_reservations']);
      // Only the referenced units, and the hotels those belong to, came along.
      const [copied] = (await query<{ units: number; hotels: number; tenants: number }>(
        project.adminUrl,
        'SELECT (SELECT count(*)::int FROM public.accommodation_units) AS units, (SELECT count(*)::int FROM public.hotels) AS hotels, (SELECT count(*)::int FROM public.tenant_registry) AS tenants',
      )) as [{ units: number; hotels: number; tenants: number }];
      expect(copied.units).toBe(units);
      expect(copied.hotels).toBeGreaterThan(0);
      expect(copied.tenants).toBe(0);
    });
  }

  it("copies only the rows a table's `where` in supasync.config.json selects", async () => {
    const project = await staging('where', ['guest_reservations', 'chat_conversations', 'chat_messages', 'booking_notes', 'invoices', 'invoicing_ranges']);
    const cwd = emptyDirectory();
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ tables: { guest_reservations: { where: "status = 'confirmed'" } } }));
    for (const via of ['rest', 'postgres']) {
      const result = await runScript('fix-guest-reservations-sync.ts', ['--via', via, '--dry-run'], { cwd, env: envFor(production, project) });
      expect(result.stdout).toContain("where status = 'confirmed'");
      const synced = await runScript('sync-missing-tables.ts', ['guest_reservations', '--via', via], { cwd, env: envFor(production, project) });
      expect(synced.code).toBe(0);
      const [expected, actual] = await Promise.all(
        [production, project].map((p) => query(p.adminUrl, 'SELECT id, status::text FROM public.guest_reservations ORDER BY id')),
      );
      expect(actual).toEqual(expected?.filter((row) => row.status === 'confirmed'));
    }
  });

  it('--help works for every script', async () => {
    for (const script of allScripts()) {
      const result = await runScript(script, ['--help']);
      expect(result.code, script).toBe(0);
      // scripts/supasync.ts is the installed bin's source: it names itself as installed.
      expect(result.stdout, script).toContain(script === 'supasync.ts' ? 'Usage: supasync <command> [options]' : `Usage: npx tsx scripts/${script}`);
    }
  });

  it('a script of its own tables lists no --tables or --group in its --help, and refuses them saying what it syncs', async () => {
    for (const [script, syncs] of [
      ['fix-guest-reservations-sync.ts', 'the tables of its group "guest-reservations"'],
      ['sync-prod-to-staging-ultimate.ts', 'every table'],
    ] as const) {
      const help = await runScript(script, ['--help']);
      expect(help.stdout, script).not.toMatch(/--tables|--group/);
      const refused = await runScript(script, ['--tables', 'hotels']);
      expect(refused.code, script).toBe(2);
      expect(refused.stderr, script).toContain(`This script syncs ${syncs}, and takes no --tables or --group`);
    }
  });

  it("a group naming a table production lacks is named as the config's group, not as --tables", async () => {
    const cwd = emptyDirectory();
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ groups: { nightly: ['hotels', 'hotelz'] } }));
    const result = await runScript('sync.ts', ['--dry-run', '--group', 'nightly'], { cwd, env: envFor(production, emptyStaging) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `supasync.config.json's group "nightly" names hotelz: production has no such table in schemas public. Did you mean public.hotels?`,
    );
    expect(result.stderr).not.toContain('--tables');
  });

  it('a bad supasync.config.json stops with exit 2, naming the field', async () => {
    const cwd = emptyDirectory();
    writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify({ groups: { chat: [] }, tables: { hotels: { mode: 'merge' } } }));
    const result = await runScript('sync-chat-tables.ts', ['--dry-run'], { cwd, env: envFor(production, production) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('groups.chat');
    expect(result.stderr).toContain('tables.hotels.mode');
  });
});
