/**
 * Compaction of closed day partitions (migration 009, partition-compaction.ts) on PostgreSQL and
 * PGlite: a compacted day holds the same rows, ids, indexes and constraints, its heap in lease
 * order (a lease's page reads a few blocks instead of one per row); rows written, changed or
 * deleted during the copy are carried into the swapped-in partition and replays still count once;
 * a truncate, a failure or a leftover of a crashed run never leaves a half-done day; bad input is
 * refused with nothing changed; on PostgreSQL, a lock held past the swap's wait abandons it and a
 * second compactor is refused.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPACTION_CHANGES, COMPACTIONS, compactClosedPartitions, compactPartitions, uncompactedPartitions } from '../src/storage/backends/sql/partition-compaction.js';
import { dropPartition, ensurePaymentPartitions, partitionName, utcDay } from '../src/storage/backends/sql/partitions.js';
import type { SqlDriver } from '../src/storage/backends/sql/driver.js';
import { isStorageError, type StorageErrorCode } from '../src/storage/contract/errors.js';
import { openSqlStore, type OpenSqlStore } from './support/backends.js';
import { at as atDay, count, lease, pay } from './support/payment-days.js';

const LEASES = 30;
const PER_LEASE = 60;

/** Everything about a partition that compaction must keep: rows, index definitions, constraints. */
async function snapshot(driver: SqlDriver, name: string): Promise<{ rows: unknown[]; indexes: unknown[]; constraints: unknown[] }> {
  const rows = (await driver.query(`SELECT * FROM ${name} ORDER BY id`)).rows;
  const indexes = (await driver.query(`SELECT c.relname, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass ORDER BY 1`, [name])).rows;
  const constraints = (
    await driver.query(`SELECT conname, contype, convalidated, conparentid <> 0 AS inherited, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass ORDER BY 1`, [name])
  ).rows;
  return { rows, indexes, constraints };
}

/** What a failed compaction must not leave behind: its copy, its triggers, its change log, its record. */
async function leftovers(driver: SqlDriver, name: string): Promise<number[]> {
  return [
    await count(driver, 'SELECT COUNT(*) AS n FROM pg_class WHERE relname = $1', [`${name}_compacting`]),
    await count(driver, 'SELECT COUNT(*) AS n FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal', [name]),
    await count(driver, `SELECT COUNT(*) AS n FROM ${COMPACTION_CHANGES}`),
    await count(driver, `SELECT COUNT(*) AS n FROM ${COMPACTIONS} WHERE partition_name = $1`, [name]),
  ];
}

