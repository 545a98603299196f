/**
 * Issue 15 on PostgreSQL and PGlite: migration 007 keeps every payment row and id; payments land
 * in day partitions made ahead (or the DEFAULT one, moved out when the day is made); a settlement
 * hash counts once across partitions; retention exports, verifies and drops only settled,
 * reconciled old days, refuses the rest, and its snapshot imports back; its drop waits a bounded
 * time for the payment table and gives up leaving everything as it was.
 */
import { access, copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateData } from '../src/migration/migrate-data.js';
import { runRetention } from '../src/migration/retention.js';
import { verifySnapshot } from '../src/migration/snapshot-reader.js';
import { createPgDriver } from '../src/storage/backends/postgres/postgres-database.js';
import { adoptDefaultRows, ensurePartitionsAhead, ensurePaymentPartitions, listPaymentPartitionDays, listPaymentPartitions, partitionName, utcDay } from '../src/storage/backends/sql/partitions.js';
import { SqlDatabase } from '../src/storage/backends/sql/sql-database.js';
import { isStorageError } from '../src/storage/contract/errors.js';
import { hourBucketOf } from '../src/storage/core/time.js';
import { hash } from './conformance/fixtures.js';
import { openSqlStore, type OpenSqlStore } from './support/backends.js';
import { count, fileDays, freshHash, lease, pay } from './support/payment-days.js';

const migrationsDir = join(import.meta.dirname, '..', 'migrations');

type Kind = 'postgres' | 'pglite';

/** A store on `kind`, not migrated: each describe migrates it as far as it needs. */
const openBackend = (kind: Kind): Promise<OpenSqlStore> => openSqlStore(kind, { migrate: false });

