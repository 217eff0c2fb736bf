// Runs a script the way a user does, in a directory of the test's choosing
// (so no .env.local of ours leaks in), and collects what it printed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
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

export interface RunningScript {
  child: ChildProcess;
  /** Resolves once stderr or stdout holds `text`. */
  waitFor(text: string | RegExp): Promise<void>;
  done: Promise<ScriptResult>;
}

/**
 * A script started and left running, for tests that act on it mid-run:
 * answer its question, press Ctrl-C. With `terminal`, it runs under
 * script(1), so it has a terminal to ask at, as at a person's shell.
 */
export function startScript(
  script: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; terminal?: boolean } = {},
): RunningScript {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, FORCE_COLOR: '0', ...options.env };
  const command = [TSX, join(ROOT, 'scripts', script), ...args];
  const quoted = command.map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = options.terminal
    ? spawn('script', ['-qefc', quoted, '/dev/null'], { cwd: options.cwd ?? emptyDirectory(), env })
    : spawn(command[0] as string, command.slice(1), { cwd: options.cwd ?? emptyDirectory(), env });
  let stdout = '';
  let stderr = '';
  const waiting: { text: string | RegExp; resolve: () => void }[] = [];
  const check = () => {
    for (const wait of [...waiting]) {
      const all = stdout + stderr;
      if (typeof wait.text === 'string' ? all.includes(wait.text) : wait.text.test(all)) {
        waiting.splice(waiting.indexOf(wait), 1);
        wait.resolve();
      }
    }
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    check();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    check();
  });
  const done = new Promise<ScriptResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
  return {
    child,
    done,
    waitFor: (text) =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ text, resolve });
        check();
        void done.then((result) => reject(new Error(`the script ended (${result.code}) before printing ${String(text)}:\n${result.stdout}\n${result.stderr}`)));
      }),
  };
}
