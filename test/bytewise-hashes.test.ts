/**
 * Settlement hashes compared byte by byte (migration 011, docs/performance.md) on PostgreSQL and
 * PGlite: the payment table (every partition) and both claims tables hold the hash under "C", the
 * claim lookups still use the claims' primary keys, and a hash is still recorded once, whether its
 * claim is hot or cold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moveClaimsToCold } from '../src/storage/backends/sql/settlement-hashes.js';
import { ensurePaymentPartitions, utcDay } from '../src/storage/backends/sql/partitions.js';
import { openSqlStore, type OpenSqlStore } from './support/backends.js';
import { at, lease, pay } from './support/payment-days.js';

describe.each<'postgres' | 'pglite'>(['postgres', 'pglite'])('byte-wise settlement hashes on %s', (kind) => {
  let b: OpenSqlStore;
  beforeAll(async () => {
    b = await openSqlStore(kind);
  }, 120_000);
  afterAll(async () => b?.dispose());

  it('keeps every settlement hash column, partitions included, under the "C" collation', async () => {
    await ensurePaymentPartitions(b.driver, [utcDay(at(3))]);
    const { rows } = await b.driver.query<{ tbl: string; coll: string }>(
      `SELECT c.relname AS tbl, co.collname AS coll FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_collation co ON co.oid = a.attcollation
        WHERE a.attname = 'facilitator_tx_hash' AND c.relkind IN ('r', 'p') ORDER BY 1`,
    );
    const tables = rows.map((r) => r.tbl);
    expect(tables).toEqual(expect.arrayContaining(['x402_payments', 'x402_payments_default', 'x402_settlement_hashes', 'x402_settlement_hashes_cold']));
    expect(tables.some((t) => /^x402_payments_p\d{8}$/.test(t))).toBe(true);
    expect(rows.filter((r) => r.coll !== 'C')).toEqual([]);
  });

  it('looks claims up by their primary keys and records a hash once, hot or cold', async () => {
    const leaseId = await lease(b.db);
    const old = await b.db.recordPayment(pay(leaseId, at(3, 1)));
    expect((await moveClaimsToCold(b.driver, at(1))).moved).toBe(1);
    const recent = await b.db.recordPayment(pay(leaseId, new Date()));

    for (const payment of [old, recent]) {
      const replay = await b.db.recordPaymentWithOutcome({ ...pay(leaseId, payment.paymentTimestamp), facilitatorTxHash: payment.facilitatorTxHash });
      expect(replay).toMatchObject({ replayed: true, payment: { id: payment.id } });
      expect(await b.db.getPaymentByFacilitatorTxHash(payment.facilitatorTxHash)).toMatchObject({ id: payment.id });
    }
    expect((await b.db.summarizeTable('x402_payments')).count).toBe(2);

    for (const table of ['x402_settlement_hashes', 'x402_settlement_hashes_cold']) {
      const plan = await b.driver.query<Record<string, string>>(`EXPLAIN SELECT 1 FROM ${table} WHERE facilitator_tx_hash = $1`, [old.facilitatorTxHash]);
      expect(plan.rows.map((r) => Object.values(r).join(' ')).join('\n')).toContain(`${table}_pkey`);
    }
  });
});
