/**
 * Conformance cases for payments whose money has already moved (`settled: true`): the ledger
 * takes them whatever changed meanwhile. One whose hour's batch is settled or full is recorded as
 * late, outside that batch, and the lease's next settlement carries it; reconcile lists it.
 */
import { describe, expect, it } from 'vitest';
import type { Database, StoredLease } from '../../src/storage/contract/database.js';
import { type ConformanceBackend, drain, dumpStore, expectRefused, hash, onDay, pay, seedLease, useDatabase } from './fixtures.js';

const HOUR_12 = '2026-02-25T12:00:00.000Z';
const HOUR_13 = '2026-02-25T13:00:00.000Z';

/** Settles the lease's batch of `hourBucket` (creating it when needed); returns its id. */
async function settleHour(db: Database, lease: StoredLease, hourBucket: string, n: number): Promise<string> {
  const batch = (await db.getX402Batch(lease.leaseId, hourBucket)) ?? (await db.saveX402Batch({ leaseId: lease.leaseId, hourBucket }));
  await db.updateX402Batch(batch.id, { settlementTxHash: hash(0x5e7000 + n) });
  return batch.id;
}

/** Registers the late-payment cases. */
export function latePaymentTests(backend: ConformanceBackend): void {
  describe('payments whose money has moved', () => {
    const ctx = useDatabase(backend);

    it('one into a settled hour is recorded as late, outside the settled batch, and reconcile lists it', async () => {
      const lease = await seedLease(ctx.db);
      await pay(ctx.db, lease.leaseId, onDay('12:10:00.000'), '500');
      await settleHour(ctx.db, lease, HOUR_12, 1);
      const settledBatch = await ctx.db.getX402Batch(lease.leaseId, HOUR_12);

      // Not yet settled: refused, as before.
      await expectRefused(ctx.db, () => pay(ctx.db, lease.leaseId, onDay('12:50:00.000'), '7'), 'CONFLICT');
      const late = await pay(ctx.db, lease.leaseId, onDay('12:50:00.000'), '7', { facilitatorTxHash: hash(0x1a7e), settled: true });
      expect(late).toMatchObject({ late: true, bucketSlot: HOUR_12, amountMinorUnits: 7n });
      expect(late.carriedToBatchId).toBeUndefined();
      expect(await ctx.db.getX402Batch(lease.leaseId, HOUR_12)).toEqual(settledBatch);
      expect((await ctx.db.getX402PaymentsByLease(lease.leaseId)).map((p) => p.late ?? false)).toEqual([false, true]);
      expect(await ctx.db.reconcile()).toMatchObject({
        differences: [],
        latePayments: [{ leaseId: lease.leaseId, hourBucket: HOUR_12, facilitatorTxHash: hash(0x1a7e), amountMinorUnits: 7n, carriedToBatchId: null }],
      });

      // A replay is the same late payment, counted once.
      const replayed = await ctx.db.recordPaymentWithOutcome({ leaseId: lease.leaseId, amount: '7', timestamp: onDay('12:50:00.000'), mode: 'second', facilitatorTxHash: hash(0x1a7e), settled: true });
      expect(replayed).toEqual({ payment: late, replayed: true });
      expect((await ctx.db.reconcile()).latePayments).toHaveLength(1);
    });

    it("the lease's next settlement carries its late payments, once", async () => {
      const lease = await seedLease(ctx.db);
      const other = await seedLease(ctx.db);
      await settleHour(ctx.db, lease, HOUR_12, 2);
      await settleHour(ctx.db, other, HOUR_12, 3);
      await pay(ctx.db, lease.leaseId, onDay('12:59:00.000'), '11', { facilitatorTxHash: hash(0xa1), settled: true });
      await pay(ctx.db, other.leaseId, onDay('12:59:00.000'), '13', { facilitatorTxHash: hash(0xa2), settled: true });
      await pay(ctx.db, lease.leaseId, onDay('13:05:00.000'), '17');
      const next = await settleHour(ctx.db, lease, HOUR_13, 4);

      expect((await ctx.db.getPaymentByFacilitatorTxHash(hash(0xa1)))?.carriedToBatchId).toBe(next);
      expect((await ctx.db.getPaymentByFacilitatorTxHash(hash(0xa2)))?.carriedToBatchId).toBeUndefined();
      const report = await ctx.db.reconcile();
      expect(report.differences).toEqual([]);
      expect(report.latePayments.map((l) => [l.facilitatorTxHash, l.carriedToBatchId])).toEqual(
        [
          [hash(0xa1), next],
          [hash(0xa2), null],
        ].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)),
      );
      // A later settlement of the lease carries nothing again.
      await pay(ctx.db, lease.leaseId, onDay('14:05:00.000'), '19');
      await settleHour(ctx.db, lease, '2026-02-25T14:00:00.000Z', 5);
      expect((await ctx.db.getPaymentByFacilitatorTxHash(hash(0xa1)))?.carriedToBatchId).toBe(next);
    });

    it('one for a lease no longer active, or past a full batch, is still recorded', async () => {
      const completed = await seedLease(ctx.db, { status: 'completed' });
      await expectRefused(ctx.db, () => pay(ctx.db, completed.leaseId, onDay('12:00:00.000')), 'CONFLICT');
      const paid = await pay(ctx.db, completed.leaseId, onDay('12:00:00.000'), '1000', { facilitatorTxHash: hash(0xc0), settled: true });
      expect(paid.late).toBeUndefined();
      expect((await ctx.db.getX402Batch(completed.leaseId, HOUR_12))?.totalAmountMinorUnits).toBe(1000n);

      const full = await seedLease(ctx.db);
      const big = (6n * 10n ** 19n).toString();
      await pay(ctx.db, full.leaseId, onDay('12:00:00.000'), big);
      const over = await pay(ctx.db, full.leaseId, onDay('12:00:01.000'), big, { facilitatorTxHash: hash(0xc1), settled: true });
      expect(over.late).toBe(true);
      expect((await ctx.db.getX402Batch(full.leaseId, HOUR_12))?.totalAmountMinorUnits).toBe(6n * 10n ** 19n);
      expect((await ctx.db.reconcile()).differences).toEqual([]);
    });

    it('concurrent settled payments into a settled hour are each recorded late, once', async () => {
      const lease = await seedLease(ctx.db);
      await settleHour(ctx.db, lease, HOUR_12, 6);
      const params = Array.from({ length: 12 }, (_, i) => ({
        leaseId: lease.leaseId,
        amount: String(i + 1),
        timestamp: onDay(`12:40:${String(i).padStart(2, '0')}.000`),
        mode: 'second',
        facilitatorTxHash: hash(0xd00 + i),
        settled: true,
      }));
      // Every payment twice at once: the stores gather them into shared transactions.
      const calls = [...params, ...params];
      const outcomes = await Promise.all(calls.map((p) => ctx.db.recordPaymentWithOutcome(p)));
      expect(outcomes.filter((o) => !o.replayed)).toHaveLength(12);
      expect(outcomes.every((o) => o.payment.late === true)).toBe(true);
      const report = await ctx.db.reconcile();
      expect(report.latePayments).toHaveLength(12);
      expect(report.latePayments.reduce((s, l) => s + l.amountMinorUnits, 0n)).toBe(78n);
      expect((await ctx.db.getX402Batch(lease.leaseId, HOUR_12))?.paymentCount).toBe(0);
    });

    it('late and carried payments survive export, clear and import exactly', async () => {
      const lease = await seedLease(ctx.db);
      await settleHour(ctx.db, lease, HOUR_12, 7);
      await pay(ctx.db, lease.leaseId, onDay('12:30:00.000'), '3', { facilitatorTxHash: hash(0xf1), settled: true });
      await pay(ctx.db, lease.leaseId, onDay('13:30:00.000'), '5');
      await settleHour(ctx.db, lease, HOUR_13, 8);
      await pay(ctx.db, lease.leaseId, onDay('13:31:00.000'), '9', { facilitatorTxHash: hash(0xf2), settled: true });
      const before = await dumpStore(ctx.db);
      const payments = await drain(ctx.db.exportRecords('x402_payments'));
      expect(payments.filter((p) => p.late).map((p) => p.carriedToBatchId ?? null)).toHaveLength(2);
      await ctx.db.clear();
      for (const [table, records] of Object.entries(before) as [keyof typeof before, never[]][]) await ctx.db.importRecords(table, records);
      expect(await dumpStore(ctx.db)).toEqual(before);
      await expectRefused(ctx.db, () => ctx.db.importRecords('x402_payments', [{ ...payments[0], id: '00000000-0000-4000-8000-0000000000f3', facilitatorTxHash: hash(0xf3), late: undefined, carriedToBatchId: payments[0]?.id }] as never), 'VALIDATION');
    });

    it('settled must be a boolean', async () => {
      const lease = await seedLease(ctx.db);
      await expectRefused(ctx.db, () => pay(ctx.db, lease.leaseId, onDay('12:00:00.000'), '1', { settled: 'yes' as never }), 'VALIDATION', 'settled');
    });
  });
}
