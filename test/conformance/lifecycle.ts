/** Conformance cases for the connection lifecycle, clear() and the backend's capabilities. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Database, StoredAsset } from '../../src/storage/contract/database.js';
import { StorageError } from '../../src/storage/contract/errors.js';
import { TABLES, type TableChunk } from '../../src/storage/contract/transfer.js';
import {
  type ConformanceBackend,
  address,
  drain,
  dumpStore,
  expectStorageError,
  hash,
  newAsset,
  newEvent,
  newLease,
  onDay,
  pay,
  seedLease,
  useDatabase,
} from './fixtures.js';

/** No chunks at all: loadEmpty's cheapest valid call. */
async function* emptyChunks(): AsyncIterable<TableChunk> {}

/** The contract's methods that need a connection: every function member but the lifecycle ones. */
type LiveMethod = Exclude<
  { [K in keyof Database]: Database[K] extends (...args: never[]) => unknown ? K : never }[keyof Database],
  'connect' | 'disconnect' | 'isConnected' | 'poolStats'
>;

/**
 * One valid call of every method of the contract, by name. The list is typed by the contract
 * itself: a method added to `Database` without a call here fails the typecheck, so no method
 * escapes the NOT_CONNECTED cases. The schema manager's calls are included.
 */
function everyCall(db: Database): [string, () => Promise<unknown>][] {
  const range = { from: new Date(onDay('00:00:00.000')), to: new Date(onDay('23:00:00.000')) };
  const record: StoredAsset = { ...newAsset(), id: randomUUID(), createdAt: new Date(), updatedAt: new Date() };
  const params = { leaseId: 'L', amount: '1', timestamp: onDay('12:00:00.000'), mode: 'second' };
  const calls: { [K in LiveMethod]: () => Promise<unknown> } = {
    saveAsset: () => db.saveAsset(newAsset()),
    getAsset: () => db.getAsset('A'),
    getAssetByTokenAddress: () => db.getAssetByTokenAddress(address(1)),
    getAllAssets: () => db.getAllAssets(),
    getAssetsPage: () => db.getAssetsPage(),
    updateAsset: () => db.updateAsset('A', { blockNumber: 1 }),
    saveLease: () => db.saveLease(newLease('A')),
    getLease: () => db.getLease('L'),
    getAllLeases: () => db.getAllLeases(),
    getLeasesByAsset: () => db.getLeasesByAsset('A'),
    getLeasesByStatus: () => db.getLeasesByStatus('active'),
    getActiveLeasesForAsset: () => db.getActiveLeasesForAsset('A'),
    getLeasesByLessor: () => db.getLeasesByLessor(address(1)),
    getLeasesByLessee: () => db.getLeasesByLessee(address(1)),
    getLeasesPage: () => db.getLeasesPage({ status: 'active' }),
    updateLease: () => db.updateLease('L', { status: 'completed' }),
    transitionLeaseStatus: () => db.transitionLeaseStatus('L', 'pending', 'active'),
    saveEvent: () => db.saveEvent(newEvent()),
    getEvent: () => db.getEvent(hash(1), 0),
    getUnprocessedEvents: () => db.getUnprocessedEvents(),
    countUnprocessedEvents: () => db.countUnprocessedEvents(),
    markEventProcessed: () => db.markEventProcessed(randomUUID()),
    saveX402Payment: () => db.saveX402Payment({ leaseId: 'L', mode: 'second', intervalSeconds: 1, amountMinorUnits: 1n, payer: address(1), paymentTimestamp: new Date(onDay('12:00:00.000')), facilitatorTxHash: hash(1) }),
    getPaymentByFacilitatorTxHash: () => db.getPaymentByFacilitatorTxHash(hash(1)),
    getX402PaymentsByLease: () => db.getX402PaymentsByLease('L'),
    getX402PaymentsByBucket: () => db.getX402PaymentsByBucket(onDay('12:00:00.000')),
    saveX402Batch: () => db.saveX402Batch({ leaseId: 'L', hourBucket: onDay('12:00:00.000') }),
    getX402BatchesByLease: () => db.getX402BatchesByLease('L'),
    getOpenBatchForLease: () => db.getOpenBatchForLease('L', onDay('12:00:00.000')),
    getX402Batch: () => db.getX402Batch('L', onDay('12:00:00.000')),
    getLeaseWithBatch: () => db.getLeaseWithBatch('L', onDay('12:00:00.000')),
    updateX402Batch: () => db.updateX402Batch(randomUUID(), { revenueRoundId: 'r' }),
    recordPayment: () => pay(db, 'L', onDay('12:00:00.000')),
    clear: () => db.clear(),
    getHourTotals: () => db.getHourTotals('L', new Date(onDay('12:00:00.000'))),
    getDailyRevenue: () => db.getDailyRevenue('L', range),
    getAssetRevenue: () => db.getAssetRevenue('A', range),
    getPaymentsPage: () => db.getPaymentsPage('L'),
    getBatchesPage: () => db.getBatchesPage('L'),
    reconcile: () => db.reconcile(),
    exportRecords: () => drain(db.exportRecords('assets')),
    importRecords: () => db.importRecords('assets', [record]),
    summarizeTable: () => db.summarizeTable('assets'),
    digestTable: () => db.digestTable('assets'),
    loadEmpty: () => db.loadEmpty(emptyChunks(), async () => false),
    recordPaymentWithOutcome: () => db.recordPaymentWithOutcome(params),
    estimateTableSizes: () => db.estimateTableSizes(),
    ingestChainRange: () => db.ingestChainRange({ chainId: 1, fromBlock: 0, toBlock: 0, toBlockHash: hash(1), logs: [] }),
    getChainCursor: () => db.getChainCursor(1),
    getChainBlocks: () => db.getChainBlocks(1, 10, 10),
    rewindChain: () => db.rewindChain(1, 0, hash(1)),
    getUnacknowledgedDeepReorgs: () => db.getUnacknowledgedDeepReorgs(1),
    acknowledgeDeepReorgs: () => db.acknowledgeDeepReorgs(1, [1], 'alice', ''),
    getPendingChainEvents: () => db.getPendingChainEvents(1, 10, 10),
    countPendingChainEvents: () => db.countPendingChainEvents(1),
    applyChainEvents: () => db.applyChainEvents(1, []),
    recordChainEventFailure: () => db.recordChainEventFailure(randomUUID(), 'x'),
    tryLeadership: () => db.tryLeadership('chain'),
  };
  return [...Object.entries(calls), ['schema.status', () => db.schema.status()], ['schema.up', () => db.schema.up()]];
}

