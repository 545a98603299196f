/**
 * The bulk load's fast stored-payment check gives what validateStoredRecord gives: the same copy
 * for a valid payment, the same VALIDATION error for every damaged one.
 */
import { describe, expect, it } from 'vitest';
import { fastPathAccepts, validateStoredRecordFast } from '../../src/storage/core/validate-payment-fast.js';
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

const event = {
  id: '0000002c-0003-4000-8abc-0123456789ab',
  eventName: 'LeaseMinted',
  contractAddress: `0x${'ab'.repeat(20)}`,
  blockNumber: 5_000,
  transactionHash: `0x${'1e'.repeat(32)}`,
  logIndex: 2,
  args: { tokenId: '7', note: { k: ['ü', '🚀'] }, big: '115792089237316195423570985008687907853269984665640564039457584007913129639935' },
  processed: false,
  createdAt: ts,
  chainId: 31337,
  blockHash: `0x${'b1'.repeat(32)}`,
};

const damagedEvents: [string, unknown][] = [
  ['hand-made (no chain fields)', (({ chainId: _c, blockHash: _b, ...rest }) => rest)(event)],
  ['removed, attempts, lastError', { ...event, removed: true, attempts: 3, lastError: 'boom' }],
  ['upper-case id', { ...event, id: event.id.toUpperCase() }],
  ['empty name', { ...event, eventName: '' }],
  ['long name', { ...event, eventName: 'e'.repeat(101) }],
  ['address', { ...event, contractAddress: '0x1' }],
  ['negative block', { ...event, blockNumber: -1 }],
  ['fractional block', { ...event, blockNumber: 1.5 }],
  ['unsafe block', { ...event, blockNumber: 2 ** 53 }],
  ['log index too large', { ...event, logIndex: 2 ** 31 }],
  ['args not an object', { ...event, args: [1] }],
  ['args with NUL', { ...event, args: { a: 'x\u0000y' } }],
  ['args with a bigint', { ...event, args: { a: 1n } }],
  ['processed as string', { ...event, processed: 'yes' }],
  ['chain id 0', { ...event, chainId: 0 }],
  ['block hash', { ...event, blockHash: '0x12' }],
  ['removed false', { ...event, removed: false }],
  ['attempts 0', { ...event, attempts: 0 }],
  ['long error', { ...event, lastError: 'x'.repeat(2001) }],
  ['chain id undefined', { ...event, chainId: undefined }],
  ['extra field', { ...event, extra: 1 }],
  ['missing field', (({ logIndex: _l, ...rest }) => rest)(event)],
];

/** What a validator does with `record`: its result, or its error's code, field and message. */
function outcome(validate: (t: 'x402_payments' | 'events' | 'assets', r: unknown) => unknown, record: unknown, table: 'x402_payments' | 'events' | 'assets' = 'x402_payments'): unknown {
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
    // The fast path itself decided (not the schema behind it).
    expect(fastPathAccepts('x402_payments', valid)).toBe(true);
    expect(fastPathAccepts('x402_payments', { ...valid, late: true, carriedToBatchId: '0000002b-0005-4000-9abc-0123456789ab' })).toBe(true);
  });

  it.each(damaged)('%s: the same result or the same error as the schema', (_name, record) => {
    expect(outcome(validateStoredRecordFast, record)).toEqual(outcome(validateStoredRecord, record));
  });

  it('returns the same copy as the schema for a valid event', () => {
    expect(validateStoredRecordFast('events', event)).toEqual(validateStoredRecord('events', event));
    expect(fastPathAccepts('events', event)).toBe(true);
    expect(fastPathAccepts('events', { ...event, removed: true, attempts: 3, lastError: 'boom' })).toBe(true);
  });

  it.each(damagedEvents)('event, %s: the same result or the same error as the schema', (_name, record) => {
    expect(outcome(validateStoredRecordFast, record, 'events')).toEqual(outcome(validateStoredRecord, record, 'events'));
  });

  it('other tables go through the schema', () => {
    const asset = { id: 'x' };
    const fast = outcome(validateStoredRecordFast, asset, 'assets');
    expect(fast).toMatchObject({ code: 'VALIDATION' });
    expect(fast).toEqual(outcome(validateStoredRecord, asset, 'assets'));
  });
});
