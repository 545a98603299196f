/** Conformance cases for hourly batches: creation, hour buckets, open batches and settlement. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BatchUpdate, Database, NewX402Batch } from '../../src/storage/contract/database.js';
import {
  type ConformanceBackend,
  expectRefused,
  expectStorageError,
  hash,
  hourFromNow,
  onDay,
  pay,
  seedLease,
  unchecked,
  useDatabase,
  UUID,
} from './fixtures.js';
import { malformedSampleHex } from './sample-data.js';

const HOUR_12 = '2026-02-25T12:00:00.000Z';
const HOUR_13 = '2026-02-25T13:00:00.000Z';

/** Registers the batch cases. */
export function batchTests(backend: ConformanceBackend): void {
  describe('batches', () => {
    const ctx = useDatabase(backend);

    it('saveX402Batch creates an empty batch bounded by its hour', async () => {
      const lease = await seedLease(ctx.db);
      const batch = await ctx.db.saveX402Batch({ leaseId: lease.leaseId, hourBucket: HOUR_12 });
      expect(batch).toMatchObject({
        leaseId: lease.leaseId,
        hourBucket: HOUR_12,
        totalAmountMinorUnits: 0n,
        paymentCount: 0,
        startedAt: new Date(HOUR_12),
        closedAt: new Date(HOUR_13),
      });
      expect(batch.id).toMatch(UUID);
      expect(batch.createdAt).toBeInstanceOf(Date);
      expect(batch.settlementTxHash).toBeUndefined();
      expect(await ctx.db.getX402BatchesByLease(lease.leaseId)).toEqual([batch]);
    });

    it('normalizes hour buckets given in any zone, so the same hour is a DUPLICATE', async () => {
      const lease = await seedLease(ctx.db);
      const [first, ...sameHour] = ['2026-02-25T14:00:00+02:00', '2026-02-25T12:00:00Z', HOUR_12, '2026-02-25T12:00Z', '2026-02-25T07:00:00.000-05:00'];
      const batch = await ctx.db.saveX402Batch({ leaseId: lease.leaseId, hourBucket: first ?? '' });
      expect(batch.hourBucket).toBe(HOUR_12);
      for (const hourBucket of sameHour) {
        await expectRefused(ctx.db, () => ctx.db.saveX402Batch({ leaseId: lease.leaseId, hourBucket }), 'DUPLICATE', undefined, hourBucket);
        expect(await ctx.db.getOpenBatchForLease(lease.leaseId, hourBucket), hourBucket).toEqual(batch);
      }
    });

    it('refuses hour buckets that are not an exact top of hour with a zone', async () => {
      const lease = await seedLease(ctx.db);
      for (const hourBucket of ['2026-02-25T12:30:00Z', '2026-02-25T12:00:00', '2026-02-25T12:00:00.001Z', 'not a date', '', '2026-02-25T12:00:30Z', '2026-02-25']) {
        await expectRefused(ctx.db, () => ctx.db.saveX402Batch({ leaseId: lease.leaseId, hourBucket }), 'VALIDATION', 'hourBucket', hourBucket);
      }
    });

    it('takes zero totals and the hour bounds, and refuses anything else for them', async () => {
      const lease = await seedLease(ctx.db);
      const exact = await ctx.db.saveX402Batch({
        leaseId: lease.leaseId,
        hourBucket: HOUR_12,
        totalAmountMinorUnits: 0n,
        paymentCount: 0,
        startedAt: new Date(HOUR_12),
        closedAt: new Date(HOUR_13),
      });
      expect(exact).toMatchObject({ totalAmountMinorUnits: 0n, paymentCount: 0 });
      const base: NewX402Batch = { leaseId: lease.leaseId, hourBucket: HOUR_13 };
      const cases: [string, NewX402Batch][] = [
        ['totalAmountMinorUnits', { ...base, totalAmountMinorUnits: 5n }],
        ['paymentCount', { ...base, paymentCount: 1 }],
        ['startedAt', { ...base, startedAt: new Date(HOUR_12) }],
        ['closedAt', { ...base, closedAt: new Date('2026-02-25T13:59:59.999Z') }],
        ['settlementTxHash', { ...base, settlementTxHash: '0x1' }],
        ['status', unchecked<NewX402Batch>({ ...base, status: 'open' })],
      ];
      for (const [field, input] of cases) {
        await expectRefused(ctx.db, () => ctx.db.saveX402Batch(input), 'VALIDATION', field, field);
      }
    });

    it('saveX402Batch for an unknown lease is REFERENCE_NOT_FOUND', async () => {
      await seedLease(ctx.db);
      await expectRefused(ctx.db, () => ctx.db.saveX402Batch({ leaseId: 'NO-SUCH-LEASE', hourBucket: HOUR_12 }), 'REFERENCE_NOT_FOUND');
    });

    it('a payment into an hour with an empty batch fills that batch', async () => {
      const lease = await seedLease(ctx.db);
      const empty = await ctx.db.saveX402Batch({ leaseId: lease.leaseId, hourBucket: HOUR_12 });
      await pay(ctx.db, lease.leaseId, onDay('12:20:00.000'), '300');
      const batches = await ctx.db.getX402BatchesByLease(lease.leaseId);
      expect(batches).toEqual([{ ...empty, totalAmountMinorUnits: 300n, paymentCount: 1 }]);
    });

    it('getX402BatchesByLease is one lease ordered by hourBucket', async () => {
      const lease = await seedLease(ctx.db);
      const other = await seedLease(ctx.db);
      for (const hour of ['15', '09', '12', '23', '00']) {
        await ctx.db.saveX402Batch({ leaseId: lease.leaseId, hourBucket: onDay(`${hour}:00:00.000`) });
        await ctx.db.saveX402Batch({ leaseId: other.leaseId, hourBucket: onDay(`${hour}:00:00.000`) });
      }
      await ctx.db.saveX402Batch({ leaseId: lease.leaseId, hourBucket: onDay('23:00:00.000', '2026-02-24') });
      const hours = (await ctx.db.getX402BatchesByLease(lease.leaseId)).map((b) => b.hourBucket);
      expect(hours).toEqual(['2026-02-24T23', '2026-02-25T00', '2026-02-25T09', '2026-02-25T12', '2026-02-25T15', '2026-02-25T23'].map((h) => `${h}:00:00.000Z`));
    });

    it('getOpenBatchForLease returns the batch only while it is unsettled', async () => {
      const lease = await seedLease(ctx.db);
      expect(await ctx.db.getOpenBatchForLease(lease.leaseId, HOUR_12)).toBeNull();
      await pay(ctx.db, lease.leaseId, onDay('12:10:00.000'));
      const open = await ctx.db.getOpenBatchForLease(lease.leaseId, '2026-02-25T12:00:00Z');
      expect(open).toMatchObject({ hourBucket: HOUR_12, paymentCount: 1 });
      expect(await ctx.db.getOpenBatchForLease(lease.leaseId, HOUR_13)).toBeNull();
      await ctx.db.updateX402Batch(open?.id ?? '', { settlementTxHash: hash(0x5e771e) });
      expect(await ctx.db.getOpenBatchForLease(lease.leaseId, HOUR_12)).toBeNull();
      await expectStorageError(() => ctx.db.getOpenBatchForLease(lease.leaseId, '2026-02-25T12:30:00Z'), 'VALIDATION');
    });

    it('getLeaseWithBatch reads what getLease and getX402Batch read, open, settled or without a batch', async () => {
      const lease = await seedLease(ctx.db);
      const other = await seedLease(ctx.db);
      expect(await ctx.db.getLeaseWithBatch('no-such-lease', HOUR_12)).toBeNull();
      expect(await ctx.db.getLeaseWithBatch(lease.leaseId, HOUR_12)).toEqual({ lease, batch: null });
      await pay(ctx.db, lease.leaseId, onDay('12:10:00.000'), '700');
      await pay(ctx.db, other.leaseId, onDay('13:10:00.000'), '5');
      const open = await ctx.db.getX402Batch(lease.leaseId, HOUR_12);
      expect(open).toMatchObject({ totalAmountMinorUnits: 700n, paymentCount: 1 });
      // The hour given in another zone is the same hour; another hour or lease has no batch here.
      expect(await ctx.db.getLeaseWithBatch(lease.leaseId, '2026-02-25T14:00:00+02:00')).toEqual({ lease: await ctx.db.getLease(lease.leaseId), batch: open });
      expect(await ctx.db.getLeaseWithBatch(lease.leaseId, HOUR_13)).toEqual({ lease, batch: null });
      expect((await ctx.db.getLeaseWithBatch(other.leaseId, HOUR_12))?.batch).toBeNull();
      const settled = await ctx.db.updateX402Batch(open?.id ?? '', { settlementTxHash: hash(0x5e7), revenueRoundId: 'round-1' });
      expect(await ctx.db.getLeaseWithBatch(lease.leaseId, HOUR_12)).toEqual({ lease, batch: settled });
      await expectStorageError(() => ctx.db.getLeaseWithBatch(lease.leaseId, '2026-02-25T12:30:00Z'), 'VALIDATION');
      await expectStorageError(() => ctx.db.getLeaseWithBatch('', HOUR_12), 'VALIDATION');
    });

    it('getLeaseWithBatch called many times at once answers each call as it would alone', async () => {
      const [a, b] = [await seedLease(ctx.db), await seedLease(ctx.db)];
      await pay(ctx.db, a.leaseId, onDay('12:10:00.000'), '700');
      await pay(ctx.db, b.leaseId, onDay('13:20:00.000'), '9');
      const asked: [string, string][] = [
        [a.leaseId, HOUR_12],
        [b.leaseId, HOUR_12],
        ['no-such-lease', HOUR_12],
        [b.leaseId, HOUR_13],
        [a.leaseId, HOUR_13],
        [a.leaseId, HOUR_12],
        [b.leaseId, '2026-02-25T15:00:00+02:00'],
      ];
      const alone = [];
      for (const [leaseId, hour] of asked) alone.push(await ctx.db.getLeaseWithBatch(leaseId, hour));
      expect(alone.map((r) => r?.batch?.totalAmountMinorUnits ?? (r === null ? 'none' : 'no batch'))).toEqual([700n, 'no batch', 'none', 9n, 'no batch', 700n, 9n]);
      // At once (several times over, so a backend that gathers concurrent reads gathers them),
      // with a refused one among them: each answer is its own, in its own order.
      const together = await Promise.all(
        [...asked, ...asked, ...asked].map(([leaseId, hour]) => ctx.db.getLeaseWithBatch(leaseId, hour).then((r) => r, (error: unknown) => error)),
      );
      expect(together).toEqual([...alone, ...alone, ...alone]);
      const refused = await Promise.allSettled([ctx.db.getLeaseWithBatch(a.leaseId, HOUR_12), ctx.db.getLeaseWithBatch(a.leaseId, '2026-02-25T12:30:00Z')]);
      expect(refused[0]).toEqual({ status: 'fulfilled', value: alone[0] });
      expect(refused[1]).toMatchObject({ status: 'rejected', reason: { code: 'VALIDATION' } });
    });

    it('updateX402Batch settles once: the same hash again is a no-op, another is CONFLICT', async () => {
      const lease = await seedLease(ctx.db);
      await pay(ctx.db, lease.leaseId, onDay('12:10:00.000'), '900');
      const open = await ctx.db.getOpenBatchForLease(lease.leaseId, HOUR_12);
      const id = open?.id ?? '';
      const settled = await ctx.db.updateX402Batch(id, { settlementTxHash: hash(0xaaa) });
      expect(settled).toEqual({ ...open, settlementTxHash: hash(0xaaa) });
      expect(await ctx.db.getX402BatchesByLease(lease.leaseId)).toEqual([settled]);
      expect(await ctx.db.updateX402Batch(id, { settlementTxHash: hash(0xaaa) })).toEqual(settled);
      await expectRefused(ctx.db, () => ctx.db.updateX402Batch(id, { settlementTxHash: hash(0xbbb) }), 'CONFLICT');
      const withRound = await ctx.db.updateX402Batch(id, { revenueRoundId: 'round-2026-q1' });
      expect(withRound).toEqual({ ...settled, revenueRoundId: 'round-2026-q1' });
    });

    it('updateX402Batch refuses every field but the settlement ones, naming it', async () => {
      const lease = await seedLease(ctx.db);
      const batch = await ctx.db.saveX402Batch({ leaseId: lease.leaseId, hourBucket: HOUR_12 });
      const forbidden: Record<string, unknown> = {
        totalAmountMinorUnits: 10n,
        paymentCount: 3,
        hourBucket: HOUR_13,
        leaseId: lease.leaseId,
        startedAt: new Date(HOUR_12),
        closedAt: new Date(HOUR_13),
        id: randomUUID(),
        createdAt: new Date(),
        note: 'x',
      };
      for (const [key, value] of Object.entries(forbidden)) {
        const updates = unchecked<BatchUpdate>({ revenueRoundId: 'r', [key]: value });
        await expectRefused(ctx.db, () => ctx.db.updateX402Batch(batch.id, updates), 'VALIDATION', key, key);
      }
      await expectRefused(ctx.db, () => ctx.db.updateX402Batch(batch.id, {}), 'VALIDATION');
      await expectRefused(ctx.db, () => ctx.db.updateX402Batch(batch.id, { revenueRoundId: '' }), 'VALIDATION', 'revenueRoundId');
    });

    it('updateX402Batch refuses the malformed sample hashes as settlementTxHash', async () => {
      const lease = await seedLease(ctx.db);
      const batch = await ctx.db.saveX402Batch({ leaseId: lease.leaseId, hourBucket: HOUR_12 });
      for (const { where, value } of malformedSampleHex()) {
        await expectRefused(ctx.db, () => ctx.db.updateX402Batch(batch.id, { settlementTxHash: value }), 'VALIDATION', 'settlementTxHash', where);
      }
    });

    it('updateX402Batch of an unknown id gives null; a non-UUID id is VALIDATION', async () => {
      const lease = await seedLease(ctx.db);
      await ctx.db.saveX402Batch({ leaseId: lease.leaseId, hourBucket: HOUR_12 });
      await expect(ctx.db.updateX402Batch(randomUUID(), { settlementTxHash: hash(1) })).resolves.toBeNull();
      await expectRefused(ctx.db, () => ctx.db.updateX402Batch('batch-1', { settlementTxHash: hash(1) }), 'VALIDATION');
    });

    it('settling an hour that has not ended is CONFLICT', async () => {
      const lease = await seedLease(ctx.db);
      // The current hour is skipped only in its last seconds, where it could end mid-test.
      const current = Date.parse(hourFromNow(1)) - Date.now() > 5_000 ? [hourFromNow(0)] : [];
      for (const hourBucket of [...current, hourFromNow(1)]) {
        const batch = await ctx.db.saveX402Batch({ leaseId: lease.leaseId, hourBucket });
        await expectRefused(ctx.db, () => ctx.db.updateX402Batch(batch.id, { settlementTxHash: hash(0xc0ffee) }), 'CONFLICT', undefined, hourBucket);
        expect(await ctx.db.getOpenBatchForLease(lease.leaseId, hourBucket)).toEqual(batch);
      }
    });

    it('a batch takes payments for a grace after its hour and is settled only after it', async () => {
      const end = Date.parse(HOUR_12) + 3_600_000;
      let now = end;
      // A store whose clock the test moves (a fresh store: memory keeps one per instance).
      const clocked = async (settlementGraceMs?: number) => {
        const db = await ctx.fresh({ clock: () => new Date(now), ...(settlementGraceMs === undefined ? {} : { settlementGraceMs }) });
        await db.connect();
        await db.clear();
        const lease = await seedLease(db);
        return { db, lease, batch: await db.saveX402Batch({ leaseId: lease.leaseId, hourBucket: HOUR_12 }) };
      };
      const settle = (db: Database, id: string) => db.updateX402Batch(id, { settlementTxHash: hash(0xc0ffee) });

      // Default grace: 5 minutes after the hour.
      const { db, lease, batch } = await clocked();
      now = end + 5 * 60_000 - 1;
      await expectRefused(db, () => settle(db, batch.id), 'CONFLICT');
      // A payment priced in the hour's last millisecond still lands in its open batch.
      await pay(db, lease.leaseId, onDay('12:59:59.999'));
      expect((await db.getX402Batch(lease.leaseId, HOUR_12))?.paymentCount).toBe(1);
      now = end + 5 * 60_000;
      const settled = await settle(db, batch.id);
      expect(settled?.settlementTxHash).toBe(hash(0xc0ffee));
      expect(await db.getX402Batch(lease.leaseId, HOUR_12)).toEqual(settled);
      expect(await db.getOpenBatchForLease(lease.leaseId, HOUR_12)).toBeNull();
      expect(await db.getX402Batch(lease.leaseId, onDay('13:00:00.000'))).toBeNull();

      // A configured grace.
      const short = await clocked(1_000);
      now = end + 999;
      await expectRefused(short.db, () => settle(short.db, short.batch.id), 'CONFLICT');
      now = end + 1_000;
      expect((await settle(short.db, short.batch.id))?.settlementTxHash).toBe(hash(0xc0ffee));
      await expect(ctx.fresh({ settlementGraceMs: -1 })).rejects.toMatchObject({ code: 'VALIDATION', field: 'settlementGraceMs' });
    });
  });
}
