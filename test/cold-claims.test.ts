/**
 * Hot and cold settlement-hash claims (migration 008, issue 15) on PostgreSQL and PGlite: older
 * claims move to the cold table; a replay of a moved claim is refused on every write path, found
 * by hash, refused on import under another id; and, on PostgreSQL, a replay whose statement began
 * before a move and claims after it is still refused (the move's lock barrier); the service moves
 * old claims by itself (and, in the same upkeep, compacts old days: test/partition-compaction.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService } from '../src/service.js';
import { dropPartition, ensurePaymentPartitions, partitionName, utcDay } from '../src/storage/backends/sql/partitions.js';
import { recordPaymentsStatement } from '../src/storage/backends/sql/payment-statements.js';
import { COLD_CLAIMS, HOT_CLAIMS, moveClaimsOlderThan, moveClaimsToCold } from '../src/storage/backends/sql/settlement-hashes.js';
import type { SqlDriver } from '../src/storage/backends/sql/driver.js';
import { isStorageError } from '../src/storage/contract/errors.js';
import { hourBucketOf } from '../src/storage/core/time.js';
import { validateRecordPayment } from '../src/storage/core/validate.js';
import { openSqlStore, type OpenSqlStore } from './support/backends.js';
import { count, fileDays, lease, pay } from './support/payment-days.js';

/** Rows of hot, cold and payments: what must not change when a write is refused. */
async function tableCounts(driver: SqlDriver): Promise<number[]> {
  return [
    await count(driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS}`),
    await count(driver, `SELECT COUNT(*) AS n FROM ${COLD_CLAIMS}`),
    await count(driver, 'SELECT COUNT(*) AS n FROM x402_payments'),
  ];
}

// Every day of this file is counted from one instant, which the moves below are given too. The
// store's moveClaimsToCold (upkeep) and the started service read the clock themselves, so the
// instant is read at least MARGIN_MS (some four times this file's run) before a midnight.
const MARGIN_MS = 60_000;
const clock = fileDays(MARGIN_MS);
const { at } = clock;

describe.each<'postgres' | 'pglite'>(['postgres', 'pglite'])('hot and cold claims on %s', (kind) => {
  let b: OpenSqlStore;
  beforeAll(async () => {
    b = await openSqlStore(kind);
  }, 120_000);
  afterAll(async () => b?.dispose());

  it('moves the claims before the hot window; replays of moved claims count once on every path', async () => {
    const leaseId = await lease(b.db);
    await ensurePaymentPartitions(b.driver, [utcDay(at(10)), utcDay(at(3))]);
    const old = [await b.db.recordPayment(pay(leaseId, at(10, 3))), await b.db.recordPayment(pay(leaseId, at(3, 2)))];
    const recent = await b.db.recordPayment(pay(leaseId, at(0, 0, 1)));
    const hotBefore = await count(b.driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS}`);

    const move = await moveClaimsOlderThan(b.driver, 1, clock.now);
    expect(move.moved).toBe(2);
    expect(move.before.toISOString()).toBe(`${utcDay(clock.now, -1)}T00:00:00.000Z`);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS}`)).toBe(hotBefore - 2);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${COLD_CLAIMS} WHERE facilitator_tx_hash = ANY($1)`, [old.map((p) => p.facilitatorTxHash)])).toBe(2);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS} WHERE facilitator_tx_hash = $1`, [recent.facilitatorTxHash])).toBe(1);
    expect((await moveClaimsOlderThan(b.driver, 1, clock.now)).moved).toBe(0);

    // One replay alone, then replays grouped with new payments (the group statement skips the cold
    // hashes and the careful path names them), at other times than the originals.
    const [first, second] = old as [(typeof old)[0], (typeof old)[0]];
    const alone = await b.db.recordPaymentWithOutcome(pay(leaseId, at(0, 0, 2), '1000', first.facilitatorTxHash));
    expect(alone).toMatchObject({ replayed: true, payment: { id: first.id } });
    const grouped = await Promise.all([
      b.db.recordPaymentWithOutcome(pay(leaseId, at(0, 0, 3), '1000', second.facilitatorTxHash)),
      b.db.recordPaymentWithOutcome(pay(leaseId, at(0, 0, 3))),
      b.db.recordPaymentWithOutcome(pay(leaseId, at(0, 0, 4), '1000', first.facilitatorTxHash)),
      b.db.recordPaymentWithOutcome(pay(leaseId, at(0, 0, 4))),
    ]);
    expect(grouped.map((o) => o.replayed)).toEqual([true, false, true, false]);
    expect(grouped[0]?.payment.id).toBe(second.id);
    expect(grouped[2]?.payment.id).toBe(first.id);
    for (const p of old) {
      expect(await count(b.driver, 'SELECT COUNT(*) AS n FROM x402_payments WHERE facilitator_tx_hash = $1', [p.facilitatorTxHash])).toBe(1);
      expect((await b.db.getPaymentByFacilitatorTxHash(p.facilitatorTxHash))?.id).toBe(p.id);
    }
    expect((await b.db.getHourTotals(leaseId, at(0, 0))).paymentCount).toBe(3);

    // Import: the same payment adds nothing; another payment with a cold hash is a DUPLICATE and
    // changes nothing.
    const before = await tableCounts(b.driver);
    expect(await b.db.importRecords('x402_payments', [first])).toBe(0);
    const other = { ...first, id: '6f1d0c6e-0c1f-4d0e-9a53-2f8f4a0d9e12', paymentTimestamp: at(5, 2), bucketSlot: hourBucketOf(at(5, 2)) };
    await expect(b.db.importRecords('x402_payments', [other])).rejects.toSatisfy((e) => isStorageError(e, 'DUPLICATE'));
    expect(await tableCounts(b.driver)).toEqual(before);

    // A payment recorded late for an old time is claimed hot and moves at the next call.
    const late = await b.db.recordPayment(pay(leaseId, at(10, 5)));
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS} WHERE facilitator_tx_hash = $1`, [late.facilitatorTxHash])).toBe(1);
    expect(await b.db.schema.moveClaimsToCold?.(1)).toBe(1);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${COLD_CLAIMS} WHERE facilitator_tx_hash = $1`, [late.facilitatorTxHash])).toBe(1);
  });

  it('a cold claim whose payment retention archived refuses its replay by name', async () => {
    const leaseId = await lease(b.db);
    const day = utcDay(at(20));
    await ensurePaymentPartitions(b.driver, [day]);
    const archived = await b.db.recordPayment(pay(leaseId, at(20, 1)));
    await moveClaimsOlderThan(b.driver, 1, clock.now);
    await b.driver.transaction((tx) => dropPartition(tx, partitionName(day)));
    const before = await tableCounts(b.driver);
    await expect(b.db.recordPayment(pay(leaseId, at(0, 1), '1000', archived.facilitatorTxHash))).rejects.toSatisfy(
      (e) => isStorageError(e, 'DUPLICATE') && (e.details as { archived?: boolean }).archived === true,
    );
    expect(await tableCounts(b.driver)).toEqual(before);
  });

  it('moves in chunks of any size: each old claim once, the recent ones stay', async () => {
    const leaseId = await lease(b.db);
    await ensurePaymentPartitions(b.driver, [utcDay(at(6))]);
    // Four old claims with chunks of two: two full chunks, then an empty one ends each step.
    const old = [];
    for (let h = 0; h < 4; h++) old.push(await b.db.recordPayment(pay(leaseId, at(6, h))));
    const recent = await b.db.recordPayment(pay(leaseId, at(0, 0, 4)));
    const hashes = old.map((p) => p.facilitatorTxHash);
    const hotBefore = await count(b.driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS}`);
    const oldHot = await count(b.driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS} WHERE payment_timestamp < $1`, [at(1)]);
    expect(oldHot).toBeGreaterThanOrEqual(4);

    const move = await moveClaimsToCold(b.driver, at(1), 2);
    expect(move.moved).toBe(oldHot);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS}`)).toBe(hotBefore - move.moved);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${COLD_CLAIMS} WHERE facilitator_tx_hash = ANY($1)`, [hashes])).toBe(4);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS} WHERE facilitator_tx_hash = ANY($1)`, [hashes])).toBe(0);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS} WHERE facilitator_tx_hash = $1`, [recent.facilitatorTxHash])).toBe(1);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS} WHERE payment_timestamp < $1`, [at(1)])).toBe(0);
    expect((await moveClaimsToCold(b.driver, at(1), 1)).moved).toBe(0);
    // Each moved claim still refuses its replay.
    for (const p of old) expect((await b.db.recordPaymentWithOutcome(pay(leaseId, at(0, 0, 5), '1000', p.facilitatorTxHash))).replayed).toBe(true);
  });

  it('refuses a bad bound, day count or chunk size', async () => {
    await expect(moveClaimsToCold(b.driver, new Date(Number.NaN))).rejects.toSatisfy((e) => isStorageError(e, 'VALIDATION'));
    await expect(moveClaimsToCold(b.driver, at(1), 0)).rejects.toSatisfy((e) => isStorageError(e, 'VALIDATION'));
    await expect(moveClaimsToCold(b.driver, at(1), 1.5)).rejects.toSatisfy((e) => isStorageError(e, 'VALIDATION'));
    expect(() => moveClaimsOlderThan(b.driver, -1, clock.now)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    expect(() => moveClaimsOlderThan(b.driver, 1.5, clock.now)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
  });
});

