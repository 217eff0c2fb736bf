// Runs a script the way a user does, in a directory of the test's choosing
// (so no .env.local of ours leaks in), and collects what it printed.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

const made: string[] = [];
// Workers are reused across files and never run an exit handler: clean up per file.
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh working directory, removed after the test file. */
export function emptyDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'supasync-cwd-'));
  made.push(dir);
  return dir;
}

export function runScript(
  script: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<ScriptResult> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, FORCE_COLOR: '0', ...options.env };
  return new Promise((resolve) => {
    execFile(
      TSX,
      [join(ROOT, 'scripts', script), ...args],
      { cwd: options.cwd ?? emptyDirectory(), env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
