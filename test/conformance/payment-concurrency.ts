/**
 * Many concurrent payments with replays mixed in: every payment lands exactly once, totals are
 * the exact expected sums, and reconcile finds nothing. On the SQL backends this drives group
 * commit with groups that mix good payments, replays and refusals.
 */
import { describe, expect, it } from 'vitest';
import { isStorageError } from '../../src/storage/errors.js';
import { type ConformanceBackend, hash, seedLease, useDatabase } from './fixtures.js';

const LEASES = 10;
const PAYMENTS = 1000;

/** Registers the concurrent-payments case. */
export function paymentConcurrencyTests(backend: ConformanceBackend): void {
  describe('concurrent payments', () => {
    const ctx = useDatabase(backend);

    it('records 1,000 concurrent payments over 10 leases once each, replays included', async () => {
      const { db } = ctx;
      const leases = [];
      for (let i = 0; i < LEASES; i++) leases.push(await seedLease(db));
      const inactive = await seedLease(db, { status: 'completed' });

      const originals: Promise<unknown>[] = [];
      const refused: Promise<unknown>[] = [];
      const later: (() => Promise<unknown>)[] = [];
      const expected = new Map<string, bigint>();
      const counts = new Map<string, number>();
      for (let i = 0; i < PAYMENTS; i++) {
        const lease = leases[i % LEASES]!;
        // Amounts near 10^18 so the sums leave the range of a JS number.
        const amount = 10n ** 18n + BigInt(i);
        const params = {
          leaseId: lease.leaseId,
          amount: amount.toString(),
          timestamp: new Date(Date.UTC(2026, 1, 25, 9 + (i % 3), 0, i % 60)).toISOString(),
          mode: 'second',
          facilitatorTxHash: hash(0x5000000 + i),
        };
        expected.set(lease.leaseId, (expected.get(lease.leaseId) ?? 0n) + amount);
        counts.set(lease.leaseId, (counts.get(lease.leaseId) ?? 0) + 1);
        originals.push(db.recordPayment(params));
        // Every fifth payment is replayed at once, racing its original (either may land first).
        if (i % 5 === 0) originals.push(db.recordPayment({ ...params, timestamp: new Date(Date.UTC(2026, 1, 25, 10)).toISOString() }));
        // Payments for a lease that is not active are refused without harming the others.
        if (i % 100 === 0) {
          refused.push(db.recordPayment({ ...params, leaseId: inactive.leaseId, facilitatorTxHash: hash(0x7000000 + i) }).then(() => 'accepted', (e: unknown) => e));
        }
        // Once the original has landed: a conflicting reuse of its hash, and one more replay.
        if (i % 50 === 0) {
          later.push(() => db.recordPayment({ ...params, amount: '1' }).then(() => 'accepted', (e: unknown) => e));
          later.push(() => db.recordPayment(params));
        }
      }
      await Promise.all(originals);
      const results = await Promise.all([...refused, ...later.map((call) => call())]);
      const refusals = results.filter((r) => isStorageError(r));
      expect(results.filter((r) => r === 'accepted')).toEqual([]);
      expect(refusals.length).toBe(PAYMENTS / 50 + PAYMENTS / 100);
      expect(refusals.every((e) => isStorageError(e, 'CONFLICT'))).toBe(true);

      for (const lease of leases) {
        const payments = await db.getX402PaymentsByLease(lease.leaseId);
        expect(payments.length).toBe(counts.get(lease.leaseId));
        const batches = await db.getX402BatchesByLease(lease.leaseId);
        expect(batches.reduce((s, b) => s + b.totalAmountMinorUnits, 0n)).toBe(expected.get(lease.leaseId));
        expect(batches.reduce((s, b) => s + b.paymentCount, 0)).toBe(counts.get(lease.leaseId));
      }
      expect(await db.getX402PaymentsByLease(inactive.leaseId)).toEqual([]);
      const report = await db.reconcile();
      expect(report.differences).toEqual([]);
      expect(report.paymentsChecked).toBe(PAYMENTS);
      const total = [...expected.values()].reduce((s, v) => s + v, 0n);
      expect((await db.summarizeTable('x402_payments')).amountSum).toBe(total);
      expect((await db.summarizeTable('x402_batches')).amountSum).toBe(total);
    });
  });
}