describe('a replay racing the move of its claim (PostgreSQL)', () => {
  let b: OpenSqlStore;
  const clients: pg.Client[] = [];
  beforeAll(async () => {
    b = await openSqlStore('postgres');
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await b?.dispose();
  });

  async function client(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: b.url });
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
    return c;
  }

  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 400; i++) {
      if (await check()) return;
      await sleep(25);
    }
    throw new Error(`timed out waiting until ${what}`);
  }

  it('a claim statement whose snapshot predates the cold copy finishes before the hot claim is deleted', async () => {
    const leaseId = await lease(b.db);
    await ensurePaymentPartitions(b.driver, [utcDay(at(5))]);
    // H is claimed and old; H0 sorts before it, so the group statement claims H0 first.
    const h = `0x${'b'.repeat(64)}`;
    const h0 = `0x${'a'.repeat(64)}`;
    const original = await b.db.recordPayment(pay(leaseId, at(5, 1), '1000', h));

    // T holds an uncommitted claim of H0: the group statement S below waits on it, after taking
    // its snapshot and before it reaches H.
    const t = await client();
    await t.query('BEGIN');
    await t.query(`INSERT INTO ${HOT_CLAIMS} VALUES ($1, $2, gen_random_uuid(), now())`, [h0, leaseId]);
    const s = await client();
    // S is told the filter's version as it is before the move, and that the filter holds neither
    // hash (true of that version): so S does not probe the cold table at all, and only the barrier
    // keeps H hot until S is done.
    const version = (await t.query<{ version: string }>('SELECT version::text FROM x402_claim_filter_state')).rows[0]?.version as string;
    const statement = recordPaymentsStatement(
      [pay(leaseId, at(0, 0, 1), '1000', h0), pay(leaseId, at(0, 0, 2), '1000', h)].map((p) => ({ input: validateRecordPayment(p), hash: p.facilitatorTxHash })),
      { version, mayHold: () => false },
    );
    const sPid = (await s.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    const sDone = s.query<{ facilitator_tx_hash: string }>(statement);
    const waiting = async (pid: number | undefined) =>
      (await count(b.driver, `SELECT COUNT(*) AS n FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [pid])) === 1;
    await until('S waits for T', () => waiting(sPid));

    // The move copies H to the cold table (S's snapshot does not see it) and then waits for S.
    let settled = false;
    // (Its barrier's wait is bounded, 500 ms by default; this one waits for S however slow the machine.)
    const moveDone = moveClaimsToCold(b.driver, at(1), undefined, { lockTimeoutMs: 60_000 }).finally(() => (settled = true));
    await until(
      'the move waits at its barrier',
      async () =>
        settled ||
        (await count(b.driver, `SELECT COUNT(*) AS n FROM pg_locks WHERE relation = $1::regclass AND mode = 'ShareRowExclusiveLock' AND NOT granted`, [HOT_CLAIMS])) === 1,
    );
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${COLD_CLAIMS} WHERE facilitator_tx_hash = $1`, [h])).toBe(1);

    // T gives up H0: S claims it, finds H still hot and skips it; then the move deletes H from hot.
    // (Without the barrier the move would be done by now, and S would claim H a second time.)
    await t.query('ROLLBACK');
    expect((await sDone).rows.map((r) => r.facilitator_tx_hash)).toEqual([h0]);
    expect((await moveDone).moved).toBe(1);
    expect(await count(b.driver, 'SELECT COUNT(*) AS n FROM x402_payments WHERE facilitator_tx_hash = $1', [h])).toBe(1);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS} WHERE facilitator_tx_hash = $1`, [h])).toBe(0);
    expect((await b.db.getPaymentByFacilitatorTxHash(h))?.id).toBe(original.id);
    // And a replay after the move is refused through the cold table.
    expect((await b.db.recordPaymentWithOutcome(pay(leaseId, at(0, 0, 3), '1000', h))).replayed).toBe(true);
    expect(await count(b.driver, 'SELECT COUNT(*) AS n FROM x402_payments WHERE facilitator_tx_hash = $1', [h])).toBe(1);
  });
});

describe('the service moves old claims and compacts old days at its upkeep (PostgreSQL)', () => {
  let b: OpenSqlStore;
  let dataDir: string;
  beforeAll(async () => {
    b = await openSqlStore('postgres');
    dataDir = await mkdtemp(join(tmpdir(), 'cold-claims-'));
  }, 120_000);
  afterAll(async () => {
    await b?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('at start, claims older than yesterday go cold and yesterday\'s stay hot; days before yesterday are compacted, and the reconcile results of days that are over kept', async () => {
    const leaseId = await lease(b.db);
    await ensurePaymentPartitions(b.driver, [utcDay(at(4)), utcDay(at(1))]);
    const old = await b.db.recordPayment(pay(leaseId, at(4, 2)));
    const yesterday = await b.db.recordPayment(pay(leaseId, at(1, 2)));
    const env = { LEASING_MODE: 'development', NODE_ENV: 'test', LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0', DATABASE_URL: b.url as string, DATA_DIR: dataDir };
    const service = await startService({ env, signals: false });
    try {
      const cold = () => count(b.driver, `SELECT COUNT(*) AS n FROM ${COLD_CLAIMS} WHERE facilitator_tx_hash = $1`, [old.facilitatorTxHash]);
      const hot = () => count(b.driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS} WHERE facilitator_tx_hash = ANY($1)`, [[old.facilitatorTxHash, yesterday.facilitatorTxHash]]);
      // The move copies to cold, waits for in-flight claims, then deletes from hot: wait for its end.
      for (let i = 0; i < 400 && ((await cold()) === 0 || (await hot()) === 2); i++) await sleep(25);
      expect(await cold()).toBe(1);
      expect(await hot()).toBe(1);
      const compacted = () => b.driver.query<{ partition_name: string }>('SELECT partition_name FROM x402_payment_compactions ORDER BY 1');
      for (let i = 0; i < 400 && (await compacted()).rows.length === 0; i++) await sleep(25);
      expect((await compacted()).rows.map((r) => r.partition_name)).toEqual([partitionName(utcDay(at(4)))]);
      // Then the reconcile results of the days that are over are kept (day 4 read after its swap;
      // yesterday too unless it ended less than an hour ago).
      const kept = () => b.driver.query<{ day: string }>(
        `SELECT d.day::text AS day FROM x402_reconcile_days d JOIN pg_class c ON c.oid = d.partition_oid
          WHERE d.checked_changes = d.changes AND c.relname LIKE 'x402_payments_p%' ORDER BY 1`,
      );
      for (let i = 0; i < 400 && (await kept()).rows.length === 0; i++) await sleep(25);
      expect((await kept()).rows.map((r) => r.day)).toContain(utcDay(at(4)));
    } finally {
      await service.stop();
    }
  }, 60_000);
});
