/**
 * Issue 15's retention round trip on PostgreSQL and PGlite: retention exports and drops an old,
 * settled day; the store keeps taking payments; the snapshot imports back into the live store
 * (which still has the newer days) with `merge`, verified for what it added: every archived
 * record present and equal, each table grown by exactly what was inserted, reconcile clean.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateData } from '../../src/migration/migrate-data.js';
import { runRetention } from '../../src/migration/retention.js';
import { verifySnapshot } from '../../src/migration/snapshot-reader.js';
import type { SqlDriver } from '../../src/storage/backends/sql/driver.js';
import { ensurePaymentPartitions, listPaymentPartitions, partitionName, utcDay } from '../../src/storage/backends/sql/partitions.js';
import type { SqlDatabase } from '../../src/storage/backends/sql/sql-database.js';
import { TABLES } from '../../src/storage/contract/transfer.js';
import { hash, newAsset, newLease } from '../conformance/fixtures.js';
import { openSqlStore, type OpenSqlStore } from '../support/backends.js';
import { at as atDay } from '../support/payment-days.js';
import { summaries } from './full-store.js';

// Every day of this file is counted from one instant, which retention is given too: a run across
// midnight keeps the archived day the one whose batches were settled and whose partition is named.
// (Nothing here depends on the day the store's migration made its partitions by the database's
// clock: the old day is 40 days back, past retention's 30 whatever that day is, and the other
// payments are only read and reconciled.)
const now = new Date();
/** Start of the UTC day `daysAgo` days before the day of `now`, plus `hours` and 5 minutes. */
const at = (daysAgo: number, hours = 0) => atDay(daysAgo, hours, 5, now);

let seq = 0x9900;
const pay = (leaseId: string, when: Date, amount: string, facilitatorTxHash = hash(++seq)) => ({ leaseId, amount, timestamp: when.toISOString(), mode: 'second', facilitatorTxHash });

describe.each(['postgres', 'pglite'] as const)('a retention snapshot imported back into the live store on %s', (kind) => {
  let store: OpenSqlStore;
  let driver: SqlDriver;
  let db: SqlDatabase;
  let dir: string;
  beforeAll(async () => {
    store = await openSqlStore(kind);
    ({ driver, db } = store);
    dir = await mkdtemp(join(tmpdir(), 'retention-import-'));
  }, 120_000);
  afterAll(async () => {
    await store?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('retention drops the old day, the store keeps working, the snapshot imports back verified, reconcile is clean', async () => {
    const asset = await db.saveAsset(newAsset());
    const { leaseId } = await db.saveLease(newLease(asset.assetId));
    const oldDay = 40;
    await ensurePaymentPartitions(driver, [utcDay(at(oldDay))]);
    const archived = [];
    for (const [h, amount] of [[1, '700'], [1, '800'], [2, '900']] as const) archived.push(await db.recordPayment(pay(leaseId, at(oldDay, h), amount)));
    await db.recordPayment(pay(leaseId, at(1, 3), '300'));
    for (const batch of await db.getX402BatchesByLease(leaseId)) {
      if (batch.hourBucket.startsWith(utcDay(at(oldDay)))) await db.updateX402Batch(batch.id, { settlementTxHash: hash(++seq) });
    }

    const snapshot = join(dir, 'archive.jsonl');
    const done = await runRetention(driver, { olderThanDays: 30, execute: true, snapshot, now });
    expect(done.archived).toEqual([partitionName(utcDay(at(oldDay)))]);
    const info = await verifySnapshot(snapshot, { validate: true });
    expect(info.tables.x402_payments).toMatchObject({ count: 3, amountSum: 2400n });
    expect(info.tables.x402_batches.count).toBe(2);

    // The store keeps working: a new payment, the lease changes, reads and reconcile.
    await db.recordPayment(pay(leaseId, at(0, 0), '50'));
    await db.updateLease(leaseId, { status: 'completed' });
    expect((await db.getX402PaymentsByLease(leaseId)).map((p) => p.amountMinorUnits)).toEqual([300n, 50n]);
    expect((await db.reconcile()).differences).toEqual([]);
    const live = await summaries(db);

    const report = await migrateData(snapshot, db, { merge: true, batchSize: 2 });
    expect(report.ok, JSON.stringify(report.tables, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).toBe(true);
    const after = await summaries(db);
    for (const table of TABLES) {
      const r = report.tables.find((x) => x.table === table);
      expect(r).toMatchObject({ ok: true, idsMatch: true, sourceCount: info.tables[table].count, targetCount: live[table].count + (r?.inserted ?? -1) });
      expect(r?.amountSumTarget).toBe(info.tables[table].amountSum);
      expect(after[table].count).toBe(live[table].count + r!.inserted);
    }
    // Everything archived was absent, except the asset and lease the live store still holds.
    expect(report.tables.map((r) => [r.table, r.inserted])).toEqual([['assets', 0], ['leases', 0], ['events', 0], ['x402_payments', 3], ['x402_batches', 2]]);
    expect(after.x402_payments.amountSum).toBe(live.x402_payments.amountSum + 2400n);
    // The lease was updated after the export: the live version stays, and the report says so.
    expect(report.tables.find((r) => r.table === 'leases')?.notes?.join()).toMatch(/updated in the target/);
    expect((await db.getLease(leaseId))?.status).toBe('completed');

    expect((await listPaymentPartitions(driver)).map((p) => p.name)).toContain(partitionName(utcDay(at(oldDay))));
    const restored = await db.getX402PaymentsByLease(leaseId);
    expect(restored.map((p) => p.id)).toEqual(expect.arrayContaining(archived.map((p) => p.id)));
    expect(restored).toHaveLength(5);
    expect((await db.reconcile()).differences).toEqual([]);
    const replay = await db.recordPaymentWithOutcome(pay(leaseId, at(oldDay, 1), '700', archived[0]!.facilitatorTxHash));
    expect(replay.replayed).toBe(true);

    // Again: nothing to add, still verified. Without merge the live store is not the snapshot.
    expect(await migrateData(snapshot, db, { merge: true })).toMatchObject({ ok: true, inserted: 0 });
    const exact = await migrateData(snapshot, db);
    expect(exact.ok).toBe(false);
    expect(exact.inserted).toBe(0);
  });
});
