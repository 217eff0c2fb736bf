// Masking inside a json/jsonb value by path (raw_user_meta_data.full_name)
// without JSON.parse's losses: a number is kept as the text PostgreSQL sent
// (1.0 stays 1.0, 2^60 stays exact), and only the values at the paths change.
import type { Transform } from './transformers.ts';

type Json =
  | { kind: 'object'; entries: { key: string; raw: string; value: Json }[] }
  | { kind: 'array'; items: Json[] }
  | { kind: 'string'; value: string }
  /** A number, true, false or null, as written. */
  | { kind: 'literal'; raw: string };

export class JsonSyntaxError extends Error {}

export function parseJson(text: string): Json {
  let at = 0;
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at] as string)) at++;
  };
  const stringToken = (): string => {
    const start = at;
    at++;
    while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    if (at >= text.length) throw new JsonSyntaxError('unterminated string');
    at++;
    return text.slice(start, at);
  };
  const value = (): Json => {
    space();
    const c = text[at];
    if (c === '{') {
      at++;
      const entries: { key: string; raw: string; value: Json }[] = [];
      space();
      if (text[at] === '}') {
        at++;
        return { kind: 'object', entries };
      }
      for (;;) {
        space();
        const raw = stringToken();
        space();
        if (text[at++] !== ':') throw new JsonSyntaxError('expected :');
        entries.push({ key: JSON.parse(raw) as string, raw, value: value() });
        space();
        const next = text[at++];
        if (next === '}') return { kind: 'object', entries };
        if (next !== ',') throw new JsonSyntaxError('expected , or }');
      }
    }
    if (c === '[') {
      at++;
      const items: Json[] = [];
      space();
      if (text[at] === ']') {
        at++;
        return { kind: 'array', items };
      }
      for (;;) {
        items.push(value());
        space();
        const next = text[at++];
        if (next === ']') return { kind: 'array', items };
        if (next !== ',') throw new JsonSyntaxError('expected , or ]');
      }
    }
    if (c === '"') return { kind: 'string', value: JSON.parse(stringToken()) as string };
    const match = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(at, at + 400));
    if (!match) throw new JsonSyntaxError(`unexpected ${c ?? 'end'}`);
    at += match[0].length;
    return { kind: 'literal', raw: match[0] };
  };
  const root = value();
  space();
  if (at !== text.length) throw new JsonSyntaxError('text after the value');
  return root;
}

export function serializeJson(json: Json): string {
  switch (json.kind) {
    case 'object':
      return `{${json.entries.map((entry) => `${entry.raw}: ${serializeJson(entry.value)}`).join(', ')}}`;
    case 'array':
      return `[${json.items.map(serializeJson).join(', ')}]`;
    case 'string':
      return JSON.stringify(json.value);
    case 'literal':
      return json.raw;
  }
}

/**
 * The value at `path` (object keys; an array on the way has each element
 * followed) replaced by its transform: a string by its masked string, a
 * number or boolean by the masked string of its text, an object or array
 * by the masked string of its JSON (nothing of it kept), NULL from the
 * transform as JSON null. A path that is not there changes nothing.
 */
export function maskAtPath(json: Json, path: string[], transform: Transform): Json {
  if (!path.length) {
    if (json.kind === 'literal' && json.raw === 'null') return json;
    const masked = transform(json.kind === 'string' ? json.value : json.kind === 'literal' ? json.raw : serializeJson(json));
    return masked === null ? { kind: 'literal', raw: 'null' } : { kind: 'string', value: masked };
  }
  const [head, ...rest] = path as [string, ...string[]];
  if (json.kind === 'array') return { kind: 'array', items: json.items.map((item) => maskAtPath(item, path, transform)) };
  if (json.kind !== 'object') return json;
  return { kind: 'object', entries: json.entries.map((entry) => (entry.key === head ? { ...entry, value: maskAtPath(entry.value, rest, transform) } : entry)) };
}

/** The values at `path` as text (strings as they are, numbers and booleans as written, objects as JSON; JSON null left out). */
export function valuesAtPath(json: Json, path: string[]): string[] {
  if (!path.length) {
    if (json.kind === 'string') return [json.value];
    if (json.kind === 'literal') return json.raw === 'null' ? [] : [json.raw];
    return [serializeJson(json)];
  }
  const [head, ...rest] = path as [string, ...string[]];
  if (json.kind === 'array') return json.items.flatMap((item) => valuesAtPath(item, path));
  if (json.kind !== 'object') return [];
  return json.entries.filter((entry) => entry.key === head).flatMap((entry) => valuesAtPath(entry.value, rest));
}
