// Times and rates as both formats print them: a table of a few rows takes
// milliseconds, where "0.00 s" would say nothing.
import { formatCount } from '../table.ts';

export function duration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
}

export function rowsPerSecond(rate: number | null): string {
  return rate === null ? '-' : formatCount(Math.round(rate));
}
