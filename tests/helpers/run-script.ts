// Runs a script the way a user does, in a directory of the test's choosing
// (so no .env.local of ours leaks in), and collects what it printed.
import { execFile, type ChildProcess } from 'node:child_process';
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

export interface ScriptOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** The process umask, set by the shell that starts the script (e.g. 0o000: every file it makes open to all unless it says otherwise). */
  umask?: number;
}

export function runScript(script: string, args: string[], options: ScriptOptions = {}): Promise<ScriptResult> {
  return startScript(script, args, options).finished;
}

/** The script's process, to signal while it runs, and what it printed once it ends. */
export function startScript(script: string, args: string[], options: ScriptOptions = {}): { child: ChildProcess; finished: Promise<ScriptResult> } {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, FORCE_COLOR: '0', ...options.env };
  const command = [TSX, join(ROOT, 'scripts', script), ...args];
  const [file, argv] =
    options.umask === undefined ? [TSX, command.slice(1)] : ['/bin/sh', ['-c', `umask ${options.umask.toString(8).padStart(3, '0')}; exec "$@"`, 'sh', ...command]];
  let child!: ChildProcess;
  const finished = new Promise<ScriptResult>((resolve) => {
    child = execFile(file, argv, { cwd: options.cwd ?? emptyDirectory(), env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
  return { child, finished };
}
