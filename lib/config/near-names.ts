// The names a typo probably meant: a schema, a table, a key of
// supasync.config.json. Said in the error, so the fix is one edit away.

/** Levenshtein distance: the single-character edits that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Of `known`, those within two edits of `name`, case aside, nearest first. */
export function nearNames(name: string, known: readonly string[]): string[] {
  const folded = name.toLowerCase();
  return known
    .map((other) => ({ other, distance: editDistance(other.toLowerCase(), folded) }))
    .filter(({ distance }) => distance <= 2)
    .sort((a, b) => a.distance - b.distance)
    .map(({ other }) => other);
}
