// `reconcile` exits 0 on a clean ledger and 1 (listing what it found) on a batch that disagrees with its payments, a pending payment or a damaged pending line; `--full` reads again the days whose results are kept.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type OpenBackend } from '../support/backends.js';
import { runCli } from '../support/cli.js';
import { hash, newAsset, newLease } from '../conformance/fixtures.js';
import { damagedFileOf, FilePendingPaymentStore } from '../../src/ledger/pending-payments-file.js';
import { FileSettlementJournal } from '../../src/ledger/settlement-journal-file.js';

function reconcileText(url: string, pendingFile: string, json = false): Promise<{ code: number | null; stdout: string }> {
  const journalFile = join(dirname(pendingFile), 'settlement-journal.jsonl');
  const files = ['--pending-file', pendingFile, '--journal-file', journalFile];
  return runCli(['reconcile', ...(json ? ['--json'] : []), '--database-url', url, ...files]);
}

const reconcileCli = (url: string, pendingFile: string) => reconcileText(url, pendingFile, true);

describe('reconcile command', () => {
  let store: OpenBackend & { url: string };
  let dir: string;
  let pendingFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reconcile-'));
    pendingFile = join(dir, 'pending-payments.jsonl');
    store = await openPostgres();
    const { db } = store;
    const asset = await db.saveAsset(newAsset());
    await db.saveLease(newLease(asset.assetId, { leaseId: 'LEASE-R', status: 'active' }));
    await db.recordPayment({ leaseId: 'LEASE-R', amount: '700', timestamp: '2026-02-25T10:15:00Z', mode: 'second' });
  });

  afterAll(async () => {
    await store?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 on a clean ledger', async () => {
    const { code, stdout } = await reconcileCli(store.url, pendingFile);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ batchesChecked: 1, paymentsChecked: 1, differences: [], pendingPayments: [] });
  });

  it('exits 1 and lists a settled payment the service could not record', async () => {
    const pending = await FilePendingPaymentStore.open(pendingFile);
    try {
      await pending.add({
        facilitatorTxHash: hash(0xabc),
        leaseId: 'LEASE-R',
        payload: { payment: { leaseId: 'LEASE-R', amount: '9', timestamp: '2026-02-25T10:16:00Z', mode: 'second', facilitatorTxHash: hash(0xabc) }, settlement: {} },
        error: 'CONNECTION: database unreachable',
        attempts: 4,
      });
    } finally {
      await pending.close();
    }
    const { code, stdout } = await reconcileCli(store.url, pendingFile);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.differences).toEqual([]);
    expect(report.pendingPayments.map((p: { facilitatorTxHash: string }) => p.facilitatorTxHash)).toEqual([hash(0xabc)]);
    await rm(pendingFile);
  });

  it('exits 1 and lists a journaled settlement whose outcome is unknown, with what is needed to finish it', async () => {
    const journal = await FileSettlementJournal.open(join(dir, 'settlement-journal.jsonl'));
    try {
      const intent = await journal.begin({
        nonce: hash(0xdef),
        leaseId: 'LEASE-R',
        mode: 'second',
        amount: '9',
        payer: `0x${'9'.repeat(40)}`,
        pricedAt: '2026-02-25T10:17:00.000Z',
        intervalEnd: '2026-02-25T10:17:01.000Z',
        expiresAt: '2026-02-25T10:18:00.000Z',
        payment: { payload: { authorization: { nonce: hash(0xdef) }, signature: '0xab' } },
        requirements: { network: 'base-sepolia' },
      });
      await journal.update(intent.id, { state: 'unknown', reason: 'facilitator settle timed out' });
    } finally {
      await journal.close();
    }
    const { code, stdout } = await reconcileCli(store.url, pendingFile);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.unresolvedSettlements).toMatchObject([
      { state: 'unknown', nonce: hash(0xdef), leaseId: 'LEASE-R', amount: '9', reason: 'facilitator settle timed out' },
    ]);
    expect(report.unresolvedSettlements[0].payment.payload.authorization.nonce).toBe(hash(0xdef));
    await rm(join(dir, 'settlement-journal.jsonl'));
  });

  it('exits 1 and lists a damaged line of the pending file, kept aside by the service', async () => {
    const torn = '1234abcd {"op":"add","at":"2026-02-25T10:16:00.000Z","record":{"facilitatorTxHash":"0x';
    await writeFile(pendingFile, torn);
    await (await FilePendingPaymentStore.open(pendingFile)).close();
    const { code, stdout } = await reconcileCli(store.url, pendingFile);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.pendingPayments).toEqual([]);
    expect(report.damagedPendingLines).toEqual([{ file: pendingFile, line: 1, reason: 'torn last line (checksum mismatch)', text: torn, setAsideAt: expect.any(String) }]);
    const text = await reconcileText(store.url, pendingFile);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`damaged: ${pendingFile} line 1 (torn last line (checksum mismatch))`);
    expect(text.stdout).toContain('1 damaged pending line(s)');
    await rm(pendingFile);
    await rm(damagedFileOf(pendingFile));
  });

  it('exits 1 and names the batch when its total disagrees with its payments', async () => {
    // A batch imported with a total its payments do not back: the kind of damage reconcile exists for.
    await store.db.importRecords('x402_batches', [
      {
        id: '00000000-0000-4000-8000-000000000001',
        leaseId: 'LEASE-R',
        hourBucket: '2026-02-25T11:00:00.000Z',
        totalAmountMinorUnits: 5n,
        paymentCount: 1,
        startedAt: new Date('2026-02-25T11:00:00Z'),
        closedAt: new Date('2026-02-25T12:00:00Z'),
        createdAt: new Date(),
      },
    ]);
    const { code, stdout } = await reconcileCli(store.url, pendingFile);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).differences).toEqual([
      {
        leaseId: 'LEASE-R',
        hourBucket: '2026-02-25T11:00:00.000Z',
        batchId: '00000000-0000-4000-8000-000000000001',
        storedTotal: '5',
        storedCount: 1,
        paymentsTotal: '0',
        paymentsCount: 0,
      },
    ]);
  });

  it('reads a day that is over once and keeps the result; --full reads it again', async () => {
    // The payments of 2026-02-25 wait in the DEFAULT partition until the day has its own.
    expect((await runCli(['partitions', 'ensure', '--from-default', '--database-url', store.url])).stdout).toContain('2026-02-25');
    const hours = async () => (await reconcileCli(store.url, pendingFile)).stdout;
    expect(JSON.parse(await hours()).differences.map((d: { hourBucket: string }) => d.hourBucket)).toEqual(['2026-02-25T11:00:00.000Z']);
    // The kept sums of the day, altered by hand, are what the next check reads...
    const client = new pg.Client({ connectionString: store.url });
    await client.connect();
    try {
      expect((await client.query("UPDATE x402_reconcile_hours SET total = total + 1 WHERE day = '2026-02-25'")).rowCount).toBe(1);
    } finally {
      await client.end();
    }
    expect(JSON.parse(await hours()).differences.map((d: { hourBucket: string }) => d.hourBucket)).toEqual(['2026-02-25T10:00:00.000Z', '2026-02-25T11:00:00.000Z']);
    // ...until --full reads the day from its payments again.
    const full = await runCli(['reconcile', '--json', '--full', '--database-url', store.url, '--pending-file', pendingFile, '--journal-file', join(dir, 'none.jsonl')]);
    expect(full.code).toBe(1);
    expect(JSON.parse(full.stdout).differences.map((d: { hourBucket: string }) => d.hourBucket)).toEqual(['2026-02-25T11:00:00.000Z']);
    expect(JSON.parse(await hours()).differences).toHaveLength(1);
  });
});
