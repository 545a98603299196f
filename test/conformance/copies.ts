/**
 * Conformance cases for isolation between callers and the store: reads return copies, and inputs
 * are copied on write, so mutating either side never changes stored state.
 */
import { describe, expect, it } from 'vitest';
import type { AssetUpdate, JsonObject } from '../../src/storage/contract/database.js';
import { type ConformanceBackend, drain, dumpStore, newAsset, newEvent, newLease, onDay, pay, seedLease, useDatabase } from './fixtures.js';

// Mutates a document in place, nested levels included.
function scribble(doc: JsonObject): void {
  for (const key of Object.keys(doc)) {
    const value = doc[key];
    if (Array.isArray(value)) value.push('scribbled');
    else if (typeof value === 'object' && value !== null) scribble(value);
    else doc[key] = 'scribbled';
  }
  doc['added'] = true;
}

/** Registers the copy-isolation cases. */
export function copyTests(backend: ConformanceBackend): void {
  describe('reads return copies', () => {
    const ctx = useDatabase(backend);

    it('mutating a returned asset (nested metadata and Dates too) changes nothing stored', async () => {
      const saved = await ctx.db.saveAsset(newAsset({ metadata: { specs: { bands: ['X'], mass: 1 }, name: 'a' } }));
      const snapshot = structuredClone(saved);
      for (const got of [saved, await ctx.db.getAsset(saved.assetId), await ctx.db.getAssetByTokenAddress(saved.tokenAddress), (await ctx.db.getAllAssets())[0]]) {
        if (!got) throw new Error('asset not found');
        scribble(got.metadata);
        got.createdAt.setTime(0);
        got.updatedAt.setTime(0);
        got.chainId = 1;
      }
      expect(await ctx.db.getAsset(saved.assetId)).toEqual(snapshot);
    });

    it('mutating the input after a save or update changes nothing stored', async () => {
      const input = newAsset({ metadata: { specs: { bands: ['X'] } } });
      const saved = structuredClone(await ctx.db.saveAsset(input));
      scribble(input.metadata);
      input.blockNumber = 1;
      expect(await ctx.db.getAsset(saved.assetId)).toEqual(saved);
      const updates: AssetUpdate = { metadata: { v: { deep: [1] } } };
      const updated = structuredClone(await ctx.db.updateAsset(saved.assetId, updates));
      if (updates.metadata) scribble(updates.metadata);
      expect(await ctx.db.getAsset(saved.assetId)).toEqual(updated);
    });

    it('mutating a returned lease, event, payment or batch changes nothing stored', async () => {
      const lease = await seedLease(ctx.db, { agreement: { terms: { restrictions: ['none'] } } });
      const event = await ctx.db.saveEvent(newEvent({ args: { list: [{ a: '1' }] } }));
      await pay(ctx.db, lease.leaseId, onDay('12:00:00.000'), '77');
      const before = await dumpStore(ctx.db);

      scribble(lease.agreement);
      lease.createdAt.setTime(0);
      for (const got of [await ctx.db.getLease(lease.leaseId), ...(await ctx.db.getLeasesByStatus('active'))]) {
        if (got) scribble(got.agreement);
      }
      scribble(event.args);
      for (const got of [await ctx.db.getEvent(event.transactionHash, event.logIndex), ...(await ctx.db.getUnprocessedEvents())]) {
        if (got) {
          scribble(got.args);
          got.processed = true;
        }
      }
      for (const payment of await ctx.db.getX402PaymentsByLease(lease.leaseId)) {
        payment.amountMinorUnits = 1n;
        payment.paymentTimestamp.setTime(0);
      }
      for (const batch of await ctx.db.getX402BatchesByLease(lease.leaseId)) {
        batch.totalAmountMinorUnits = 1n;
        batch.paymentCount = 99;
        batch.startedAt.setTime(0);
      }
      const open = await ctx.db.getOpenBatchForLease(lease.leaseId, onDay('12:00:00.000'));
      if (open) open.closedAt.setTime(0);
      expect(await dumpStore(ctx.db)).toEqual(before);
    });

    it('mutating returned arrays and exported records changes nothing stored', async () => {
      const asset = await ctx.db.saveAsset(newAsset());
      await ctx.db.saveLease(newLease(asset.assetId));
      const before = await dumpStore(ctx.db);
      const all = await ctx.db.getAllAssets();
      all.pop();
      (await ctx.db.getLeasesByAsset(asset.assetId)).length = 0;
      for (const record of await drain(ctx.db.exportRecords('assets'))) {
        scribble(record.metadata);
        record.createdAt.setTime(0);
      }
      expect(await dumpStore(ctx.db)).toEqual(before);
      expect(await ctx.db.getAllAssets()).toHaveLength(1);
    });
  });
}
