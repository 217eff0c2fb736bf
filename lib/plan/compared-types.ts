// Type changes that keep every value a sync copies but write it otherwise:
// a timestamp made timestamptz reads '2024-01-01 10:00:00' back as
// '2024-01-01 10:00:00+00', a date made a timestamp gains its midnight, a
// numeric(10,2) made numeric(12,4) its zeros ('1.50', '1.5000'), made a
// double loses them ('1.5'). Hashed as each side writes them, such a column
// would differ on every row after a sync that copied it exactly
// (--allow-drift), so verify and a re-sync's comparison hash production's
// values cast to staging's type, as the sync's text did on its way in (in
// UTC, both sides: pin_text_settings). Only casts no value of production's
// type fails (but a date past 294276 AD, which no timestamp holds and the
// sync refuses too): a checksum is one query, and one value that did not
// fit would fail it whole. Changes that lose something are refused before a
// sync (lossy-types.ts); those that keep the text the same (varchar into
// text, int into bigint) need no cast.
import type { TablePlan } from './types.ts';

const TIMES = /^(timestamp|time)(?:\(\d\))?( with time zone| without time zone)?$/;
const NUMERIC = /^numeric(?:\((\d+)(?:,(-?\d+))?\))?$/;
const INTEGER_DIGITS: Record<string, number> = { smallint: 5, integer: 10, bigint: 19 };
const FLOATS = new Set(['real', 'double precision']);

/** Staging's type to hash production's column as, where their texts of one value differ; else null. */
export function comparedAs(production: string, staging: string): string | null {
  const dimensions = (type: string) => /(\[\])*$/.exec(type)?.[0] ?? '';
  if (dimensions(production) !== dimensions(staging)) return null;
  const ours = production.slice(0, production.length - dimensions(production).length);
  const theirs = staging.slice(0, staging.length - dimensions(staging).length);
  return datetimeAs(ours, theirs) || numberAs(ours, theirs) ? staging : null;
}

function datetimeAs(ours: string, theirs: string): boolean {
  const [time, otherTime] = [TIMES.exec(ours), TIMES.exec(theirs)];
  const zoned = (match: RegExpExecArray) => match[2] === ' with time zone';
  if (time && otherTime && time[1] === otherTime[1] && zoned(time) !== zoned(otherTime)) {
    // A time with a zone made one without is lossy (lossy-types.ts): never copied, so never compared this way.
    return time[1] === 'timestamp' || !zoned(time);
  }
  return ours === 'date' && otherTime?.[1] === 'timestamp';
}

function numberAs(ours: string, theirs: string): boolean {
  const numeric = NUMERIC.exec(ours);
  const integerDigits = INTEGER_DIGITS[ours] ?? (numeric?.[1] !== undefined ? Number(numeric[1]) - Number(numeric[2] ?? 0) : undefined);
  const scale = ours in INTEGER_DIGITS ? 0 : numeric?.[1] !== undefined ? Number(numeric[2] ?? 0) : undefined;
  // A numeric's text keeps its scale and a float's has none: an integer's is the same in both.
  if (FLOATS.has(theirs)) return numeric !== null;
  const wider = NUMERIC.exec(theirs);
  if (!wider || wider[1] === undefined || integerDigits === undefined || scale === undefined) return false;
  const widerScale = Number(wider[2] ?? 0);
  return widerScale > scale && Number(wider[1]) - widerScale >= integerDigits;
}

/**
 * Beside each of a table's copied columns, the type production's values are
 * hashed as (comparedAs), or null; null for the table where none is.
 */
export function productionColumnTypes(table: Pick<TablePlan, 'columns' | 'drift'>): (string | null)[] | null {
  const changed = new Map(table.drift.flatMap((drift) => (drift.kind === 'type-changes' ? drift.columns : [])).map((column) => [column.name, column]));
  const types = table.columns.map((name) => {
    const column = changed.get(name);
    return column ? comparedAs(column.production, column.staging) : null;
  });
  return types.some((type) => type !== null) ? types : null;
}
