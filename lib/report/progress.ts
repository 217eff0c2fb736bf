// A line per table on stderr while it copies: rows, rows/s and, from the
// planner's row estimate, the time left. On a terminal the line updates in
// place; elsewhere (CI logs) one line is written when the table is done.
import chalk from 'chalk';
import { qualifiedName } from '../catalog/types.ts';
import type { SyncEvents } from '../engine/sync.ts';
import type { TablePlan } from '../plan/plan.ts';
import { formatCount } from './table.ts';

export function progressReporter(stream: NodeJS.WriteStream = process.stderr): SyncEvents {
  const live = Boolean(stream.isTTY);
  const started = new Map<TablePlan, number>();
  const line = (table: TablePlan, rows: number) => {
    const seconds = (performance.now() - (started.get(table) ?? performance.now())) / 1000;
    const rate = seconds > 0 ? rows / seconds : 0;
    const left = table.rowEstimate > rows && rate > 0 ? ` ETA ${Math.ceil((table.rowEstimate - rows) / rate)}s` : '';
    return `${qualifiedName(table.table)}  ${formatCount(rows)} rows  ${formatCount(Math.round(rate))} rows/s${left}`;
  };
  return {
    warning: (message) => stream.write(chalk.yellow(`warning: ${message}\n`)),
    tableStarted: (table) => {
      started.set(table, performance.now());
      if (live) stream.write(`\r\x1b[2K${line(table, 0)}`);
    },
    tableProgress: (table, rows) => {
      if (live) stream.write(`\r\x1b[2K${line(table, rows)}`);
    },
    tableFinished: (table, result) => {
      started.delete(table);
      const done = `${chalk.green('✓')} ${qualifiedName(table.table)}  ${formatCount(result.copied)} rows in ${result.seconds.toFixed(2)}s${result.rejected.length ? `, ${formatCount(result.rejected.length)} rejected` : ''}`;
      stream.write(live ? `\r\x1b[2K${done}\n` : `${done}\n`);
    },
  };
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
