/** Conformance cases for record transfer: export, import, summaries, and reconcile of imports. */
import { describe, expect, it } from 'vitest';
import type { Database, StoredAsset, StoredEvent, StoredLease, StoredX402Batch, StoredX402Payment } from '../../src/storage/contract/database.js';
import { TABLES, type TableName, type TableRecords } from '../../src/storage/contract/transfer.js';
import {
  type ConformanceBackend,
  address,
  drain,
  dumpStore,
  expectRefused,
  hash,
  newAsset,
  newEvent,
  newLease,
  onDay,
  pay,
  seedLease,
  useDatabase,
} from './fixtures.js';

const id = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const at = (iso: string): Date => new Date(iso);

/** Records as another store would export them: fixed ids, old timestamps, totals kept. */
function foreignRecords(): { asset: StoredAsset; lease: StoredLease; event: StoredEvent; payments: [StoredX402Payment, StoredX402Payment]; batch: StoredX402Batch } {
  const asset: StoredAsset = { ...newAsset({ assetId: 'IMPORTED-ASSET' }), id: id(1), createdAt: at('2025-06-01T10:00:00.000Z'), updatedAt: at('2025-06-02T08:30:00.123Z') };
  const lease: StoredLease = { ...newLease(asset.assetId, { leaseId: 'IMPORTED-LEASE' }), id: id(2), createdAt: at('2025-06-01T10:05:00.000Z'), updatedAt: at('2025-06-01T10:05:00.000Z') };
  const event: StoredEvent = { ...newEvent(), processed: true, id: id(3), createdAt: at('2025-06-01T10:06:00.000Z') };
  const payment = (n: number, amount: bigint, time: string): StoredX402Payment => ({
    id: id(n),
    leaseId: lease.leaseId,
    mode: 'second',
    intervalSeconds: 1,
    amountMinorUnits: amount,
    payer: address(0x1234),
    paymentTimestamp: at(time),
    facilitatorTxHash: hash(0x1000 + n),
    bucketSlot: '2025-06-01T11:00:00.000Z',
    createdAt: at(time),
  });
  const payments: [StoredX402Payment, StoredX402Payment] = [payment(4, 7n, '2025-06-01T11:00:01.000Z'), payment(5, 2n ** 60n, '2025-06-01T11:59:59.999Z')];
  const batch: StoredX402Batch = {
    id: id(6),
    leaseId: lease.leaseId,
    hourBucket: '2025-06-01T11:00:00.000Z',
    totalAmountMinorUnits: 7n + 2n ** 60n,
    paymentCount: 2,
    revenueRoundId: 'round-7',
    settlementTxHash: hash(0x5e7),
    startedAt: at('2025-06-01T11:00:00.000Z'),
    closedAt: at('2025-06-01T12:00:00.000Z'),
    createdAt: at('2025-06-01T11:00:01.000Z'),
  };
  return { asset, lease, event, payments, batch };
}

/** Imports one table's records (the generic signature wants the table and records to agree). */
function importInto<T extends TableName>(db: Database, table: T, records: readonly TableRecords[T][]): Promise<number> {
  return db.importRecords(table, records);
}

/** Fills every table through the public API, including processed, settled and empty rows. */
async function seedEverything(db: Database): Promise<void> {
  const a = await seedLease(db);
  const b = await db.saveLease(newLease(a.assetId, { status: 'active' }));
  await db.saveLease(newLease(a.assetId, { status: 'pending' }));
  await db.saveAsset(newAsset({ metadata: { nested: { list: [1, 'two', null] } } }));
  const e = await db.saveEvent(newEvent());
  await db.saveEvent(newEvent());
  await db.markEventProcessed(e.id);
  for (const t of ['12:00:00.000', '12:30:00.000', '13:15:00.000']) await pay(db, a.leaseId, onDay(t), '12345678901234567890');
  await pay(db, b.leaseId, onDay('12:45:00.000'), '5', { mode: 'batch-5s' });
  await db.saveX402Batch({ leaseId: b.leaseId, hourBucket: onDay('09:00:00.000') });
  const settle = await db.getOpenBatchForLease(a.leaseId, onDay('12:00:00.000'));
  await db.updateX402Batch(settle?.id ?? '', { settlementTxHash: hash(0xabc), revenueRoundId: 'round-1' });
}

