// Type changes staging takes every value through without refusing one, but
// not as production holds it: a numeric rounded to fewer decimals, a double
// made a real, a timestamp's fraction of a second or its time of day
// dropped, an interval cut to whole days, a json object's duplicate keys
// and spacing normalised. --allow-drift copies a column of another type
// where staging refuses, by key, what does not fit (a varchar too short, an
// int too small); these it would change silently.
const INTEGERS = new Set(['smallint', 'integer', 'bigint']);
const FRACTIONAL = /^(numeric|real|double precision)\b/;
const NUMERIC = /^numeric(?:\((\d+)(?:,(-?\d+))?\))?$/;
const TIMES = /^(timestamp|time)(?:\((\d)\))?( with time zone| without time zone)?$/;
const INTERVAL = /^interval(?: (year|month|day|hour|minute|second)(?: to (month|hour|minute|second))?)?(?:\((\d)\))?$/;
const INTERVAL_FIELDS = ['year', 'month', 'day', 'hour', 'minute', 'second'];
const TEXTS = /^(text|character varying|character|citext)\b/;

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
  const datetime = datetimeChange(ours, theirs);
  if (datetime) return datetime;
  if (ours === 'json' && theirs === 'jsonb') return 'objects normalised (duplicate keys dropped, keys reordered, spacing lost)';
  if (TEXTS.test(ours) && theirs === 'jsonb') return 'text parsed as JSON and normalised (duplicate keys dropped, keys reordered, spacing lost)';
  return null;
}

/** What a date, time or interval type of staging's drops of production's values, or null. */
function datetimeChange(ours: string, theirs: string): string | null {
  const [time, otherTime] = [TIMES.exec(ours), TIMES.exec(theirs)];
  const precision = (digits: string | undefined) => Number(digits ?? 6);
  if (time?.[1] === 'timestamp' && theirs === 'date') return 'time of day dropped';
  if (time?.[1] === 'timestamp' && otherTime?.[1] === 'time') return 'date dropped';
  // A timetz keeps each value's own offset, which a time has no room for (a timestamptz travels in UTC: below).
  if (time?.[1] === 'time' && time[3] === ' with time zone' && otherTime?.[1] === 'time' && otherTime[3] !== ' with time zone') {
    return 'UTC offsets dropped';
  }
  // A time zone gained or lost keeps a timestamp's instant: values travel as text in UTC (pin_text_settings).
  if (time && otherTime && time[1] === otherTime[1] && precision(otherTime[2]) < precision(time[2])) {
    return `fractions of a second rounded to ${precision(otherTime[2])} digits`;
  }
  const [interval, otherInterval] = [INTERVAL.exec(ours), INTERVAL.exec(theirs)];
  if (!interval || !otherInterval) return null;
  // Fields below an interval's last one are dropped (interval day: '3 days 04:05' is '3 days'); those above kept.
  const last = (match: RegExpExecArray) => INTERVAL_FIELDS.indexOf(match[2] ?? match[1] ?? 'second');
  if (last(otherInterval) < last(interval)) return `cut to whole ${INTERVAL_FIELDS[last(otherInterval)]}s`;
  if (last(interval) === 5 && last(otherInterval) === 5 && precision(otherInterval[3]) < precision(interval[3])) {
    return `fractions of a second rounded to ${precision(otherInterval[3])} digits`;
  }
  return null;
}

/** Significant digits a numeric column may hold: its precision, or null (unbounded) as many as it likes, said as Infinity. */
function numericDigits(type: string): number | null {
  const match = NUMERIC.exec(type);
  if (!match) return null;
  return match[1] === undefined ? Infinity : Number(match[1]);
}
