/** The ledger's payability rule, without HTTP (the API tests cover the answers; the payment check is in test/x402/). */
import { describe, expect, it } from 'vitest';
import { payability } from '../../src/ledger/payability.js';
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
