/**
 * Partition upkeep behind a long reader (PostgreSQL): attaching a new day takes an ACCESS
 * EXCLUSIVE lock of the DEFAULT partition, and reads of payments queue behind that request. The
 * store here has no lock or statement timeout of its own (PG_LOCK_TIMEOUT_MS=0,
 * PG_STATEMENT_TIMEOUT_MS=0, which an operator may set), so only the upkeep's own bound can end
 * the wait: without it the upkeep, and the read behind it, would wait for the reader, which this
 * test only ends after both have answered.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDriver } from '../src/storage/backends/postgres/postgres-database.js';
import type { SqlDriver } from '../src/storage/backends/sql/driver.js';
import { ensurePartitionsAhead, listPaymentPartitionDays, utcDay } from '../src/storage/backends/sql/partitions.js';
import { SqlDatabase } from '../src/storage/backends/sql/sql-database.js';
import { isStorageError } from '../src/storage/contract/errors.js';
import { lease, pay } from './support/payment-days.js';
import { createTestDatabase, type TestDatabase } from './support/pg.js';

describe('partitions made ahead wait a bounded time behind a long reader (PostgreSQL)', () => {
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

  it('gives up with a retryable TIMEOUT, lets the reads queued behind it through, and makes the days once the reader is gone', async () => {
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
});
