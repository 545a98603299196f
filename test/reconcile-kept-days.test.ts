/**
 * Reconcile keeps what it read of each day that is over (migration 013), on PostgreSQL and PGlite:
 * its report is always the whole-ledger statement's (the check as it was before, run here
 * directly as the oracle), after every kind of write to a closed day; a kept day is not read again
 * (a kept result altered by hand shows through until `full` reads the day again); a day written
 * between keeping and reporting, or held by a writer, is read in the report itself.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../src/storage/backends/postgres/postgres-database.js';
import { compactPartitions } from '../src/storage/backends/sql/partition-compaction.js';
import { ensurePaymentPartitions, partitionName, utcDay } from '../src/storage/backends/sql/partitions.js';
import { reconcileReport, reportStatements } from '../src/storage/backends/sql/reconcile.js';
import { paymentSources } from '../src/storage/backends/sql/reconcile-sources.js';
import type { SqlDriver } from '../src/storage/backends/sql/driver.js';
import { isStorageError } from '../src/storage/contract/errors.js';
import type { ReconcileReport } from '../src/storage/contract/ledger-queries.js';
import { openSqlStore, type OpenSqlStore } from './support/backends.js';
import { count, fileDays, freshHash, lease, pay } from './support/payment-days.js';

// A day is closed an hour after its end by the database's clock, read when the check runs: every
// day of the file is counted from one instant read well away from midnight.
const clock = fileDays(90_000);
const { at } = clock;

/** The whole-ledger check in one statement per part, as reconcile ran before migration 013. */
async function oracle(driver: SqlDriver): Promise<ReconcileReport> {
  const diffs = await driver.query<Record<string, unknown>>(
    `WITH sums AS (SELECT lease_id, bucket_slot, SUM(amount_minor_units) AS total, COUNT(*) AS n FROM x402_payments WHERE NOT late GROUP BY 1, 2)
     SELECT b.id, COALESCE(b.lease_id, s.lease_id) AS lease_id, COALESCE(b.hour_bucket, s.bucket_slot) AS hour,
            COALESCE(b.total_amount_minor_units, 0)::text AS stored_total, COALESCE(b.payment_count, 0)::int AS stored_count,
            COALESCE(s.total, 0)::text AS payments_total, COALESCE(s.n, 0)::int AS payments_count
       FROM x402_batches b FULL OUTER JOIN sums s ON s.lease_id = b.lease_id AND s.bucket_slot = b.hour_bucket
      WHERE b.id IS NULL OR COALESCE(s.total, 0) <> b.total_amount_minor_units OR COALESCE(s.n, 0) <> b.payment_count
      ORDER BY COALESCE(b.lease_id, s.lease_id) COLLATE "C", 3`,
  );
  const late = await driver.query<Record<string, unknown>>(
    `SELECT lease_id, bucket_slot, facilitator_tx_hash, amount_minor_units::text AS amount, carried_to_batch_id FROM x402_payments
      WHERE late ORDER BY lease_id COLLATE "C", bucket_slot, facilitator_tx_hash COLLATE "C"`,
  );
  return {
    batchesChecked: await count(driver, 'SELECT COUNT(*) AS n FROM x402_batches'),
    paymentsChecked: await count(driver, 'SELECT COUNT(*) AS n FROM x402_payments'),
    differences: diffs.rows.map((r) => ({
      leaseId: r['lease_id'] as string,
      hourBucket: new Date(r['hour'] as string | Date).toISOString(),
      batchId: (r['id'] as string | null) ?? null,
      storedTotal: BigInt(r['stored_total'] as string),
      storedCount: Number(r['stored_count']),
      paymentsTotal: BigInt(r['payments_total'] as string),
      paymentsCount: Number(r['payments_count']),
    })),
    latePayments: late.rows.map((r) => ({
      leaseId: r['lease_id'] as string,
      hourBucket: new Date(r['bucket_slot'] as string | Date).toISOString(),
      facilitatorTxHash: r['facilitator_tx_hash'] as string,
      amountMinorUnits: BigInt(r['amount'] as string),
      carriedToBatchId: (r['carried_to_batch_id'] as string | null) ?? null,
    })),
  };
}

