/**
 * A batch of chain events applied in one `applyChainEvents` call (SQL: the write-behind overlay
 * of sql/chain-batch.ts) leaves exactly what applying the same events one per call leaves: the
 * same assets, leases, links, undo images and chain-wins notes, on PostgreSQL, PGlite and
 * memory; and a rewind after the batch undoes it exactly.
 *
 * The batch mixes the four handled kinds, with an asset registered and its lease minted in the
 * same batch, a second on-chain asset found by the token of an asset created earlier in the batch,
 * an accept that builds its lease from an offer of the batch, and hand-made records the chain
 * overrides.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { intentsFor } from '../../src/chain/handlers.js';
import type { ChainLogInput, Database, StoredEvent } from '../../src/storage/contract/database.js';
import type { ChainTablesDump } from '../../src/storage/core/chain-effects.js';
import { address, drain, hash, newAsset, newLease } from '../conformance/fixtures.js';
import { BACKENDS, type OpenBackend } from '../support/backends.js';

const CHAIN = 31337;
const REGISTRY = address(0x5001);
const FACTORY = address(0x5002);
const MARKET = address(0x5003);
const TYPE = hash(0x7777);

let seq = 0;
function log(block: number, logIndex: number, contractAddress: string, eventName: string, args: ChainLogInput['args']): ChainLogInput {
  seq += 1;
  return { eventName, contractAddress, blockNumber: block, blockHash: hash(0x100000 + block), transactionHash: hash(0x200000 + seq), logIndex, args };
}

/** The batch's events, oldest first. */
function batchLogs(): ChainLogInput[] {
  seq = 0;
  return [
    // The chain confirms the hand-made asset (found by its token, in another case).
    log(1, 0, REGISTRY, 'AssetRegistered', { assetId: '1', assetType: TYPE, tokenAddress: address(0xa1).toUpperCase().replace('0X', '0x') }),
    log(1, 1, REGISTRY, 'AssetRegistered', { assetId: '2', assetType: TYPE, tokenAddress: address(0xa2) }),
    // Same token as asset 2, created just above in this batch: the chain completes that one.
    log(1, 2, REGISTRY, 'AssetRegistered', { assetId: '3', assetType: TYPE, tokenAddress: address(0xa2) }),
    log(2, 0, MARKET, 'LeaseOfferPosted', { offerId: '0', lessor: address(0x66), assetId: '2' }),
    // The asset registered above, its lease minted and accepted in the same batch.
    log(2, 1, FACTORY, 'LeaseMinted', { tokenId: '5', lessor: address(0x66), lessee: address(0x77), assetId: '2' }),
    log(2, 2, MARKET, 'LeaseAccepted', { offerId: '0', bidIndex: '0', lessee: address(0x77), leaseTokenId: '5' }),
    log(3, 0, MARKET, 'LeaseOfferPosted', { offerId: '1', lessor: address(0x68), assetId: '3' }),
    // An accept before its mint: the lease is built from the offer of this batch.
    log(3, 1, MARKET, 'LeaseAccepted', { offerId: '1', bidIndex: '0', lessee: address(0x78), leaseTokenId: '6' }),
    // The chain overrides the hand-made lease 7.
    log(3, 2, FACTORY, 'LeaseMinted', { tokenId: '7', lessor: address(0x66), lessee: address(0x79), assetId: '1' }),
    log(3, 3, MARKET, 'LeaseBidPlaced', { offerId: '1', bidIndex: '1', bidder: address(0x80), funds: '5' }),
    log(4, 0, FACTORY, 'LeaseMinted', { tokenId: '6', lessor: address(0x68), lessee: address(0x78), assetId: '3' }),
  ];
}

/** The hand-made records the chain overrides. */
async function seed(db: Database): Promise<void> {
  // Every field given, so both stores hold the very same records.
  const placeholder = { contractAddress: address(0xdead), blockNumber: 0, transactionHash: hash(0xdead) };
  await db.saveAsset(newAsset({ assetId: 'hand-1', tokenAddress: address(0xa1), metadata: { name: 'by hand' }, metadataHash: hash(0xfeed), ...placeholder }));
  await db.saveLease(newLease('hand-1', { leaseId: '7', lessor: address(0xbad), lessee: address(0x79), status: 'pending', agreement: { terms: 'by hand' }, ...placeholder }));
}

function tablesOf(db: Database): Promise<ChainTablesDump> {
  // The chain tables are not part of the contract's exports; each backend keeps a dump for tests.
  return (db as unknown as { backend: { chain: { dump(chainId: number): Promise<ChainTablesDump> } } }).backend.chain.dump(CHAIN);
}

