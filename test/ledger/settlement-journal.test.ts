/**
 * The settlement journal: durable across reopening, compacted to what is still needed, damaged
 * and torn lines kept aside (never dropped), one owner at a time; which resent payments are
 * granted; and how its resolution finishes intents.
 */
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveSettlements, type SettlementLookupResult } from '../../src/ledger/resolve-settlements.js';
import { FileSettlementJournal, readJournalFile } from '../../src/ledger/settlement-journal-file.js';
import { FORGET_RESOLVED_AFTER_EXPIRY_MS, MemorySettlementJournal, grantFor, type NewSettlementIntent, type SettlementJournal } from '../../src/ledger/settlement-journal.js';
import { MockDatabase } from '../../src/storage/backends/memory/mock-database.js';
import { StorageError } from '../../src/storage/contract/errors.js';
import { hash, newAsset, newLease } from '../conformance/fixtures.js';

const HOUR = 3_600_000;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'journal-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function intent(n: number, overrides: Partial<NewSettlementIntent> = {}): NewSettlementIntent {
  const now = Date.now();
  return {
    nonce: hash(n).toUpperCase().replace('0X', '0x'),
    leaseId: 'L-1',
    mode: 'second',
    amount: '1000',
    payer: `0x${'9'.repeat(40)}`,
    pricedAt: new Date(now).toISOString(),
    intervalEnd: new Date(now + 1000).toISOString(),
    expiresAt: new Date(now + HOUR).toISOString(),
    payment: { payload: { authorization: { nonce: hash(n) }, signature: '0xab' } },
    requirements: { network: 'base-sepolia' },
    ...overrides,
  };
}

