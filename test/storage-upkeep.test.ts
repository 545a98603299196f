/**
 * The service's hourly storage upkeep (src/storage-upkeep.ts) on PostgreSQL and PGlite: when
 * another service instance of the same database holds the lock of the claims move or of the
 * compaction, that job is left to it and logged at info, never as a failure, and the others are
 * done; once the lock is free the next run does the job; a real failure is logged as an error.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLD_CLAIMS, HOT_CLAIMS } from '../src/storage/backends/sql/settlement-hashes.js';
import { ensurePaymentPartitions, partitionName, utcDay } from '../src/storage/backends/sql/partitions.js';
import type { SchemaManager } from '../src/storage/contract/schema.js';
import { keepStorageUpkeep, PARTITION_DAYS_AHEAD } from '../src/storage-upkeep.js';
import { openSqlStore, type OpenSqlStore } from './support/backends.js';
import { count, fileDays, lease, pay } from './support/payment-days.js';

interface LogLine {
  level: number;
  msg: string;
  reason?: string;
}

/** A logger at info that keeps its lines, and the lines (pino's levels: 30 info, 50 error). */
function keptLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/** One upkeep run of `schema`, as the service makes at start (its timer stopped); its log lines. */
async function upkeepOnce(schema: SchemaManager): Promise<LogLine[]> {
  const { logger, lines } = keptLogger();
  const upkeep = keepStorageUpkeep(schema, logger, true);
  upkeep.stop();
  await upkeep.firstRun;
  return lines;
}

// The upkeep reads the clock itself; the file's days are counted from an instant away from midnight.
const { at } = fileDays(60_000);

describe.each<'postgres' | 'pglite'>(['postgres', 'pglite'])('storage upkeep on %s', (kind) => {
  let b: OpenSqlStore;
  beforeAll(async () => {
    b = await openSqlStore(kind);
  }, 120_000);
  afterAll(async () => b?.dispose());

  it('leaves the claims move and the compaction to the process holding their locks, logged at info; the next run does them', async () => {
    const leaseId = await lease(b.db);
    await ensurePaymentPartitions(b.driver, [utcDay(at(4))]);
    const old = await b.db.recordPayment(pay(leaseId, at(4, 2)));
    const claims = async () => [
      await count(b.driver, `SELECT COUNT(*) AS n FROM ${HOT_CLAIMS} WHERE facilitator_tx_hash = $1`, [old.facilitatorTxHash]),
      await count(b.driver, `SELECT COUNT(*) AS n FROM ${COLD_CLAIMS} WHERE facilitator_tx_hash = $1`, [old.facilitatorTxHash]),
    ];
    const compacted = () => count(b.driver, 'SELECT COUNT(*) AS n FROM x402_payment_compactions WHERE partition_name = $1', [partitionName(utcDay(at(4)))]);

    // Another instance of the service holds both locks (the names its store takes them by).
    const held = [await b.driver.tryLeadership('claims-move'), await b.driver.tryLeadership('payment-compaction')];
    let lines: LogLine[];
    try {
      expect(held.every((h) => h !== null)).toBe(true);
      lines = await upkeepOnce(b.db.schema);
    } finally {
      for (const h of held) await h?.release();
    }
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    const leftToOthers = lines.filter((l) => l.msg.endsWith(': left to the process that holds its lock'));
    expect(leftToOthers.map((l) => [l.level, l.msg, l.reason])).toEqual([
      [30, 'moving settlement-hash claims to the cold table: left to the process that holds its lock', 'CONFLICT: another process is moving settlement-hash claims'],
      [30, 'compacting payment partitions: left to the process that holds its lock', 'CONFLICT: another process is compacting payment partitions'],
    ]);
    // Left alone, and the jobs without those locks done: partitions ahead of today.
    expect(await claims()).toEqual([1, 0]);
    expect(await compacted()).toBe(0);
    const ahead = await count(b.driver, `SELECT COUNT(*) AS n FROM pg_class WHERE relname = $1`, [partitionName(utcDay(at(-PARTITION_DAYS_AHEAD)))]);
    expect(ahead).toBe(1);

    // The locks free, the next run moves and compacts, and nothing is an error.
    const next = await upkeepOnce(b.db.schema);
    expect(next.filter((l) => l.level >= 50)).toEqual([]);
    expect(next.map((l) => l.msg)).toEqual(expect.arrayContaining(['settlement-hash claims moved to the cold table', 'payment partitions compacted in lease order']));
    expect(await claims()).toEqual([0, 1]);
    expect(await compacted()).toBe(1);
  }, 60_000);
});

// The logging does not depend on the backend: one of them is enough.
describe('storage upkeep failures', () => {
  it('logs a job that fails as an error, and goes on with the others', async () => {
    const closed = await openSqlStore('postgres', { migrate: false });
    await closed.dispose();
    const lines = await upkeepOnce(closed.db.schema);
    const failures = lines.filter((l) => l.level === 50);
    expect(failures.map((l) => l.msg)).toEqual([
      'creating payment partitions failed',
      'moving settlement-hash claims to the cold table failed',
      'compacting payment partitions failed',
      'keeping reconcile results failed',
    ]);
    for (const failure of failures) expect(failure.reason).toMatch(/^NOT_CONNECTED: /);
  });
});
