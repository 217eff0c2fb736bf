// Time one whole command the way a user waits for it: wall clock from spawn to
// exit, and the peak memory of its largest process, via GNU time.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { GNU_TIME } from './tools.ts';

export interface Command {
  file: string;
  args: string[];
  /** Added to the benchmark's own environment. */
  env?: Record<string, string>;
  cwd?: string;
}

export interface Measurement {
  seconds: number;
  /**
   * Max RSS in KiB of the largest single process of the command's tree: GNU time
   * reports the child's rusage, which for a pipeline under `bash -c` is the
   * maximum over every process bash waited for, not their sum. Server backends
   * are not the command's children and are not counted.
   */
  peakKib?: number;
  exitCode: number | null;
  /** Last lines of the command's output, for the failure message. */
  outputTail: string[];
}

export interface MeasureOptions {
  /** The command's stdout and stderr go here. */
  logFile: string;
  /** Where GNU time writes its figure; undefined to run without it. */
  timeFile?: string;
  signal: AbortSignal;
}

export async function measure(command: Command, options: MeasureOptions): Promise<Measurement> {
  const [file, args] = options.timeFile ? [GNU_TIME, ['-f', '%M', '-o', options.timeFile, command.file, ...command.args]] : [command.file, command.args];
  const log = openSync(options.logFile, 'w');
  const started = process.hrtime.bigint();
  let exitCode: number | null;
  try {
    exitCode = await new Promise<number | null>((resolve, reject) => {
      // Its own process group, so that an abort stops the whole pipeline.
      const child = spawn(file, args, {
        cwd: command.cwd,
        env: { ...process.env, ...command.env },
        stdio: ['ignore', log, log],
        detached: true,
      });
      const stop = () => killGroup(child.pid);
      options.signal.addEventListener('abort', stop, { once: true });
      child.once('error', reject);
      child.once('close', (code) => {
        options.signal.removeEventListener('abort', stop);
        resolve(code);
      });
    });
  } finally {
    closeSync(log);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peakKib = options.timeFile ? readPeak(options.timeFile) : undefined;
  return { seconds, exitCode, outputTail: tail(options.logFile), ...(peakKib === undefined ? {} : { peakKib }) };
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone after SIGTERM
    }
  }, 5000).unref();
}

// GNU time writes "Command exited with non-zero status N" before the figure
// when the command fails: the figure is the last line.
function readPeak(timeFile: string): number | undefined {
  if (!existsSync(timeFile)) return undefined;
  const last = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1);
  const kib = Number(last);
  return last && Number.isFinite(kib) ? kib : undefined;
}

function tail(logFile: string, lines = 8): string[] {
  const text = readFileSync(logFile, 'utf8');
  return text
    .slice(-8000)
    .split('\n')
    .map((line) => line.trimEnd())
    .filter(Boolean)
    .slice(-lines);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The line of the command's output that says what went wrong, with its exit status. */
export function describeFailure(measured: Measurement): string {
  const tail = measured.outputTail;
  const line = [...tail].reverse().find((l) => /error|fatal|failed|refus/i.test(l)) ?? tail.at(-1);
  const status = measured.exitCode === null ? 'killed' : `exit ${measured.exitCode}`;
  return line ? `${status}: ${line.trim()}` : status;
}
