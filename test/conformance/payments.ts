/** Conformance cases for recordPayment: batching, hours, exact money, lease rules and replays. */
import { describe, expect, it } from 'vitest';
import type { RecordPaymentParams } from '../../src/storage/contract/database.js';
import {
  type ConformanceBackend,
  dumpStore,
  expectStorageError,
  expectRefused,
  hash,
  onDay,
  pay,
  seedLease,
  unchecked,
  useDatabase,
  UUID,
} from './fixtures.js';

const HOUR_12 = '2026-02-25T12:00:00.000Z';
const HOUR_13 = '2026-02-25T13:00:00.000Z';

/** Registers the recordPayment cases. */
export function paymentTests(backend: ConformanceBackend): void {
  describe('payments: recordPayment', () => {
    const ctx = useDatabase(backend);

    it('stores the payment and opens the batch of its hour', async () => {
      const lease = await seedLease(ctx.db);
      const payment = await pay(ctx.db, lease.leaseId, onDay('12:15:30.250'), '1000');
      expect(payment).toMatchObject({
        leaseId: lease.leaseId,
        mode: 'second',
        intervalSeconds: 1,
        amountMinorUnits: 1000n,
        payer: lease.lessee,
        paymentTimestamp: new Date(onDay('12:15:30.250')),
        bucketSlot: HOUR_12,
      });
      expect(payment.id).toMatch(UUID);
      expect(payment.createdAt).toBeInstanceOf(Date);
      // Without a facilitator hash the backend makes a unique reference in the hash format.
      expect(payment.facilitatorTxHash).toMatch(/^0x[0-9a-fA-F]{64}$/);
      expect(await ctx.db.getX402PaymentsByLease(lease.leaseId)).toEqual([payment]);
      const batches = await ctx.db.getX402BatchesByLease(lease.leaseId);
      expect(batches).toHaveLength(1);
      expect(batches[0]).toMatchObject({
        leaseId: lease.leaseId,
        hourBucket: HOUR_12,
        totalAmountMinorUnits: 1000n,
        paymentCount: 1,
        startedAt: new Date(HOUR_12),
        closedAt: new Date(HOUR_13),
      });
      expect(batches[0]?.settlementTxHash).toBeUndefined();
      expect(batches[0]?.id).toMatch(UUID);
      expect(await ctx.db.getOpenBatchForLease(lease.leaseId, HOUR_12)).toEqual(batches[0]);
    });

    it('derives intervalSeconds from the mode and stores an explicit payer and hash as given', async () => {
      const lease = await seedLease(ctx.db);
      const payer = '0xAbCdEf0123456789aBcDeF0123456789ABCDEF01';
      const payment = await pay(ctx.db, lease.leaseId, onDay('12:00:05.000'), '5000', {
        mode: 'batch-5s',
        payer,
        facilitatorTxHash: hash(0xfacade),
      });
      expect(payment).toMatchObject({ mode: 'batch-5s', intervalSeconds: 5, payer, facilitatorTxHash: hash(0xfacade) });
      const plain = await pay(ctx.db, lease.leaseId, onDay('12:00:06.000'));
      expect(plain.facilitatorTxHash).not.toBe(payment.facilitatorTxHash);
    });

    it('sums one hour in one batch and gives each hour its own batch, ordered by hour', async () => {
      const lease = await seedLease(ctx.db);
      await pay(ctx.db, lease.leaseId, onDay('14:10:00.000'), '7');
      await pay(ctx.db, lease.leaseId, onDay('12:10:00.000'), '100');
      await pay(ctx.db, lease.leaseId, onDay('12:20:00.000'), '250');
      await pay(ctx.db, lease.leaseId, onDay('13:00:00.000'), '1');
      const batches = await ctx.db.getX402BatchesByLease(lease.leaseId);
      expect(batches.map((b) => [b.hourBucket, b.totalAmountMinorUnits, b.paymentCount])).toEqual([
        [HOUR_12, 350n, 2],
        [HOUR_13, 1n, 1],
        ['2026-02-25T14:00:00.000Z', 7n, 1],
      ]);
    });

    it('puts a payment in the UTC hour of its timestamp (half-open hours, offsets converted)', async () => {
      const lease = await seedLease(ctx.db);
      const cases: [string, string][] = [
        [onDay('12:59:59.999'), HOUR_12],
        [onDay('13:00:00.000'), HOUR_13],
        ['2026-02-25T14:30:00+02:00', HOUR_12],
        ['2026-02-25T07:59:59.999-05:00', HOUR_12],
        [onDay('12:00:00.000'), HOUR_12],
      ];
      for (const [timestamp, bucket] of cases) {
        const payment = await pay(ctx.db, lease.leaseId, timestamp);
        expect(payment.bucketSlot, timestamp).toBe(bucket);
      }
      const totals = (await ctx.db.getX402BatchesByLease(lease.leaseId)).map((b) => [b.hourBucket, b.paymentCount]);
      expect(totals).toEqual([[HOUR_12, 4], [HOUR_13, 1]]);
    });

    it('keeps money exact: bigint in and out, sums beyond 2^53, the whole 0..10^20-1 range', async () => {
      const lease = await seedLease(ctx.db);
      const big = 2n ** 53n + 1n;
      const first = await pay(ctx.db, lease.leaseId, onDay('12:01:00.000'), big.toString());
      await pay(ctx.db, lease.leaseId, onDay('12:02:00.000'), big.toString());
      expect(first.amountMinorUnits).toBe(big);
      expect(typeof first.amountMinorUnits).toBe('bigint');
      expect((await ctx.db.getX402BatchesByLease(lease.leaseId))[0]?.totalAmountMinorUnits).toBe(2n * big);
      const max = await pay(ctx.db, lease.leaseId, onDay('15:00:00.000'), '99999999999999999999');
      const zero = await pay(ctx.db, lease.leaseId, onDay('16:00:00.000'), '0');
      expect(max.amountMinorUnits).toBe(10n ** 20n - 1n);
      expect(zero.amountMinorUnits).toBe(0n);
      const stored = await ctx.db.getX402PaymentsByLease(lease.leaseId);
      expect(stored.map((p) => p.amountMinorUnits)).toEqual([big, big, 10n ** 20n - 1n, 0n]);
    });

    it('refuses amounts that are not plain decimal digits within range', async () => {
      const lease = await seedLease(ctx.db);
      const bad = ['1e6', '-5', '1.5', ' 7', '7 ', '', '+5', '0x10', '1_000', '１２', '100000000000000000000', unchecked<string>(1000), unchecked<string>(1000n)];
      for (const amount of bad) {
        await expectRefused(ctx.db, () => pay(ctx.db, lease.leaseId, onDay('12:00:00.000'), amount), 'VALIDATION', 'amount', JSON.stringify(String(amount)));
      }
    });

    it('refuses timestamps that are not ISO-8601 instants with a zone', async () => {
      const lease = await seedLease(ctx.db);
      const bad = ['2026-02-25T12:00:00', 'not a date', '', '2026-02-30T12:00:00Z', '2026-02-25T25:00:00Z', '2026-02-25', unchecked<string>(1_772_020_800_000), unchecked<string>(new Date(onDay('12:00:00.000')))];
      for (const timestamp of bad) {
        await expectRefused(ctx.db, () => pay(ctx.db, lease.leaseId, timestamp), 'VALIDATION', 'timestamp', String(timestamp));
      }
    });

    it('refuses a bad mode, payer, hash, leaseId or unknown field, naming it', async () => {
      const lease = await seedLease(ctx.db);
      const base: RecordPaymentParams = { leaseId: lease.leaseId, amount: '1', timestamp: onDay('12:00:00.000'), mode: 'second' };
      const cases: [string, RecordPaymentParams][] = [
        ['mode', { ...base, mode: 'monthly' }],
        ['payer', { ...base, payer: '0x1234' }],
        ['facilitatorTxHash', { ...base, facilitatorTxHash: '0xabc' }],
        ['leaseId', { ...base, leaseId: '' }],
        ['currency', unchecked<RecordPaymentParams>({ ...base, currency: 'USDC' })],
      ];
      for (const [field, params] of cases) {
        await expectRefused(ctx.db, () => ctx.db.recordPayment(params), 'VALIDATION', field, field);
      }
    });

    it('refuses an unknown lease with REFERENCE_NOT_FOUND and writes nothing', async () => {
      await seedLease(ctx.db);
      await expectRefused(ctx.db, () => pay(ctx.db, 'NO-SUCH-LEASE', onDay('12:00:00.000')), 'REFERENCE_NOT_FOUND');
    });

    it('only pays an active lease: pending, completed and terminated are CONFLICT', async () => {
      for (const status of ['pending', 'completed', 'terminated'] as const) {
        const lease = await seedLease(ctx.db, { status });
        await expectRefused(ctx.db, () => pay(ctx.db, lease.leaseId, onDay('12:00:00.000')), 'CONFLICT', undefined, status);
      }
    });

    it('a replayed facilitatorTxHash returns the original payment and changes nothing', async () => {
      const lease = await seedLease(ctx.db);
      const facilitatorTxHash = hash(0xbeef);
      const original = await pay(ctx.db, lease.leaseId, onDay('12:30:00.000'), '500', { facilitatorTxHash });
      const before = await dumpStore(ctx.db);
      const replay = await pay(ctx.db, lease.leaseId, onDay('12:30:00.000'), '500', { facilitatorTxHash });
      expect(replay).toEqual(original);
      expect(await dumpStore(ctx.db)).toEqual(before);
    });

    it('the same facilitatorTxHash with another amount or lease is CONFLICT', async () => {
      const lease = await seedLease(ctx.db);
      const other = await seedLease(ctx.db);
      const facilitatorTxHash = hash(0xbeef);
      await pay(ctx.db, lease.leaseId, onDay('12:30:00.000'), '500', { facilitatorTxHash });
      await expectRefused(ctx.db, () => pay(ctx.db, lease.leaseId, onDay('12:30:00.000'), '501', { facilitatorTxHash }), 'CONFLICT', undefined, 'amount');
      await expectRefused(ctx.db, () => pay(ctx.db, other.leaseId, onDay('12:30:00.000'), '500', { facilitatorTxHash }), 'CONFLICT', undefined, 'lease');
    });

    it('a payment into a settled hour is CONFLICT and writes nothing', async () => {
      const lease = await seedLease(ctx.db);
      await pay(ctx.db, lease.leaseId, onDay('12:10:00.000'));
      const [batch] = await ctx.db.getX402BatchesByLease(lease.leaseId);
      await ctx.db.updateX402Batch(batch?.id ?? '', { settlementTxHash: hash(0x5e771e) });
      await expectRefused(ctx.db, () => pay(ctx.db, lease.leaseId, onDay('12:50:00.000')), 'CONFLICT');
      // The next hour is still open.
      expect((await pay(ctx.db, lease.leaseId, onDay('13:00:00.000'))).bucketSlot).toBe(HOUR_13);
    });

    it('counts every one of many concurrent payments into one hour', async () => {
      const lease = await seedLease(ctx.db);
      const amounts = Array.from({ length: 20 }, (_, i) => BigInt(i + 1) * 1_000_003n);
      await Promise.all(amounts.map((a, i) => pay(ctx.db, lease.leaseId, onDay(`12:00:${String(i).padStart(2, '0')}.000`), a.toString())));
      const batches = await ctx.db.getX402BatchesByLease(lease.leaseId);
      expect(batches).toHaveLength(1);
      expect(batches[0]?.paymentCount).toBe(20);
      expect(batches[0]?.totalAmountMinorUnits).toBe(amounts.reduce((s, a) => s + a, 0n));
      expect((await ctx.db.reconcile()).differences).toEqual([]);
    });

    it('recordPaymentWithOutcome says which call recorded the payment and which replayed it', async () => {
      const lease = await seedLease(ctx.db);
      const params = { leaseId: lease.leaseId, amount: '500', timestamp: onDay('12:30:00.000'), mode: 'second', facilitatorTxHash: hash(0xfeed) };
      const first = await ctx.db.recordPaymentWithOutcome(params);
      expect(first.replayed).toBe(false);
      const again = await ctx.db.recordPaymentWithOutcome(params);
      expect(again).toEqual({ payment: first.payment, replayed: true });
      // recordPayment and recordPaymentWithOutcome share one ledger: a replay through either is seen.
      expect(await ctx.db.recordPayment(params)).toEqual(first.payment);
    });

    it('records concurrent replays of one facilitatorTxHash once, and exactly one call says it recorded it', async () => {
      const lease = await seedLease(ctx.db);
      const facilitatorTxHash = hash(0xd00d);
      const params = { leaseId: lease.leaseId, amount: '42', timestamp: onDay('12:00:00.000'), mode: 'second', facilitatorTxHash };
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => ctx.db.recordPaymentWithOutcome(params)));
      const results = outcomes.map((o) => o.payment);
      expect(outcomes.filter((o) => !o.replayed)).toHaveLength(1);
      expect(new Set(results.map((p) => p.id)).size).toBe(1);
      const batches = await ctx.db.getX402BatchesByLease(lease.leaseId);
      expect(batches.map((b) => [b.totalAmountMinorUnits, b.paymentCount])).toEqual([[42n, 1]]);
    });

    it('refuses a payment that would push its batch total past 10^20-1, writing nothing', async () => {
      const lease = await seedLease(ctx.db);
      const sixE19 = (6n * 10n ** 19n).toString();
      await pay(ctx.db, lease.leaseId, onDay('12:00:00.000'), sixE19);
      const before = await dumpStore(ctx.db);
      await expectStorageError(pay(ctx.db, lease.leaseId, onDay('12:00:01.000'), sixE19), 'CONFLICT');
      expect(await dumpStore(ctx.db)).toEqual(before);
    });
  });
}
