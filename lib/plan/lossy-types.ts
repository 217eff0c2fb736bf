// Type changes staging takes every value through without refusing one, but
// not as production holds it: a numeric rounded to fewer decimals, a double
// made a real, a timestamp's fraction of a second dropped, a json object's
// duplicate keys and spacing normalised. --allow-drift copies a column of
// another type where staging refuses, by key, what does not fit (a varchar
// too short, an int too small); these it would change silently.
const INTEGERS = new Set(['smallint', 'integer', 'bigint']);
const FRACTIONAL = /^(numeric|real|double precision)\b/;
const NUMERIC = /^numeric(?:\((\d+)(?:,(-?\d+))?\))?$/;
const TIMES = /^(timestamp|time|interval)(?:\((\d)\))?( with time zone| without time zone)?$/;

/** Why staging's type would change production's values unsaid, or null where it keeps them or refuses them. */
export function silentChange(production: string, staging: string): string | null {
  const [ours, theirs] = [production.replace(/(\[\])+$/, ''), staging.replace(/(\[\])+$/, '')];
  if (INTEGERS.has(theirs) && FRACTIONAL.test(ours)) return 'fractions rounded to whole numbers';
  if (ours === 'double precision' && theirs === 'real') return 'rounded to 6 significant digits';
  // A float reads back every decimal of up to 15 (double) or 6 (real) significant digits exactly, and no more.
  const floatDigits = theirs === 'double precision' ? 15 : theirs === 'real' ? 6 : null;
  const digits = ours === 'bigint' ? 19 : ours === 'integer' ? 10 : ours === 'smallint' ? 5 : numericDigits(ours);
  if (floatDigits !== null && digits !== null && digits > floatDigits) return `rounded to ${floatDigits} significant digits`;
  const [numeric, narrower] = [NUMERIC.exec(ours), NUMERIC.exec(theirs)];
  if (numeric && narrower?.[1] !== undefined) {
    const scale = Number(narrower[2] ?? 0);
    // An unconstrained numeric holds any scale; numeric(p) is numeric(p,0).
    if (numeric[1] === undefined || Number(numeric[2] ?? 0) > scale) return `rounded to ${scale} decimal${scale === 1 ? '' : 's'}`;
  }
  const [time, otherTime] = [TIMES.exec(ours), TIMES.exec(theirs)];
  // A time zone gained or lost keeps the instant: values travel as text in UTC (pin_text_settings).
  if (time && otherTime && time[1] === otherTime[1]) {
    const precision = (match: RegExpExecArray) => Number(match[2] ?? 6);
    if (precision(otherTime) < precision(time)) return `fractions of a second rounded to ${precision(otherTime)} digits`;
  }
  if (ours === 'json' && theirs === 'jsonb') return 'objects normalised (duplicate keys dropped, keys reordered, spacing lost)';
  return null;
}

/** Significant digits a numeric column may hold: its precision, or null (unbounded) as many as it likes, said as Infinity. */
function numericDigits(type: string): number | null {
  const match = NUMERIC.exec(type);
  if (!match) return null;
  return match[1] === undefined ? Infinity : Number(match[1]);
}