/** The blocks the index scan of one lease's first 50 payments of `name` touches. */
async function pageBlocks(driver: SqlDriver, name: string, leaseId: string): Promise<number> {
  // The keyset index's scan, whatever the planner thinks of a small table: its blocks are the point.
  const { rows } = await driver.transaction(async (tx) => {
    await tx.query('SET LOCAL enable_seqscan = off');
    await tx.query('SET LOCAL enable_bitmapscan = off');
    return tx.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM ${name} WHERE lease_id = $1 ORDER BY payment_timestamp, id LIMIT 50`, [leaseId]);
  });
  const raw = rows[0]?.['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ Plan: { Plans: Array<Record<string, unknown>> } }>;
  const scan = plan[0]?.Plan.Plans[0] as Record<string, unknown>;
  expect(scan['Node Type']).toBe('Index Scan');
  return Number(scan['Shared Hit Blocks']) + Number(scan['Shared Read Blocks']);
}

async function expectError(work: Promise<unknown>, code: StorageErrorCode): Promise<void> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isStorageError(error, code), String(error)).toBe(true);
}

// Every day of this file counted from one instant: a run across midnight keeps them apart as they
// were (the days stay closed, and their partitions exist).
const now = new Date();
const at = (daysAgo: number, hours?: number, minutes?: number) => atDay(daysAgo, hours, minutes, now);

describe.each<'postgres' | 'pglite'>(['postgres', 'pglite'])('compacting day partitions on %s', (kind) => {
  let b: OpenSqlStore;
  let leases: string[];
  const day = utcDay(at(3));
  const name = partitionName(day);

  beforeAll(async () => {
    b = await openSqlStore(kind);
    await ensurePaymentPartitions(b.driver, [utcDay(at(5)), utcDay(at(4)), day, utcDay(at(2))]);
    leases = [];
    for (let i = 0; i < LEASES; i++) leases.push(await lease(b.db));
    // In time order, every lease's payments interleaved, as the service writes them (one second
    // apart); written in SQL for speed, with their claims, like the bulk load.
    await b.driver.query(
      `WITH r AS (SELECT uuid_generate_v4() AS id, ($1::text[])[1 + i % ${LEASES}] AS lease_id, $2::timestamptz + i * interval '1 second' AS ts,
                         '0x' || md5(i::text) || md5('c' || i) AS hash, i FROM generate_series(0, ${LEASES * PER_LEASE - 1}) AS i),
            c AS (INSERT INTO x402_settlement_hashes SELECT hash, lease_id, id, ts FROM r)
       INSERT INTO x402_payments (id, lease_id, mode, interval_seconds, amount_minor_units, payer, payment_timestamp, facilitator_tx_hash, bucket_slot)
       SELECT id, lease_id, 'second', 1, 1000 + i, '0x' || lpad(to_hex(i), 40, '0'), ts, hash, date_trunc('hour', ts) FROM r ORDER BY i`,
      [leases, at(3, 1)],
    );
  }, 120_000);
  afterAll(async () => b?.dispose());

  it('rewrites a closed day in lease order, keeping every row, index and constraint', async () => {
    const before = await snapshot(b.driver, name);
    const page = await b.db.getPaymentsPage(leases[7] as string, { limit: 50 });
    const blocksBefore = await pageBlocks(b.driver, name, leases[7] as string);
    expect(await uncompactedPartitions(b.driver, 1, now)).toEqual([name]);

    const [done] = await compactClosedPartitions(b.driver, 1, {}, now);
    expect(done).toEqual({ partition: name, day, payments: LEASES * PER_LEASE, changed: 0 });
    expect(await snapshot(b.driver, name)).toEqual(before);
    expect(await b.db.getPaymentsPage(leases[7] as string, { limit: 50 })).toEqual(page);
    // The heap, read in physical order, is in the keyset index's order.
    const physical = (await b.driver.query(`SELECT id FROM ${name} ORDER BY ctid`)).rows;
    expect(physical).toEqual((await b.driver.query(`SELECT id FROM ${name} ORDER BY lease_id, payment_timestamp, id`)).rows);
    // One lease's 50 payments were one per page among the others'; now they share a page or two.
    const blocksAfter = await pageBlocks(b.driver, name, leases[7] as string);
    expect(blocksBefore).toBeGreaterThanOrEqual(20);
    expect(blocksAfter).toBeLessThanOrEqual(6);
    expect(await count(b.driver, `SELECT payments AS n FROM ${COMPACTIONS} WHERE partition_name = $1`, [name])).toBe(LEASES * PER_LEASE);
    expect(await uncompactedPartitions(b.driver, 1, now)).toEqual([]);
    expect(await compactClosedPartitions(b.driver, 1, {}, now)).toEqual([]);
    expect(await leftovers(b.driver, name)).toEqual([0, 0, 0, 1]);
  }, 60_000);

  it('carries rows written, changed and deleted during the copy into the new partition; replays count once', async () => {
    const [kept, deleted] = (await b.driver.query<{ id: string }>(`SELECT id FROM ${name} ORDER BY id LIMIT 2`)).rows.map((r) => r.id);
    const written: Array<ReturnType<typeof pay>> = [];
    const [done] = await compactPartitions(b.driver, [name], {
      onStep: async (step) => {
        if (step === 'copied') {
          written.push(pay(leases[0] as string, at(3, 20)));
          await b.db.recordPayment(written[0] as ReturnType<typeof pay>);
          await b.driver.query(`UPDATE x402_payments SET carried_to_batch_id = '00000000-0000-4000-8000-000000000001' WHERE id = $1`, [kept]);
          await b.driver.query('DELETE FROM x402_payments WHERE id = $1', [deleted]);
        }
        if (step === 'validated') {
          written.push(pay(leases[1] as string, at(3, 21)));
          await b.db.recordPayment(written[1] as ReturnType<typeof pay>);
        }
      },
    });
    expect(done).toEqual({ partition: name, day, payments: LEASES * PER_LEASE + 1, changed: 3 });
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${name}`)).toBe(LEASES * PER_LEASE + 1);
    const hashes = written.map((p) => p.facilitatorTxHash);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${name} WHERE facilitator_tx_hash = ANY($1)`, [hashes])).toBe(2);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${name} WHERE id = $1 AND carried_to_batch_id IS NOT NULL`, [kept])).toBe(1);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${name} WHERE id = $1`, [deleted])).toBe(0);
    for (const payment of written) expect((await b.db.recordPaymentWithOutcome(payment)).replayed).toBe(true);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${name} WHERE facilitator_tx_hash = ANY($1)`, [hashes])).toBe(2);
    expect(await leftovers(b.driver, name)).toEqual([0, 0, 0, 1]);
  }, 60_000);

  it('a failure between steps, or a truncate during the copy, leaves the day as it was and nothing behind', async () => {
    const other = partitionName(utcDay(at(4)));
    await b.db.recordPayment(pay(leases[3] as string, at(4, 2)));
    await b.db.recordPayment(pay(leases[4] as string, at(4, 1)));
    const before = await snapshot(b.driver, other);
    const failing = compactPartitions(b.driver, [other], {
      onStep: async (step) => {
        if (step === 'validated') throw new Error('stopped here');
      },
    });
    await expect(failing).rejects.toThrow('stopped here');
    expect(await snapshot(b.driver, other)).toEqual(before);
    expect(await leftovers(b.driver, other)).toEqual([0, 0, 0, 0]);

    // A crashed run's copy, triggers and log are cleared by the next one.
    await b.driver.query(`CREATE TABLE ${other}_compacting (LIKE x402_payments)`);
    await b.driver.query(`CREATE TRIGGER x402_compaction_changes AFTER INSERT OR UPDATE OR DELETE ON ${other} FOR EACH ROW EXECUTE FUNCTION x402_log_compaction_change()`);
    await b.driver.query(`INSERT INTO ${COMPACTION_CHANGES} VALUES ($1, NULL)`, [other]);
    const truncating = compactPartitions(b.driver, [other], {
      onStep: async (step) => {
        if (step === 'copied') await b.driver.query(`TRUNCATE ${other}`);
      },
    });
    await expectError(truncating, 'CONFLICT');
    // The copy still held the truncated rows: it was not swapped in.
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${other}`)).toBe(0);
    expect(await leftovers(b.driver, other)).toEqual([0, 0, 0, 0]);
  }, 60_000);

  it('refuses what is not a closed day partition, and a second compactor, changing nothing', async () => {
    const today = partitionName(utcDay(now));
    await expectError(compactPartitions(b.driver, [today], {}, now), 'VALIDATION');
    await expectError(compactPartitions(b.driver, ['x402_payments_default']), 'VALIDATION');
    await expectError(compactPartitions(b.driver, ['leases']), 'VALIDATION');
    await expectError(compactPartitions(b.driver, ['x402_payments_p19990101']), 'NOT_FOUND');
    await expectError(compactPartitions(b.driver, [name], { attempts: 0 }), 'VALIDATION');
    await expectError(compactPartitions(b.driver, [name], { lockTimeoutMs: 0 }), 'VALIDATION');
    await expectError(uncompactedPartitions(b.driver, 0), 'VALIDATION');
    const held = await b.driver.tryLeadership('payment-compaction');
    try {
      await expectError(compactPartitions(b.driver, [name]), 'CONFLICT');
    } finally {
      await held?.release();
    }
    expect(await count(b.driver, 'SELECT COUNT(*) AS n FROM pg_class WHERE relname LIKE $1', ['%\\_compacting%'])).toBe(0);
  });

  it('retention forgets the compaction of a day it drops', async () => {
    const dropped = partitionName(utcDay(at(5)));
    await b.db.recordPayment(pay(leases[5] as string, at(5, 3)));
    await compactPartitions(b.driver, [dropped]);
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${COMPACTIONS} WHERE partition_name = $1`, [dropped])).toBe(1);
    await b.driver.transaction((tx) => dropPartition(tx, dropped));
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${COMPACTIONS} WHERE partition_name = $1`, [dropped])).toBe(0);
  });
});

describe('the swap waits a bounded time for the payment table (PostgreSQL)', () => {
  let b: OpenSqlStore;
  beforeAll(async () => {
    b = await openSqlStore('postgres');
  }, 120_000);
  afterAll(async () => b?.dispose());

  it('a reader holding the table past every attempt abandons the compaction; payments go on meanwhile', async () => {
    const leaseId = await lease(b.db);
    const name = partitionName(utcDay(at(2)));
    await ensurePaymentPartitions(b.driver, [utcDay(at(2))]);
    await b.db.recordPayment(pay(leaseId, at(2, 4)));
    const before = await snapshot(b.driver, name);
    const reader = new pg.Client({ connectionString: b.url });
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT COUNT(*) FROM x402_payments');
      const attempt = compactPartitions(b.driver, [name], {
        lockTimeoutMs: 50,
        attempts: 2,
        // A payment is recorded while the copy is made: writers wait for nobody.
        onStep: async (step) => {
          if (step === 'copied') await b.db.recordPayment(pay(leaseId, at(0, 0, 2)));
        },
      });
      await expectError(attempt, 'TIMEOUT');
      expect(await snapshot(b.driver, name)).toEqual(before);
      // The copy is gone; the triggers wait for the reader (they only log) and go with the next run.
      expect(await leftovers(b.driver, name)).toEqual([0, 2, 0, 0]);
      await reader.query('COMMIT');
      expect(await compactPartitions(b.driver, [name], { lockTimeoutMs: 5_000 })).toHaveLength(1);
      expect(await snapshot(b.driver, name)).toEqual(before);
      expect(await leftovers(b.driver, name)).toEqual([0, 0, 0, 1]);
    } finally {
      await reader.end();
    }
  }, 60_000);
});
