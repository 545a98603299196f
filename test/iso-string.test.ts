/**
 * isoString (src/storage/core/iso-string.ts), the bulk load's fast formatter of instants, gives
 * exactly `Date.prototype.toISOString`'s text: over the whole range of four-digit years, at every
 * edge (the first and last millisecond of a day, of year 0 and year 9999, leap days, before 1970),
 * outside it (six-digit years, where it hands over to toISOString), over more days than its cache
 * keeps, and it throws as toISOString does for an invalid date.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isoString } from '../src/storage/core/iso-string.js';

const FIRST = Date.parse('0000-01-01T00:00:00.000Z');
const END = Date.parse('+010000-01-01T00:00:00.000Z');
const DAY = 86_400_000;

/** A deterministic number in [0, 1) per index, so a failure reproduces. */
const unit = (i: number) => createHash('sha256').update(String(i)).digest().readUIntBE(0, 6) / 2 ** 48;

describe('isoString', () => {
  it('is toISOString at the edges of days, years and its range', () => {
    const edges = [
      FIRST, FIRST + 1, FIRST - 1, END - 1, END, END + 1, 0, -1, 1, DAY - 1, DAY, -DAY, -DAY - 1,
      Date.parse('2024-02-29T23:59:59.999Z'), Date.parse('2100-03-01T00:00:00.000Z'), Date.parse('1969-12-31T23:59:59.999Z'),
      Date.parse('2000-02-29T12:34:56.789Z'), Date.parse('1600-02-29T00:00:00.001Z'), 8.64e15, -8.64e15,
    ];
    for (const ms of edges) expect([ms, isoString(new Date(ms))]).toEqual([ms, new Date(ms).toISOString()]);
  });

  it('is toISOString for 20,000 instants across the four-digit years, more days than its cache keeps', () => {
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor(FIRST + unit(i) * (END - FIRST));
      expect(isoString(new Date(ms))).toBe(new Date(ms).toISOString());
    }
  });

  it('is toISOString for every millisecond-of-day pattern of one day', () => {
    const day = Date.parse('2026-11-30T00:00:00.000Z');
    for (let ms = day; ms < day + DAY; ms += 997) expect(isoString(new Date(ms))).toBe(new Date(ms).toISOString());
  });

  it('throws RangeError for an invalid date, as toISOString does', () => {
    expect(() => new Date(Number.NaN).toISOString()).toThrow(RangeError);
    expect(() => isoString(new Date(Number.NaN))).toThrow(RangeError);
  });
});