describe('the file journal', () => {
  it('keeps intents and their outcomes across reopening, and forgets what is resolved and expired', async () => {
    const path = join(dir, 'durable.jsonl');
    const journal = await FileSettlementJournal.open(path);
    const open = await journal.begin(intent(1));
    const settled = await journal.begin(intent(2));
    const afterSettle = await journal.update(settled.id, { state: 'settled', transaction: hash(0x22), settledPayer: undefined, network: 'base-sepolia' });
    // A field the change leaves undefined is absent in memory too, as it is in the file.
    expect(afterSettle).not.toHaveProperty('settledPayer');
    expect(journal.byNonce(hash(2))).not.toHaveProperty('settledPayer');
    expect(afterSettle).toMatchObject({ state: 'settled', transaction: hash(0x22), network: 'base-sepolia' });
    const used = await journal.begin(intent(3));
    await journal.update(used.id, { state: 'recorded', paymentId: 'p-3' });
    const expired = await journal.begin(intent(4, { expiresAt: new Date(Date.now() - 1).toISOString() }));
    await journal.update(expired.id, { state: 'recorded', paymentId: 'p-4' });
    await journal.close();

    const reopened = await FileSettlementJournal.open(path);
    expect(reopened.unresolved().map((e) => [e.id, e.state])).toEqual([
      [open.id, 'intent'],
      [settled.id, 'settled'],
    ]);
    expect(reopened.unresolved()[1]).toMatchObject({ transaction: hash(0x22), network: 'base-sepolia' });
    expect(reopened.unresolved()[1]).not.toHaveProperty('settledPayer');
    // Looked up by nonce in any case; a used authorization is remembered until it expires.
    expect(reopened.byNonce(hash(3))).toMatchObject({ state: 'recorded', paymentId: 'p-3' });
    expect(reopened.byNonce(hash(4))).toBeUndefined();
    expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(3);
    await reopened.close();
  });

  it('writes each record as a checksummed line of JSON with its instants as ISO strings', async () => {
    const path = join(dir, 'lines.jsonl');
    const journal = await FileSettlementJournal.open(path);
    const begun = await journal.begin(intent(5));
    const settled = await journal.update(begun.id, { state: 'settled', transaction: hash(0x55), settledPayer: undefined, network: 'base-sepolia' });
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    await journal.close();
    const records = lines.map((line) => {
      const [crc, ...json] = line.split(' ');
      expect(crc).toMatch(/^[0-9a-f]{8}$/);
      return JSON.parse(json.join(' ')) as unknown;
    });
    const { createdAt, updatedAt, ...rest } = begun;
    expect(records).toEqual([
      { op: 'begin', entry: { ...rest, createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString() } },
      { op: 'update', id: begun.id, at: settled.updatedAt.toISOString(), change: { state: 'settled', transaction: hash(0x55), network: 'base-sepolia' } },
    ]);
    // Keys in the order the entry has them, as the file always held them.
    expect(Object.keys((records[0] as { entry: object }).entry)).toEqual(Object.keys(begun));
  });

  it('keeps damaged and torn lines aside, reports them, and never loses the next record', async () => {
    const path = join(dir, 'damaged.jsonl');
    const journal = await FileSettlementJournal.open(path);
    const kept = await journal.begin(intent(5));
    await journal.close();
    // A line damaged on disk, and an append torn by a crash (no newline).
    await appendFile(path, 'not json at all\n0badc0de {"op":"begin","entry":{"id":"torn');
    const reopened = await FileSettlementJournal.open(path);
    expect(reopened.setAsideAtOpen.map((d) => [d.line, d.reason])).toEqual([
      [2, 'not a framed record'],
      [3, 'torn last line (checksum mismatch)'],
    ]);
    const next = await reopened.begin(intent(6));
    expect(await reopened.listDamaged()).toHaveLength(2);
    await reopened.close();
    const { unresolved, damaged } = await readJournalFile(path);
    expect(unresolved.map((e) => e.id)).toEqual([kept.id, next.id]);
    expect(damaged.map((d) => d.text)).toEqual(['not json at all', '0badc0de {"op":"begin","entry":{"id":"torn']);
    const aside = (await readFile(`${path}.damaged`, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { text: string });
    expect(aside.map((a) => a.text)).toEqual(['not json at all', '0badc0de {"op":"begin","entry":{"id":"torn']);
  });

  it('keeps every one of many concurrent writes, in order (they share syncs)', async () => {
    const path = join(dir, 'concurrent.jsonl');
    const journal = await FileSettlementJournal.open(path);
    const begun = await Promise.all(Array.from({ length: 100 }, (_, i) => journal.begin(intent(1000 + i))));
    await Promise.all(begun.filter((_, i) => i % 2 === 0).map((e) => journal.update(e.id, { state: 'settled', transaction: hash(0x5000) })));
    await journal.close();
    const reopened = await FileSettlementJournal.open(path);
    expect(reopened.unresolved().map((e) => e.id)).toEqual(begun.map((e) => e.id));
    expect(reopened.unresolved().filter((e) => e.state === 'settled')).toHaveLength(50);
    await reopened.close();
  });

  it('has one owner at a time', async () => {
    const path = join(dir, 'owned.jsonl');
    const first = await FileSettlementJournal.open(path);
    await expect(FileSettlementJournal.open(path)).rejects.toMatchObject({ code: 'CONFLICT' });
    await first.close();
    await (await FileSettlementJournal.open(path)).close();
  });
});

describe('a resent payment', () => {
  const at = new Date();
  const entry = (state: 'intent' | 'unknown' | 'settled' | 'recorded' | 'pending' | 'not_settled', intervalEnd = new Date(at.getTime() + 500)) => ({
    ...intent(7, { intervalEnd: intervalEnd.toISOString() }),
    id: 'i-7',
    state,
    createdAt: at,
    updatedAt: at,
  });

  it('is granted again only for the same lease and mode inside the interval it paid for', () => {
    expect(grantFor(undefined, 'L-1', 'second', at).kind).toBe('new');
    for (const state of ['settled', 'recorded', 'pending'] as const) {
      expect(grantFor(entry(state), 'L-1', 'second', at).kind).toBe('grant');
      expect(grantFor(entry(state, at), 'L-1', 'second', at).kind).toBe('used');
      expect(grantFor(entry(state), 'L-2', 'second', at).kind).toBe('used');
      expect(grantFor(entry(state), 'L-1', 'batch-5s', at).kind).toBe('used');
    }
  });

  it('is neither granted nor settled again while its settlement is open, and may be retried once refused', () => {
    expect(grantFor(entry('intent'), 'L-1', 'second', at).kind).toBe('in_progress');
    expect(grantFor(entry('unknown'), 'L-1', 'second', at).kind).toBe('in_progress');
    expect(grantFor(entry('not_settled'), 'L-1', 'second', at).kind).toBe('new');
  });
});

describe('resolving the journal', () => {
  async function setup(): Promise<{ db: MockDatabase; journal: SettlementJournal }> {
    const db = new MockDatabase();
    await db.connect();
    const asset = await db.saveAsset(newAsset());
    await db.saveLease(newLease(asset.assetId, { leaseId: 'L-1', status: 'active' }));
    return { db, journal: new MemorySettlementJournal() };
  }

  it('records settled intents, asks about the rest, and reports what stays unknown', async () => {
    const { db, journal } = await setup();
    const settled = await journal.begin(intent(10));
    await journal.update(settled.id, { state: 'settled', transaction: hash(0x10) });
    const found = await journal.begin(intent(11));
    const refused = await journal.begin(intent(12));
    const unknown = await journal.begin(intent(13));
    const broken = await journal.begin(intent(14));
    const answers: Record<string, SettlementLookupResult> = {
      [found.id]: { state: 'settled', transaction: hash(0x11), payer: `0x${'8'.repeat(40)}`, network: 'base-sepolia' },
      [refused.id]: { state: 'not_settled', reason: 'authorization_expired' },
      [unknown.id]: { state: 'unknown', reason: 'the facilitator cannot tell' },
    };
    const lookup = async (i: { id: string }) => {
      const answer = answers[i.id];
      if (answer === undefined) throw new Error('facilitator down');
      return answer;
    };

    const report = await resolveSettlements({ journal, db, lookup });
    expect(report.recorded).toEqual([settled.id, found.id]);
    expect(report.notSettled).toEqual([refused.id]);
    expect(report.unknown.map((i) => [i.id, i.state, i.reason])).toEqual([
      [unknown.id, 'unknown', 'the facilitator cannot tell'],
      [broken.id, 'unknown', 'the lookup failed: facilitator down'],
    ]);
    expect(await db.getPaymentByFacilitatorTxHash(hash(0x11))).toMatchObject({ leaseId: 'L-1', amountMinorUnits: 1000n, payer: `0x${'8'.repeat(40)}` });
    expect(journal.unresolved().map((i) => i.id)).toEqual([unknown.id, broken.id]);

    // Running again records nothing twice.
    const again = await resolveSettlements({ journal, db, lookup });
    expect(again.recorded).toEqual([]);
    expect((await db.getX402PaymentsByLease('L-1')).length).toBe(2);
  });

  it('leaves a settled intent the ledger refuses for the next run, and young intents to their request', async () => {
    const { db, journal } = await setup();
    const settled = await journal.begin(intent(20));
    await journal.update(settled.id, { state: 'settled', transaction: hash(0x20) });
    const failing = { recordPaymentWithOutcome: async () => Promise.reject(new StorageError('CONNECTION', 'down')) };
    const lookup = async (): Promise<SettlementLookupResult> => ({ state: 'unknown', reason: 'n/a' });
    const report = await resolveSettlements({ journal, db: failing, lookup });
    expect(report.failed).toEqual([{ id: settled.id, code: 'CONNECTION', message: 'down' }]);
    expect(journal.unresolved().map((i) => i.state)).toEqual(['settled']);

    const young = await resolveSettlements({ journal, db, lookup, minAgeMs: 60_000 });
    expect(young.recorded).toEqual([]);
    expect((await resolveSettlements({ journal, db, lookup })).recorded).toEqual([settled.id]);
  });
});

describe('a long-running journal', () => {
  it('compacts its file by itself as it grows, keeping exactly what a reopened journal needs', async () => {
    const path = join(dir, 'growing.jsonl');
    const journal = await FileSettlementJournal.open(path, { compactAfterBytes: 16 * 1024 });
    const past = new Date(Date.now() - 2 * HOUR).toISOString();
    // 400 settled-and-recorded payments whose authorizations expired: not needed any more.
    await Promise.all(
      Array.from({ length: 400 }, async (_, n) => {
        const entry = await journal.begin(intent(3000 + n, { expiresAt: past }));
        await journal.update(entry.id, { state: 'recorded', paymentId: `p-${n}` });
      }),
    );
    const open = await journal.begin(intent(2001));
    const live = await journal.begin(intent(2002));
    await journal.update(live.id, { state: 'recorded', paymentId: 'p-live' });
    // The compaction the growth started runs in the background (each caller's line was durable
    // already), so it may still be running here; it must have been started and must succeed.
    await vi.waitFor(() => expect(journal.lastCompaction).toBeDefined(), { timeout: 5_000 });
    expect(journal.lastCompaction).not.toHaveProperty('error');

    const done = await journal.compact();
    expect(done.recordsKept).toBe(2);
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    await journal.close();

    const reopened = await FileSettlementJournal.open(path);
    expect(reopened.unresolved().map((e) => e.id)).toEqual([open.id]);
    expect(reopened.byNonce(hash(2002))).toMatchObject({ id: live.id, state: 'recorded', paymentId: 'p-live' });
    expect(reopened.byNonce(hash(3000))).toBeUndefined();
    expect(await reopened.listDamaged()).toEqual([]);
    await reopened.close();
  });

  it('compacts from what it holds in memory to what folding its file would keep, and reads the file back when another hand wrote to it', async () => {
    const past = new Date(Date.now() - 2 * HOUR).toISOString();
    const soon = new Date(Date.now() + HOUR).toISOString();
    // The same history, in every state and with intervals over and not, in two journals.
    const history = async (journal: FileSettlementJournal) => {
      for (let n = 0; n < 60; n++) {
        const entry = await journal.begin(intent(4000 + n, { expiresAt: n % 3 === 0 ? past : soon, intervalEnd: n % 2 === 0 ? past : soon }));
        if (n % 5 === 1) await journal.update(entry.id, { state: 'settled', transaction: hash(0x4000 + n) });
        if (n % 5 === 2) await journal.update(entry.id, { state: 'recorded', paymentId: `p-${n}` });
        if (n % 5 === 3) await journal.update(entry.id, { state: 'unknown', reason: 'timeout' });
        if (n % 5 === 4) await journal.update(entry.id, { state: 'not_settled', reason: 'refused' });
      }
    };
    const fromState = await FileSettlementJournal.open(join(dir, 'state.jsonl'));
    await history(fromState);
    const viaState = await fromState.compact();
    expect(viaState.from).toBe('state');

    const fromFile = await FileSettlementJournal.open(join(dir, 'folded.jsonl'));
    await history(fromFile);
    await appendFile(join(dir, 'folded.jsonl'), 'not a journal line\n');
    const viaFile = await fromFile.compact();
    expect(viaFile).toMatchObject({ from: 'file', setAside: 1 });

    expect(viaState.recordsKept).toBe(viaFile.recordsKept);
    expect(viaState.recordsKept).toBeGreaterThan(0);
    expect(viaState.recordsKept).toBeLessThan(60);
    // Both files hold the same entries (ids and instants differ between the two journals).
    const kept = async (path: string) =>
      (await readFile(path, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line.slice(9)) as { entry: Record<string, unknown> })
        .map(({ entry }) => ({ ...entry, id: undefined, createdAt: undefined, updatedAt: undefined, pricedAt: undefined }));
    expect(await kept(join(dir, 'state.jsonl'))).toEqual(await kept(join(dir, 'folded.jsonl')));
    await fromState.close();
    await fromFile.close();
    // And what the compaction from memory wrote reads back as the journal held it.
    const reopened = await FileSettlementJournal.open(join(dir, 'state.jsonl'));
    expect(reopened.unresolved().map((e) => [e.nonce, e.state])).toEqual(fromState.unresolved().map((e) => [e.nonce, e.state]));
    expect(await reopened.listDamaged()).toEqual([]);
    await reopened.close();
  });

  it('forgets resolved intents some minutes after their authorization expired, and keeps the rest', async () => {
    const journal = new MemorySettlementJournal();
    const past = new Date(Date.now() - 2 * HOUR).toISOString();
    const old = await journal.begin(intent(900, { expiresAt: past }));
    await journal.update(old.id, { state: 'recorded', paymentId: 'p-1' });
    const stuck = await journal.begin(intent(901, { expiresAt: past }));
    await journal.update(stuck.id, { state: 'unknown', reason: 'timeout' });
    const fresh = await journal.begin(intent(902));
    await journal.update(fresh.id, { state: 'recorded', paymentId: 'p-2' });

    expect(journal.forgetExpired(Date.now())).toBe(1);
    expect(journal.byNonce(hash(900))).toBeUndefined();
    expect(journal.byNonce(hash(901))?.state).toBe('unknown');
    expect(journal.byNonce(hash(902))?.state).toBe('recorded');
    expect(journal.unresolved().map((e) => e.id)).toEqual([stuck.id]);
  });

  it('keeps the signed payment only while it can be granted again; afterwards a resend is refused as used', async () => {
    const journal = new MemorySettlementJournal();
    const now = Date.now();
    const over = await journal.begin(intent(950, { intervalEnd: new Date(now - 1000).toISOString() }));
    await journal.update(over.id, { state: 'recorded', paymentId: 'p-950' });
    const current = await journal.begin(intent(951, { intervalEnd: new Date(now + 60_000).toISOString() }));
    await journal.update(current.id, { state: 'recorded', paymentId: 'p-951' });
    const stuck = await journal.begin(intent(952, { intervalEnd: new Date(now - 1000).toISOString() }));
    await journal.update(stuck.id, { state: 'settled', transaction: hash(952) });

    expect(journal.forgetExpired(now)).toBe(0);
    const slim = journal.byNonce(hash(950));
    expect(slim).toMatchObject({ state: 'recorded', paymentId: 'p-950', payment: null, requirements: null });
    expect(grantFor(slim, 'L-1', 'second', new Date(now)).kind).toBe('used');
    // Still within its interval: the very same payment is granted again, so it is kept whole.
    expect(journal.byNonce(hash(951))?.payment).toEqual(intent(951).payment);
    expect(grantFor(journal.byNonce(hash(951)), 'L-1', 'second', new Date(now)).kind).toBe('grant');
    // Unresolved: kept whole whatever its interval (resolution needs it).
    expect(journal.byNonce(hash(952))?.payment).toEqual(intent(952).payment);
  });

  it('slims and forgets an intent that was unresolved when its time came, once it is resolved', async () => {
    const journal = new MemorySettlementJournal();
    const now = Date.now();
    const late = await journal.begin(intent(960, { intervalEnd: new Date(now - 2000).toISOString(), expiresAt: new Date(now + 60_000).toISOString() }));
    const lost = await journal.begin(intent(961, { expiresAt: new Date(now - 2 * HOUR).toISOString() }));
    // Both are due, but unresolved: kept whole.
    expect(journal.forgetExpired(now)).toBe(0);
    expect(journal.byNonce(hash(960))?.payment).toEqual(intent(960).payment);
    expect(journal.byNonce(hash(961))?.state).toBe('intent');
    await journal.update(late.id, { state: 'recorded', paymentId: 'p-960' });
    await journal.update(lost.id, { state: 'not_settled', reason: 'expired' });
    // Resolved since: the next sweep slims the one whose interval is over and forgets the expired one.
    expect(journal.forgetExpired(now)).toBe(1);
    expect(journal.byNonce(hash(960))).toMatchObject({ state: 'recorded', payment: null, requirements: null });
    expect(journal.byNonce(hash(961))).toBeUndefined();
    // The slimmed one is forgotten once its own expiry has passed.
    expect(journal.forgetExpired(now + 60_000 + FORGET_RESOLVED_AFTER_EXPIRY_MS + 1)).toBe(1);
    expect(journal.byNonce(hash(960))).toBeUndefined();
  });

  it('sweeps by itself as intents are begun, so memory does not grow with every payment', async () => {
    const journal = new MemorySettlementJournal();
    const past = new Date(Date.now() - 2 * HOUR).toISOString();
    for (let n = 0; n < 600; n++) {
      const entry = await journal.begin(intent(1000 + n, { expiresAt: past }));
      await journal.update(entry.id, { state: 'recorded', paymentId: `p-${n}` });
    }
    expect(journal.all().length).toBeLessThan(256);
  });
});

describe('the journal compaction threshold', () => {
  it('waits, after a compaction, until the file has grown by twice what it kept', async () => {
    const path = join(dir, 'threshold.jsonl');
    const journal = await FileSettlementJournal.open(path, { compactAfterBytes: 4 * 1024 });
    let n = 0;
    /** Live intents (kept by every compaction) until `bytes` have been appended to the file. */
    const grow = async (bytes: number) => {
      const start = (await stat(path)).size;
      while ((await stat(path)).size - start < bytes) await journal.begin(intent(6000 + n++));
    };
    // Compacted by itself on the way (at 4 KiB), then once more here, after any that still runs.
    await grow(16 * 1024);
    const kept = await journal.compact();
    expect(kept.bytesAfter).toBeGreaterThan(16 * 1024);
    const before = journal.lastCompaction;
    // Past the configured 4 KiB but short of twice what was kept: no compaction starts.
    await grow(kept.bytesAfter + 1024);
    expect(journal.lastCompaction).toBe(before);
    // Past twice what was kept: the journal compacts by itself.
    await grow(kept.bytesAfter);
    await vi.waitFor(() => expect(journal.lastCompaction).not.toBe(before), { timeout: 5_000 });
    // Every intent is live, so it kept all those begun when it started (the last few may follow it).
    const again = journal.lastCompaction as { recordsKept: number };
    expect(again.recordsKept).toBeGreaterThan(kept.recordsKept);
    expect(again.recordsKept).toBeLessThanOrEqual(n);
    await journal.close();
  });
});
