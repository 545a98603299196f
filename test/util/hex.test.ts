/** The address and hash formats, defined once in src/util/hex.ts. */
import { describe, expect, it } from 'vitest';
import { ADDRESS_PATTERN, HASH_PATTERN, isAddress, isHash } from '../../src/util/hex.js';

describe('hex formats', () => {
  it('accepts 0x + 40 hex digits as an address, in either case', () => {
    expect(isAddress(`0x${'aB'.repeat(20)}`)).toBe(true);
    expect(isAddress(`0x${'a'.repeat(39)}`)).toBe(false);
    expect(isAddress(`0x${'a'.repeat(41)}`)).toBe(false);
    expect(isAddress(`0x${'g'.repeat(40)}`)).toBe(false);
    expect(isAddress(`${'a'.repeat(42)}`)).toBe(false);
    expect(isAddress(undefined)).toBe(false);
  });

  it('accepts 0x + 64 hex digits as a hash', () => {
    expect(isHash(`0x${'Ff'.repeat(32)}`)).toBe(true);
    expect(isHash(`0x${'f'.repeat(63)}`)).toBe(false);
    expect(isHash(`0x${'f'.repeat(40)}`)).toBe(false);
    expect(isHash(42)).toBe(false);
  });

  it('gives JSON schemas the same patterns', () => {
    expect(new RegExp(ADDRESS_PATTERN).test(`0x${'1'.repeat(40)}`)).toBe(true);
    expect(new RegExp(HASH_PATTERN).test(`0x${'1'.repeat(64)}`)).toBe(true);
    expect(new RegExp(HASH_PATTERN).test(`0x${'1'.repeat(65)}`)).toBe(false);
  });
});