/** Registers the record transfer cases. */
export function recordTests(backend: ConformanceBackend): void {
  describe('record transfer', () => {
    const ctx = useDatabase(backend);

    it('exportRecords yields every record of a table in id order, pageSize per chunk', async () => {
      await seedEverything(ctx.db);
      for (let i = 0; i < 5; i++) await ctx.db.saveAsset(newAsset());
      const chunks: StoredAsset[][] = [];
      for await (const chunk of ctx.db.exportRecords('assets', 2)) chunks.push(chunk);
      for (const chunk of chunks) expect(chunk.length).toBeGreaterThan(0);
      for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(2);
      const ids = chunks.flat().map((r) => r.id);
      expect(ids).toEqual([...ids].sort());
      expect(new Set(ids)).toEqual(new Set((await ctx.db.getAllAssets()).map((a) => a.id)));
      for (const table of TABLES) {
        const tableIds = (await drain<{ id: string }>(ctx.db.exportRecords(table))).map((r) => r.id);
        expect(tableIds, table).toEqual([...tableIds].sort());
      }
    });

    it('export, clear and import reproduce the store exactly; a second import adds nothing', async () => {
      await seedEverything(ctx.db);
      const before = await dumpStore(ctx.db);
      const leasesBefore = await ctx.db.getAllLeases();
      await ctx.db.clear();
      for (const table of TABLES) expect(await importInto(ctx.db, table, before[table]), table).toBe(before[table].length);
      expect(await dumpStore(ctx.db)).toEqual(before);
      expect(await ctx.db.getAllLeases()).toEqual(leasesBefore);
      for (const table of TABLES) expect(await importInto(ctx.db, table, before[table]), `again: ${table}`).toBe(0);
      expect(await dumpStore(ctx.db)).toEqual(before);
      expect((await ctx.db.reconcile()).differences).toEqual([]);
    });

    it('imported records keep their ids, timestamps and batch totals', async () => {
      const { asset, lease, event, payments, batch } = foreignRecords();
      expect(await importInto(ctx.db, 'assets', [asset])).toBe(1);
      expect(await importInto(ctx.db, 'leases', [lease])).toBe(1);
      expect(await importInto(ctx.db, 'events', [event])).toBe(1);
      expect(await importInto(ctx.db, 'x402_payments', payments)).toBe(2);
      expect(await importInto(ctx.db, 'x402_batches', [batch])).toBe(1);
      expect(await ctx.db.getAsset('IMPORTED-ASSET')).toEqual(asset);
      expect(await ctx.db.getLease('IMPORTED-LEASE')).toEqual(lease);
      expect(await ctx.db.getEvent(event.transactionHash, event.logIndex)).toEqual(event);
      expect(await ctx.db.getX402PaymentsByLease('IMPORTED-LEASE')).toEqual(payments);
      expect(await ctx.db.getX402BatchesByLease('IMPORTED-LEASE')).toEqual([batch]);
      expect(await ctx.db.getUnprocessedEvents()).toEqual([]);
      expect((await ctx.db.reconcile()).differences).toEqual([]);
    });

    it('a natural-key clash with another id is DUPLICATE and writes nothing of the call', async () => {
      const { asset, lease, event, batch } = foreignRecords();
      await importInto(ctx.db, 'assets', [asset]);
      await importInto(ctx.db, 'leases', [lease]);
      await importInto(ctx.db, 'events', [event]);
      await importInto(ctx.db, 'x402_batches', [batch]);
      const fresh: StoredAsset = { ...newAsset(), id: id(100), createdAt: at('2025-01-01T00:00:00Z'), updatedAt: at('2025-01-01T00:00:00Z') };
      await expectRefused(ctx.db, () => importInto(ctx.db, 'assets', [fresh, { ...asset, id: id(101) }]), 'DUPLICATE', undefined, 'asset');
      await expectRefused(ctx.db, () => importInto(ctx.db, 'leases', [{ ...lease, id: id(102) }]), 'DUPLICATE', undefined, 'lease');
      await expectRefused(ctx.db, () => importInto(ctx.db, 'events', [{ ...event, id: id(103) }]), 'DUPLICATE', undefined, 'event');
      await expectRefused(ctx.db, () => importInto(ctx.db, 'x402_batches', [{ ...batch, id: id(104) }]), 'DUPLICATE', undefined, 'batch');
    });

    it('a missing reference is REFERENCE_NOT_FOUND and an invalid record VALIDATION, writing nothing', async () => {
      const { asset, lease, payments, batch } = foreignRecords();
      await expectRefused(ctx.db, () => importInto(ctx.db, 'leases', [lease]), 'REFERENCE_NOT_FOUND', undefined, 'lease');
      await importInto(ctx.db, 'assets', [asset]);
      await expectRefused(ctx.db, () => importInto(ctx.db, 'x402_payments', payments), 'REFERENCE_NOT_FOUND', undefined, 'payments');
      await expectRefused(ctx.db, () => importInto(ctx.db, 'x402_batches', [batch]), 'REFERENCE_NOT_FOUND', undefined, 'batch');
      const bad: StoredAsset = { ...asset, id: id(200), assetId: 'BAD', tokenAddress: '0x1234' };
      await expectRefused(ctx.db, () => importInto(ctx.db, 'assets', [bad]), 'VALIDATION', undefined, 'bad address');
    });

    it('summarizeTable gives each table\'s count and money total', async () => {
      for (const table of TABLES) expect(await ctx.db.summarizeTable(table), table).toEqual({ count: 0, amountSum: 0n });
      await seedEverything(ctx.db);
      const dump = await dumpStore(ctx.db);
      const paid = dump.x402_payments.reduce((s, p) => s + p.amountMinorUnits, 0n);
      expect(paid).toBeGreaterThan(2n ** 53n);
      expect(await ctx.db.summarizeTable('assets')).toEqual({ count: dump.assets.length, amountSum: 0n });
      expect(await ctx.db.summarizeTable('leases')).toEqual({ count: dump.leases.length, amountSum: 0n });
      expect(await ctx.db.summarizeTable('events')).toEqual({ count: dump.events.length, amountSum: 0n });
      expect(await ctx.db.summarizeTable('x402_payments')).toEqual({ count: dump.x402_payments.length, amountSum: paid });
      expect(await ctx.db.summarizeTable('x402_batches')).toEqual({ count: dump.x402_batches.length, amountSum: paid });
    });

    it('estimateTableSizes counts small tables exactly, and a large one without reading it all', async () => {
      for (const [table, size] of Object.entries(await ctx.db.estimateTableSizes())) expect(size, table).toEqual({ count: 0, exact: true });
      await seedEverything(ctx.db);
      const dump = await dumpStore(ctx.db);
      const sizes = await ctx.db.estimateTableSizes();
      for (const table of TABLES) expect(sizes[table], table).toEqual({ count: dump[table].length, exact: true });
      const events: StoredEvent[] = Array.from({ length: 1_100 }, (_, i) => ({
        id: id(10_000 + i),
        eventName: 'Bulk',
        contractAddress: address(1),
        blockNumber: 5_000_000 + i,
        transactionHash: hash(0x50_000 + i),
        logIndex: 0,
        args: {},
        processed: true,
        createdAt: at('2025-06-01T00:00:00.000Z'),
      }));
      await importInto(ctx.db, 'events', events);
      const large = (await ctx.db.estimateTableSizes()).events;
      // Memory counts exactly; SQL estimates past 1,000 rows (at least the rows it counted).
      if (large.exact) expect(large.count).toBe(dump.events.length + 1_100);
      else expect(large.count).toBeGreaterThan(1_000);
    });

    it('reconcile reports a batch whose totals differ from its payments, and payments without a batch', async () => {
      const { asset, lease, payments, batch } = foreignRecords();
      await importInto(ctx.db, 'assets', [asset]);
      await importInto(ctx.db, 'leases', [lease]);
      await importInto(ctx.db, 'x402_payments', payments);
      await importInto(ctx.db, 'x402_batches', [{ ...batch, totalAmountMinorUnits: 9n, paymentCount: 1 }]);
      const orphan: StoredX402Payment = { ...payments[0], id: id(300), facilitatorTxHash: hash(0x300), paymentTimestamp: at('2025-06-01T14:10:00.000Z'), bucketSlot: '2025-06-01T14:00:00.000Z' };
      await importInto(ctx.db, 'x402_payments', [orphan]);
      const report = await ctx.db.reconcile();
      expect(report.batchesChecked).toBe(1);
      expect(report.paymentsChecked).toBe(3);
      const differences = [...report.differences].sort((x, y) => x.hourBucket.localeCompare(y.hourBucket));
      expect(differences).toEqual([
        { leaseId: lease.leaseId, hourBucket: batch.hourBucket, batchId: batch.id, storedTotal: 9n, storedCount: 1, paymentsTotal: 7n + 2n ** 60n, paymentsCount: 2 },
        { leaseId: lease.leaseId, hourBucket: '2025-06-01T14:00:00.000Z', batchId: null, storedTotal: 0n, storedCount: 0, paymentsTotal: 7n, paymentsCount: 1 },
      ]);
    });
  });
}
