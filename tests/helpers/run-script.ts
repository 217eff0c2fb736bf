// Runs a script the way a user does, in a directory of the test's choosing
// (so no .env.local of ours leaks in), and collects what it printed. By
// default the script runs as esbuild compiled it once for the whole test run
// (setup/script-bundle.ts), from V8's code cache: the thousand-odd runs then
// spare the suite tsx's loader in each (a third of a second apiece). `launcher: 'node'` runs it
// with tsx's loader, in one node process as `npx tsx` runs it in the child it
// starts; `launcher: 'tsx'` runs tsx's own command, for the tests of those.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll } from 'vitest';
import { bundledScript } from '../setup/script-bundle.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** Every entry point in scripts/: a new one is covered by the tests that walk them all. */
export function allScripts(): string[] {
  return readdirSync(join(ROOT, 'scripts'))
    .filter((name) => name.endsWith('.ts'))
    .sort();
}

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
  /** The largest file the script may write, in 512-byte blocks (`ulimit -f`): a write past it fails with EFBIG, as one to a full disk fails with ENOSPC. */
  fileBlocks?: number;
  /** 'bundle' (default): node running the script as esbuild compiled it; 'node': node with tsx's loader; 'tsx': tsx's command, which starts node as its child. */
  launcher?: 'bundle' | 'node' | 'tsx';
}

export function runScript(script: string, args: string[], options: ScriptOptions = {}): Promise<ScriptResult> {
  return startScript(script, args, options).finished;
}

export interface RunningScript {
  child: ChildProcess;
  /** Resolves once stdout or stderr holds `text`; rejects if the script ends first. */
  waitFor(text: string | RegExp): Promise<void>;
  finished: Promise<ScriptResult>;
}

/**
 * A script left running, for tests that act on it mid-run: signal it,
 * answer its question. With `terminal`, it runs under script(1), so it has a
 * terminal to ask at as at a person's shell (its stderr then arrives on stdout).
 */
export function startScript(script: string, args: string[], options: ScriptOptions & { terminal?: boolean } = {}): RunningScript {
  // A deprecation's warning says where it came from.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, FORCE_COLOR: '0', NODE_OPTIONS: '--trace-deprecation', ...options.env };
  const source = join(ROOT, 'scripts', script);
  const launch = { bundle: [process.execPath, bundledScript(script)], node: [process.execPath, '--import', TSX_LOADER, source], tsx: [TSX, source] };
  let command = [...launch[options.launcher ?? 'bundle'], ...args];
  const limits = [
    ...(options.umask !== undefined ? [`umask ${options.umask.toString(8).padStart(3, '0')}`] : []),
    ...(options.fileBlocks !== undefined ? [`ulimit -f ${options.fileBlocks}`] : []),
  ];
  if (limits.length) command = ['/bin/sh', '-c', `${limits.join('; ')}; exec "$@"`, 'sh', ...command];
  // script(1)'s terminal has no size until told one, as a person's has.
  if (options.terminal)
    command = ['script', '-qefc', `stty rows 40 cols 160; exec ${command.map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ')}`, '/dev/null'];
  const child = spawn(command[0] as string, command.slice(1), { cwd: options.cwd ?? emptyDirectory(), env });
  let stdout = '';
  let stderr = '';
  const waiting: { text: string | RegExp; resolve: () => void }[] = [];
  const check = () => {
    const all = stdout + stderr;
    for (const wait of [...waiting]) {
      if (typeof wait.text === 'string' ? all.includes(wait.text) : wait.text.test(all)) {
        waiting.splice(waiting.indexOf(wait), 1);
        wait.resolve();
      }
    }
  };
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    check();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    check();
  });
  const finished = new Promise<ScriptResult>((resolve, reject) => {
    child.on('close', (code, signal) => {
      // Two queries at once on one pg client: queued today, an error in pg 9. Any run that does it fails its test.
      if (stderr.includes('when the client is already executing a query'))
        reject(new Error(`${script} ${args.join(' ')} sent a query while another ran:\n${stderr}`));
      else resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
  return {
    child,
    finished,
    waitFor: (text) =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ text, resolve });
        check();
        void finished.then((result) =>
          reject(new Error(`the script ended (${result.code}) before printing ${String(text)}:\n${result.stdout}\n${result.stderr}`)),
        );
      }),
  };
}
