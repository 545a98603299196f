/**
 * What can be checked here of the Citus plan (docs/scale.md) without Citus: the distribution-ready
 * DDL (docs/citus-ready.sql) applies cleanly to a fresh copy of the migrated schema, after it every
 * unique constraint of a distributed table contains the distribution column, the store's hot paths
 * still work on it, and every hot statement on the lease-keyed tables names one lease (so Citus can
 * route it to one shard). With SCALE_PLANS_OUT=<file> the statements and their EXPLAIN plans are
 * written there (docs/scale.md shows them).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDriver } from '../src/storage/backends/postgres/postgres-database.js';
import type { SqlDriver, SqlExecutor } from '../src/storage/backends/sql/driver.js';
import { SqlDatabase } from '../src/storage/backends/sql/sql-database.js';
import { hash, newAsset, newLease } from './conformance/fixtures.js';
import { createTestDatabase, type TestDatabase } from './support/pg.js';

const DISTRIBUTION: Record<string, string> = {
  leases: 'lease_id',
  x402_payments: 'lease_id',
  x402_batches: 'lease_id',
  x402_settlement_hashes: 'facilitator_tx_hash',
  x402_settlement_hashes_cold: 'facilitator_tx_hash',
};

interface Captured {
  text: string;
  params: readonly unknown[];
}

/** A driver that records every statement sent through it or its transactions. */
function recording(driver: SqlDriver, log: Captured[]): SqlDriver {
  const wrap = (executor: SqlExecutor): SqlExecutor => ({
    query: (text, params = []) => {
      log.push({ text, params });
      return executor.query(text, params);
    },
  });
  return Object.assign(Object.create(driver) as SqlDriver, {
    query: wrap(driver).query,
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) => driver.transaction((tx) => fn(wrap(tx))),
  });
}

describe('Citus readiness', () => {
  let t: TestDatabase;
  let driver: SqlDriver;
  let db: SqlDatabase;
  const log: Captured[] = [];

  beforeAll(async () => {
    t = await createTestDatabase();
    driver = createPgDriver(t.url);
    db = new SqlDatabase(recording(driver, log));
    await db.connect();
    const result = await db.migrator().up();
    if (result.error) throw result.error;
  }, 120_000);
  afterAll(async () => {
    await db?.disconnect();
    await t?.drop();
  });

  it('the distribution-ready DDL applies to the migrated schema, and every unique key then contains the distribution column', async () => {
    const ddl = await readFile(join(import.meta.dirname, '..', 'docs', 'citus-ready.sql'), 'utf8');
    await driver.transaction((tx) => tx.query(ddl));
    const { rows } = await driver.query<{ table: string; index: string; columns: string[] }>(
      `SELECT t.relname AS table, i.relname AS index, array_agg(a.attname::text) AS columns
         FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey)
        WHERE x.indisunique AND t.relname = ANY($1::text[]) AND t.relnamespace = current_schema()::regnamespace
        GROUP BY 1, 2`,
      [Object.keys(DISTRIBUTION)],
    );
    expect(rows.length).toBeGreaterThanOrEqual(6);
    const offending = rows.filter((r) => !r.columns.includes(DISTRIBUTION[r.table] as string)).map((r) => `${r.table}.${r.index}`);
    expect(offending).toEqual([]);
  });

  it('the hot paths work on the changed schema and every hot statement on lease-keyed tables names its lease', async () => {
    const asset = await db.saveAsset(newAsset());
    const { leaseId } = await db.saveLease(newLease(asset.assetId));
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 5 * 3_600_000);
    log.length = 0;
    const first = await db.recordPayment({ leaseId, amount: '1000', timestamp: hour.toISOString(), mode: 'second', facilitatorTxHash: hash(0xc1) });
    const replay = await db.recordPaymentWithOutcome({ leaseId, amount: '1000', timestamp: hour.toISOString(), mode: 'second', facilitatorTxHash: hash(0xc1) });
    expect(replay.replayed).toBe(true);
    expect(replay.payment.id).toBe(first.id);
    const page = await db.getPaymentsPage(leaseId, { limit: 10 });
    await db.getPaymentsPage(leaseId, { limit: 10, after: page.nextCursor ?? Buffer.from(JSON.stringify([hour.toISOString(), first.id])).toString('base64url') });
    await db.getDailyRevenue(leaseId, { from: new Date(hour.getTime() - 86_400_000), to: new Date(hour.getTime() + 3_600_000) });
    expect((await db.getHourTotals(leaseId, hour)).paymentCount).toBe(1);
    const batch = await db.getOpenBatchForLease(leaseId, hour.toISOString());
    expect(batch?.paymentCount).toBe(1);
    await db.getBatchesPage(leaseId, { limit: 10 });
    expect((await db.getPaymentByFacilitatorTxHash(hash(0xc1)))?.id).toBe(first.id);

    // The payments page's read of the partition list (once a minute, partition-span.ts) reads the
    // catalog, not a lease-keyed table.
    const hot = log.filter(
      (s) => /x402_payments|x402_batches|x402_settlement_hashes|FROM leases/.test(s.text) && !/^\s*(BEGIN|COMMIT)/.test(s.text) && !/FROM pg_inherits/.test(s.text),
    );
    expect(hot.length).toBeGreaterThanOrEqual(10);
    // Each names its lease (or, for the hash table, its distribution column, the hash); an insert
    // names it in every row it writes.
    const routed = /lease_id\s*(=|IN)\s*\(?\$|lease_id = k\.lease_id|FROM input|WHERE facilitator_tx_hash = (ANY\()?\$1|^\s*INSERT INTO \w+ (AS \w+ )?\(lease_id,/;
    const unrouted = hot.filter((s) => !routed.test(s.text));
    expect(unrouted.map((s) => s.text)).toEqual([]);

    const plans: string[] = [];
    for (const s of hot) {
      if (/^\s*(WITH input|INSERT|UPDATE)/.test(s.text)) {
        plans.push(`-- ${s.text.trim().split('\n')[0]} ... (a write: routed by the lease ids in its rows)`);
        continue;
      }
      const { rows } = await driver.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${s.text}`, s.params);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      // No lease-keyed read scans a whole table.
      expect(plan).not.toMatch(/Seq Scan on x402_(payments|batches)(?!_default)/);
      plans.push(`${s.text.replace(/\s+/g, ' ').trim()}\n${plan}`);
    }
    if (process.env.SCALE_PLANS_OUT) await writeFile(process.env.SCALE_PLANS_OUT, `${plans.join('\n\n')}\n`);
  });
});
