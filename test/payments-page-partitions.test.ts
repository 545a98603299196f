/**
 * Issue 15, the read curve: a lease's payments page on day partitions reads the partitions in
 * order and stops at the first that fills it (partition-span.ts), instead of opening every day
 * partition, and returns exactly the rows of the plain query whatever the span says: rows in the
 * DEFAULT partition, past the newest partition, beyond a gap between partitions, and a span that
 * no longer matches the catalog. Its prepared statement keeps one cached plan even for a lease with
 * a long history (pageRowsBound).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDriver } from '../src/storage/backends/sql/driver.js';
import { pageRowsBound, paymentsPageSql } from '../src/storage/backends/sql/ledger-reads.js';
import { longestSpan, PartitionSpanCache, type PartitionSpan } from '../src/storage/backends/sql/partition-span.js';
import { DEFAULT_PARTITION, ensurePaymentPartitions, partitionName, utcDay } from '../src/storage/backends/sql/partitions.js';
import type { SqlDatabase } from '../src/storage/backends/sql/sql-database.js';
import type { StoredX402Payment } from '../src/storage/contract/database.js';
import { hash, newAsset, newLease } from './conformance/fixtures.js';
import { openSqlStore, type OpenSqlStore } from './support/backends.js';
import { fileDays } from './support/payment-days.js';

// Every day of this file is counted from one instant. Migration 007 makes today's partition and
// the next seven by the database's clock, which no test can pass, and the spans below expect them,
// so the instant is read at least MARGIN_MS (some three times this file's run) before a midnight:
// every store's migration falls on its day.
const MARGIN_MS = 90_000;
const clock = fileDays(MARGIN_MS);

/** Start of the UTC day `daysAgo` days before the file's day, plus `hours`. */
const at = (daysAgo: number, hours = 0) => clock.at(daysAgo, hours, 0);

const dayAgo = (daysAgo: number) => utcDay(clock.now, -daysAgo);

/** The span of `count` consecutive days starting `oldest` days ago. */
const spanOfDays = (oldest: number, count: number) => longestSpan(Array.from({ length: count }, (_, i) => dayAgo(oldest - i)));

let seq = 0x9a00;
async function payOn(db: SqlDatabase, leaseId: string, when: Date): Promise<StoredX402Payment> {
  return db.recordPayment({ leaseId, amount: '7', timestamp: when.toISOString(), mode: 'second', facilitatorTxHash: hash(++seq) });
}

async function newLeaseId(db: SqlDatabase): Promise<string> {
  const asset = await db.saveAsset(newAsset());
  return (await db.saveLease(newLease(asset.assetId))).leaseId;
}

/** Every payment of the lease, walking pages of `limit`. */
async function walk(db: SqlDatabase, leaseId: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await db.getPaymentsPage(leaseId, { limit, ...(after === undefined ? {} : { after }) });
    ids.push(...page.items.map((p) => p.id));
    if (page.nextCursor === null) return ids;
    after = page.nextCursor;
  }
}

describe('longestSpan', () => {
  it('is the longest run of consecutive days, the newest on a tie, null for none', () => {
    expect(longestSpan([])).toBeNull();
    expect(longestSpan(['2026-11-03', '2026-11-01', '2026-11-02', '2026-11-05'])).toEqual({
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-04T00:00:00.000Z',
    });
    expect(longestSpan(['2026-11-01', '2026-11-03', '2026-11-03'])).toEqual({ from: '2026-11-03T00:00:00.000Z', to: '2026-11-04T00:00:00.000Z' });
    // Across a month's end.
    expect(longestSpan(['2026-11-30', '2026-12-01'])).toEqual({ from: '2026-11-30T00:00:00.000Z', to: '2026-12-02T00:00:00.000Z' });
  });
});

describe('pageRowsBound', () => {
  it('is the smallest power of two not below the rows, and refuses what is not a row count', () => {
    expect([1, 2, 3, 51, 64, 65, 101, 1001].map(pageRowsBound)).toEqual([1, 2, 4, 64, 64, 128, 128, 1024]);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => pageRowsBound(bad)).toThrow(RangeError);
    // Every page size the API allows (1..1,000, one more row asked) gives one of ten texts.
    expect(new Set(Array.from({ length: 1000 }, (_, i) => paymentsPageSql(null, false, i + 2))).size).toBe(10);
  });
});

