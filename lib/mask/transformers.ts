// The built-in transformers: each turns one production value (text, never
// NULL: NULL stays NULL) into its masked value, deterministically from the
// mask key. The same value gives the same output under the same rule in any
// table or column (the column's name is not an input), so a masked key
// still matches the columns that reference it.
//
// Uniqueness: email, hash, template's {hash} and every transformer on a
// unique column carry 64 bits of the value's HMAC. Two different values
// then share an output with probability about n²/2^65 for n values: for a
// billion rows, under 3%; for ten million, under one in 300,000. phone is a
// keyed permutation of the digits (a Feistel network): two different
// numbers can never share an output.
import type { MaskKey } from './key.ts';
import type { MaskedColumnShape, MaskRule } from './types.ts';
import { CITIES, FILLER_WORDS, FIRST_NAMES, LAST_NAMES, STREETS, STREET_KINDS } from './words.ts';

/** One value in, its masked value out (null: NULL). */
export type Transform = (value: string) => string | null;

/** What a user's own transformer gets besides the value: keyed digests, never the secret. */
export interface CustomHelpers {
  /** `length` hex characters of the HMAC of `value` (default 16: 64 bits), as hash gives. */
  hmacHex(value: string, length?: number): string;
  /** The HMAC's 32 bytes. */
  hmac(value: string): Buffer;
  /** Where the value is going, for messages: `schema.table.column` (and the jsonb path). */
  column: string;
}

export type CustomTransformer = (value: string, helpers: CustomHelpers) => string | null;

/** A masked value that the column cannot hold (too long for varchar(n), and its unique part cannot be cut). */
export class MaskFitError extends Error {}

/** Hex characters a value keeps to stay unique: 64 bits. */
export const UNIQUE_HEX = 16;

const pick = <T>(list: readonly T[], digest: Buffer, at: number): T => list[digest.readUInt16BE(at) % list.length] as T;

/**
 * Emails, names and template words are compared case-insensitively by
 * people and most apps (User1@Example.COM signs in as user1@example.com), so
 * they mask the same whatever the case.
 */
const normal = (value: string) => value.trim().toLowerCase();

export function firstName(key: MaskKey, value: string): string {
  return pick(FIRST_NAMES, key.digest('first_name', normal(value)), 0);
}

export function lastName(key: MaskKey, value: string): string {
  return pick(LAST_NAMES, key.digest('last_name', normal(value)), 0);
}

export function fullName(key: MaskKey, value: string): string {
  const digest = key.digest('name', normal(value));
  return `${pick(FIRST_NAMES, digest, 0)} ${pick(LAST_NAMES, digest, 2)}`;
}

export function hashHex(key: MaskKey, value: string, length = UNIQUE_HEX): string {
  return key.hex('hash', value, length);
}