/** Reconcile through the store, expected to equal the oracle; returns the report. */
async function checked(b: OpenSqlStore, options?: { full: boolean }): Promise<ReconcileReport> {
  const report = await b.db.reconcile(options);
  expect(report).toEqual(await oracle(b.driver));
  return report;
}

/** The closed days whose kept result holds now (the report's own test of it). */
async function keptDays(driver: SqlDriver): Promise<string[]> {
  const { rows } = await driver.query<{ day: string }>(
    `SELECT d.day::text AS day FROM x402_reconcile_days d JOIN pg_class c ON c.oid = d.partition_oid
      WHERE d.checked_changes = d.changes AND d.checked_filenode = pg_relation_filenode(c.oid) ORDER BY 1`,
  );
  return rows.map((r) => r.day);
}

// Day 1 is over but may not be closed yet (a day is kept an hour after its end): every day used is 2 or more.
const DAYS = [4, 3, 2];
const payer = '0x' + '2'.repeat(40);

/** Payments on three closed days, today and a day without a partition (the DEFAULT one); a batch altered; a late payment. */
async function ledger(b: OpenSqlStore): Promise<{ leaseId: string; other: string }> {
  await ensurePaymentPartitions(b.driver, DAYS.map((d) => utcDay(at(d))));
  const leaseId = await lease(b.db);
  const other = await lease(b.db);
  for (const d of [...DAYS, 0, 20]) {
    for (const h of [1, 1, 2]) await b.db.recordPayment(pay(leaseId, at(d, h), String(100 + d)));
    await b.db.recordPayment(pay(other, at(d, 3), '7'));
  }
  // A batch of day 2 that disagrees with its payments, and a late payment of day 3.
  await b.driver.query('UPDATE x402_batches SET total_amount_minor_units = total_amount_minor_units + 1 WHERE lease_id = $1 AND hour_bucket = $2', [other, at(3, 3, 0)]);
  for (const batch of await b.db.getX402BatchesByLease(leaseId)) {
    if (batch.hourBucket === at(4, 1, 0).toISOString()) await b.db.updateX402Batch(batch.id, { settlementTxHash: freshHash() });
  }
  await b.db.recordPayment({ ...pay(leaseId, at(4, 1, 40), '55'), settled: true });
  return { leaseId, other };
}

