/** The ledger's payability rule and payment check, without HTTP (the API tests cover the answers). */
import { describe, expect, it } from 'vitest';
import { payability } from '../../src/ledger/payability.js';
import { checkPayment } from '../../src/ledger/payment-check.js';
import type { JsonObject, LeaseStatus, StoredLease } from '../../src/storage/contract/database.js';

function lease(status: LeaseStatus, terms: JsonObject | undefined): StoredLease {
  const at = new Date('2026-01-01T00:00:00Z');
  return {
    id: '00000000-0000-4000-8000-000000000001',
    leaseId: 'L-1',
    assetId: 'A-1',
    chainId: 1,
    contractAddress: `0x${'1'.repeat(40)}`,
    lessor: `0x${'2'.repeat(40)}`,
    lessee: `0x${'3'.repeat(40)}`,
    agreement: terms === undefined ? {} : { terms },
    status,
    blockNumber: 1,
    transactionHash: `0x${'4'.repeat(64)}`,
    createdAt: at,
    updatedAt: at,
  };
}

describe('payability', () => {
  const start = '2026-02-01T00:00:00.000Z';
  const end = '2026-03-01T00:00:00.000Z';
  const inside = new Date('2026-02-10T00:00:00Z');

  it('pays an active lease inside its window, and one with open ends', () => {
    expect(payability(lease('active', { startDate: start, endDate: end }), inside)).toEqual({ payable: true });
    expect(payability(lease('active', undefined), inside)).toEqual({ payable: true });
    expect(payability(lease('active', { startDate: null }), inside)).toEqual({ payable: true });
    expect(payability(lease('active', { startDate: start, endDate: end }), new Date(start))).toEqual({ payable: true });
  });

  it('refuses a lease that is not active, whatever its window', () => {
    for (const status of ['pending', 'completed', 'terminated'] as const) {
      expect(payability(lease(status, { startDate: start, endDate: end }), inside)).toEqual({ payable: false, reason: 'LEASE_NOT_ACTIVE', status });
    }
  });

  it('refuses outside [startDate, endDate) and on an unreadable date', () => {
    const window = { startDate: start, endDate: end };
    const outside = { payable: false, reason: 'OUTSIDE_LEASE_WINDOW', startDate: new Date(start), endDate: new Date(end) };
    expect(payability(lease('active', window), new Date('2026-01-31T23:59:59.999Z'))).toEqual(outside);
    expect(payability(lease('active', window), new Date(end))).toEqual(outside);
    expect(payability(lease('active', { startDate: 'soon' }), inside)).toEqual({ payable: false, reason: 'LEASE_TERMS_INVALID' });
    expect(payability(lease('active', { endDate: 20260301 }), inside)).toEqual({ payable: false, reason: 'LEASE_TERMS_INVALID' });
  });
});

describe('checkPayment', () => {
  const payTo = `0x${'aB'.repeat(20)}`;
  const requirements = { scheme: 'exact', network: 'base-sepolia', payTo, amount: '100' };
  const payment = (fields: { scheme?: string; network?: string; to?: string; value?: string } = {}) => ({
    scheme: fields.scheme ?? 'exact',
    network: fields.network ?? 'base-sepolia',
    payload: { authorization: { to: fields.to ?? payTo.toLowerCase(), value: fields.value ?? '100' } },
  });

  it('passes a payment that answers the requirements (recipient in any case, amount at least the price)', () => {
    expect(checkPayment(payment(), requirements)).toBeNull();
    expect(checkPayment(payment({ value: '101' }), requirements)).toBeNull();
  });

  it('names the first mismatch', () => {
    expect(checkPayment(payment({ scheme: 'upto', network: 'base' }), requirements)).toBe('unsupported_scheme');
    expect(checkPayment(payment({ network: 'base' }), requirements)).toBe('invalid_network');
    expect(checkPayment(payment({ to: `0x${'c'.repeat(40)}` }), requirements)).toBe('invalid_pay_to');
    expect(checkPayment(payment({ value: '1'.padEnd(21, '0') }), requirements)).toBe('invalid_payload_value');
    expect(checkPayment(payment({ value: '99999999999999999999' }), requirements)).toBeNull();
    expect(checkPayment(payment({ value: '99' }), requirements)).toBe('insufficient_amount');
  });
});
