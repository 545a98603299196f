/**
 * A settled payment is never lost: recording is retried, then kept as a durable pending record
 * that reconcile reports and the admin replay records exactly once.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FilePendingPaymentStore, readPendingFile } from '../../src/ledger/pending-payments-file.js';
import { type NewPendingPayment, type PendingPaymentStore } from '../../src/ledger/pending-payments.js';
import { paymentHeader, THROWAWAY_PAYER } from '../../src/api/x402/client.js';
import type { RecordPaymentParams } from '../../src/storage/contract/database.js';
import { StorageError } from '../../src/storage/contract/errors.js';
import { MockDatabase } from '../../src/storage/backends/memory/mock-database.js';
import { AUTH, activeLease, http, startApp, type Running } from '../api/support.js';

const PAYER = THROWAWAY_PAYER.address;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A MockDatabase whose payment recording fails while `failures` is positive (or forever at -1);
 * recordPayment goes through recordPaymentWithOutcome, so both fail alike.
 */
class FlakyDatabase extends MockDatabase {
  failures = 0;
  calls = 0;
  override async recordPaymentWithOutcome(params: RecordPaymentParams) {
    this.calls += 1;
    if (this.failures !== 0) {
      if (this.failures > 0) this.failures -= 1;
      throw new StorageError('CONNECTION', 'connection reset by peer');
    }
    return super.recordPaymentWithOutcome(params);
  }
}

async function flakyApp(pending?: PendingPaymentStore): Promise<{ db: FlakyDatabase; server: Running; requirements: Parameters<typeof paymentHeader>[0] }> {
  const db = new FlakyDatabase();
  await db.connect();
  const server = await startApp({ db, ...(pending ? { pending } : {}) });
  cleanups.push(() => server.close());
  await activeLease(server.url, 'A-1', 'L-1');
  const requirements = (await http(server.url, 'GET', '/api/leases/L-1/x402/requirements')).body.accepts[0];
  return { db, server, requirements };
}

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pending-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'data', 'pending-payments.jsonl');
}

