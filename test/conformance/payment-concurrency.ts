/**
 * Many concurrent payments with replays mixed in: every payment lands exactly once, totals are
 * the exact expected sums, and reconcile finds nothing. On the SQL backends this drives group
 * commit with groups that mix good payments, replays and refusals.
 */
import { describe, expect, it } from 'vitest';
import { isStorageError } from '../../src/storage/contract/errors.js';
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

    it('concurrent payments into a settled hour and past a full batch are refused alone', async () => {
      const { db } = ctx;
      const lease = await seedLease(db);
      const other = await seedLease(db);
      const settledHour = '2026-02-25T08:00:00.000Z';
      await db.recordPayment({ leaseId: lease.leaseId, amount: '1', timestamp: '2026-02-25T08:10:00Z', mode: 'second' });
      const [batch] = await db.getX402BatchesByLease(lease.leaseId);
      await db.updateX402Batch(batch!.id, { settlementTxHash: hash(0xd00d) });
      // Nearly full: one more large payment in this hour would pass 10^20-1.
      await db.recordPayment({ leaseId: other.leaseId, amount: (9n * 10n ** 19n).toString(), timestamp: '2026-02-25T09:00:00Z', mode: 'second' });

      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 60; i++) {
        const kind = i % 3;
        const params =
          kind === 0
            ? { leaseId: lease.leaseId, amount: '5', timestamp: `2026-02-25T08:${String(i % 60).padStart(2, '0')}:00Z`, mode: 'second' }
            : kind === 1
              ? { leaseId: other.leaseId, amount: (2n * 10n ** 19n).toString(), timestamp: '2026-02-25T09:30:00Z', mode: 'second' }
              : { leaseId: lease.leaseId, amount: '7', timestamp: `2026-02-25T10:${String(i % 60).padStart(2, '0')}:00Z`, mode: 'second' };
        calls.push(db.recordPayment(params).then(() => 'ok', (e: unknown) => (isStorageError(e, 'CONFLICT') ? 'conflict' : e)));
      }
      const results = await Promise.all(calls);
      expect(results.filter((_, i) => i % 3 === 0).every((r) => r === 'conflict')).toBe(true);
      expect(results.filter((_, i) => i % 3 === 1).every((r) => r === 'conflict')).toBe(true);
      expect(results.filter((_, i) => i % 3 === 2).every((r) => r === 'ok')).toBe(true);
      const batches = await db.getX402BatchesByLease(lease.leaseId);
      expect(batches.map((b) => [b.hourBucket, b.totalAmountMinorUnits, b.paymentCount])).toEqual([
        [settledHour, 1n, 1],
        ['2026-02-25T10:00:00.000Z', 7n * 20n, 20],
      ]);
      expect((await db.getX402BatchesByLease(other.leaseId)).map((b) => b.totalAmountMinorUnits)).toEqual([9n * 10n ** 19n]);
      expect((await db.reconcile()).differences).toEqual([]);
    });
  });
}