/** Everything the batch may change, with store-specific ids and clocks left out and undo images keyed by event position. */
async function stateOf(db: Database) {
  const strip = <T extends { id: string; createdAt: Date; updatedAt?: Date }>(r: T) => {
    const { id: _id, createdAt: _c, updatedAt: _u, ...rest } = r;
    return rest;
  };
  const byKey = <T>(rows: T[], key: (r: T) => string) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const events = await drain<StoredEvent>(db.exportRecords('events'));
  const position = new Map(events.map((e) => [e.id, `${e.blockNumber}:${e.logIndex}`]));
  const tables = await tablesOf(db);
  return {
    assets: byKey((await drain(db.exportRecords('assets'))).map(strip), (a) => a.assetId),
    leases: byKey((await drain(db.exportRecords('leases'))).map(strip), (l) => l.leaseId),
    events: byKey(
      events.map((e) => ({ at: position.get(e.id), name: e.eventName, processed: e.processed, removed: e.removed ?? false })),
      (e) => String(e.at),
    ),
    links: tables.links,
    effects: byKey(
      tables.effects.map(({ eventId, ...entry }) => ({ at: position.get(eventId), ...entry })),
      (e) => `${e.at}/${String(e.seq).padStart(4, '0')}`,
    ),
  };
}

/** Ingests the batch into `db` and gives its events with their handlers' intents. */
async function ingest(db: Database) {
  await db.ingestChainRange({ chainId: CHAIN, fromBlock: 0, toBlock: 5, toBlockHash: hash(0x100005), logs: batchLogs() });
  const events = await db.getPendingChainEvents(CHAIN, 5, 1000);
  return events.map((e) => ({ eventId: e.id, intents: intentsFor(e, CHAIN) }));
}

describe.each(BACKENDS.map((b) => [b.name, b] as const))('a batch applied at once equals one event per call: %s', (_name, backend) => {
  const open: OpenBackend[] = [];
  afterAll(async () => {
    for (const o of open) await o.dispose();
  });
  const store = async () => {
    const o = await backend.open();
    open.push(o);
    await seed(o.db);
    return o.db;
  };

  it('leaves the same records, links, undo images and notes, and a rewind undoes it exactly', async () => {
    const batched = await store();
    const single = await store();
    const before = await stateOf(batched);

    const applications = await ingest(batched);
    expect(applications).toHaveLength(11);
    const batchResult = await batched.applyChainEvents(CHAIN, applications, 5);

    const notes: string[] = [];
    let applied = 0;
    for (const application of await ingest(single)) {
      const result = await single.applyChainEvents(CHAIN, [application], 5);
      applied += result.applied;
      notes.push(...result.notes);
    }

    expect(batchResult).toEqual({ applied: 11, skipped: 0, notes });
    expect(applied).toBe(11);
    // The chain-wins notes name the overridden records: the hand-made asset and lease, and asset 2 completed by asset id 3.
    expect(notes.join('\n')).toMatch(/asset hand-1: the chain \(asset id 1\) overrides/);
    expect(notes.join('\n')).toMatch(/asset 2: the chain \(asset id 3\) overrides/);
    expect(notes.join('\n')).toMatch(/lease 7: the chain \(lease token 7\) overrides .*lessor/);

    const after = await stateOf(batched);
    expect(after).toEqual(await stateOf(single));
    // What the batch did, checked directly (not only "the same as one by one").
    expect(after.assets.map((a) => a.assetId)).toEqual(['2', 'hand-1']);
    expect(after.assets.find((a) => a.assetId === 'hand-1')).toMatchObject({ contractAddress: REGISTRY, blockNumber: 1 });
    expect(after.leases.map((l) => [l.leaseId, l.assetId, l.status, l.lessor])).toEqual([
      ['5', '2', 'active', address(0x66)],
      ['6', '2', 'active', address(0x68)],
      ['7', 'hand-1', 'pending', address(0x66)],
    ]);
    expect(after.links.map((l) => [l.kind, l.onchainId, l.recordKey])).toEqual([
      ['asset', '1', 'hand-1'],
      ['asset', '2', '2'],
      ['asset', '3', '2'],
      ['lease', '5', '5'],
      ['lease', '6', '6'],
      ['lease', '7', '7'],
      ['offer', '0', '5'],
      ['offer', '1', '6'],
    ]);
    expect(after.effects.length).toBeGreaterThan(10);
    expect(after.events.every((e) => e.processed)).toBe(true);

    // A rewind below the batch undoes every effect: records, links and undo images as before.
    const rewound = await batched.rewindChain(CHAIN, 0, hash(0x100000));
    expect(rewound).toEqual({ removed: 11, undone: 11, notes: [], deepReorg: null });
    expect(await single.rewindChain(CHAIN, 0, hash(0x100000))).toEqual(rewound);
    const undone = await stateOf(batched);
    expect({ ...undone, events: [] }).toEqual({ ...before, events: [] });
    expect(undone.events.every((e) => e.removed)).toBe(true);
    expect(await stateOf(single)).toEqual(undone);
  });
});
