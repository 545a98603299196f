/** Conformance cases for the ledger queries: hour totals, revenue, keyset pages, reconcile. */
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/storage/contract/database.js';
import type { Page, PageOptions } from '../../src/storage/contract/ledger-queries.js';
import {
  type ConformanceBackend,
  expectStorageError,
  idsOf,
  newAsset,
  newLease,
  onDay,
  pay,
  seedLease,
  useDatabase,
} from './fixtures.js';

const MAX_PAGES = 100;

/** Follows `nextCursor` from the first page to the last; asserts page sizes and the final null. */
async function allPages<T>(fetch: (page: PageOptions) => Promise<Page<T>>, limit: number): Promise<T[]> {
  const items: T[] = [];
  let after: string | undefined;
  for (let n = 0; n < MAX_PAGES; n++) {
    const page = await fetch(after === undefined ? { limit } : { limit, after });
    items.push(...page.items);
    if (page.nextCursor === null) {
      expect(page.items.length, `last page at limit ${limit}`).toBeLessThanOrEqual(limit);
      return items;
    }
    // A page that promises more must be full; an empty page with a cursor would never end.
    expect(page.items.length, `page ${n} at limit ${limit}`).toBe(limit);
    after = page.nextCursor;
  }
  return expect.fail(`more than ${MAX_PAGES} pages at limit ${limit}`);
}

/** Cursors that no previous page made: garbage text and well-formed encodings of the wrong shape. */
const BAD_CURSORS = [
  'garbage',
  '!!!',
  '',
  ...[['x'], ['x', 'y'], ['x', 'y', 'z'], [], [1, 2], { a: 1 }, null].map((key) => Buffer.from(JSON.stringify(key)).toString('base64url')),
];

/** Asserts each bad cursor and bad limit of a paginated read is VALIDATION. */
async function expectPagingValidated(read: (page: PageOptions) => Promise<unknown>): Promise<void> {
  for (const after of BAD_CURSORS) await expectStorageError(() => read({ after }), 'VALIDATION', 'after', `cursor ${JSON.stringify(after)}`);
  for (const limit of [0, 1001, 1.5, -1]) await expectStorageError(() => read({ limit }), 'VALIDATION', 'limit', `limit ${limit}`);
  await read({ limit: 1000 });
}