async function migrate(db: SqlDatabase, below?: number): Promise<void> {
  let dir: string | undefined;
  if (below !== undefined) {
    dir = await mkdtemp(join(tmpdir(), 'migrations-'));
    for (const f of await readdir(migrationsDir)) if (Number(f.slice(0, 3)) < below) await copyFile(join(migrationsDir, f), join(dir, f));
  }
  try {
    const result = await db.migrator(dir === undefined ? {} : { dir }).up();
    if (result.error) throw result.error;
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

// Every day of this file is counted from one instant, which partition upkeep and retention are
// given too. Migration 007 makes today's partition and the next seven by the database's clock,
// which no test can pass, so the instant is read at least MARGIN_MS (some three times this file's
// run) before a midnight: every store's migration falls on its day.
const MARGIN_MS = 75_000;
const clock = fileDays(MARGIN_MS);
const { at } = clock;

describe.each<Kind>(['postgres', 'pglite'])('partitioned payments on %s', (kind) => {
  describe('migration 007', () => {
    let b: OpenSqlStore;
    beforeAll(async () => {
      b = await openBackend(kind);
    }, 120_000);
    afterAll(async () => b?.dispose());

    it('keeps every payment row and id, fills the hash table and makes a partition per day', async () => {
      await migrate(b.db, 7);
      const leaseId = await lease(b.db);
      // Written as the pre-007 schema stores them (the storage code already expects the hash table).
      for (const when of [at(40, 1), at(40, 2), at(3, 5), at(0, 0, 1)]) {
        await b.driver.query(
          `INSERT INTO x402_payments (lease_id, mode, interval_seconds, amount_minor_units, payer, payment_timestamp, facilitator_tx_hash, bucket_slot)
           VALUES ($1, 'second', 1, 1000, $2, $3, $4, date_trunc('hour', $3::timestamptz))`,
          [leaseId, '0x' + '1'.repeat(40), when, freshHash()],
        );
      }
      const before = (await b.driver.query<{ id: string }>('SELECT id FROM x402_payments ORDER BY id')).rows.map((r) => r.id);

      await migrate(b.db);
      const after = (await b.driver.query<{ id: string }>('SELECT id FROM x402_payments ORDER BY id')).rows.map((r) => r.id);
      expect(after).toEqual(before);
      expect((await b.db.getX402PaymentsByLease(leaseId)).map((p) => p.id).sort()).toEqual(before);
      expect(await count(b.driver, 'SELECT COUNT(*) AS n FROM x402_settlement_hashes')).toBe(4);
      expect(await count(b.driver, "SELECT COUNT(*) AS n FROM pg_partitioned_table WHERE partrelid = 'x402_payments'::regclass")).toBe(1);
      const days = (await listPaymentPartitions(b.driver)).map((p) => p.day);
      for (const d of [40, 3, 0, -7]) expect(days).toContain(utcDay(at(d)));
      expect(days[days.length - 1]).toBeNull();
      // The names-only listing (the payments page's span) gives the same days, without the DEFAULT.
      expect(await listPaymentPartitionDays(b.driver)).toEqual(days.slice(0, -1));
      // The rows sit in their day's partition, none in the DEFAULT one.
      expect(await count(b.driver, 'SELECT COUNT(*) AS n FROM x402_payments_default')).toBe(0);
      expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${partitionName(utcDay(at(40)))}`)).toBe(2);
      const page = await b.db.getPaymentsPage(leaseId, { limit: 2 });
      expect(page.items.map((p) => p.paymentTimestamp.getTime())).toEqual([at(40, 1).getTime(), at(40, 2).getTime()]);
      // The store records into the migrated table, and the old hashes still count once.
      const again = await b.db.recordPaymentWithOutcome(pay(leaseId, at(40, 1), '1000', (page.items[0] as { facilitatorTxHash: string }).facilitatorTxHash));
      expect(again.replayed).toBe(true);
    });
  });

  describe('once migrated', () => {
    let b: OpenSqlStore;
    beforeAll(async () => {
      b = await openBackend(kind);
      await migrate(b.db);
    }, 120_000);
    afterAll(async () => b?.dispose());

    it('a settlement hash counts once across partitions: a replay at another time is not a second payment', async () => {
      const leaseId = await lease(b.db);
      const h = hash(0x51ab);
      const first = await b.db.recordPaymentWithOutcome(pay(leaseId, at(10, 3), '500', h));
      expect(first.replayed).toBe(false);
      // The same hash, same lease and amount, at a time in another day's partition.
      const replay = await b.db.recordPaymentWithOutcome(pay(leaseId, at(2, 7), '500', h));
      expect(replay.replayed).toBe(true);
      expect(replay.payment.id).toBe(first.payment.id);
      // Concurrent replays in one group, each at a different day.
      const outcomes = await Promise.all([1, 4, 6, 20].map((d) => b.db.recordPaymentWithOutcome(pay(leaseId, at(d, 1), '500', h))));
      expect(outcomes.every((o) => o.replayed && o.payment.id === first.payment.id)).toBe(true);
      expect(await count(b.driver, 'SELECT COUNT(*) AS n FROM x402_payments WHERE facilitator_tx_hash = $1', [h])).toBe(1);
      expect((await b.db.getHourTotals(leaseId, at(10, 3))).paymentCount).toBe(1);
      expect((await b.db.getHourTotals(leaseId, at(2, 7))).paymentCount).toBe(0);
      expect((await b.db.getPaymentByFacilitatorTxHash(h))?.id).toBe(first.payment.id);
      // Importing another payment with a claimed hash is refused like the old unique index.
      const other = { ...first.payment, id: '3b1d0c6e-0c1f-4d0e-9a53-2f8f4a0d9e11', paymentTimestamp: at(5, 2), bucketSlot: hourBucketOf(at(5, 2)) };
      await expect(b.db.importRecords('x402_payments', [other])).rejects.toSatisfy((e) => isStorageError(e, 'DUPLICATE'));
      // Importing the same payment again adds nothing.
      expect(await b.db.importRecords('x402_payments', [first.payment])).toBe(0);
    });

    it('partitions are made ahead; a payment outside them lands in the DEFAULT partition and moves when its day is made', async () => {
      const created = await ensurePartitionsAhead(b.driver, 9, clock.now);
      expect(created).toEqual([utcDay(clock.now, 8), utcDay(clock.now, 9)]);
      expect(await ensurePartitionsAhead(b.driver, 9, clock.now)).toEqual([]);
      const leaseId = await lease(b.db);
      const far = at(-30, 4);
      const p = await b.db.recordPayment(pay(leaseId, far));
      expect(await count(b.driver, 'SELECT COUNT(*) AS n FROM x402_payments_default WHERE id = $1', [p.id])).toBe(1);
      expect(await ensurePaymentPartitions(b.driver, [utcDay(far)])).toEqual([utcDay(far)]);
      expect(await count(b.driver, 'SELECT COUNT(*) AS n FROM x402_payments_default WHERE id = $1', [p.id])).toBe(0);
      expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${partitionName(utcDay(far))} WHERE id = $1`, [p.id])).toBe(1);
      expect((await b.db.getPaymentByFacilitatorTxHash(p.facilitatorTxHash))?.id).toBe(p.id);
      await expect(ensurePaymentPartitions(b.driver, ['2026-13-45x'])).rejects.toSatisfy((e) => isStorageError(e, 'VALIDATION'));
    });

    it('the service contract exposes partition upkeep through the schema manager', async () => {
      expect(await b.db.schema.ensurePartitions?.(3)).toEqual([]);
    });
  });

  describe('retention', () => {
    let b: OpenSqlStore;
    let dir: string;
    beforeAll(async () => {
      b = await openBackend(kind);
      await migrate(b.db);
      dir = await mkdtemp(join(tmpdir(), 'retention-'));
    }, 120_000);
    afterAll(async () => {
      await b?.dispose();
      await rm(dir, { recursive: true, force: true });
    });

    it('archives settled, reconciled old days to a verified snapshot, keeps the rest, and the snapshot imports back', async () => {
      const leaseId = await lease(b.db);
      const settledDay = 50;
      const openDay = 45;
      // The service made these days' partitions when they were ahead of it.
      await ensurePaymentPartitions(b.driver, [utcDay(at(settledDay)), utcDay(at(openDay))]);
      const oldPayments = [];
      for (const h of [1, 1, 2]) oldPayments.push(await b.db.recordPayment(pay(leaseId, at(settledDay, h), '700')));
      await b.db.recordPayment(pay(leaseId, at(openDay, 3), '900'));
      const recent = await b.db.recordPayment(pay(leaseId, at(1, 4), '300'));
      for (const batch of await b.db.getX402BatchesByLease(leaseId)) {
        if (batch.hourBucket.startsWith(utcDay(at(settledDay)))) await b.db.updateX402Batch(batch.id, { settlementTxHash: freshHash() });
      }
      const settledName = partitionName(utcDay(at(settledDay)));
      const openName = partitionName(utcDay(at(openDay)));

      // Dry run: the plan, nothing written.
      const snapshot = join(dir, 'archive.jsonl');
      const plan = await runRetention(b.driver, { olderThanDays: 30, snapshot, now: clock.now });
      expect(plan.executed).toBe(false);
      expect(plan.archived).toEqual([settledName]);
      const kept = plan.candidates.find((c) => c.name === openName);
      expect(kept?.refused.join()).toMatch(/unsettled batch/);
      expect((await listPaymentPartitions(b.driver)).map((p) => p.name)).toContain(settledName);
      await expect(verifySnapshot(snapshot)).rejects.toThrow();
      await expect(runRetention(b.driver, { olderThanDays: 30, execute: true, now: clock.now })).rejects.toSatisfy((e) => isStorageError(e, 'VALIDATION'));
      await expect(runRetention(b.driver, { olderThanDays: 0, now: clock.now })).rejects.toSatisfy((e) => isStorageError(e, 'VALIDATION'));

      const done = await runRetention(b.driver, { olderThanDays: 30, execute: true, snapshot, now: clock.now });
      expect(done.executed).toBe(true);
      expect(done.archived).toEqual([settledName]);
      const info = await verifySnapshot(snapshot, { validate: true });
      expect(info.tables.x402_payments.count).toBe(3);
      expect(info.tables.x402_payments.amountSum).toBe(2100n);
      expect(info.tables.x402_batches.count).toBe(2);
      const names = (await listPaymentPartitions(b.driver)).map((p) => p.name);
      expect(names).not.toContain(settledName);
      expect(names).toContain(openName);

      // What remains reads and reconciles; the archived hashes still refuse a replay.
      expect((await b.db.getX402PaymentsByLease(leaseId)).map((p) => p.amountMinorUnits)).toEqual([900n, 300n]);
      expect((await b.db.getPaymentByFacilitatorTxHash(recent.facilitatorTxHash))?.id).toBe(recent.id);
      expect((await b.db.reconcile()).differences).toEqual([]);
      const archived = oldPayments[0] as (typeof oldPayments)[number];
      await expect(b.db.recordPayment(pay(leaseId, at(settledDay, 1), '700', archived.facilitatorTxHash))).rejects.toSatisfy((e) =>
        isStorageError(e, 'DUPLICATE'),
      );
      expect(await b.db.getPaymentByFacilitatorTxHash(archived.facilitatorTxHash)).toBeNull();

      // A second run finds nothing more to archive (the open day is still refused).
      expect((await runRetention(b.driver, { olderThanDays: 30, execute: true, snapshot: join(dir, 'second.jsonl'), now: clock.now })).archived).toEqual([]);

      // The snapshot imports back: the day's partition returns with the same rows and batches.
      await migrateData(snapshot, b.db);
      expect((await listPaymentPartitions(b.driver)).map((p) => p.name)).toContain(settledName);
      const restored = (await b.db.getX402PaymentsByLease(leaseId)).map((p) => p.id);
      expect(restored).toHaveLength(5);
      expect(restored).toEqual(expect.arrayContaining([...oldPayments.map((p) => p.id), recent.id]));
      expect((await b.db.getX402BatchesByLease(leaseId)).filter((x) => x.settlementTxHash !== undefined)).toHaveLength(2);
      expect((await b.db.reconcile()).differences).toEqual([]);
      expect((await b.db.recordPaymentWithOutcome(pay(leaseId, at(settledDay, 1), '700', archived.facilitatorTxHash))).replayed).toBe(true);
    });

    it('refuses a day with a late payment not yet carried by a settlement', async () => {
      const leaseId = await lease(b.db);
      const day = 60;
      // Rows of a day without a partition wait in the DEFAULT one, out of retention's reach, until adopted.
      await b.db.recordPayment(pay(leaseId, at(day, 0), '100'));
      expect(await adoptDefaultRows(b.driver, at(30))).toEqual([utcDay(at(day))]);
      await b.db.recordPayment(pay(leaseId, at(day, 1), '100'));
      for (const batch of await b.db.getX402BatchesByLease(leaseId)) await b.db.updateX402Batch(batch.id, { settlementTxHash: freshHash() });
      // Settled by the facilitator after its hour's batch was settled: recorded late, not yet carried.
      await b.db.recordPayment({ ...pay(leaseId, at(day, 1, 30), '50'), settled: true });
      const plan = await runRetention(b.driver, { olderThanDays: 30, now: clock.now });
      const verdict = plan.candidates.find((c) => c.day === utcDay(at(day)));
      expect(verdict?.refused.join()).toMatch(/late payment/);
    });
  });
});

