/**
 * Storage upkeep behind a long transaction (PostgreSQL). Attaching a new day takes an ACCESS
 * EXCLUSIVE lock of the DEFAULT partition, and reads of payments queue behind that request; the
 * claims move's barrier takes a SHARE ROW EXCLUSIVE lock of the hot claims, and every payment
 * queues behind that one. The store here has no lock or statement timeout of its own
 * (PG_LOCK_TIMEOUT_MS=0, PG_STATEMENT_TIMEOUT_MS=0, which an operator may set), so only the
 * upkeep's own bound can end the wait: without it the upkeep, and the work queued behind it,
 * would wait for the long transaction, which each test only ends after both have answered.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDriver } from '../src/storage/backends/postgres/postgres-database.js';
import type { SqlDriver } from '../src/storage/backends/sql/driver.js';
import { ensurePartitionsAhead, listPaymentPartitionDays, utcDay } from '../src/storage/backends/sql/partitions.js';
import { COLD_CLAIMS, HOT_CLAIMS, moveClaimsToCold } from '../src/storage/backends/sql/settlement-hashes.js';
import { SqlDatabase } from '../src/storage/backends/sql/sql-database.js';
import { isStorageError } from '../src/storage/contract/errors.js';
import { at, count, lease, pay } from './support/payment-days.js';
import { createTestDatabase, type TestDatabase } from './support/pg.js';

describe('storage upkeep waits a bounded time behind a long transaction (PostgreSQL)', () => {
  let t: TestDatabase;
  let driver: SqlDriver;
  let db: SqlDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
    driver = createPgDriver(t.url, { env: { PG_LOCK_TIMEOUT_MS: '0', PG_STATEMENT_TIMEOUT_MS: '0' } });
    db = new SqlDatabase(driver);
    await db.connect();
    const migrated = await db.migrator().up();
    if (migrated.error) throw migrated.error;
  }, 120_000);
  afterAll(async () => {
    await db?.disconnect();
    await t?.drop();
  });

  it('partitions made ahead: gives up with a retryable TIMEOUT, lets the reads queued behind it through, and makes the days once the reader is gone', async () => {
    const now = new Date();
    const leaseId = await lease(db);
    const paid = await db.recordPayment(pay(leaseId, now));
    const daysBefore = await listPaymentPartitionDays(driver);
    const ahead = utcDay(now, 40);
    expect(daysBefore).not.toContain(ahead);

    const reader = new pg.Client({ connectionString: t.url });
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT COUNT(*) FROM x402_payments');
      const upkeep = ensurePartitionsAhead(driver, 40, now, { lockTimeoutMs: 50, attempts: 2 });
      // Issued while the upkeep waits: it queues behind the upkeep's lock request, not the reader.
      const read = db.getX402PaymentsByLease(leaseId);
      await expect(upkeep).rejects.toSatisfy((e) => isStorageError(e, 'TIMEOUT') && e.retryable);
      expect((await read).map((p) => p.id)).toEqual([paid.id]);
      expect(await listPaymentPartitionDays(driver)).toEqual(daysBefore);
    } finally {
      await reader.query('COMMIT').catch(() => undefined);
      await reader.end();
    }

    const created = await ensurePartitionsAhead(driver, 40, now);
    expect(created).toContain(ahead);
    expect(await listPaymentPartitionDays(driver)).toContain(ahead);
    await expect(ensurePartitionsAhead(driver, 40, now, { attempts: 0 })).rejects.toSatisfy((e) => isStorageError(e, 'VALIDATION'));
  }, 60_000);

  it('the claims move: gives up at its barrier with a retryable TIMEOUT, lets the payments queued behind it through, and finishes once the writer is gone', async () => {
    const now = new Date();
    const leaseId = await lease(db);
    const old = await db.recordPayment(pay(leaseId, at(3, 1, 5, now)));
    const claims = () => Promise.all([count(driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS}`), count(driver, `SELECT COUNT(*) AS n FROM ${COLD_CLAIMS}`)]);
    const [hotBefore] = await claims();

    // A long claim writer (an import's batch): its transaction holds the hot claims as every
    // payment statement does, until it ends.
    const writer = new pg.Client({ connectionString: t.url });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(`LOCK TABLE ${HOT_CLAIMS} IN ROW EXCLUSIVE MODE`);
      const move = moveClaimsToCold(driver, at(1, 0, 0, now), 1_000, { lockTimeoutMs: 50, attempts: 2 });
      // Issued while the move waits at its barrier: it queues behind the move's lock request.
      const paid = db.recordPayment(pay(leaseId, now));
      await expect(move).rejects.toSatisfy((e) => isStorageError(e, 'TIMEOUT') && e.retryable);
      expect((await paid).leaseId).toBe(leaseId);
      // Step 1 ran: the old claim is cold, and still hot until a move gets past the barrier.
      expect(await claims()).toEqual([hotBefore + 1, 1]);
    } finally {
      await writer.query('COMMIT').catch(() => undefined);
      await writer.end();
    }

    expect((await moveClaimsToCold(driver, at(1, 0, 0, now))).moved).toBe(1);
    expect(await claims()).toEqual([hotBefore, 1]);
    expect((await db.getPaymentByFacilitatorTxHash(old.facilitatorTxHash))?.id).toBe(old.id);
    await expect(moveClaimsToCold(driver, at(1, 0, 0, now), 1_000, { lockTimeoutMs: 0 })).rejects.toSatisfy((e) => isStorageError(e, 'VALIDATION'));
  }, 60_000);
});
