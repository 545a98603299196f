/**
 * Conformance cases for keyset pages of assets and leases, conditional status changes, the event
 * backlog count, payment lookup by settlement hash and pool statistics.
 */
import { describe, expect, it } from 'vitest';
import type { Database, LeaseFilter, StoredLease } from '../../src/storage/contract/database.js';
import type { Page, PageOptions } from '../../src/storage/contract/ledger-queries.js';
import {
  type ConformanceBackend,
  address,
  expectRefused,
  expectStorageError,
  hash,
  newAsset,
  newEvent,
  newLease,
  oldestFirst,
  onDay,
  pay,
  seedLease,
  unchecked,
  useDatabase,
} from './fixtures.js';

/** Follows cursors from the first page to the last and returns every item in order. */
async function allPages<T>(read: (page: PageOptions) => Promise<Page<T>>, limit: number): Promise<T[]> {
  const items: T[] = [];
  let after: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const page = await read(after === undefined ? { limit } : { limit, after });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    if (page.nextCursor === null) return items;
    after = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

async function seedLeases(db: Database): Promise<StoredLease[]> {
  const assets = [await db.saveAsset(newAsset()), await db.saveAsset(newAsset())];
  const lessor = address(0x777);
  const leases: StoredLease[] = [];
  for (let i = 0; i < 9; i++) {
    const status = (['pending', 'active', 'completed'] as const)[i % 3] ?? 'pending';
    // Every third lease shares a lessor, written in mixed case to prove the match ignores case.
    const overrides = i % 3 === 0 ? { lessor: i % 2 === 0 ? lessor : lessor.toUpperCase().replace('0X', '0x') } : {};
    leases.push(await db.saveLease(newLease(assets[i % 2]!.assetId, { status, ...overrides })));
  }
  return leases;
}

/** Registers the page and lookup cases. */
export function pageTests(backend: ConformanceBackend): void {
  describe('pages and lookups', () => {
    const ctx = useDatabase(backend);

    it('getAssetsPage pages through every asset in (createdAt, id) order', async () => {
      for (let i = 0; i < 7; i++) await ctx.db.saveAsset(newAsset());
      const all = await allPages((page) => ctx.db.getAssetsPage(page), 3);
      expect(all).toEqual(oldestFirst(await ctx.db.getAllAssets()));
      expect(all).toHaveLength(7);
      expect(await ctx.db.getAssetsPage()).toEqual({ items: all, nextCursor: null });
    });

    it('getLeasesPage filters by status, asset, lessor and lessee together, page by page', async () => {
      const leases = await seedLeases(ctx.db);
      const filters: LeaseFilter[] = [
        {},
        { status: 'active' },
        { assetId: leases[0]!.assetId },
        { lessor: address(0x777) },
        { lessor: address(0x777).toUpperCase().replace('0X', '0x'), status: 'pending' },
        { lessee: leases[4]!.lessee.toUpperCase().replace('0X', '0x') },
        { assetId: leases[1]!.assetId, status: 'completed' },
      ];
      for (const filter of filters) {
        const expected = oldestFirst(
          leases.filter(
            (l) =>
              (filter.status === undefined || l.status === filter.status) &&
              (filter.assetId === undefined || l.assetId === filter.assetId) &&
              (filter.lessor === undefined || l.lessor.toLowerCase() === filter.lessor.toLowerCase()) &&
              (filter.lessee === undefined || l.lessee.toLowerCase() === filter.lessee.toLowerCase()),
          ),
        );
        expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(0);
        expect(await allPages((page) => ctx.db.getLeasesPage(filter, page), 2), JSON.stringify(filter)).toEqual(expected);
      }
    });

    it('page reads refuse bad filters, limits and cursors', async () => {
      await expectStorageError(ctx.db.getLeasesPage(unchecked({ status: 'open' })), 'VALIDATION', 'status');
      await expectStorageError(ctx.db.getLeasesPage(unchecked({ owner: address(1) })), 'VALIDATION', 'owner');
      await expectStorageError(ctx.db.getLeasesPage({ lessor: '0x1234' }), 'VALIDATION', 'lessor');
      await expectStorageError(ctx.db.getAssetsPage({ limit: 0 }), 'VALIDATION', 'limit');
      await expectStorageError(ctx.db.getAssetsPage({ limit: 1001 }), 'VALIDATION', 'limit');
      await expectStorageError(ctx.db.getAssetsPage({ after: 'garbage' }), 'VALIDATION', 'after');
      const forged = Buffer.from(JSON.stringify([onDay('12:00:00.000'), 'not-a-uuid'])).toString('base64url');
      await expectStorageError(ctx.db.getLeasesPage({}, { after: forged }), 'VALIDATION', 'after');
    });

    it('transitionLeaseStatus changes the status only from the expected one', async () => {
      const lease = await seedLease(ctx.db, { status: 'pending' });
      const active = await ctx.db.transitionLeaseStatus(lease.leaseId, 'pending', 'active');
      expect(active?.status).toBe('active');
      expect(active!.updatedAt.getTime()).toBeGreaterThan(lease.updatedAt.getTime());
      expect((await ctx.db.getLeasesByStatus('active')).map((l) => l.leaseId)).toEqual([lease.leaseId]);
      // A second writer that still believes the lease is pending loses, and nothing changes.
      await expectRefused(ctx.db, () => ctx.db.transitionLeaseStatus(lease.leaseId, 'pending', 'terminated'), 'CONFLICT');
      expect(await ctx.db.transitionLeaseStatus('NO-SUCH-LEASE', 'pending', 'active')).toBeNull();
      await expectRefused(ctx.db, () => ctx.db.transitionLeaseStatus(lease.leaseId, 'active', unchecked('closed')), 'VALIDATION', 'to');
      await expectRefused(ctx.db, () => ctx.db.transitionLeaseStatus(lease.leaseId, unchecked('open'), 'completed'), 'VALIDATION', 'from');
    });

    it('concurrent transitions from the same status: exactly one wins', async () => {
      const lease = await seedLease(ctx.db, { status: 'active' });
      const outcomes = await Promise.allSettled([
        ctx.db.transitionLeaseStatus(lease.leaseId, 'active', 'completed'),
        ctx.db.transitionLeaseStatus(lease.leaseId, 'active', 'terminated'),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const winner = outcomes.find((o) => o.status === 'fulfilled') as PromiseFulfilledResult<StoredLease>;
      expect((await ctx.db.getLease(lease.leaseId))?.status).toBe(winner.value.status);
    });

    it('countUnprocessedEvents counts the backlog', async () => {
      expect(await ctx.db.countUnprocessedEvents()).toBe(0);
      const events = [];
      for (let i = 0; i < 5; i++) events.push(await ctx.db.saveEvent(newEvent()));
      await ctx.db.saveEvent(newEvent({ processed: true }));
      expect(await ctx.db.countUnprocessedEvents()).toBe(5);
      await ctx.db.markEventProcessed(events[2]!.id);
      expect(await ctx.db.countUnprocessedEvents()).toBe(4);
    });

    it('getPaymentByFacilitatorTxHash finds a recorded payment by its settlement hash', async () => {
      const lease = await seedLease(ctx.db);
      const payment = await pay(ctx.db, lease.leaseId, onDay('12:00:00.000'), '5', { facilitatorTxHash: hash(0xfeed) });
      expect(await ctx.db.getPaymentByFacilitatorTxHash(hash(0xfeed))).toEqual(payment);
      expect(await ctx.db.getPaymentByFacilitatorTxHash(hash(0xbeef))).toBeNull();
      await expectStorageError(ctx.db.getPaymentByFacilitatorTxHash('0x1234'), 'VALIDATION', 'facilitatorTxHash');
    });

    it('poolStats is null without a pool, or total/idle/waiting counts and the pool size', () => {
      const stats = ctx.db.poolStats();
      if (stats === null) {
        expect(ctx.db.capabilities.sql).toBe(false);
        return;
      }
      for (const n of [stats.total, stats.idle, stats.waiting]) expect(Number.isInteger(n) && n >= 0).toBe(true);
      expect(Number.isInteger(stats.max) && stats.max >= 1 && stats.total <= stats.max).toBe(true);
    });
  });
}
