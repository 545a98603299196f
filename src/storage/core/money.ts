/**
 * Money is an integer number of minor units carried as `bigint`; the columns are NUMERIC(20,0),
 * so the range is 0 .. 10^20-1. Conversions never pass through a JS number.
 */
import { validationError } from '../contract/errors.js';

export const MAX_AMOUNT = 10n ** 20n - 1n;

/** Checks a bigint amount is within 0 .. 10^20-1. */
export function checkAmount(value: unknown, field: string): bigint {
  if (typeof value !== 'bigint') throw validationError(field, 'must be a bigint number of minor units');
  if (value < 0n) throw validationError(field, 'must not be negative');
  if (value > MAX_AMOUNT) throw validationError(field, 'must be below 10^20');
  return value;
}

/** Parses plain decimal digits ("1000") into an amount; signs, exponents, fractions and spaces are refused. */
export function parseAmount(value: unknown, field: string): bigint {
  if (typeof value !== 'string' || !/^[0-9]{1,20}$/.test(value)) {
    throw validationError(field, 'must be a string of decimal digits (minor units), at most 20 digits');
  }
  return checkAmount(BigInt(value), field);
}