describe.each(['postgres', 'pglite'] as const)('payments pages on day partitions (%s)', (kind) => {
  let store: OpenSqlStore;
  let driver: SqlDriver;
  let db: SqlDatabase;
  let leaseId: string;
  let expected: string[];

  beforeAll(async () => {
    store = await openSqlStore(kind);
    ({ driver, db } = store);
    // Day partitions 30..22 days ago and 19 days ago onwards (migration 007 made today and the
    // next seven): a gap at 21 and 20 days ago, whose payments wait in the DEFAULT partition.
    const days = Array.from({ length: 31 }, (_, i) => i).filter((d) => d !== 20 && d !== 21);
    await ensurePaymentPartitions(driver, days.map(dayAgo));
    leaseId = await newLeaseId(db);
    for (let d = 30; d >= 0; d--) for (const h of [1, 9, 17]) await payOn(db, leaseId, at(d, h));
    // Past the newest partition: the DEFAULT partition too.
    await payOn(db, leaseId, at(-40, 2));
    const { rows } = await driver.query<{ id: string }>('SELECT id FROM x402_payments WHERE lease_id = $1 ORDER BY payment_timestamp, id', [leaseId]);
    expected = rows.map((r) => r.id);
  }, 120_000);

  afterAll(async () => store?.dispose());

  it('a walk through the pages returns every payment once, in order, with rows in and out of the span', async () => {
    expect(expected).toHaveLength(31 * 3 + 1);
    const inDefault = await driver.query<{ n: string | number }>('SELECT COUNT(*) AS n FROM x402_payments_default WHERE lease_id = $1', [leaseId]);
    expect(Number(inDefault.rows[0]?.n)).toBe(7);
    for (const limit of [1, 4, 50, 200]) expect(await walk(db, leaseId, limit)).toEqual(expected);
  });

  it('any span, true or stale, gives the rows of the plain statement', async () => {
    const spans: (PartitionSpan | null)[] = [
      null,
      spanOfDays(19, 27),
      { from: at(60).toISOString(), to: at(-60).toISOString() },
      { from: at(1).toISOString(), to: at(0).toISOString() },
      { from: at(25, 5).toISOString(), to: at(3, 13).toISOString() },
    ];
    const cursors = [null, { ts: at(25, 9).getTime(), id: '00000000-0000-0000-0000-000000000000' }, { ts: at(3, 9).getTime(), id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' }];
    for (const cursor of cursors) {
      const base = cursor === null ? [leaseId, 11] : [leaseId, 11, new Date(cursor.ts), cursor.id];
      const plain = await driver.query<{ id: string }>(paymentsPageSql(null, cursor !== null, 11), base);
      expect(plain.rows.length).toBe(11);
      for (const span of spans) {
        const { rows } = await driver.query<{ id: string }>(paymentsPageSql(span, cursor !== null, 11), base);
        expect(rows.map((r) => r.id)).toEqual(plain.rows.map((r) => r.id));
      }
    }
  });

  it('pages stay right when partitions are made after the span was read', async () => {
    const cache = new PartitionSpanCache(driver, 60_000);
    const before = await cache.get();
    expect(before).toEqual(spanOfDays(19, 27));
    // The gap's days are made (their rows leave the DEFAULT partition); the cached span is stale.
    expect(await ensurePaymentPartitions(driver, [dayAgo(20), dayAgo(21)])).toHaveLength(2);
    expect(await cache.get()).toBe(before);
    expect(await walk(db, leaseId, 5)).toEqual(expected);
    cache.invalidate();
    expect(await cache.get()).toEqual(spanOfDays(30, 38));
  });
});

/** The relations a plan node tree read (`Actual Loops` > 0), by name. */
function scanned(node: Record<string, unknown>, out: string[] = []): string[] {
  const relation = node['Relation Name'];
  if (typeof relation === 'string' && Number(node['Actual Loops']) > 0) out.push(relation);
  for (const child of (node['Plans'] as Record<string, unknown>[] | undefined) ?? []) scanned(child, out);
  return out;
}

describe('the cached plan of a payments page on PostgreSQL', () => {
  let store: OpenSqlStore;
  let db: SqlDatabase;
  let client: pg.Client;
  let leaseId: string;
  const DAYS = 20;

  beforeAll(async () => {
    store = await openSqlStore('postgres');
    db = store.db;
    await ensurePaymentPartitions(store.driver, Array.from({ length: DAYS }, (_, i) => dayAgo(i + 1)));
    leaseId = await newLeaseId(db);
    for (let d = DAYS; d >= 1; d--) for (let h = 0; h < 8; h++) await payOn(db, leaseId, at(d, h));
    client = new pg.Client({ connectionString: store.url as string });
    await client.connect();
    await client.query('ANALYZE x402_payments');
    // The plan the prepared statement keeps after its first calls, whatever the planner prefers.
    await client.query('SET plan_cache_mode = force_generic_plan');
  }, 120_000);

  afterAll(async () => {
    await client?.end();
    await store?.dispose();
  });

  async function partitionsRead(sql: string, types: string, args: string): Promise<string[]> {
    await client.query(`PREPARE page_plan(${types}) AS ${sql}`);
    try {
      const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE page_plan(${args})`,
      );
      return scanned((rows[0] as { 'QUERY PLAN': [{ Plan: Record<string, unknown> }] })['QUERY PLAN'][0].Plan);
    } finally {
      await client.query('DEALLOCATE page_plan');
    }
  }

  it('the first page reads the oldest day and the DEFAULT partition, not every day', async () => {
    const span = spanOfDays(DAYS, DAYS + 8);
    const lease = pg.escapeLiteral(leaseId);
    const read = await partitionsRead(paymentsPageSql(span, false, 6), 'text, int', `${lease}, 6`);
    expect(read.sort()).toEqual([DEFAULT_PARTITION, partitionName(dayAgo(DAYS))]);
    // The statement without a span opens every day partition: what this file is about.
    const plain = await partitionsRead(paymentsPageSql(null, false, 6), 'text, int', `${lease}, 6`);
    expect(plain.length).toBeGreaterThan(DAYS);
  });

  it("a page after a cursor reads from the cursor's day on and stops when it is full", async () => {
    const span = spanOfDays(DAYS, DAYS + 8);
    const cursor = `${pg.escapeLiteral(at(10, 6).toISOString())}, '00000000-0000-0000-0000-000000000000'`;
    const read = await partitionsRead(paymentsPageSql(span, true, 6), 'text, int, timestamptz, uuid', `${pg.escapeLiteral(leaseId)}, 6, ${cursor}`);
    // 10 days ago from 06:00 has two payments left, so the page goes on into the next day.
    expect(read.sort()).toEqual([DEFAULT_PARTITION, partitionName(dayAgo(10)), partitionName(dayAgo(9))].sort());
  });

  it("the service's own first page returns the oldest payments", async () => {
    const page = await db.getPaymentsPage(leaseId, { limit: 5 });
    expect(page.items.map((p) => p.paymentTimestamp.getTime())).toEqual([0, 1, 2, 3, 4].map((h) => at(DAYS, h).getTime()));
  });
});

describe('a lease with a long history: the first page keeps its cached plan (PostgreSQL)', () => {
  let store: OpenSqlStore;
  let client: pg.Client;
  let leaseId: string;
  const LEASES = 8;
  const PAYMENTS = 20_000;

  beforeAll(async () => {
    store = await openSqlStore('postgres');
    await ensurePaymentPartitions(store.driver, Array.from({ length: 8 }, (_, i) => dayAgo(i + 1)));
    const leases: string[] = [];
    for (let i = 0; i < LEASES; i++) leases.push(await newLeaseId(store.db));
    leaseId = leases[0] as string;
    client = new pg.Client({ connectionString: store.url as string });
    await client.connect();
    // Each lease pays every 15 s for three and a half days, the leases' rows interleaved in the heap
    // as concurrent leases' are: a history long enough that a tenth of a lease's rows costs far
    // more than a page and its planning together (at 20 M payments and 41 partitions the bench's
    // leases have 20,000 rows each too).
    await client.query(
      `INSERT INTO x402_payments (lease_id, mode, interval_seconds, amount_minor_units, payer, payment_timestamp, facilitator_tx_hash, bucket_slot)
       SELECT l, 'second', 1, 7, '0x' || repeat('1', 40), t, '0x' || md5(l || i) || md5('h' || i), date_trunc('hour', t)
         FROM unnest($1::text[]) AS l, generate_series(1, ${PAYMENTS}) AS i,
              LATERAL (SELECT $2::timestamptz + i * interval '15 seconds' AS t) AS ts
        ORDER BY md5(l || i)`,
      [leases, at(4)],
    );
    await client.query('ANALYZE x402_payments');
  }, 120_000);

  afterAll(async () => {
    await client?.end();
    await store?.dispose();
  });

  /** Generic and custom plans made in 10 calls of `sql` as a prepared statement (PostgreSQL's default plan_cache_mode). */
  async function plansIn10Calls(sql: string): Promise<{ generic: number; custom: number }> {
    await client.query(`PREPARE first_page(text, int) AS ${sql}`);
    try {
      for (let i = 0; i < 10; i++) await client.query(`EXECUTE first_page(${pg.escapeLiteral(leaseId)}, 51)`);
      const { rows } = await client.query<{ g: string; c: string }>(
        `SELECT generic_plans::text AS g, custom_plans::text AS c FROM pg_prepared_statements WHERE name = 'first_page'`,
      );
      return { generic: Number(rows[0]?.g), custom: Number(rows[0]?.c) };
    } finally {
      await client.query('DEALLOCATE first_page');
    }
  }

  it('is planned five times, then served from its generic plan', async () => {
    const count = await client.query<{ n: string }>('SELECT COUNT(*)::text AS n FROM x402_payments WHERE lease_id = $1', [leaseId]);
    expect(Number(count.rows[0]?.n)).toBe(PAYMENTS);
    const sql = paymentsPageSql(spanOfDays(8, 16), false, 51);
    // The same statement with its branches' limit as a parameter, as it was: planned on every call,
    // because its generic plan is costed at a tenth of the lease's history (pageRowsBound).
    expect(await plansIn10Calls(sql.replaceAll(/LIMIT \d+/g, 'LIMIT $2'))).toEqual({ generic: 0, custom: 10 });
    expect(await plansIn10Calls(sql)).toEqual({ generic: 5, custom: 5 });
  });
});