describe.each(['postgres', 'pglite'] as const)('reconcile keeps closed days on %s', (kind) => {
  let b: OpenSqlStore;
  let ids: { leaseId: string; other: string };
  beforeAll(async () => {
    b = await openSqlStore(kind);
    ids = await ledger(b);
  }, 120_000);
  afterAll(async () => b?.dispose());

  it('reports what the whole-ledger statement does, keeps each closed day, and reads a kept day no more', async () => {
    const first = await checked(b);
    expect(first.differences.map((d) => d.hourBucket)).toContain(at(3, 3, 0).toISOString());
    expect(first.latePayments).toHaveLength(1);
    expect(first.paymentsChecked).toBe(5 * 4 + 1);
    expect(await keptDays(b.driver)).toEqual(DAYS.map((d) => utcDay(at(d))));

    // A kept sum altered by hand shows through: the second check read the kept result, not the day.
    await b.driver.query('UPDATE x402_reconcile_hours SET total = total + 1000 WHERE day = $1 AND lease_id = $2', [utcDay(at(2)), ids.leaseId]);
    const fromKept = await b.db.reconcile();
    const hour = at(2, 1, 0).toISOString();
    expect(fromKept.differences.find((d) => d.hourBucket === hour && d.leaseId === ids.leaseId)?.paymentsTotal).toBe(2n * 102n + 1000n);
    // `full` reads every day again and keeps what it read.
    await checked(b, { full: true });
    await checked(b);
  });

  it('sees every kind of write to a closed day', async () => {
    const day2 = partitionName(utcDay(at(2)));
    const writes: [string, () => Promise<unknown>][] = [
      ['a payment through the store', () => b.db.recordPayment(pay(ids.other, at(2, 5), '9'))],
      [
        'a payment inserted by hand',
        () =>
          b.driver.query(
            `INSERT INTO x402_payments (lease_id, mode, interval_seconds, amount_minor_units, payer, payment_timestamp, facilitator_tx_hash, bucket_slot)
             VALUES ($1, 'second', 1, 3, $2, $3, $4, date_trunc('hour', $3::timestamptz))`,
            [ids.other, payer, at(2, 6), freshHash()],
          ),
      ],
      ['an amount changed', () => b.driver.query(`UPDATE ${day2} SET amount_minor_units = amount_minor_units + 2 WHERE lease_id = $1`, [ids.leaseId])],
      ['a payment deleted', () => b.driver.query(`DELETE FROM x402_payments WHERE lease_id = $1 AND payment_timestamp = $2`, [ids.other, at(2, 3)])],
      ['a write with the trigger disabled', async () => {
        await b.driver.query(`ALTER TABLE ${day2} DISABLE TRIGGER x402_reconcile_watch`);
        await b.driver.query(`UPDATE ${day2} SET amount_minor_units = amount_minor_units + 1`);
      }],
      ['the day compacted, then written', async () => {
        await compactPartitions(b.driver, [day2], {}, clock.now);
        await b.driver.query(`UPDATE ${day2} SET amount_minor_units = amount_minor_units + 1 WHERE lease_id = $1`, [ids.other]);
      }],
      // A superuser's session in replica mode fires no trigger: the new file tells the truncate.
      ['the day truncated with triggers off', () =>
        b.driver.transaction(async (tx) => {
          await tx.query('SET LOCAL session_replication_role = replica');
          await tx.query(`TRUNCATE ${day2}`);
        })],
      ['a payment put back and the day truncated', async () => {
        await b.db.recordPayment(pay(ids.other, at(2, 9), '11'));
        await b.driver.query(`TRUNCATE ${day2}`);
      }],
    ];
    for (const [what, write] of writes) {
      await checked(b);
      await write();
      const report = await b.db.reconcile();
      expect(report, what).toEqual(await oracle(b.driver));
      expect(await keptDays(b.driver), what).toContain(utcDay(at(2)));
    }
  });

  it('reads in the report a day written after its result was kept', async () => {
    await checked(b);
    await b.driver.query(`UPDATE ${partitionName(utcDay(at(3)))} SET amount_minor_units = amount_minor_units + 4 WHERE lease_id = $1`, [ids.leaseId]);
    // The report alone, without keeping first: the day's kept result no longer holds, so its partition is read.
    expect(await reconcileReport(b.driver)).toEqual(await oracle(b.driver));
    expect(await keptDays(b.driver)).not.toContain(utcDay(at(3)));
  });

  it('refuses bad options and writes nothing', async () => {
    await checked(b);
    const before = await b.driver.query('SELECT * FROM x402_reconcile_days ORDER BY day');
    for (const bad of [{ full: 'yes' }, { fast: true }, 'full', null]) {
      await expect(b.db.reconcile(bad as never)).rejects.toSatisfy((e) => isStorageError(e) && e.code === 'VALIDATION');
    }
    expect((await b.driver.query('SELECT * FROM x402_reconcile_days ORDER BY day')).rows).toEqual(before.rows);
  });
});

/** Every plan node under `plan` (EXPLAIN's JSON), itself included. */
function nodes(plan: Record<string, unknown>): Record<string, unknown>[] {
  return [plan, ...((plan['Plans'] as Record<string, unknown>[] | undefined) ?? []).flatMap(nodes)];
}

