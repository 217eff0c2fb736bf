// Type changes that keep every value a sync copies but write it otherwise:
// a timestamp made timestamptz reads '2024-01-01 10:00:00' back as
// '2024-01-01 10:00:00+00', a date made a timestamp gains its midnight.
// Hashed as each side writes them, such a column would differ on every row
// after a sync that copied it exactly (--allow-drift), so verify casts
// production's values to staging's type before hashing them, as the sync's
// text did on its way in (in UTC, both sides: pin_text_settings). Changes
// that lose something are refused before a sync (lossy-types.ts); those
// that keep the text the same (varchar into text, int into bigint) need
// no cast.
const TIMES = /^(timestamp|time)(?:\(\d\))?( with time zone| without time zone)?$/;

/** Staging's type to hash production's column as, where their texts of one value differ; else null. */
export function comparedAs(production: string, staging: string): string | null {
  const dimensions = (type: string) => /(\[\])*$/.exec(type)?.[0] ?? '';
  if (dimensions(production) !== dimensions(staging)) return null;
  const [ours, theirs] = [
    production.slice(0, production.length - dimensions(production).length),
    staging.slice(0, staging.length - dimensions(staging).length),
  ];
  const [time, otherTime] = [TIMES.exec(ours), TIMES.exec(theirs)];
  const zoned = (match: RegExpExecArray) => match[2] === ' with time zone';
  if (time && otherTime && time[1] === otherTime[1] && zoned(time) !== zoned(otherTime)) {
    // A time with a zone made one without is lossy (lossy-types.ts): never copied, so never compared this way.
    return time[1] === 'timestamp' || !zoned(time) ? staging : null;
  }
  if (ours === 'date' && otherTime?.[1] === 'timestamp') return staging;
  return null;
}
