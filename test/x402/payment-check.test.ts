/** The ledger's payment check, without HTTP: the value's form first, then every field, then the validity window. */
import { describe, expect, it } from 'vitest';
import { checkPayment, CLOCK_SKEW_SECONDS, MAX_UINT256, type CheckedPayment } from '../../src/ledger/payment-check.js';

const payTo = `0x${'aB'.repeat(20)}`;
const asset = `0x${'cD'.repeat(20)}`;
const now = new Date('2026-03-01T12:00:00.000Z');
const seconds = Math.floor(now.getTime() / 1000);
const requirements = { scheme: 'exact', network: 'base-sepolia', asset, payTo, amount: '100', maxTimeoutSeconds: 60 };

type Fields = Partial<{ scheme: string; network: string; asset: string; to: string; value: string; validAfter: string; validBefore: string }>;
const payment = (f: Fields = {}): CheckedPayment => ({
  scheme: f.scheme ?? 'exact',
  network: f.network ?? 'base-sepolia',
  ...(f.asset === undefined ? {} : { asset: f.asset }),
  payload: {
    authorization: {
      to: f.to ?? payTo.toLowerCase(),
      value: f.value ?? '100',
      validAfter: f.validAfter ?? String(seconds - 600),
      validBefore: f.validBefore ?? String(seconds + 60),
    },
  },
});
const check = (f: Fields) => checkPayment(payment(f), requirements, now);

describe('checkPayment', () => {
  it('passes a payment that answers the requirements exactly (addresses in any case)', () => {
    expect(check({})).toBeNull();
    expect(check({ asset: asset.toUpperCase().replace('0X', '0x'), validAfter: '0' })).toBeNull();
  });

  it('refuses a value that is not canonical decimal digits before any other check', () => {
    // A zero-padded amount equals the price as a number but could never be recorded as written.
    expect(check({ value: '0000000000000000000100' })).toBe('invalid_value_not_canonical');
    expect(check({ value: '00' })).toBe('invalid_value_not_canonical');
    expect(check({ value: '0100', network: 'base', scheme: 'upto', to: asset })).toBe('invalid_value_not_canonical');
    expect(check({ value: '0' })).toBe('insufficient_amount');
    expect(check({ value: (MAX_UINT256 + 1n).toString(), network: 'base' })).toBe('invalid_value_out_of_range');
    expect(check({ value: MAX_UINT256.toString() })).toBe('amount_exceeds_required');
    expect(check({ validAfter: '0001' })).toBe('invalid_valid_after_not_canonical');
    expect(check({ validBefore: `0${seconds + 60}` })).toBe('invalid_valid_before_not_canonical');
  });

  it('names the first mismatch: scheme, network, asset, recipient, amount', () => {
    expect(check({ scheme: 'upto', network: 'base' })).toBe('unsupported_scheme');
    expect(check({ network: 'base' })).toBe('invalid_network');
    expect(check({ asset: payTo })).toBe('invalid_asset');
    expect(check({ to: `0x${'c'.repeat(40)}` })).toBe('invalid_pay_to');
    expect(check({ value: '99' })).toBe('insufficient_amount');
    expect(check({ value: '101' })).toBe('amount_exceeds_required');
  });

  it('bounds the validity window: started, not ended, at most maxTimeoutSeconds (plus the skew allowance) ahead', () => {
    expect(check({ validAfter: String(seconds) })).toBeNull();
    expect(check({ validAfter: String(seconds + 1) })).toBe('authorization_not_yet_valid');
    expect(check({ validBefore: String(seconds + 1) })).toBeNull();
    expect(check({ validBefore: String(seconds) })).toBe('authorization_expired');
    expect(check({ validBefore: '1' })).toBe('authorization_expired');
    expect(check({ validBefore: String(seconds + 60 + CLOCK_SKEW_SECONDS) })).toBeNull();
    expect(check({ validBefore: String(seconds + 60 + CLOCK_SKEW_SECONDS + 1) })).toBe('authorization_window_too_long');
    expect(check({ validBefore: '99999999999999999999' })).toBe('authorization_window_too_long');
    expect(CLOCK_SKEW_SECONDS).toBeLessThanOrEqual(10);
  });
});
