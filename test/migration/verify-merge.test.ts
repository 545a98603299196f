/** sameRecord, the field-for-field comparison of a merge import's verification. */
import { describe, expect, it } from 'vitest';
import { sameRecord } from '../../src/migration/verify-merge.js';

describe('sameRecord', () => {
  it('compares dates by instant, bigints by value and JSON whatever its key order', () => {
    const a = { id: 'x', at: new Date('2026-01-01T00:00:00.000Z'), amount: 5n, doc: { b: [1, { c: 'ü' }], a: null } };
    const b = { doc: { a: null, b: [1, { c: 'ü' }] }, amount: 5n, at: new Date('2026-01-01T00:00:00.000Z'), id: 'x' };
    expect(sameRecord(a, b)).toBe(true);
    expect(sameRecord(a, { ...b, extra: undefined })).toBe(true);
  });

  it('finds any difference: a value, a date, an amount, a missing or extra field, array order', () => {
    const a = { id: 'x', at: new Date(0), amount: 5n, doc: { list: [1, 2] } };
    expect(sameRecord(a, { ...a, amount: 6n })).toBe(false);
    expect(sameRecord(a, { ...a, at: new Date(1) })).toBe(false);
    expect(sameRecord(a, { ...a, at: '1970-01-01T00:00:00.000Z' })).toBe(false);
    expect(sameRecord(a, { ...a, doc: { list: [2, 1] } })).toBe(false);
    expect(sameRecord(a, { ...a, note: 'n' })).toBe(false);
    const { amount: _omitted, ...without } = a;
    expect(sameRecord(a, without)).toBe(false);
    expect(sameRecord(a, { ...a, doc: { list: [1, 2], more: null } })).toBe(false);
  });
});
