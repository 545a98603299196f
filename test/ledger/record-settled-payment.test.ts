/**
 * recordSettledPayment without HTTP: recorded or replayed, retried, kept as pending, or (when even
 * the pending store fails) a PaymentNotRecordedError. test/ledger/pending-payments.test.ts covers
 * the same rules through the access route.
 */
import { describe, expect, it } from 'vitest';
import { MemoryPendingPaymentStore, type PendingPaymentStore } from '../../src/ledger/pending-payments.js';
import { PaymentNotRecordedError, recordSettledPayment, type RecordDeps } from '../../src/ledger/record-settled-payment.js';
import type { RecordPaymentParams, StoredX402Payment } from '../../src/storage/contract/database.js';
import { StorageError } from '../../src/storage/contract/errors.js';

const HASH = `0x${'a'.repeat(64)}`;
const params = (timestamp: string): RecordPaymentParams & { facilitatorTxHash: string } => ({
  leaseId: 'L-1',
  amount: '5',
  timestamp,
  mode: 'second',
  facilitatorTxHash: HASH,
});
const silent = { warn: () => undefined, error: () => undefined, fatal: () => undefined };

/** A ledger of settlement hashes whose recordPaymentWithOutcome fails `failures` times first. */
function ledger(failures: number, error = new StorageError('CONNECTION', 'down')) {
  const rows = new Map<string, StoredX402Payment>();
  const db: RecordDeps['db'] & { calls: number } = {
    calls: 0,
    async recordPaymentWithOutcome(p) {
      db.calls += 1;
      if (failures > 0) {
        failures -= 1;
        throw error;
      }
      const hash = p.facilitatorTxHash ?? '';
      const existing = rows.get(hash);
      if (existing) return { payment: existing, replayed: true };
      const at = new Date(p.timestamp);
      const row: StoredX402Payment = {
        id: `id-${rows.size}`,
        leaseId: p.leaseId,
        mode: 'second',
        intervalSeconds: 1,
        amountMinorUnits: BigInt(p.amount),
        payer: `0x${'9'.repeat(40)}`,
        paymentTimestamp: at,
        facilitatorTxHash: hash,
        bucketSlot: '2026-01-01T00:00:00.000Z',
        createdAt: at,
      };
      rows.set(hash, row);
      return { payment: row, replayed: false };
    },
    async getPaymentByFacilitatorTxHash(hash) {
      return rows.get(hash) ?? null;
    },
  };
  return db;
}

const deps = (db: RecordDeps['db'], pending: PendingPaymentStore = new MemoryPendingPaymentStore()): RecordDeps => ({ db, pending, retryDelaysMs: [1, 1], log: silent });

describe('recordSettledPayment', () => {
  it('records once, and reports a second record of the same settlement as a replay', async () => {
    const db = ledger(0);
    const first = await recordSettledPayment(deps(db), params('2026-01-01T00:00:01.000Z'), {});
    expect(first).toMatchObject({ status: 'recorded', replayed: false });
    const again = await recordSettledPayment(deps(db), params('2026-01-01T00:00:09.000Z'), {});
    expect(again).toMatchObject({ status: 'recorded', replayed: true, payment: { paymentTimestamp: new Date('2026-01-01T00:00:01.000Z') } });
  });

  it('retries transient failures, then keeps the payment as pending with its attempts', async () => {
    const db = ledger(2);
    expect(await recordSettledPayment(deps(db), params('2026-01-01T00:00:01.000Z'), {})).toMatchObject({ status: 'recorded', replayed: false });
    expect(db.calls).toBe(3);

    const down = ledger(10);
    const pending = new MemoryPendingPaymentStore();
    const outcome = await recordSettledPayment(deps(down, pending), params('2026-01-01T00:00:01.000Z'), { network: 'base-sepolia' });
    expect(outcome).toMatchObject({ status: 'pending', error: { code: 'CONNECTION' } });
    expect(await pending.listUnresolved()).toMatchObject([{ facilitatorTxHash: HASH, attempts: 3, payload: { settlement: { network: 'base-sepolia' } } }]);
  });

  it('throws PaymentNotRecordedError when even the pending store fails', async () => {
    const broken = new MemoryPendingPaymentStore();
    broken.add = async () => {
      throw new Error('disk full');
    };
    const error = await recordSettledPayment(deps(ledger(10), broken), params('2026-01-01T00:00:01.000Z'), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaymentNotRecordedError);
    expect(error).toMatchObject({ facilitatorTxHash: HASH });
  });
});