describe('reconcile beside a writer of a closed day (PostgreSQL)', () => {
  let b: OpenSqlStore;
  let ids: { leaseId: string; other: string };
  beforeAll(async () => {
    b = await openSqlStore('postgres');
    ids = await ledger(b);
  }, 120_000);
  afterAll(async () => b?.dispose());

  it("runs no scan of a kept day's partition, and scans it once its result no longer holds", async () => {
    await checked(b);
    const day2 = partitionName(utcDay(at(2)));
    /** Loops of the scans of day 2's partition in each report statement, as EXPLAIN ANALYZE ran them. */
    const scans = async (): Promise<number[]> => {
      const statements = reportStatements(await paymentSources(b.driver));
      const loops: number[] = [];
      for (const text of [statements.differences, statements.late, statements.counts]) {
        const { rows } = await b.driver.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, statements.params);
        const plan = rows[0]?.['QUERY PLAN'][0].Plan as Record<string, unknown>;
        loops.push(...nodes(plan).filter((n) => n['Relation Name'] === day2).map((n) => Number(n['Actual Loops'])));
      }
      return loops;
    };
    expect(await scans()).toEqual([0, 0, 0]);
    await b.driver.query(`DELETE FROM ${day2} WHERE lease_id = $1 AND payment_timestamp = $2`, [ids.other, at(2, 3)]);
    expect(await scans()).toEqual([1, 1, 1]);
    await checked(b);
    expect(await scans()).toEqual([0, 0, 0]);
  });

  it('leaves a day to the report when the server refuses the watch trigger (as Citus does on a distributed table)', async () => {
    const day = utcDay(at(6));
    await ensurePaymentPartitions(b.driver, [day]);
    await b.db.recordPayment(pay(ids.other, at(6, 4), '13'));
    await b.driver.query(`CREATE FUNCTION refuse_triggers() RETURNS event_trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'triggers are not supported on distributed tables' USING ERRCODE = 'feature_not_supported'; END $$`);
    await b.driver.query(`CREATE EVENT TRIGGER refuse_triggers ON ddl_command_start WHEN TAG IN ('CREATE TRIGGER') EXECUTE FUNCTION refuse_triggers()`);
    try {
      await checked(b);
      expect(await keptDays(b.driver)).not.toContain(day);
    } finally {
      await b.driver.query('DROP EVENT TRIGGER refuse_triggers');
      await b.driver.query('DROP FUNCTION refuse_triggers()');
    }
    await checked(b);
    expect(await keptDays(b.driver)).toContain(day);
  });

  it('on a server that allows no writes (a read replica), keeps nothing and reads every day in the report', async () => {
    const readOnly = new PostgresDatabase(b.url as string, { pool: { options: '-c default_transaction_read_only=on' } });
    await readOnly.connect();
    try {
      await b.driver.query(`UPDATE ${partitionName(utcDay(at(3)))} SET amount_minor_units = amount_minor_units + 3 WHERE lease_id = $1`, [ids.leaseId]);
      const kept = await keptDays(b.driver);
      expect(kept).not.toContain(utcDay(at(3)));
      expect(await readOnly.reconcile()).toEqual(await oracle(b.driver));
      expect(await keptDays(b.driver)).toEqual(kept);
    } finally {
      await readOnly.disconnect();
    }
  });

  it('leaves out a write not committed, and reads it once committed; a day held by a writer is read in the report', async () => {
    await checked(b);
    const writer = new pg.Client({ connectionString: b.url });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(`UPDATE ${partitionName(utcDay(at(2)))} SET amount_minor_units = amount_minor_units + 10 WHERE lease_id = $1`, [ids.leaseId]);
      // Kept result holds in reconcile's snapshot: the write is not committed.
      await checked(b);
      // A day made stale while the writer holds its row: keeping it waits a bounded time, gives up,
      // and the report reads the day from its partition.
      await b.driver.query('UPDATE x402_reconcile_days SET checked_changes = -1 WHERE day = $1', [utcDay(at(4))]);
      await writer.query(`INSERT INTO x402_payments (lease_id, mode, interval_seconds, amount_minor_units, payer, payment_timestamp, facilitator_tx_hash, bucket_slot)
                          VALUES ($1, 'second', 1, 3, $2, $3, $4, date_trunc('hour', $3::timestamptz))`, [ids.other, payer, at(4, 8), freshHash()]);
      await checked(b);
      expect(await keptDays(b.driver)).not.toContain(utcDay(at(4)));
      await writer.query('COMMIT');
      const after = await checked(b);
      expect(after.differences.some((d) => d.hourBucket === at(2, 1, 0).toISOString() && d.leaseId === ids.leaseId)).toBe(true);
      expect(await keptDays(b.driver)).toEqual([6, ...DAYS].map((d) => utcDay(at(d))));
    } finally {
      await writer.end();
    }
  });
});
