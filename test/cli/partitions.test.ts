/**
 * `partitions ensure|list|move-claims|compact` and `retention` as child processes on PostgreSQL: the commands a
 * cron job or an operator runs (the behaviour behind them is tested in test/partitions.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/storage/backends/postgres/postgres-database.js';
import { partitionName, utcDay } from '../../src/storage/backends/sql/partitions.js';
import { hash, newAsset, newLease } from '../conformance/fixtures.js';
import { runCli } from '../support/cli.js';
import { awayFromMidnight } from '../support/payment-days.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';

// The commands run as child processes and read the clock themselves, as does migration 007 (the
// database's: it makes today's partition and the next seven). The days this file expects are
// counted from one instant, read at least MARGIN_MS (some four times this file's run) before a
// midnight, so every clock read here falls on its day.
const MARGIN_MS = 60_000;

describe('partitions and retention commands', () => {
  let t: TestDatabase;
  let now: Date;
  beforeAll(async () => {
    await awayFromMidnight(MARGIN_MS);
    now = new Date();
    t = await createTestDatabase();
    const db = new PostgresDatabase(t.url);
    await db.connect();
    const result = await db.schema.up();
    await db.disconnect();
    if (result.error) throw result.error;
  }, 120_000 + MARGIN_MS);
  afterAll(async () => t?.drop());

  it('ensure makes the missing days, list shows them with the DEFAULT partition last', async () => {
    const ensured = await runCli(['partitions', 'ensure', '--days-ahead', '10', '--database-url', t.url]);
    expect(ensured.code, ensured.stderr).toBe(0);
    expect(ensured.stdout).toContain(`created ${utcDay(now, 8)}, ${utcDay(now, 9)}, ${utcDay(now, 10)}`);
    const listed = await runCli(['partitions', 'list', '--json', '--database-url', t.url]);
    expect(listed.code, listed.stderr).toBe(0);
    const parts = JSON.parse(listed.stdout) as { name: string; day: string | null }[];
    expect(parts.map((p) => p.day)).toContain(utcDay(now, 10));
    expect(parts[parts.length - 1]?.name).toBe('x402_payments_default');
  }, 120_000);

  it('move-claims moves the claims of payments before the kept days to the cold table', async () => {
    const db = new PostgresDatabase(t.url);
    await db.connect();
    try {
      const asset = await db.saveAsset(newAsset());
      const { leaseId } = await db.saveLease(newLease(asset.assetId));
      const old = new Date(Date.parse(`${utcDay(now, -3)}T01:00:00Z`));
      await db.recordPayment({ leaseId, amount: '1000', timestamp: old.toISOString(), mode: 'second', facilitatorTxHash: hash(0xc0c0) });
    } finally {
      await db.disconnect();
    }
    const moved = await runCli(['partitions', 'move-claims', '--keep-days', '2', '--database-url', t.url]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toBe(`moved 1 claim(s) of payments before ${utcDay(now, -2)}T00:00:00.000Z to the cold table\n`);
    const again = await runCli(['partitions', 'move-claims', '--database-url', t.url]);
    expect(again.stdout).toContain('moved 0 claim(s)');
    const bad = await runCli(['partitions', 'move-claims', '--keep-days', '-1', '--database-url', t.url]);
    expect(bad.code).not.toBe(0);
  }, 120_000);

  it('compact rewrites the days before the kept ones once; a day not over is refused', async () => {
    // The payment of three days ago waits in the DEFAULT partition until its day is made.
    const adopted = await runCli(['partitions', 'ensure', '--from-default', '--database-url', t.url]);
    expect(adopted.stdout).toContain(`created ${utcDay(now, -3)}`);
    const name = partitionName(utcDay(now, -3));
    const compacted = await runCli(['partitions', 'compact', '--database-url', t.url]);
    expect(compacted.code, compacted.stderr).toBe(0);
    expect(compacted.stdout).toBe(`compacted ${name}: 1 payment(s), 0 written during the copy\n`);
    const again = await runCli(['partitions', 'compact', '--database-url', t.url]);
    expect(again.stdout).toBe('nothing to compact\n');
    const chosen = await runCli(['partitions', 'compact', '--day', utcDay(now, -3), '--database-url', t.url]);
    expect(chosen.stdout).toBe(`compacted ${name}: 1 payment(s), 0 written during the copy\n`);
    const today = await runCli(['partitions', 'compact', '--day', utcDay(now), '--database-url', t.url]);
    expect(today.code).not.toBe(0);
    expect(today.stderr).toContain('not over yet');
    const bad = await runCli(['partitions', 'compact', '--day', 'yesterday', '--database-url', t.url]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('YYYY-MM-DD');
  }, 120_000);

  it('retention is a dry run unless --execute', async () => {
    const dry = await runCli(['retention', '--older-than-days', '30', '--database-url', t.url]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('dry run');
    expect(dry.stdout).toContain('no partition is old enough');
  }, 120_000);
});