describe('settled payments when the ledger fails', () => {
  it('retries a transient failure and records the payment once', async () => {
    const { db, server, requirements } = await flakyApp();
    db.failures = 2;
    const paid = await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': paymentHeader(requirements, { from: PAYER }) } });
    expect(paid.status).toBe(200);
    expect(paid.body.ledger).toBe('recorded');
    expect(db.calls).toBe(3);
    expect((await http(server.url, 'GET', '/api/leases/L-1/payments')).body.items).toHaveLength(1);
  });

  it('keeps a payment it cannot record in the durable file, reports it, and replays it once', async () => {
    const path = await tempFile();
    const store = await FilePendingPaymentStore.open(path);
    const { db, server, requirements } = await flakyApp(store);
    db.failures = -1;
    const header = paymentHeader(requirements, { from: PAYER });
    const paid = await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': header } });
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ access: 'granted', ledger: 'pending', pendingId: expect.any(String) });
    expect((await http(server.url, 'GET', '/api/leases/L-1/payments')).body.items).toHaveLength(0);
    await expect(FilePendingPaymentStore.open(path)).rejects.toMatchObject({ code: 'CONFLICT' });

    // A restart: the record is read back from the file by a new store and a new app.
    await server.close();
    await store.close();
    const reopened = await FilePendingPaymentStore.open(path);
    cleanups.push(() => reopened.close());
    const [kept] = await reopened.listUnresolved();
    expect(kept).toMatchObject({ facilitatorTxHash: paid.body.facilitatorTxHash, leaseId: 'L-1', attempts: 3, error: expect.stringContaining('CONNECTION') });
    expect(kept?.payload.payment).toMatchObject({ amount: '1000000', payer: PAYER, mode: 'second' });
    const restarted = await startApp({ db, pending: reopened });
    cleanups.push(() => restarted.close());
    const base = restarted.url;

    const reconcile = await http(base, 'GET', '/api/system/reconcile');
    expect(reconcile.body).toMatchObject({ consistent: false, pendingPayments: [{ facilitatorTxHash: paid.body.facilitatorTxHash }] });
    const stillDown = await http(base, 'POST', '/api/admin/pending/replay', { headers: AUTH });
    expect(stillDown.body).toMatchObject({ attempted: 1, recorded: [], remaining: 1 });

    db.failures = 0;
    const replayed = await http(base, 'POST', '/api/admin/pending/replay', { headers: AUTH });
    expect(replayed.body).toMatchObject({ attempted: 1, recorded: [paid.body.facilitatorTxHash], failed: [], remaining: 0 });
    const again = await http(base, 'POST', '/api/admin/pending/replay', { headers: AUTH });
    expect(again.body).toMatchObject({ attempted: 0, remaining: 0 });
    // The client resending its header later is a replay of the recorded payment, not a new one.
    const resent = await http(base, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': header } });
    expect(resent.body.ledger).toBe('replayed');
    const ledger = await http(base, 'GET', '/api/leases/L-1/payments');
    expect(ledger.body.items).toHaveLength(1);
    expect(ledger.body.items[0].facilitatorTxHash).toBe(paid.body.facilitatorTxHash);
    expect((await http(base, 'GET', '/api/system/reconcile')).body.consistent).toBe(true);
  });

  it('grants a settled payment the ledger and the pending store both refuse, and the journal records it later', async () => {
    const failing: PendingPaymentStore = {
      kind: 'broken',
      add: async () => {
        throw new Error('disk full');
      },
      listUnresolved: async () => [],
      recordFailure: async () => undefined,
      resolve: async () => undefined,
      close: async () => undefined,
    };
    const { db, server, requirements } = await flakyApp(failing);
    db.failures = -1;
    const answer = await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': paymentHeader(requirements, { from: PAYER }) } });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ access: 'granted', ledger: 'pending', facilitatorTxHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    // Money moved without a ledger row: reconcile says so, with the journaled settlement.
    const before = await http(server.url, 'GET', '/api/system/reconcile');
    expect(before.body).toMatchObject({ consistent: false, unresolvedSettlements: [{ id: answer.body.intentId, state: 'settled', transaction: answer.body.facilitatorTxHash }] });
    db.failures = 0;
    const resolved = await http(server.url, 'POST', '/api/admin/settlements/resolve', { headers: AUTH });
    expect(resolved.body).toMatchObject({ recorded: [answer.body.intentId], unknown: [], failed: [], remaining: 0 });
    expect(await db.getPaymentByFacilitatorTxHash(answer.body.facilitatorTxHash)).toMatchObject({ leaseId: 'L-1', amountMinorUnits: 1_000_000n, payer: PAYER });
    expect((await http(server.url, 'GET', '/api/system/reconcile')).body).toMatchObject({ consistent: true, unresolvedSettlements: [] });
  });

  it('refuses a payment already used for another lease before settling it, keeping no pending record', async () => {
    const { server, requirements } = await flakyApp();
    await activeLease(server.url, 'A-1', 'L-2');
    const header = paymentHeader(requirements, { from: PAYER });
    expect((await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': header } })).status).toBe(200);
    const other = await http(server.url, 'POST', '/api/leases/L-2/access', { headers: { 'x-payment': header } });
    expect(other.status).toBe(402);
    expect(other.body.code).toBe('PAYMENT_ALREADY_USED');
    expect((await http(server.url, 'GET', '/api/system/reconcile')).body.pendingPayments).toEqual([]);
  });
});

const record = (hash: string): NewPendingPayment => ({
  facilitatorTxHash: hash,
  leaseId: 'L-1',
  payload: { payment: { leaseId: 'L-1', amount: '5', timestamp: '2026-01-01T00:00:00.000Z', mode: 'second', facilitatorTxHash: hash }, settlement: { payer: PAYER } },
  error: 'CONNECTION: down',
  attempts: 2,
});

/** The store contract, checked on each implementation. */
async function checkStore(store: PendingPaymentStore): Promise<void> {
  const a = `0x${'a'.repeat(64)}`;
  const b = `0x${'b'.repeat(64)}`;
  const first = await store.add(record(a));
  await store.add(record(b));
  const merged = await store.add({ ...record(a), error: 'TIMEOUT: slow', attempts: 1 });
  expect(merged).toMatchObject({ id: first.id, attempts: 3, error: 'TIMEOUT: slow', resolvedAt: null });
  await store.recordFailure(a, 'CONFLICT: settled hour');
  await store.resolve(b);
  const unresolved = await store.listUnresolved();
  expect(unresolved.map((r) => [r.facilitatorTxHash, r.attempts, r.error])).toEqual([[a, 4, 'CONFLICT: settled hour']]);
  expect(unresolved[0]?.payload).toEqual(record(a).payload);
}

describe('pending payment stores', () => {
  it('file: keeps its records across reopen, compacts resolved ones, skips a torn line', async () => {
    const path = await tempFile();
    const store = await FilePendingPaymentStore.open(path);
    await checkStore(store);
    // Readable without the lock while the store is open (what a CLI report does).
    expect((await readPendingFile(path)).map((r) => r.attempts)).toEqual([4]);
    await store.close();
    await writeFile(path, (await readFile(path, 'utf8')) + '{"op":"add","rec', { flag: 'w' });
    const reopened = await FilePendingPaymentStore.open(path);
    cleanups.push(() => reopened.close());
    expect(reopened.skippedLines).toBe(1);
    expect((await reopened.listUnresolved()).map((r) => r.attempts)).toEqual([4]);
    expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(1);
  });
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
