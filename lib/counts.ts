// Counts as the person at the terminal reads them, for every layer's messages.

export function formatCount(value: number): string {
  return value < 0 ? '?' : value.toLocaleString('en-US');
}

/** `1 row`, `2 rows`, `1,024 tables`: a count with its noun, singular for one. */
export function countOf(value: number, noun: string): string {
  return `${formatCount(value)} ${noun}${value === 1 ? '' : 's'}`;
}