describe('retention waits a bounded time for locks, and none for its scans (PostgreSQL)', () => {
  let b: OpenSqlStore;
  let dir: string;
  beforeAll(async () => {
    b = await openSqlStore('postgres');
    dir = await mkdtemp(join(tmpdir(), 'retention-lock-'));
  }, 120_000);
  afterAll(async () => {
    await b?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('a reader holding the table past every attempt leaves the days and removes the snapshot; the next run archives them', async () => {
    const day = utcDay(at(40));
    const name = partitionName(day);
    const leaseId = await lease(b.db);
    await ensurePaymentPartitions(b.driver, [day]);
    for (const h of [1, 2]) await b.db.recordPayment(pay(leaseId, at(40, h), '700'));
    for (const batch of await b.db.getX402BatchesByLease(leaseId)) await b.db.updateX402Batch(batch.id, { settlementTxHash: freshHash() });
    const snapshot = join(dir, 'archive.jsonl');
    const rows = () => count(b.driver, `SELECT COUNT(*) AS n FROM ${name}`);
    const batches = () => count(b.driver, "SELECT COUNT(*) AS n FROM x402_batches WHERE lease_id = $1", [leaseId]);

    await expect(runRetention(b.driver, { olderThanDays: 30, execute: true, snapshot, now: clock.now, lockTimeoutMs: 0 })).rejects.toSatisfy((e) => isStorageError(e, 'VALIDATION'));
    await expect(runRetention(b.driver, { olderThanDays: 30, execute: true, snapshot, now: clock.now, attempts: 0 })).rejects.toSatisfy((e) => isStorageError(e, 'VALIDATION'));

    // A long reader of the payment table (a report, a backup): the drop's detach cannot have the
    // table, and waiting for it in the lock queue would hold every payment behind it.
    const reader = new pg.Client({ connectionString: b.url });
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT COUNT(*) FROM x402_payments');
      const attempt = runRetention(b.driver, { olderThanDays: 30, execute: true, snapshot, now: clock.now, lockTimeoutMs: 50, attempts: 2 });
      // Payments go on while retention tries (they queue behind it for at most the lock timeout).
      const written = b.db.recordPayment(pay(leaseId, at(0, 0, 2)));
      await expect(attempt).rejects.toSatisfy((e) => isStorageError(e, 'TIMEOUT') && e.retryable);
      expect((await written).leaseId).toBe(leaseId);
      expect(await rows()).toBe(2);
      expect(await batches()).toBe(3);
      expect((await listPaymentPartitions(b.driver)).map((p) => p.name)).toContain(name);
      // Nothing was dropped, so the file is no archive: it is removed and the same command can run again.
      await expect(access(snapshot)).rejects.toThrow();
    } finally {
      await reader.query('COMMIT').catch(() => undefined);
      await reader.end();
    }

    const done = await runRetention(b.driver, { olderThanDays: 30, execute: true, snapshot, now: clock.now, lockTimeoutMs: 5_000 });
    expect(done.archived).toEqual([name]);
    expect((await verifySnapshot(snapshot, { validate: true })).tables.x402_payments.count).toBe(2);
    expect((await listPaymentPartitions(b.driver)).map((p) => p.name)).not.toContain(name);
    expect(await batches()).toBe(1);
  }, 60_000);

  it("its audit of the days is not cut short by the pool's statement timeout", async () => {
    const day = utcDay(clock.at(45));
    const name = partitionName(day);
    const leaseId = await lease(b.db);
    await ensurePaymentPartitions(b.driver, [day]);
    await b.db.recordPayment(pay(leaseId, clock.at(45, 3), '700'));
    for (const batch of await b.db.getX402BatchesByLease(leaseId)) await b.db.updateX402Batch(batch.id, { settlementTxHash: freshHash() });
    // A pool whose statements may run 300 ms, far less than a production day's audit takes (about
    // 45 s for 86 M payments). Here the audit under lock is held up instead, by a transaction that
    // holds the day's batch; it runs on after the pool's limit has passed.
    const short = createPgDriver(b.url as string, { env: { PG_STATEMENT_TIMEOUT_MS: '300' } });
    const holder = new pg.Client({ connectionString: b.url });
    await holder.connect();
    try {
      const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM x402_batches WHERE lease_id = $1 FOR UPDATE', [leaseId]);
      let settled = false;
      const run = runRetention(short, { olderThanDays: 30, execute: true, snapshot: join(dir, 'long-audit.jsonl'), now: clock.now, lockTimeoutMs: 60_000 }).finally(() => (settled = true));
      const auditWaits = async () =>
        (await count(b.driver, "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM x402_batches%FOR UPDATE%' AND pid <> $1", [holderPid])) === 1;
      while (!settled && !(await auditWaits())) await new Promise((resolve) => setTimeout(resolve, 20));
      // Past the pool's 300 ms before the batch is let go.
      await new Promise((resolve) => setTimeout(resolve, 600));
      await holder.query('COMMIT');
      const done = await run;
      expect(done.archived).toContain(name);
      expect((await listPaymentPartitions(b.driver)).map((p) => p.name)).not.toContain(name);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
      await short.close();
    }
  }, 60_000);
});
