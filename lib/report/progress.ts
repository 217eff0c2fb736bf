// What runs while a sync copies, on stderr. On a terminal, a block of one
// line per running table (rows, rows/s and, from the planner's estimate, the
// time left), redrawn in place: over REST several tables copy at once, and
// one line each keeps them apart. Elsewhere (CI logs, where redrawing shows
// as garbage) a plain line per running table every few seconds, and one when
// each is done. The files step's bytes the same way.
import chalk from 'chalk';
import { qualifiedName } from '../catalog/types.ts';
import { noColorAsked } from '../config/no-color.ts';
import type { SyncEvents } from '../engine/sync.ts';
import type { TablePlan } from '../plan/types.ts';
import type { StorageProgress } from '../storage/copy.ts';
import { megabytes } from './storage.ts';
import { countOf, formatCount } from '../counts.ts';

/** How often a log gets its plain lines; SUPASYNC_PROGRESS_SECONDS changes it. */
const LOG_EVERY_SECONDS = 10;
/** A terminal redraws at most this often: rows arrive far faster than a person reads. */
const REDRAW_EVERY_MS = 100;

interface Running {
  started: number;
  rows: number;
}

export async function progressReporter(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): Promise<SyncEvents> {
  const running = new Map<TablePlan, Running>();
  const line = (table: TablePlan, { started, rows }: Running) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? rows / seconds : 0;
    const left = table.rowEstimate > rows && rate > 0 ? ` ETA ${Math.ceil((table.rowEstimate - rows) / rate)}s` : '';
    return `${qualifiedName(table.table)}  ${formatCount(rows)} rows  ${formatCount(Math.round(rate))} rows/s${left}`;
  };
  const lines = () => [...running].map(([table, state]) => line(table, state)).join('\n');
  const output = terminalWanted(stream, env) ? await terminalOutput(stream, lines) : logOutput(stream, lines, logInterval(env), () => running.size > 0);
  return {
    warning: (message) => output.print(chalk.yellow(`warning: ${message}`)),
    tableStarted: (table) => {
      running.set(table, { started: performance.now(), rows: 0 });
      output.changed();
    },
    tableProgress: (table, rows) => {
      const state = running.get(table);
      if (state) state.rows = rows;
      output.changed();
    },
    tableFinished: (table, result) => {
      running.delete(table);
      const rejected = result.rejected.length ? `, ${formatCount(result.rejected.length)} rejected` : '';
      // A table staging refused rows of is not done: marked red, as the summary's rejected rows are.
      const mark = result.rejected.length ? chalk.red('✗') : chalk.green('✓');
      output.print(`${mark} ${qualifiedName(table.table)}  ${countOf(result.copied, 'row')} in ${result.seconds.toFixed(2)}s${rejected}`);
      if (!running.size) output.idle();
    },
  };
}

/**
 * The files step's progress, as the rows': on a terminal one line per bucket
 * being copied, redrawn in place (files, MB, MB/s, time left); in a log a
 * line every few seconds; a line that stays when a bucket's files are in.
 */
export async function fileProgressReporter(
  stream: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<(progress: StorageProgress) => void> {
  const running = new Map<string, { started: number; progress: StorageProgress }>();
  const rate = (state: { started: number; progress: StorageProgress }) =>
    state.progress.bytesDone / Math.max(0.001, (performance.now() - state.started) / 1000);
  const line = (state: { started: number; progress: StorageProgress }) => {
    const { bucket, filesDone, filesTotal, bytesDone, bytesTotal } = state.progress;
    const perSecond = rate(state);
    const left = perSecond > 0 && bytesTotal > bytesDone ? ` ETA ${Math.ceil((bytesTotal - bytesDone) / perSecond)}s` : '';
    return `${bucket}  ${filesDone}/${filesTotal} files  ${megabytes(bytesDone)} of ${megabytes(bytesTotal)}  ${megabytes(perSecond)}/s${left}`;
  };
  const lines = () => [...running.values()].map(line).join('\n');
  const output = terminalWanted(stream, env) ? await terminalOutput(stream, lines) : logOutput(stream, lines, logInterval(env), () => running.size > 0);
  return (progress) => {
    const state = running.get(progress.bucket) ?? { started: performance.now(), progress };
    state.progress = progress;
    running.set(progress.bucket, state);
    if (progress.filesDone < progress.filesTotal) {
      output.changed();
      return;
    }
    running.delete(progress.bucket);
    const seconds = (performance.now() - state.started) / 1000;
    output.print(`${chalk.green('✓')} ${progress.bucket}  ${progress.filesTotal} files, ${megabytes(progress.bytesDone)} in ${seconds.toFixed(2)}s`);
    if (!running.size) output.idle();
  };
}

/**
 * A terminal that reports no size (a pseudo-terminal some CI runners give)
 * cannot hold a block redrawn in place; and a block redrawn in place is
 * escape sequences, which NO_COLOR or --no-color asked not to get.
 */
function terminalWanted(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stream.isTTY && (stream.rows ?? 0) > 0 && (stream.columns ?? 0) > 0 && !noColorAsked(process.argv, env));
}

interface Output {
  /** A line that stays. */
  print(text: string): void;
  /** The running tables moved on. */
  changed(): void;
  /** Nothing runs: stop redrawing or logging. */
  idle(): void;
}

// log-update (and the width tables it draws with) loads only for a terminal:
// a fifth of a script's start elsewhere, where it is never used.
async function terminalOutput(stream: NodeJS.WriteStream, lines: () => string): Promise<Output> {
  const { createLogUpdate } = await import('log-update');
  const block = createLogUpdate(stream);
  let drawn = 0;
  const draw = () => {
    drawn = performance.now();
    block(lines());
  };
  return {
    print(text) {
      // Above the block: cleared, written, the block drawn again under it.
      block.clear();
      stream.write(`${text}\n`);
      draw();
    },
    changed() {
      if (performance.now() - drawn >= REDRAW_EVERY_MS) draw();
    },
    idle() {
      block.clear();
    },
  };
}

function logOutput(stream: NodeJS.WriteStream, lines: () => string, seconds: number, anyRunning: () => boolean): Output {
  let timer: NodeJS.Timeout | undefined;
  const start = () => {
    timer ??= setInterval(() => {
      if (anyRunning()) stream.write(`${lines().replace(/^/gm, '… ')}\n`);
    }, seconds * 1000);
    // A log line never keeps the process alive.
    timer.unref();
  };
  return {
    print: (text) => stream.write(`${text}\n`),
    changed: start,
    idle() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

function logInterval(env: NodeJS.ProcessEnv): number {
  const seconds = Number(env.SUPASYNC_PROGRESS_SECONDS);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : LOG_EVERY_SECONDS;
}

/** For --json runs: nothing on the terminal but warnings. */
export function quietReporter(stream: NodeJS.WriteStream = process.stderr): SyncEvents {
  return {
    warning: (message) => stream.write(`warning: ${message}\n`),
    tableStarted: () => undefined,
    tableProgress: () => undefined,
    tableFinished: () => undefined,
  };
}
