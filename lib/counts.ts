// Counts as the person at the terminal reads them, for every layer's messages.

/**
 * `1,234,567`: digits grouped by threes, as en-US prints them. By hand, not
 * by Intl.NumberFormat: making that formatter loads ICU's locale data, 20 to
 * 25 ms of CPU at every script's start, for commas.
 */
export function formatCount(value: number): string {
  if (value < 0) return '?';
  const [whole, fraction] = String(value).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+$)/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/** `1 row`, `2 rows`, `1,024 tables`: a count with its noun, singular for one. */
export function countOf(value: number, noun: string): string {
  return `${formatCount(value)} ${noun}${value === 1 ? '' : 's'}`;
}
