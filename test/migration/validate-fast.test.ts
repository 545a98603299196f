/**
 * The bulk load's fast stored-payment check gives what validateStoredRecord gives: the same copy
 * for a valid payment, the same VALIDATION error for every damaged one.
 */
import { describe, expect, it } from 'vitest';
import { validateStoredRecordFast } from '../../src/storage/core/validate-payment-fast.js';
import { validateStoredRecord } from '../../src/storage/core/validate-records.js';

const ts = new Date('2026-02-25T10:15:30.250Z');
const valid = {
  id: '0000002a-0004-4000-8abc-0123456789ab',
  leaseId: 'LEASE-ü-1',
  mode: 'second',
  intervalSeconds: 1,
  amountMinorUnits: 10n ** 20n - 1n,
  payer: `0x${'aB'.repeat(20)}`,
  paymentTimestamp: ts,
  facilitatorTxHash: `0x${'0f'.repeat(32)}`,
  bucketSlot: '2026-02-25T10:00:00.000Z',
  createdAt: ts,
};

/** What a validator does with `record`: its result, or its error's code, field and message. */
function outcome(validate: (t: 'x402_payments' | 'assets', r: unknown) => unknown, record: unknown, table: 'x402_payments' | 'assets' = 'x402_payments'): unknown {
  try {
    return { ok: validate(table, record) };
  } catch (error) {
    const e = error as { code?: string; field?: string; message?: string };
    return { code: e.code, field: e.field, message: e.message };
  }
}

const damaged: [string, unknown][] = [
  ['upper-case id', { ...valid, id: valid.id.toUpperCase() }],
  ['bad id', { ...valid, id: 'not-a-uuid' }],
  ['nil id', { ...valid, id: '00000000-0000-0000-0000-000000000000' }],
  ['empty lease', { ...valid, leaseId: '' }],
  ['long lease', { ...valid, leaseId: 'x'.repeat(256) }],
  ['NUL in lease', { ...valid, leaseId: 'a\u0000b' }],
  ['lone surrogate', { ...valid, leaseId: 'a\ud800' }],
  ['mode', { ...valid, mode: 'minute' }],
  ['interval', { ...valid, intervalSeconds: 5 }],
  ['batch mode', { ...valid, mode: 'batch-5s', intervalSeconds: 5 }],
  ['negative amount', { ...valid, amountMinorUnits: -1n }],
  ['amount too large', { ...valid, amountMinorUnits: 10n ** 20n }],
  ['amount as string', { ...valid, amountMinorUnits: '5' }],
  ['payer', { ...valid, payer: '0x12' }],
  ['hash', { ...valid, facilitatorTxHash: '0xzz' }],
  ['invalid date', { ...valid, paymentTimestamp: new Date(Number.NaN) }],
  ['date as string', { ...valid, createdAt: ts.toISOString() }],
  ['year 10000', { ...valid, createdAt: new Date('+010000-01-01T00:00:00.000Z') }],
  ['other bucket', { ...valid, bucketSlot: '2026-02-25T11:00:00.000Z' }],
  ['bucket with offset', { ...valid, bucketSlot: '2026-02-25T12:00:00+02:00' }],
  ['late false', { ...valid, late: false }],
  ['late undefined', { ...valid, late: undefined }],
  ['late', { ...valid, late: true }],
  ['carried', { ...valid, late: true, carriedToBatchId: '0000002b-0005-4000-9abc-0123456789ab' }],
  ['carried upper-case', { ...valid, late: true, carriedToBatchId: '0000002B-0005-4000-9ABC-0123456789AB' }],
  ['carried, not late', { ...valid, carriedToBatchId: '0000002b-0005-4000-9abc-0123456789ab' }],
  ['extra field', { ...valid, note: 'x' }],
  ['missing field', (({ payer: _p, ...rest }) => rest)(valid)],
  ['null', null],
  ['array', [valid]],
];

describe('validateStoredRecordFast', () => {
  it('returns the same normalized copy as the schema for a valid payment, not the input object', () => {
    const fast = validateStoredRecordFast('x402_payments', valid);
    expect(fast).toEqual(validateStoredRecord('x402_payments', valid));
    expect(fast).not.toBe(valid);
  });

  it.each(damaged)('%s: the same result or the same error as the schema', (_name, record) => {
    expect(outcome(validateStoredRecordFast, record)).toEqual(outcome(validateStoredRecord, record));
  });

  it('other tables go through the schema', () => {
    const asset = { id: 'x' };
    const fast = outcome(validateStoredRecordFast, asset, 'assets');
    expect(fast).toMatchObject({ code: 'VALIDATION' });
    expect(fast).toEqual(outcome(validateStoredRecord, asset, 'assets'));
  });
});
