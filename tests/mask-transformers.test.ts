// The transformers on their own: determinism under one secret, a different
// world under another, the phone permutation never merging two numbers, and
// the text forms (COPY, ROW(...)::text, jsonb) read and written back exactly.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MaskKey } from '../lib/mask/key.ts';
import { maskAtPath, parseJson, serializeJson } from '../lib/mask/json.ts';
import { decodeCopyField, encodeCopyField } from '../lib/mask/copy-text.ts';
import { parseRowText, rowText } from '../lib/sql/row-text.ts';
import { makeTransform, MaskFitError } from '../lib/mask/transformers.ts';
import type { MaskedColumnShape, MaskRule } from '../lib/mask/types.ts';

const SECRET = 'unit-test-secret-0123456789';
const text: MaskedColumnShape = { type: 'text', kind: 'text', maxLength: null, nullable: true, unique: false };
const rule = (transformer: MaskRule['transformer'], options: MaskRule['options'] = {}): MaskRule => ({ transformer, options, origin: 'test' });
const transform = (name: MaskRule['transformer'], shape = text, secret = SECRET, options: MaskRule['options'] = {}) =>
  makeTransform(rule(name, options), shape, new MaskKey(secret));

describe('masking transformers', () => {
  it('give the same output for the same input under one secret, and another under another secret', () => {
    for (const name of ['email', 'phone', 'name', 'first_name', 'last_name', 'address', 'text', 'hash'] as const) {
      const value = name === 'phone' ? '+57 300 555 0101' : 'Ana.Lopez@Example.com';
      expect(transform(name)(value), name).toBe(transform(name)(value));
      expect(transform(name)(value), name).not.toBe(value);
    }
    expect(transform('email')('Ana.Lopez@Example.com')).toBe(transform('email')('ana.lopez@example.com'));
    expect(transform('email')('ana@example.com')).not.toBe(transform('email', text, 'another-secret-0123456789')('ana@example.com'));
  });

  it('write filler text exactly as long as the value, in characters', () => {
    const filler = transform('text');
    for (let length = 1; length <= 300; length++) {
      const value = 'é'.repeat(length);
      expect([...(filler(value) ?? '')].length, String(length)).toBe(length);
    }
  });

  it('keep NULL-free empties empty and write NULL only for the null rule', () => {
    expect(transform('email')('')).toBe('');
    expect(transform('hash')('')).toBe('');
    expect(transform('null')('x')).toBeNull();
    expect(transform('fixed', text, SECRET, { value: 'redacted' })('x')).toBe('redacted');
  });

  it('permute phone digits: every 4-digit number maps to a different one, formatting kept', () => {
    const phone = transform('phone');
    const outputs = new Set(Array.from({ length: 10_000 }, (_, i) => phone(`+1 ${String(i).padStart(4, '0')}`)));
    expect(outputs.size).toBe(10_000);
    expect(phone('+57 (300) 555-0101')).toMatch(/^\+\d\d \(\d{3}\) \d{3}-\d{4}$/);
  });

  it('fit varchar(n) by cutting the readable part and never the unique one, and refuse when that part cannot fit', () => {
    const narrow = { ...text, maxLength: 24, unique: true };
    const email = transform('email', narrow)('someone.with.a.long.address@example.org');
    expect(email?.length).toBeLessThanOrEqual(24);
    expect(email).toMatch(/^[0-9a-f]{16}@x\.test$/);
    const name = transform('name', narrow)('Ana María López');
    expect(name).toMatch(/ [0-9a-f]{16}$/);
    expect(name?.length).toBeLessThanOrEqual(24);
    expect(() => transform('hash', { ...text, maxLength: 10, unique: true })('abc')).toThrow(MaskFitError);
  });

  it('make uuids of uuid columns, and templates from the value', () => {
    expect(transform('hash', { ...text, kind: 'uuid' })('7a1f4c7e-3c1b-4b5e-9a1e-2f3a4b5c6d7e')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(transform('template', text, SECRET, { template: 'guest-{hash:8}-{digits:4}' })('x')).toMatch(/^guest-[0-9a-f]{8}-\d{4}$/);
  });

  it('edit jsonb at a path and keep every other byte of it, numbers included', () => {
    const source = '{"sub": "abc", "big": 12345678901234567890, "score": 1.0, "who": {"full_name": "Ana"}, "list": [{"full_name": "Luis"}]}';
    const masked = maskAtPath(maskAtPath(parseJson(source), ['who', 'full_name'], transform('name')), ['list', 'full_name'], transform('null'));
    const out = serializeJson(masked);
    expect(out).toContain('"big": 12345678901234567890, "score": 1.0');
    expect(out).not.toContain('Ana');
    expect(out).toContain('"list": [{"full_name": null}]');
    expect(serializeJson(parseJson(source))).toBe(source);
  });

  it('read and write COPY text fields and ROW(...)::text exactly as PostgreSQL does', () => {
    expect(decodeCopyField('a\\tb\\\\c\\nd')).toBe('a\tb\\c\nd');
    expect(encodeCopyField('a\tb\\c\nd')).toBe('a\\tb\\\\c\\nd');
    expect(decodeCopyField('\\N')).toBeNull();
    const fields = ['plain', 'with space', 'quote"and\\slash', '', null, '(x,y)'];
    expect(parseRowText(rowText(fields))).toEqual(fields);
    expect(rowText(['a b', null, ''])).toBe('("a b",,"")');
  });

  it('never print the secret', () => {
    const key = new MaskKey(SECRET);
    expect(JSON.stringify({ key })).not.toContain(SECRET);
    expect(inspect(key)).not.toContain(SECRET);
    expect(`${String(key)}`).not.toContain(SECRET);
  });
});
