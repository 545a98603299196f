/** Conformance cases for saveX402Payment (the full-record form) and the payment reads. */
import { describe, expect, it } from 'vitest';
import type { NewX402Payment, StoredX402Payment } from '../../src/storage/contract/database.js';
import {
  type ConformanceBackend,
  address,
  dumpStore,
  expectRefused,
  expectStorageError,
  hash,
  idsOf,
  nextSeq,
  onDay,
  pay,
  paymentOrder,
  seedLease,
  unchecked,
  useDatabase,
} from './fixtures.js';

const HOUR_12 = '2026-02-25T12:00:00.000Z';

/** A valid full payment of `leaseId` at 12:30 on the test day. */
function newPayment(leaseId: string, overrides: Partial<NewX402Payment> = {}): NewX402Payment {
  const n = nextSeq();
  return {
    leaseId,
    mode: 'second',
    intervalSeconds: 1,
    amountMinorUnits: 1000n,
    payer: address(0x9a0000 + n),
    paymentTimestamp: new Date(onDay('12:30:00.000')),
    facilitatorTxHash: hash(0x9b0000 + n),
    ...overrides,
  };
}

/** Registers the saveX402Payment and payment-read cases. */
export function paymentRecordTests(backend: ConformanceBackend): void {
  describe('payments: saveX402Payment and reads', () => {
    const ctx = useDatabase(backend);

    it('stores a full payment, derives its bucket and adds it to the batch', async () => {
      const lease = await seedLease(ctx.db);
      const input = newPayment(lease.leaseId, { mode: 'batch-5s', intervalSeconds: 5, amountMinorUnits: 12_345n });
      const saved = await ctx.db.saveX402Payment(input);
      expect(saved).toMatchObject({ ...input, bucketSlot: HOUR_12 });
      expect(await ctx.db.getX402PaymentsByLease(lease.leaseId)).toEqual([saved]);
      const batch = await ctx.db.getOpenBatchForLease(lease.leaseId, HOUR_12);
      expect(batch).toMatchObject({ totalAmountMinorUnits: 12_345n, paymentCount: 1 });
    });

    it('accepts a matching bucketSlot in any zone and returns it canonical', async () => {
      const lease = await seedLease(ctx.db);
      for (const bucketSlot of ['2026-02-25T14:00:00+02:00', '2026-02-25T12:00:00Z', HOUR_12]) {
        const saved = await ctx.db.saveX402Payment(newPayment(lease.leaseId, { bucketSlot }));
        expect(saved.bucketSlot, bucketSlot).toBe(HOUR_12);
      }
    });

    it('refuses a bucketSlot that is not the hour of paymentTimestamp', async () => {
      const lease = await seedLease(ctx.db);
      for (const bucketSlot of ['2026-02-25T13:00:00.000Z', '2026-02-25T11:00:00Z', '2026-02-25T12:30:00Z', 'soon']) {
        await expectRefused(ctx.db, () => ctx.db.saveX402Payment(newPayment(lease.leaseId, { bucketSlot })), 'VALIDATION', 'bucketSlot', bucketSlot);
      }
    });

    it('refuses an intervalSeconds that does not match the mode', async () => {
      const lease = await seedLease(ctx.db);
      const cases: Partial<NewX402Payment>[] = [
        { mode: 'second', intervalSeconds: 5 },
        { mode: 'batch-5s', intervalSeconds: 1 },
        { mode: 'second', intervalSeconds: 0 },
        { mode: 'batch-5s', intervalSeconds: 5.5 },
      ];
      for (const overrides of cases) {
        await expectRefused(ctx.db, () => ctx.db.saveX402Payment(newPayment(lease.leaseId, overrides)), 'VALIDATION', 'intervalSeconds', JSON.stringify(overrides));
      }
      await expectRefused(ctx.db, () => ctx.db.saveX402Payment(newPayment(lease.leaseId, { mode: unchecked('hourly') })), 'VALIDATION', 'mode');
    });

    it('takes amounts 0 and 10^20-1 and refuses 10^20, negatives and numbers', async () => {
      const lease = await seedLease(ctx.db);
      for (const amountMinorUnits of [0n, 10n ** 20n - 1n]) {
        const saved = await ctx.db.saveX402Payment(newPayment(lease.leaseId, { amountMinorUnits }));
        expect(saved.amountMinorUnits).toBe(amountMinorUnits);
      }
      expect((await ctx.db.getOpenBatchForLease(lease.leaseId, HOUR_12))?.totalAmountMinorUnits).toBe(10n ** 20n - 1n);
      for (const amountMinorUnits of [10n ** 20n, -1n, unchecked<bigint>(1000), unchecked<bigint>('1000')]) {
        await expectRefused(ctx.db, () => ctx.db.saveX402Payment(newPayment(lease.leaseId, { amountMinorUnits })), 'VALIDATION', 'amountMinorUnits', String(amountMinorUnits));
      }
    });

    it('refuses an invalid paymentTimestamp, payer or unknown field', async () => {
      const lease = await seedLease(ctx.db);
      const cases: [string, NewX402Payment][] = [
        ['paymentTimestamp', newPayment(lease.leaseId, { paymentTimestamp: new Date('nope') })],
        ['paymentTimestamp', newPayment(lease.leaseId, { paymentTimestamp: unchecked(onDay('12:00:00.000')) })],
        ['payer', newPayment(lease.leaseId, { payer: '0x' })],
        ['facilitatorTxHash', newPayment(lease.leaseId, { facilitatorTxHash: hash(1).slice(0, 65) })],
        ['id', unchecked({ ...newPayment(lease.leaseId), id: '00000000-0000-4000-8000-000000000001' })],
      ];
      for (const [field, input] of cases) {
        await expectRefused(ctx.db, () => ctx.db.saveX402Payment(input), 'VALIDATION', field, field);
      }
    });

    it('follows the lease, replay and settled-hour rules of recordPayment', async () => {
      const lease = await seedLease(ctx.db);
      const pending = await seedLease(ctx.db, { status: 'pending' });
      await expectRefused(ctx.db, () => ctx.db.saveX402Payment(newPayment('NO-SUCH-LEASE')), 'REFERENCE_NOT_FOUND');
      await expectRefused(ctx.db, () => ctx.db.saveX402Payment(newPayment(pending.leaseId)), 'CONFLICT', undefined, 'pending');
      const input = newPayment(lease.leaseId);
      const original = await ctx.db.saveX402Payment(input);
      const before = await dumpStore(ctx.db);
      expect(await ctx.db.saveX402Payment({ ...input })).toEqual(original);
      expect(await dumpStore(ctx.db)).toEqual(before);
      await expectRefused(ctx.db, () => ctx.db.saveX402Payment({ ...input, amountMinorUnits: 1001n }), 'CONFLICT', undefined, 'amount');
      // recordPayment and saveX402Payment share one hash space.
      await expectRefused(ctx.db, () => pay(ctx.db, lease.leaseId, onDay('12:30:00.000'), '7', { facilitatorTxHash: input.facilitatorTxHash }), 'CONFLICT');
      const batch = await ctx.db.getOpenBatchForLease(lease.leaseId, HOUR_12);
      await ctx.db.updateX402Batch(batch?.id ?? '', { settlementTxHash: hash(0x5e77) });
      await expectRefused(ctx.db, () => ctx.db.saveX402Payment(newPayment(lease.leaseId)), 'CONFLICT', undefined, 'settled');
    });

    it('getX402PaymentsByLease is one lease ordered by (paymentTimestamp, id)', async () => {
      const lease = await seedLease(ctx.db);
      const other = await seedLease(ctx.db);
      const times = ['12:40:00.000', '12:05:00.000', '12:40:00.000', '13:01:00.000', '12:40:00.000', '12:05:00.000'];
      const mine: StoredX402Payment[] = [];
      for (const t of times) {
        mine.push(await pay(ctx.db, lease.leaseId, onDay(t)));
        await pay(ctx.db, other.leaseId, onDay(t));
      }
      expect(idsOf(await ctx.db.getX402PaymentsByLease(lease.leaseId))).toEqual(idsOf(paymentOrder(mine)));
      expect(await ctx.db.getX402PaymentsByLease('NO-SUCH-LEASE')).toEqual([]);
    });

    it('getX402PaymentsByBucket is one hour of all leases, ordered, with the bucket normalized', async () => {
      const a = await seedLease(ctx.db);
      const b = await seedLease(ctx.db);
      const inHour: StoredX402Payment[] = [];
      for (const t of ['12:59:59.999', '12:00:00.000', '12:30:00.000', '12:30:00.000']) {
        inHour.push(await pay(ctx.db, a.leaseId, onDay(t)));
        inHour.push(await pay(ctx.db, b.leaseId, onDay(t)));
      }
      await pay(ctx.db, a.leaseId, onDay('13:00:00.000'));
      await pay(ctx.db, a.leaseId, onDay('11:59:59.999'));
      for (const bucket of [HOUR_12, '2026-02-25T12:00:00Z', '2026-02-25T14:00:00+02:00']) {
        expect(idsOf(await ctx.db.getX402PaymentsByBucket(bucket)), bucket).toEqual(idsOf(paymentOrder(inHour)));
      }
      expect(await ctx.db.getX402PaymentsByBucket('2026-02-25T10:00:00.000Z')).toEqual([]);
      for (const bucket of ['2026-02-25T12:30:00Z', '2026-02-25T12:00:00', 'not a date']) {
        await expectStorageError(() => ctx.db.getX402PaymentsByBucket(bucket), 'VALIDATION', undefined, bucket);
      }
    });
  });
}
