/**
 * Conformance cases for chain ingestion and processing (contract/chain.ts): ranges with their
 * cursor in one step, reorg rewinds that undo applied effects, intents resolved alike on every
 * backend, failures recorded, leadership exclusive.
 */
import { describe, expect, it } from 'vitest';
import type { ChainIntent, ChainLogInput, Database, StoredEvent } from '../../src/storage/contract/database.js';
import { address, type ConformanceBackend, expectRefused, expectStorageError, hash, newAsset, newLease, nextSeq, useDatabase } from './fixtures.js';

const CHAIN = 31337;
const REGISTRY = address(0x5001);
const FACTORY = address(0x5002);
const MARKET = address(0x5003);

function log(block: number, logIndex: number, eventName = 'AssetRegistered', args: ChainLogInput['args'] = {}): ChainLogInput {
  return {
    eventName,
    contractAddress: REGISTRY,
    blockNumber: block,
    blockHash: hash(0x100000 + block),
    transactionHash: hash(0x200000 + block * 100 + logIndex + nextSeq() * 10_000),
    logIndex,
    args,
  };
}

function range(fromBlock: number, toBlock: number, logs: ChainLogInput[], fork = 0) {
  return { chainId: CHAIN, fromBlock, toBlock, toBlockHash: hash(0x100000 + toBlock + fork), logs };
}

function assetIntent(e: StoredEvent, onchainAssetId: string, tokenAddress: string): ChainIntent {
  return { kind: 'asset-registered', chainId: CHAIN, contractAddress: REGISTRY, onchainAssetId, assetType: hash(7), tokenAddress, blockNumber: e.blockNumber, transactionHash: e.transactionHash };
}

function leaseIntent(e: StoredEvent, fields: Partial<Extract<ChainIntent, { kind: 'lease' }>>): ChainIntent {
  return { kind: 'lease', chainId: CHAIN, contractAddress: FACTORY, onchainLeaseTokenId: '0', lessee: address(0x77), status: 'pending', blockNumber: e.blockNumber, transactionHash: e.transactionHash, ...fields };
}

async function pending(db: Database, through = 1_000_000): Promise<StoredEvent[]> {
  return db.getPendingChainEvents(CHAIN, through, 1000);
}

