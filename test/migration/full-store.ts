/**
 * A MockDatabase holding every kind of record a migration must carry: the protocol's real asset
 * and lease documents, unicode in JSON (emoji, CJK, accents), processed and unprocessed events,
 * payments of both modes including amount 0 and the largest amount (10^20-1), settled, open and
 * empty batches, and records whose updatedAt differs from createdAt.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Database, JsonObject } from '../../src/storage/contract/database.js';
import { MockDatabase } from '../../src/storage/backends/memory/mock-database.js';
import { TABLES, type TableName, type TableRecords } from '../../src/storage/contract/transfer.js';

const SAMPLE_DIR = new URL('../fixtures/sample-data/', import.meta.url);

/** Sample documents whose file name starts with `prefix` ("assets-", "leases-"). */
export function sampleDocs(prefix: string): JsonObject[] {
  return readdirSync(SAMPLE_DIR)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, SAMPLE_DIR), 'utf8')) as JsonObject);
}

const addr = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;
const hash = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** The largest amount a payment may carry. */
export const MAX_AMOUNT = 10n ** 20n - 1n;

/** JSON with emoji, CJK and accented text, nested. */
export const UNICODE_DOC: JsonObject = {
  name: 'Satellite Ærøskøbing 衛星 🛰️',
  notes: 'café – naïve – Zürich – 日本語 – 한국어 – 中文 – emoji 😀👍🏽👩‍🚀',
  nested: { 键: ['ü', '🚀', 'ñ'], 'clé-spéciale': { ok: true, n: 12.5, none: null } },
};

/** Fills a new, connected MockDatabase and returns it. `paymentsPerHour` scales the ledger. */
export async function buildFullStore(paymentsPerHour = 60): Promise<MockDatabase> {
  const db = new MockDatabase();
  await db.connect();
  const assets = sampleDocs('assets-');
  const leases = sampleDocs('leases-');
  let n = 0;
  for (const doc of assets) {
    n += 1;
    await db.saveAsset({
      assetId: String(doc['assetId']),
      chainId: 84532,
      contractAddress: addr(0xa0),
      tokenAddress: addr(0xb00 + n),
      metadata: doc,
      metadataHash: hash(0xc00 + n),
      blockNumber: 1_000 + n,
      transactionHash: hash(0xd00 + n),
    });
  }
  await db.saveAsset({ assetId: 'ÜNICODE-資産-🚀', chainId: 31337, contractAddress: addr(0xa1), tokenAddress: addr(0xbff), metadata: UNICODE_DOC, metadataHash: hash(0xcff), blockNumber: 0, transactionHash: hash(0xdff) });
  await db.updateAsset('ÜNICODE-資産-🚀', { blockNumber: 7 });

  const paid: string[] = [];
  for (const doc of leases) {
    n += 1;
    const lease = await db.saveLease({
      leaseId: String(doc['leaseId']),
      assetId: String(doc['assetId']),
      chainId: 84532,
      contractAddress: addr(0xe0),
      lessor: ADDRESS.test(String(doc['lessorAddress'])) ? String(doc['lessorAddress']) : addr(0xf00 + n),
      lessee: ADDRESS.test(String(doc['lesseeAddress'])) ? String(doc['lesseeAddress']) : addr(0xf10 + n),
      agreement: doc,
      status: 'active',
      blockNumber: 2_000 + n,
      transactionHash: hash(0xe00 + n),
    });
    paid.push(lease.leaseId);
  }
  await db.saveLease({ leaseId: 'LEASE-ÜNICODE-月-1', assetId: 'ÜNICODE-資産-🚀', chainId: 31337, contractAddress: addr(0xe1), lessor: addr(0xf01), lessee: addr(0xf02), agreement: { ...UNICODE_DOC, terms: { currency: 'USDC', paymentAmount: '99999999999999999999' } }, status: 'pending', blockNumber: 9, transactionHash: hash(0xeff) });
  await db.updateLease('LEASE-ÜNICODE-月-1', { status: 'completed' });

  for (let i = 0; i < 12; i += 1) {
    const event = await db.saveEvent({
      eventName: i % 2 === 0 ? 'LeaseMinted' : 'AssetRegistered',
      contractAddress: addr(0xab0 + i),
      blockNumber: 5_000 + Math.floor(i / 3),
      transactionHash: hash(0x7e0 + Math.floor(i / 3)),
      logIndex: i % 3,
      args: { tokenId: String(i), note: i === 3 ? UNICODE_DOC : 'plain', big: '115792089237316195423570985008687907853269984665640564039457584007913129639935' },
    });
    if (i % 3 === 0) await db.markEventProcessed(event.id);
  }

  const [a, b, c] = paid as [string, string, string];
  const hour = (h: number) => `2026-02-25T${String(h).padStart(2, '0')}`;
  let ref = 0x100000;
  const pay = (leaseId: string, ts: string, amount: string, mode: 'second' | 'batch-5s' = 'second') =>
    db.recordPayment({ leaseId, amount, timestamp: ts, mode, facilitatorTxHash: hash((ref += 1)) });
  for (let i = 0; i < paymentsPerHour; i += 1) {
    const s = String(i % 60).padStart(2, '0');
    await pay(a, `${hour(10)}:${s}:${String(Math.floor(i / 60) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z`, String(1_000 + i * 7));
    await pay(a, `${hour(11)}:${s}:${String((i * 5) % 60).padStart(2, '0')}.000Z`, String(5_000 * (i + 1)), 'batch-5s');
    await pay(c, `${hour(12)}:${s}:30.250Z`, String(123_456_789 + i));
  }
  // The smallest and the largest amount share an hour of their own (a batch total is bounded too).
  await pay(b, `${hour(13)}:00:00.000Z`, '0');
  await pay(b, `${hour(13)}:59:59.999Z`, MAX_AMOUNT.toString());

  const settle = async (leaseId: string, h: number, round: string) => {
    const batch = await db.getOpenBatchForLease(leaseId, `${hour(h)}:00:00.000Z`);
    if (!batch) throw new Error(`no open batch for ${leaseId} at ${h}`);
    await db.updateX402Batch(batch.id, { settlementTxHash: hash(0x5e7000 + h), revenueRoundId: round });
  };
  await settle(a, 10, 'round-1');
  await settle(b, 13, 'round-ü-2');
  await db.saveX402Batch({ leaseId: c, hourBucket: `${hour(14)}:00:00.000Z` });
  return db;
}

/** Every table of a store, through exportRecords. */
export type StoreDump = { [T in TableName]: TableRecords[T][] };

/** Reads every record of `db` in id order. */
export async function dumpStore(db: Database): Promise<StoreDump> {
  const dump: Partial<Record<TableName, unknown[]>> = {};
  for (const table of TABLES) {
    const rows: unknown[] = [];
    for await (const page of db.exportRecords(table, 1_000)) rows.push(...page);
    dump[table] = rows;
  }
  return dump as StoreDump;
}

/** Count and amount sum of every table. */
export async function summaries(db: Database): Promise<Record<TableName, { count: number; amountSum: bigint }>> {
  const out: Partial<Record<TableName, { count: number; amountSum: bigint }>> = {};
  for (const table of TABLES) out[table] = await db.summarizeTable(table);
  return out as Record<TableName, { count: number; amountSum: bigint }>;
}

/** True when every table of `db` is empty. */
export async function isEmpty(db: Database): Promise<boolean> {
  const all = await summaries(db);
  return TABLES.every((t) => all[t].count === 0 && all[t].amountSum === 0n);
}