/** Registers the ledger query cases. */
export function ledgerQueryTests(backend: ConformanceBackend): void {
  describe('ledger queries', () => {
    const ctx = useDatabase(backend);

    it('getHourTotals sums one lease in the hour containing `at`', async () => {
      const lease = await seedLease(ctx.db);
      const other = await seedLease(ctx.db);
      for (const [t, amount] of [['12:00:00.000', '10'], ['12:30:00.000', '20'], ['12:59:59.999', '30'], ['13:00:00.000', '40']] as const) {
        await pay(ctx.db, lease.leaseId, onDay(t), amount);
      }
      await pay(ctx.db, other.leaseId, onDay('12:10:00.000'), '1000');
      const at = (t: string): Date => new Date(onDay(t));
      expect(await ctx.db.getHourTotals(lease.leaseId, at('12:45:00.000'))).toEqual({ leaseId: lease.leaseId, bucket: '2026-02-25T12:00:00.000Z', totalAmountMinorUnits: 60n, paymentCount: 3 });
      expect(await ctx.db.getHourTotals(lease.leaseId, at('13:00:00.000'))).toEqual({ leaseId: lease.leaseId, bucket: '2026-02-25T13:00:00.000Z', totalAmountMinorUnits: 40n, paymentCount: 1 });
      expect(await ctx.db.getHourTotals(lease.leaseId, at('14:00:00.000'))).toEqual({ leaseId: lease.leaseId, bucket: '2026-02-25T14:00:00.000Z', totalAmountMinorUnits: 0n, paymentCount: 0 });
    });

    it('getDailyRevenue gives UTC days of [from, to), newest first, every day once across pages', async () => {
      const lease = await seedLease(ctx.db);
      const other = await seedLease(ctx.db);
      const payments: [string, string][] = [
        ['2026-02-22T23:59:59.999Z', '10'],
        ['2026-02-23T00:00:00.000Z', '20'],
        ['2026-02-23T13:10:00.000Z', '30'],
        ['2026-02-24T05:00:00.000Z', '40'],
        ['2026-02-25T00:30:00+02:00', '50'], // 2026-02-24T22:30Z: the UTC day, not the local one
        ['2026-02-25T11:59:59.999Z', '60'],
        ['2026-02-25T12:00:00.000Z', '70'], // at `to`: outside the half-open range
      ];
      for (const [timestamp, amount] of payments) await pay(ctx.db, lease.leaseId, timestamp, amount);
      await pay(ctx.db, other.leaseId, '2026-02-24T06:00:00.000Z', '1000');
      const range = { from: new Date('2026-02-23T00:00:00.000Z'), to: new Date('2026-02-25T12:00:00.000Z') };
      const expected = [
        { leaseId: lease.leaseId, day: '2026-02-25', totalAmountMinorUnits: 60n, paymentCount: 1 },
        { leaseId: lease.leaseId, day: '2026-02-24', totalAmountMinorUnits: 90n, paymentCount: 2 },
        { leaseId: lease.leaseId, day: '2026-02-23', totalAmountMinorUnits: 50n, paymentCount: 2 },
      ];
      expect((await ctx.db.getDailyRevenue(lease.leaseId, range)).items).toEqual(expected);
      for (const limit of [1, 2, 3, 4]) {
        expect(await allPages((p) => ctx.db.getDailyRevenue(lease.leaseId, range, p), limit), `limit ${limit}`).toEqual(expected);
      }
      await expectPagingValidated((p) => ctx.db.getDailyRevenue(lease.leaseId, range, p));
    });

    it('getAssetRevenue sums the asset\'s leases over [from, to), split per lease by leaseId', async () => {
      const asset = await ctx.db.saveAsset(newAsset());
      // Created in reverse name order, so "by leaseId" and "by creation" differ.
      const z = await ctx.db.saveLease(newLease(asset.assetId, { leaseId: 'REV-Z' }));
      const a = await ctx.db.saveLease(newLease(asset.assetId, { leaseId: 'REV-A' }));
      const idle = await ctx.db.saveLease(newLease(asset.assetId, { leaseId: 'REV-M' }));
      const elsewhere = await seedLease(ctx.db);
      const big = 2n ** 60n;
      await pay(ctx.db, z.leaseId, '2026-02-23T23:59:59.999Z', '1');
      await pay(ctx.db, z.leaseId, '2026-02-24T00:00:00.000Z', '100');
      await pay(ctx.db, z.leaseId, '2026-02-24T12:00:00.000Z', big.toString());
      await pay(ctx.db, z.leaseId, '2026-02-25T00:00:00.000Z', '1');
      await pay(ctx.db, a.leaseId, '2026-02-24T18:00:00.000Z', '5');
      await pay(ctx.db, idle.leaseId, '2026-02-25T01:00:00.000Z', '1');
      await pay(ctx.db, elsewhere.leaseId, '2026-02-24T10:00:00.000Z', '999');
      const range = { from: new Date('2026-02-24T00:00:00.000Z'), to: new Date('2026-02-25T00:00:00.000Z') };
      expect(await ctx.db.getAssetRevenue(asset.assetId, range)).toEqual({
        assetId: asset.assetId,
        from: range.from,
        to: range.to,
        totalAmountMinorUnits: 105n + big,
        paymentCount: 3,
        leases: [
          { leaseId: 'REV-A', totalAmountMinorUnits: 5n, paymentCount: 1 },
          { leaseId: 'REV-Z', totalAmountMinorUnits: 100n + big, paymentCount: 2 },
        ],
      });
      await expectStorageError(() => ctx.db.getAssetRevenue(asset.assetId, { from: new Date('x'), to: range.to }), 'VALIDATION');
    });

    it('getPaymentsPage pages concatenate to the full (paymentTimestamp, id) order at every page size', async () => {
      const lease = await seedLease(ctx.db);
      const other = await seedLease(ctx.db);
      // Three payments share one instant, so pages must break ties by id without skipping any.
      for (const t of ['12:00:00.000', '12:00:00.000', '12:05:00.000', '12:00:00.000', '13:00:00.000', '11:00:00.000']) {
        await pay(ctx.db, lease.leaseId, onDay(t));
        await pay(ctx.db, other.leaseId, onDay(t));
      }
      const full = await ctx.db.getX402PaymentsByLease(lease.leaseId);
      expect(full).toHaveLength(6);
      for (let limit = 1; limit <= 7; limit++) {
        expect(idsOf(await allPages((p) => ctx.db.getPaymentsPage(lease.leaseId, p), limit)), `limit ${limit}`).toEqual(idsOf(full));
      }
      expect((await ctx.db.getPaymentsPage(lease.leaseId)).items).toEqual(full);
      await expectPagingValidated((p) => ctx.db.getPaymentsPage(lease.leaseId, p));
    });

    it('getBatchesPage pages concatenate to the full hourBucket order at every page size', async () => {
      const lease = await seedLease(ctx.db);
      for (const hour of ['16', '10', '12', '11', '15']) await pay(ctx.db, lease.leaseId, onDay(`${hour}:10:00.000`));
      const full = await ctx.db.getX402BatchesByLease(lease.leaseId);
      expect(full).toHaveLength(5);
      for (let limit = 1; limit <= 6; limit++) {
        expect(await allPages((p) => ctx.db.getBatchesPage(lease.leaseId, p), limit), `limit ${limit}`).toEqual(full);
      }
      await expectPagingValidated((p) => ctx.db.getBatchesPage(lease.leaseId, p));
    });

    it('reconcile is clean after normal operation and counts what it checked', async () => {
      const db: Database = ctx.db;
      expect(await db.reconcile()).toEqual({ batchesChecked: 0, paymentsChecked: 0, differences: [], latePayments: [] });
      const a = await seedLease(db);
      const b = await seedLease(db);
      await db.saveX402Batch({ leaseId: b.leaseId, hourBucket: '2026-02-25T09:00:00Z' });
      for (const t of ['12:00:00.000', '12:30:00.000', '13:00:00.000']) await pay(db, a.leaseId, onDay(t), '123456789012345678');
      await pay(db, b.leaseId, onDay('12:00:00.000'), '1', { mode: 'batch-5s' });
      const settle = await db.getOpenBatchForLease(a.leaseId, '2026-02-25T12:00:00Z');
      await db.updateX402Batch(settle?.id ?? '', { settlementTxHash: '0x' + 'ab'.repeat(32) });
      expect(await db.reconcile()).toEqual({ batchesChecked: 4, paymentsChecked: 4, differences: [], latePayments: [] });
    });
  });
}