/** Registers the chain cases. */
export function chainTests(backend: ConformanceBackend): void {
  describe('chain', () => {
    const ctx = useDatabase(backend);

    it('a range stores its events with chain and block hash and moves the cursor; the next range must follow it', async () => {
      const db = ctx.db;
      expect(await db.getChainCursor(CHAIN)).toBeNull();
      const logs = [log(3, 1), log(3, 0), log(5, 0)];
      expect(await db.ingestChainRange(range(0, 5, logs))).toEqual({ inserted: 3, revived: 0 });
      const cursor = await db.getChainCursor(CHAIN);
      expect(cursor).toMatchObject({ chainId: CHAIN, ingestedBlock: 5, ingestedBlockHash: hash(0x100005), processedBlock: null });
      const events = await pending(db);
      expect(events.map((e) => [e.blockNumber, e.logIndex])).toEqual([[3, 0], [3, 1], [5, 0]]);
      expect(events[0]).toMatchObject({ chainId: CHAIN, blockHash: hash(0x100003), processed: false });
      expect(await db.getChainBlocks(CHAIN, 5, 10)).toEqual([
        { blockNumber: 5, blockHash: hash(0x100005) },
        { blockNumber: 3, blockHash: hash(0x100003) },
      ]);
      expect(await db.countPendingChainEvents(CHAIN)).toBe(3);
      expect(await db.getPendingChainEvents(CHAIN, 4, 10)).toHaveLength(2);
      // A range that does not start right after the cursor writes nothing.
      await expectRefused(db, () => db.ingestChainRange(range(7, 9, [log(8, 0)])), 'CONFLICT');
      await expectRefused(db, () => db.ingestChainRange(range(5, 9, [log(8, 0)])), 'CONFLICT');
      expect((await db.getChainCursor(CHAIN))?.ingestedBlock).toBe(5);
      // Re-ingesting a stored event leaves it as it is.
      const first = events[0] as StoredEvent;
      await db.applyChainEvents(CHAIN, [{ eventId: first.id, intents: [] }]);
      const again = { ...log(6, 0), transactionHash: first.transactionHash, logIndex: first.logIndex };
      expect(await db.ingestChainRange(range(6, 6, [again]))).toEqual({ inserted: 0, revived: 0 });
      expect((await db.getEvent(first.transactionHash, first.logIndex))?.processed).toBe(true);
    });

    it('an invalid range is VALIDATION naming the field and writes nothing', async () => {
      const db = ctx.db;
      await expectRefused(db, () => db.ingestChainRange(range(0, 5, [log(3, 0), { ...log(4, 0), blockHash: 'nope' }])), 'VALIDATION', 'logs.1.blockHash');
      await expectRefused(db, () => db.ingestChainRange(range(0, 5, [log(9, 0)])), 'VALIDATION', 'logs.0.blockNumber');
      await expectRefused(db, () => db.ingestChainRange(range(5, 4, [])), 'VALIDATION', 'toBlock');
      await expectRefused(db, () => db.ingestChainRange({ ...range(0, 1, []), chainId: 0 }), 'VALIDATION', 'chainId');
      const twice = log(2, 0);
      await expectRefused(db, () => db.ingestChainRange(range(0, 5, [twice, { ...twice }])), 'VALIDATION', 'logs.1');
      expect(await db.getChainCursor(CHAIN)).toBeNull();
    });

    it('applying creates an asset from the chain, marks the event processed once, and records the cursor', async () => {
      const db = ctx.db;
      await db.ingestChainRange(range(0, 4, [log(2, 0)]));
      const [event] = await pending(db);
      const e = event as StoredEvent;
      const result = await db.applyChainEvents(CHAIN, [{ eventId: e.id, intents: [assetIntent(e, '0', address(0x99))] }], 4);
      expect(result).toEqual({ applied: 1, skipped: 0, notes: [] });
      expect(await db.getAsset('0')).toMatchObject({ assetId: '0', chainId: CHAIN, contractAddress: REGISTRY, tokenAddress: address(0x99), blockNumber: 2, transactionHash: e.transactionHash });
      expect((await db.getChainCursor(CHAIN))?.processedBlock).toBe(4);
      expect(await pending(db)).toEqual([]);
      expect(await db.getUnprocessedEvents()).toEqual([]);
      // A second processor applying the same event changes nothing.
      expect(await db.applyChainEvents(CHAIN, [{ eventId: e.id, intents: [assetIntent(e, '0', address(0x99))] }])).toEqual({ applied: 0, skipped: 1, notes: [] });
    });

    it('the chain completes a hand-made asset found by token address and says so', async () => {
      const db = ctx.db;
      const handMade = await db.saveAsset(newAsset({ tokenAddress: address(0xabc), blockNumber: 0 }));
      await db.ingestChainRange(range(0, 3, [log(3, 0)]));
      const e = (await pending(db))[0] as StoredEvent;
      const result = await db.applyChainEvents(CHAIN, [{ eventId: e.id, intents: [assetIntent(e, '12', address(0xABC).toUpperCase().replace('0X', '0x'))] }]);
      expect(result.notes).toHaveLength(1);
      expect(result.notes[0]).toContain(`asset ${handMade.assetId}`);
      expect(await db.getAsset(handMade.assetId)).toMatchObject({ contractAddress: REGISTRY, blockNumber: 3, transactionHash: e.transactionHash, metadata: handMade.metadata });
      expect(await db.getAsset('12')).toBeNull();
    });

    it('a mint creates a pending lease of the linked asset, an accept through its offer makes it active', async () => {
      const db = ctx.db;
      await db.ingestChainRange(range(0, 9, [log(1, 0), log(2, 0, 'LeaseOfferPosted'), log(3, 0, 'LeaseMinted'), log(3, 1, 'LeaseAccepted')]));
      const [reg, offer, mint, accept] = (await pending(db)) as [StoredEvent, StoredEvent, StoredEvent, StoredEvent];
      await db.applyChainEvents(CHAIN, [
        { eventId: reg.id, intents: [assetIntent(reg, '0', address(0x55))] },
        { eventId: offer.id, intents: [{ kind: 'offer-posted', chainId: CHAIN, onchainOfferId: '0', lessor: address(0x66), onchainAssetId: '0' }] },
        { eventId: mint.id, intents: [leaseIntent(mint, { lessor: address(0x66), onchainAssetId: '0' })] },
      ]);
      expect(await db.getLease('0')).toMatchObject({ leaseId: '0', assetId: '0', status: 'pending', lessor: address(0x66), lessee: address(0x77), contractAddress: FACTORY });
      await db.applyChainEvents(CHAIN, [{ eventId: accept.id, intents: [leaseIntent(accept, { contractAddress: MARKET, onchainOfferId: '0', status: 'active' })] }]);
      expect(await db.getLease('0')).toMatchObject({ status: 'active', contractAddress: FACTORY, blockNumber: 3, transactionHash: mint.transactionHash });
    });

    it('an accept without a mint builds the lease from its offer; one for an unknown asset fails whole and changes nothing', async () => {
      const db = ctx.db;
      await db.ingestChainRange(range(0, 9, [log(1, 0), log(2, 0, 'LeaseOfferPosted'), log(4, 0, 'LeaseAccepted'), log(5, 0, 'LeaseMinted')]));
      const [reg, offer, accept, orphanMint] = (await pending(db)) as [StoredEvent, StoredEvent, StoredEvent, StoredEvent];
      await db.applyChainEvents(CHAIN, [
        { eventId: reg.id, intents: [assetIntent(reg, '3', address(0x56))] },
        { eventId: offer.id, intents: [{ kind: 'offer-posted', chainId: CHAIN, onchainOfferId: '0', lessor: address(0x66), onchainAssetId: '3' }] },
      ]);
      await expectRefused(
        db,
        () =>
          db.applyChainEvents(CHAIN, [
            { eventId: accept.id, intents: [leaseIntent(accept, { onchainLeaseTokenId: '5', onchainOfferId: '0', status: 'active' })] },
            { eventId: orphanMint.id, intents: [leaseIntent(orphanMint, { onchainLeaseTokenId: '6', lessor: address(0x66), onchainAssetId: '404' })] },
          ]),
        'REFERENCE_NOT_FOUND',
      );
      await db.applyChainEvents(CHAIN, [{ eventId: accept.id, intents: [leaseIntent(accept, { onchainLeaseTokenId: '5', onchainOfferId: '0', status: 'active' })] }]);
      expect(await db.getLease('5')).toMatchObject({ assetId: '3', lessor: address(0x66), status: 'active' });
    });

    it('a rewind marks orphaned events removed, undoes applied effects newest first, and a re-mined event comes back', async () => {
      const db = ctx.db;
      const handMade = await db.saveAsset(newAsset({ tokenAddress: address(0x42), blockNumber: 0 }));
      const kept = log(2, 0);
      const orphanA = log(5, 0);
      const orphanB = log(6, 0);
      await db.ingestChainRange(range(0, 8, [kept, orphanA, orphanB]));
      const [k, a, b] = (await pending(db)) as [StoredEvent, StoredEvent, StoredEvent];
      await db.applyChainEvents(CHAIN, [
        { eventId: k.id, intents: [assetIntent(k, '1', address(0x41))] },
        { eventId: a.id, intents: [assetIntent(a, '2', address(0x42))] },
      ]);
      expect((await db.getAsset(handMade.assetId))?.blockNumber).toBe(5);
      const result = await db.rewindChain(CHAIN, 4, hash(0x100004));
      expect(result).toEqual({ removed: 2, undone: 1, notes: [], deepReorg: null });
      expect(await db.getAsset(handMade.assetId)).toMatchObject({ blockNumber: 0, contractAddress: handMade.contractAddress, transactionHash: handMade.transactionHash });
      expect(await db.getAsset('1')).not.toBeNull();
      expect(await db.getChainCursor(CHAIN)).toMatchObject({ ingestedBlock: 4, ingestedBlockHash: hash(0x100004) });
      expect((await db.getEvent(b.transactionHash, b.logIndex))?.removed).toBe(true);
      expect(await pending(db)).toEqual([]);
      expect(await db.getUnprocessedEvents()).toEqual([]);
      expect(await db.countUnprocessedEvents()).toBe(0);
      expect(await db.applyChainEvents(CHAIN, [{ eventId: b.id, intents: [] }])).toMatchObject({ applied: 0, skipped: 1 });
      expect((await db.getChainBlocks(CHAIN, 100, 10)).map((r) => r.blockNumber)).toEqual([4, 2]);
      // The same transaction mined again in the new fork's block 7.
      const remined = { ...orphanA, blockNumber: 7, blockHash: hash(0x300007) };
      expect(await db.ingestChainRange(range(5, 7, [remined], 1))).toEqual({ inserted: 0, revived: 1 });
      const back = (await pending(db))[0] as StoredEvent;
      expect(back).toMatchObject({ id: a.id, blockNumber: 7, blockHash: hash(0x300007), processed: false });
      expect(back.removed).toBeUndefined();
    });

    it('a deep rewind is recorded in its own transaction and stays until acknowledged, once, by name', async () => {
      const db = ctx.db;
      await db.ingestChainRange(range(0, 9, [log(5, 0), log(8, 0)]));
      const [e5] = (await pending(db)) as [StoredEvent];
      await db.applyChainEvents(CHAIN, [{ eventId: e5.id, intents: [assetIntent(e5, '31', address(0x431))] }]);
      expect(await db.getUnacknowledgedDeepReorgs(CHAIN)).toEqual([]);
      // A rewind not said to be deep records nothing.
      expect((await db.rewindChain(CHAIN, 8, hash(0x100008))).deepReorg).toBeNull();
      expect(await db.getUnacknowledgedDeepReorgs(CHAIN)).toEqual([]);

      const first = await db.rewindChain(CHAIN, 4, hash(0x100004), { deep: true });
      expect(first).toMatchObject({ removed: 2, undone: 1 });
      // Four blocks replaced: the cursor was at 8.
      expect(first.deepReorg).toMatchObject({ chainId: CHAIN, fromBlock: 5, depth: 4, removedEvents: 2, undoneEvents: 1, acknowledgedAt: null, acknowledgedBy: null, acknowledgedNote: null });
      expect(first.deepReorg?.detectedAt).toBeInstanceOf(Date);
      expect(await db.getUnacknowledgedDeepReorgs(CHAIN)).toEqual([first.deepReorg]);
      expect(await db.getUnacknowledgedDeepReorgs(CHAIN + 1)).toEqual([]);
      await db.ingestChainRange(range(5, 12, [], 1));
      const second = (await db.rewindChain(CHAIN, 10, hash(0x10000a), { deep: true })).deepReorg;
      expect(second).toMatchObject({ fromBlock: 11, depth: 2, removedEvents: 0, undoneEvents: 0 });
      const ids = [first.deepReorg?.id ?? 0, second?.id ?? 0];
      expect(ids[1]).toBeGreaterThan(ids[0] as number);

      // Refused acknowledgements name the field and mark nothing.
      const both = await db.getUnacknowledgedDeepReorgs(CHAIN);
      await expectRefused(db, () => db.acknowledgeDeepReorgs(CHAIN, ids, '   ', ''), 'VALIDATION', 'by');
      await expectRefused(db, () => db.acknowledgeDeepReorgs(CHAIN, [], 'alice', ''), 'VALIDATION', 'ids');
      await expectRefused(db, () => db.acknowledgeDeepReorgs(CHAIN, [0], 'alice', ''), 'VALIDATION', 'ids.0');
      await expectRefused(db, () => db.acknowledgeDeepReorgs(CHAIN, ids, 'x'.repeat(201), ''), 'VALIDATION', 'by');
      await expectRefused(db, () => db.acknowledgeDeepReorgs(0, ids, 'alice', ''), 'VALIDATION', 'chainId');
      expect(await db.getUnacknowledgedDeepReorgs(CHAIN)).toEqual(both);

      // Another chain's id, an unknown id and the first one: only the first is marked.
      const marked = await db.acknowledgeDeepReorgs(CHAIN + 1, [ids[0] as number], 'mallory', '');
      expect(marked).toEqual([]);
      const done = await db.acknowledgeDeepReorgs(CHAIN, [ids[0] as number, 999_999, ids[0] as number], ' alice ', 'checked blocks 5-8');
      expect(done).toHaveLength(1);
      expect(done[0]).toMatchObject({ id: ids[0], acknowledgedBy: 'alice', acknowledgedNote: 'checked blocks 5-8' });
      expect(done[0]?.acknowledgedAt).toBeInstanceOf(Date);
      expect(await db.getUnacknowledgedDeepReorgs(CHAIN)).toEqual([second]);
      // Acknowledged once: a second acknowledgement of it marks nothing and keeps the first one's name.
      expect(await db.acknowledgeDeepReorgs(CHAIN, [ids[0] as number], 'bob', '')).toEqual([]);
      const rest = await db.acknowledgeDeepReorgs(CHAIN, ids, 'bob', '');
      expect(rest.map((r) => [r.id, r.acknowledgedBy])).toEqual([[ids[1], 'bob']]);
      expect(await db.getUnacknowledgedDeepReorgs(CHAIN)).toEqual([]);
    });

    it('a rewind keeps a lease that payments refer to, terminated, and says so', async () => {
      const db = ctx.db;
      await db.ingestChainRange(range(0, 3, [log(1, 0), log(2, 0, 'LeaseMinted')]));
      const [reg, mint] = (await pending(db)) as [StoredEvent, StoredEvent];
      await db.applyChainEvents(CHAIN, [
        { eventId: reg.id, intents: [assetIntent(reg, '9', address(0x57))] },
        { eventId: mint.id, intents: [leaseIntent(mint, { onchainLeaseTokenId: '9', lessor: address(0x66), onchainAssetId: '9', status: 'active' })] },
      ]);
      await db.recordPayment({ leaseId: '9', amount: '10', timestamp: new Date().toISOString(), mode: 'second', settled: true });
      const result = await db.rewindChain(CHAIN, 0, hash(0x100000));
      expect(result.undone).toBe(2);
      expect(result.notes.join('\n')).toMatch(/lease 9 .*kept, terminated/);
      expect(result.notes.join('\n')).toMatch(/asset 9 .*kept/);
      expect((await db.getLease('9'))?.status).toBe('terminated');
      expect(await db.getX402PaymentsByLease('9')).toHaveLength(1);
    });

    it('failures are counted with the last error; unknown ids are NOT_FOUND', async () => {
      const db = ctx.db;
      await db.ingestChainRange(range(0, 1, [log(1, 0)]));
      const e = (await pending(db))[0] as StoredEvent;
      expect(await db.recordChainEventFailure(e.id, 'boom')).toBe(1);
      expect(await db.recordChainEventFailure(e.id, 'boom again')).toBe(2);
      expect((await pending(db))[0]).toMatchObject({ attempts: 2, lastError: 'boom again', processed: false });
      await db.applyChainEvents(CHAIN, [{ eventId: e.id, intents: [] }]);
      expect((await db.getEvent(e.transactionHash, e.logIndex))?.lastError).toBeUndefined();
      await expectStorageError(db.recordChainEventFailure('00000000-0000-4000-8000-000000000000', 'x'), 'NOT_FOUND');
      await expectStorageError(db.applyChainEvents(CHAIN, [{ eventId: '00000000-0000-4000-8000-000000000000', intents: [] }]), 'NOT_FOUND');
      await expectStorageError(db.applyChainEvents(CHAIN, [{ eventId: 'nope', intents: [] }]), 'VALIDATION', 'applications.0.eventId');
    });

    it('events saved by hand have no chain fields and are not chain events', async () => {
      const db = ctx.db;
      const asset = await db.saveAsset(newAsset());
      await db.saveLease(newLease(asset.assetId));
      const saved = await db.saveEvent({ eventName: 'X', contractAddress: address(1), blockNumber: 1, transactionHash: hash(0xfeed), logIndex: 0, args: {} });
      expect(saved.chainId).toBeUndefined();
      expect(saved.blockHash).toBeUndefined();
      expect(await pending(db)).toEqual([]);
      await expectStorageError(db.applyChainEvents(CHAIN, [{ eventId: saved.id, intents: [] }]), 'CONFLICT');
    });

    it('leadership is held by one holder at a time and passes on release', async () => {
      const db = ctx.db;
      const first = await db.tryLeadership('conformance-chain');
      expect(first?.isHeld()).toBe(true);
      expect(await db.tryLeadership('conformance-chain')).toBeNull();
      const other = await db.tryLeadership('conformance-other');
      expect(other).not.toBeNull();
      await first?.release();
      expect(first?.isHeld()).toBe(false);
      await first?.lost;
      const second = await db.tryLeadership('conformance-chain');
      expect(second).not.toBeNull();
      await second?.release();
      await other?.release();
    });
  });
}