/** Registers the lifecycle cases. */
export function lifecycleTests(backend: ConformanceBackend): void {
  describe('lifecycle', () => {
    const ctx = useDatabase(backend);

    it('isConnected follows connect() and disconnect(); disconnect() twice is fine', async () => {
      const db = await ctx.fresh();
      expect(db.isConnected()).toBe(false);
      await db.connect();
      expect(db.isConnected()).toBe(true);
      await db.disconnect();
      expect(db.isConnected()).toBe(false);
      await db.disconnect();
      expect(db.isConnected()).toBe(false);
    });

    it('every call before connect() is NOT_CONNECTED', async () => {
      const db = await ctx.fresh();
      const calls = everyCall(db);
      for (const [name, call] of calls) await expectStorageError(call, 'NOT_CONNECTED', undefined, name);
    });

    it('every call after disconnect() is NOT_CONNECTED', async () => {
      const db = await ctx.fresh();
      await db.connect();
      await db.disconnect();
      for (const [name, call] of everyCall(db)) await expectStorageError(call, 'NOT_CONNECTED', undefined, name);
      expect(ctx.db.isConnected()).toBe(true);
    });

    it('connect() after disconnect(): a reconnectable store serves its data again, any other refuses', async () => {
      const db = await ctx.fresh();
      await db.connect();
      await db.saveAsset(newAsset({ assetId: 'KEPT' }));
      await db.disconnect();
      if (db.capabilities.reconnectable) {
        await db.connect();
        expect((await db.getAsset('KEPT'))?.assetId).toBe('KEPT');
      } else {
        await expectStorageError(() => db.connect(), 'NOT_CONNECTED');
        expect(db.isConnected()).toBe(false);
      }
    });

    it('clear() empties every table', async () => {
      const lease = await seedLease(ctx.db);
      await ctx.db.saveEvent(newEvent());
      await pay(ctx.db, lease.leaseId, onDay('12:00:00.000'));
      const full = await dumpStore(ctx.db);
      for (const table of TABLES) expect(full[table].length, table).toBeGreaterThan(0);
      await ctx.db.clear();
      const empty = await dumpStore(ctx.db);
      for (const table of TABLES) expect(empty[table], table).toEqual([]);
      expect(await ctx.db.getAllAssets()).toEqual([]);
      expect(await ctx.db.getUnprocessedEvents()).toEqual([]);
    });

    it('clear() refuses under NODE_ENV=production unless allowProduction is given', async () => {
      await seedLease(ctx.db);
      const before = await dumpStore(ctx.db);
      const saved = process.env['NODE_ENV'];
      process.env['NODE_ENV'] = 'production';
      try {
        await expect(ctx.db.clear()).rejects.toBeInstanceOf(StorageError);
        await expect(ctx.db.clear({})).rejects.toBeInstanceOf(StorageError);
        await expect(ctx.db.clear({ allowProduction: false })).rejects.toBeInstanceOf(StorageError);
        expect(await dumpStore(ctx.db)).toEqual(before);
        await ctx.db.clear({ allowProduction: true });
        expect(await ctx.db.getAllAssets()).toEqual([]);
      } finally {
        if (saved === undefined) delete process.env['NODE_ENV'];
        else process.env['NODE_ENV'] = saved;
      }
    });

    it('capabilities describe the backend', () => {
      const { capabilities } = ctx.db;
      expect(typeof capabilities.kind).toBe('string');
      expect(capabilities.kind.length).toBeGreaterThan(0);
      expect(typeof capabilities.durable).toBe('boolean');
      expect(typeof capabilities.sql).toBe('boolean');
      expect(typeof capabilities.reconnectable).toBe('boolean');
    });
  });
}