/** A uuid from the same digest as hash, version 4 and variant bits set so it parses and looks like any other. */
function hashUuid(key: MaskKey, value: string): string {
  const bytes = Buffer.from(key.digest('hash', value.toLowerCase()).subarray(0, 16));
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * `head` cut so that head + tail fits `max`; the tail (what keeps the value
 * unique, or an email's domain) is never cut. Throws when the tail alone
 * does not fit: a shorter value would no longer be unique.
 */
export function fitTail(head: string, tail: string, max: number | null, minHead = 0): string {
  if (max === null || head.length + tail.length <= max) return head + tail;
  if (tail.length + minHead > max) {
    throw new MaskFitError(`the masked value needs ${tail.length + minHead} characters to stay unique, and the column takes ${max}`);
  }
  return head.slice(0, max - tail.length).replace(/[.\s-]+$/, '') + tail;
}

/** The shortest email this transformer writes: its 64 unique bits and a short domain. */
export const EMAIL_MIN_LENGTH = UNIQUE_HEX + '@x.test'.length;

function email(key: MaskKey, value: string, domain: string, max: number | null): string {
  const digest = key.digest('email', normal(value));
  const hex = digest.toString('hex', 4, 4 + UNIQUE_HEX / 2);
  const local = `${pick(FIRST_NAMES, digest, 0)}.${pick(LAST_NAMES, digest, 2)}`.toLowerCase();
  const tail = `.${hex}@${domain}`;
  if (max === null || tail.length + 1 <= max) return fitTail(local, tail, max);
  // Too narrow for a name: the unique part alone, then with a shorter domain.
  if (`${hex}@${domain}`.length <= max) return `${hex}@${domain}`;
  return fitTail('', `${hex}@x.test`, max);
}

/**
 * A keyed permutation of the digits, formatting kept: '+57 300 123 4567'
 * becomes '+06 331 399 2665'. Bijective for each count of digits (FF1's
 * alternating Feistel rounds, radix 10), so different numbers never meet;
 * characters other than digits and + - ( ) . and space become x (two
 * values that differ only there would meet).
 */
function phone(key: MaskKey, value: string): string {
  const digits = value.replace(/\D/g, '');
  if (!digits.length) return '';
  const permuted = digits.length === 1 ? permuteDigit(key, digits) : feistelDigits(key, digits);
  let at = 0;
  // Formatting stays (+, spaces, dashes, brackets, dots); anything else (an extension's letters, a note) becomes x.
  return value.replace(/\d/g, () => permuted[at++] as string).replace(/[^\d+\-(). ]/g, 'x');
}

function permuteDigit(key: MaskKey, digit: string): string {
  const order = [...'0123456789'].sort((a, b) => key.digest('phone:1', a).compare(key.digest('phone:1', b)));
  return order[Number(digit)] as string;
}

const ROUNDS = 10;

function feistelDigits(key: MaskKey, digits: string): string {
  const n = digits.length;
  const u = Math.floor(n / 2);
  const v = n - u;
  let a = BigInt(digits.slice(0, u));
  let b = BigInt(digits.slice(u));
  let aLength = u;
  let bLength = v;
  for (let round = 0; round < ROUNDS; round++) {
    const m = round % 2 === 0 ? u : v;
    const f = BigInt(`0x${key.hex(`phone:${n}:${round}`, `${bLength}:${b.toString()}`, 32)}`);
    const c = (a + f) % 10n ** BigInt(m);
    a = b;
    aLength = bLength;
    b = c;
    bLength = m;
  }
  return a.toString().padStart(aLength, '0') + b.toString().padStart(bLength, '0');
}

function address(key: MaskKey, value: string): string {
  const digest = key.digest('address', normal(value));
  return `${(digest.readUInt16BE(0) % 999) + 1} ${pick(STREETS, digest, 2)} ${pick(STREET_KINDS, digest, 4)}, ${pick(CITIES, digest, 6)}`;
}

/** Filler words, as many characters as the value had: what a page shows keeps its shape, none of its words. */
function fillerText(key: MaskKey, value: string): string {
  const length = [...value].length;
  let text = '';
  for (let block = 0; text.length < length; block++) {
    const digest = key.digest(`text:${block}`, value);
    for (let at = 0; at + 1 < digest.length && text.length < length; at += 2) text += `${text ? ' ' : ''}${pick(FILLER_WORDS, digest, at)}`;
  }
  // Cut to the value's length; a cut that ends on a space ends on a letter instead.
  text = text.slice(0, length).replace(/ $/, 'x');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const PLACEHOLDER = /\{(hash|digits|first_name|last_name|name)(?::(\d+))?\}/g;

function template(key: MaskKey, value: string, text: string): string {
  return text.replace(PLACEHOLDER, (_match, name: string, size?: string) => {
    switch (name) {
      case 'hash':
        return hashHex(key, value, Math.min(64, Number(size ?? UNIQUE_HEX)));
      case 'digits': {
        const wanted = Number(size ?? 8);
        let out = '';
        for (let block = 0; out.length < wanted; block++)
          out += BigInt(`0x${key.hex(`digits:${block}`, value, 30)}`)
            .toString()
            .slice(1);
        return out.slice(0, wanted);
      }
      case 'first_name':
        return firstName(key, value);
      case 'last_name':
        return lastName(key, value);
      default:
        return fullName(key, value);
    }
  });
}

/** Whether a template's output carries the value's 64 unique bits. */
export function templateIsUnique(text: string): boolean {
  return [...text.matchAll(PLACEHOLDER)].some((match) => match[1] === 'hash' && Number(match[2] ?? UNIQUE_HEX) >= UNIQUE_HEX);
}

/**
 * The transform a rule makes for a column of this shape. On a unique
 * column, transformers whose outputs repeat (names, addresses, filler) get
 * the value's 64 unique bits as a suffix; length limits cut the readable
 * part first and the unique part never.
 */
export function makeTransform(rule: MaskRule, shape: MaskedColumnShape, key: MaskKey, custom?: CustomTransformer, where = ''): Transform {
  const max = shape.maxLength;
  const uniqueTail = (value: string) => (shape.unique ? ` ${key.hex('unique', value, UNIQUE_HEX)}` : '');
  const readable = (make: (value: string) => string): Transform => {
    return (value) => (value === '' ? '' : fitTail(make(value), uniqueTail(value), max));
  };
  const { options } = rule;
  switch (rule.transformer) {
    case 'email':
      return (value) => (value === '' ? '' : email(key, value, options.domain ?? 'example.com', max));
    case 'phone':
      return (value) => phone(key, value);
    case 'name':
      return readable((value) => fullName(key, value));
    case 'first_name':
      return readable((value) => firstName(key, value));
    case 'last_name':
      return readable((value) => lastName(key, value));
    case 'address':
      return readable((value) => address(key, value));
    case 'text':
      return readable((value) => fillerText(key, value));
    case 'hash':
      if (shape.kind === 'uuid') return (value) => hashUuid(key, value);
      return (value) => (value === '' ? '' : fitTail('', hashHex(key, value, options.length ?? UNIQUE_HEX), max));
    case 'null':
      return () => null;
    case 'fixed':
      return () => options.value ?? '';
    case 'template': {
      const text = options.template ?? '';
      return (value) => fitTail(template(key, value, text), '', max);
    }
    case 'keep':
      return (value) => value;
    case 'module': {
      if (!custom) throw new Error(`the module ${options.module ?? ''} was not loaded`);
      const helpers: CustomHelpers = {
        hmacHex: (value, length) => key.hex('custom', value, length),
        hmac: (value) => key.digest('custom', value),
        column: where,
      };
      return (value) => {
        const out = custom(value, helpers);
        if (out !== null && typeof out !== 'string') throw new MaskFitError(`${options.module ?? 'the module'} returned ${typeof out}, not a string or null`);
        if (out !== null && max !== null && out.length > max)
          throw new MaskFitError(`${options.module ?? 'the module'} returned ${out.length} characters, and the column takes ${max}`);
        return out;
      };
    }
  }
}
