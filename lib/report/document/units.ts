// Times, rates and sizes as both formats print them: a table of a few rows
// takes milliseconds, where "0.00 s" would say nothing, and a bucket of small
// files holds kilobytes, where "0.0 MB" would say nothing either.
import { formatCount } from '../../counts.ts';

export function duration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
}

export function rowsPerSecond(rate: number | null): string {
  return rate === null ? '-' : formatCount(Math.round(rate));
}

/** In units of 1,024, as the terminal's "MB" is: its numbers and the report's agree. */
export function byteSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A count and its bytes: "120 (4.2 MB)". */
export function filesAndBytes(files: number, bytes: number): string {
  return `${formatCount(files)} (${byteSize(bytes)})`;
}
