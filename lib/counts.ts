// Counts as the person at the terminal reads them, for every layer's messages.

// One formatter for the run: toLocaleString makes a new one at every call, which a run's
// thousands of counts printed and compared made a measurable part of its CPU.
const COUNT_FORMAT = new Intl.NumberFormat('en-US');

export function formatCount(value: number): string {
  return value < 0 ? '?' : COUNT_FORMAT.format(value);
}

/** `1 row`, `2 rows`, `1,024 tables`: a count with its noun, singular for one. */
export function countOf(value: number, noun: string): string {
  return `${formatCount(value)} ${noun}${value === 1 ? '' : 's'}`;
}
