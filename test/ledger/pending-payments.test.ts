/**
 * A settled payment is never lost: recording is retried, then kept as a durable pending record
 * that reconcile reports and the admin replay records exactly once.
 */
import { appendFile, mkdtemp, open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { damagedFileOf, FilePendingPaymentStore, readPendingFile } from '../../src/ledger/pending-payments-file.js';
import { MemoryPendingPaymentStore, type NewPendingPayment, type PendingPaymentStore } from '../../src/ledger/pending-payments.js';
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

    const reconcile = await http(base, 'GET', '/api/system/reconcile', { headers: AUTH });
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
    expect((await http(base, 'GET', '/api/system/reconcile', { headers: AUTH })).body.consistent).toBe(true);
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
      listDamaged: async () => [],
    };
    const { db, server, requirements } = await flakyApp(failing);
    db.failures = -1;
    const answer = await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': paymentHeader(requirements, { from: PAYER }) } });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ access: 'granted', ledger: 'pending', facilitatorTxHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    // Money moved without a ledger row: reconcile says so, with the journaled settlement.
    const before = await http(server.url, 'GET', '/api/system/reconcile', { headers: AUTH });
    expect(before.body).toMatchObject({ consistent: false, unresolvedSettlements: [{ id: answer.body.intentId, state: 'settled', transaction: answer.body.facilitatorTxHash }] });
    db.failures = 0;
    const resolved = await http(server.url, 'POST', '/api/admin/settlements/resolve', { headers: AUTH });
    expect(resolved.body).toMatchObject({ recorded: [answer.body.intentId], unknown: [], failed: [], remaining: 0 });
    expect(await db.getPaymentByFacilitatorTxHash(answer.body.facilitatorTxHash)).toMatchObject({ leaseId: 'L-1', amountMinorUnits: 1_000_000n, payer: PAYER });
    expect((await http(server.url, 'GET', '/api/system/reconcile', { headers: AUTH })).body).toMatchObject({ consistent: true, unresolvedSettlements: [] });
  });

  it('refuses a payment already used for another lease before settling it, keeping no pending record', async () => {
    const { server, requirements } = await flakyApp();
    await activeLease(server.url, 'A-1', 'L-2');
    const header = paymentHeader(requirements, { from: PAYER });
    expect((await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': header } })).status).toBe(200);
    const other = await http(server.url, 'POST', '/api/leases/L-2/access', { headers: { 'x-payment': header } });
    expect(other.status).toBe(402);
    expect(other.body.code).toBe('PAYMENT_ALREADY_USED');
    expect((await http(server.url, 'GET', '/api/system/reconcile', { headers: AUTH })).body.pendingPayments).toEqual([]);
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
  it('file: keeps its records across reopen and compacts resolved ones', async () => {
    const path = await tempFile();
    const store = await FilePendingPaymentStore.open(path);
    await checkStore(store);
    // Readable without the lock while the store is open (what a CLI report does).
    expect((await readPendingFile(path)).pending.map((r) => r.attempts)).toEqual([4]);
    await store.close();
    const reopened = await FilePendingPaymentStore.open(path);
    cleanups.push(() => reopened.close());
    expect((await reopened.listUnresolved()).map((r) => r.attempts)).toEqual([4]);
    expect(await reopened.listDamaged()).toEqual([]);
    expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('memory: the same contract, and nothing damaged', async () => {
    const store = new MemoryPendingPaymentStore();
    await checkStore(store);
    expect(await store.listDamaged()).toEqual([]);
  });
});

const hashOf = (digit: string) => `0x${digit.repeat(64)}`;
const hashesOf = async (store: PendingPaymentStore) => (await store.listUnresolved()).map((r) => r.facilitatorTxHash);

/** A pending file holding a record per hash, its store closed. */
async function closedFileWith(...hashes: string[]): Promise<string> {
  const path = await tempFile();
  const store = await FilePendingPaymentStore.open(path);
  for (const hash of hashes) await store.add(record(hash));
  await store.close();
  return path;
}

describe('the pending file never loses a record', () => {
  it('a torn append (half a line, a crash, reopen, append) keeps every complete record', async () => {
    const path = await closedFileWith(hashOf('a'), hashOf('b'));
    // The crash: the next record's line was half written.
    const whole = await readFile(path, 'utf8');
    const fragment = (whole.trim().split('\n')[0] ?? '').slice(0, 60);
    await appendFile(path, fragment);

    const reopened = await FilePendingPaymentStore.open(path);
    expect(await hashesOf(reopened)).toEqual([hashOf('a'), hashOf('b')]);
    expect(reopened.setAsideAtOpen).toEqual([expect.objectContaining({ file: path, line: 3, text: fragment, reason: expect.stringContaining('torn last line') })]);
    await reopened.add(record(hashOf('c')));
    await reopened.close();

    const third = await FilePendingPaymentStore.open(path);
    cleanups.push(() => third.close());
    expect(await hashesOf(third)).toEqual([hashOf('a'), hashOf('b'), hashOf('c')]);
    // The fragment is still reported from the side file, not rewritten away.
    expect(await third.listDamaged()).toEqual([expect.objectContaining({ text: fragment, setAsideAt: expect.any(String) })]);
  });

  it('a write cut short while the store runs does not swallow the next record', async () => {
    const path = await tempFile();
    const store = await FilePendingPaymentStore.open(path);
    cleanups.push(() => store.close());
    await store.add(record(hashOf('a')));
    // One write of this store fails half-way (a full disk): a fragment without its newline is left.
    const probe = await open(path, 'r');
    const fileHandle = Object.getPrototypeOf(probe) as { appendFile: (this: FileHandle, data: string) => Promise<void> };
    await probe.close();
    const appendFileOf = fileHandle.appendFile;
    const failOnce = vi.spyOn(fileHandle, 'appendFile').mockImplementationOnce(async function (this: FileHandle, data: string) {
      await appendFileOf.call(this, data.slice(0, 40));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    await expect(store.add(record(hashOf('c')))).rejects.toThrow(/ENOSPC/);
    failOnce.mockRestore();
    await store.add(record(hashOf('b')));
    const report = await readPendingFile(path);
    expect(report.pending.map((r) => r.facilitatorTxHash)).toEqual([hashOf('a'), hashOf('b')]);
    expect(report.damaged).toEqual([expect.objectContaining({ line: 2, setAsideAt: null })]);
    expect(await store.listDamaged()).toHaveLength(1);
  });

  it('a damaged line is kept aside, never rewritten away, and reported by reconcile and the metrics', async () => {
    const path = await closedFileWith(hashOf('a'), hashOf('b'));
    // One byte of the first record changes on disk.
    const lines = (await readFile(path, 'utf8')).split('\n');
    const damagedText = (lines[0] ?? '').replace('"attempts":2', '"attempts":3');
    await writeFile(path, [damagedText, ...lines.slice(1)].join('\n'));

    const reopened = await FilePendingPaymentStore.open(path);
    expect(await hashesOf(reopened)).toEqual([hashOf('b')]);
    const kept = [expect.objectContaining({ file: path, line: 1, reason: 'checksum mismatch', text: damagedText, setAsideAt: expect.any(String) })];
    expect(await reopened.listDamaged()).toEqual(kept);
    expect((await readFile(damagedFileOf(path), 'utf8')).trim().split('\n')).toHaveLength(1);
    await reopened.close();
    // Reopening again neither loses nor duplicates it.
    const again = await FilePendingPaymentStore.open(path);
    expect(again.setAsideAtOpen).toEqual([]);
    expect(await again.listDamaged()).toEqual(kept);
    expect((await readPendingFile(path)).damaged).toEqual(kept);

    const db = new MockDatabase();
    await db.connect();
    const server = await startApp({ db, pending: again });
    cleanups.push(async () => {
      await server.close();
      await again.close();
    });
    const reconcile = await http(server.url, 'GET', '/api/system/reconcile', { headers: AUTH });
    expect(reconcile.body).toMatchObject({ consistent: false, damagedPendingLines: [{ file: path, line: 1, reason: 'checksum mismatch', text: damagedText }] });
    const metrics = await http(server.url, 'GET', '/metrics', { headers: AUTH });
    expect(metrics.body).toMatch(/^leasing_x402_pending_payment_damaged_lines 1$/m);
    expect(metrics.body).toMatch(/^leasing_x402_pending_payments 1$/m);
  });

  it('reads lines of the earlier unframed format', async () => {
    const path = await closedFileWith(hashOf('a'));
    const framed = (await readFile(path, 'utf8')).trim();
    await writeFile(path, `${framed.slice(framed.indexOf(' ') + 1)}\n`);
    const reopened = await FilePendingPaymentStore.open(path);
    cleanups.push(() => reopened.close());
    expect(await hashesOf(reopened)).toEqual([hashOf('a')]);
    expect(await reopened.listDamaged()).toEqual([]);
  });
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
