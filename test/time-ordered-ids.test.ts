/**
 * Time-ordered payment ids (migration 010, docs/scale.md "Time-ordered payment ids") on PostgreSQL
 * and PGlite: every way a payment row is written gives it a version 7 UUID whose first 48 bits
 * are the creation time in ms, so new rows land at the right edge of the primary key; the rest
 * stays random and unique.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePaymentPartitions, utcDay } from '../src/storage/backends/sql/partitions.js';
import { openSqlStore, type OpenSqlStore } from './support/backends.js';
import { at, lease, pay } from './support/payment-days.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The Unix time in ms an id of version 7 carries in its first 48 bits. */
const msOf = (id: string) => Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe.each<'postgres' | 'pglite'>(['postgres', 'pglite'])('time-ordered payment ids on %s', (kind) => {
  let b: OpenSqlStore;
  beforeAll(async () => {
    b = await openSqlStore(kind);
  }, 120_000);
  afterAll(async () => b?.dispose());

  /** The database's clock, in ms (the ids carry the database's time, not this process's). */
  const dbNow = async () => Number((await b.driver.query<{ ms: string }>(`SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms`)).rows[0]?.ms);

  it('gives every payment written, alone, in a group or late, an id that carries its creation time', async () => {
    const leaseId = await lease(b.db);
    await ensurePaymentPartitions(b.driver, [utcDay(at(2))]);
    const before = await dbNow();
    const alone = await b.db.recordPayment(pay(leaseId, new Date()));
    const group = await Promise.all(Array.from({ length: 12 }, () => b.db.recordPayment(pay(leaseId, new Date()))));
    const late = await b.db.recordPayment(pay(leaseId, at(2, 3)));
    const after = await dbNow();

    const ids = [alone, ...group, late].map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(V7);
      expect(msOf(id)).toBeGreaterThanOrEqual(before);
      expect(msOf(id)).toBeLessThanOrEqual(after);
    }
    // The late payment's row went to a day two days back; its id still says when it was written.
    expect(msOf(late.id)).toBeGreaterThanOrEqual(msOf(alone.id));
  });

  it('is the payment table default, and unique and random past the time over many ids at once', async () => {
    const { rows } = await b.driver.query<{ id: string }>(`SELECT x402_time_ordered_uuid()::text AS id FROM generate_series(1, 5000)`);
    const ids = rows.map((r) => r.id);
    expect(ids.every((id) => V7.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // 74 random bits after the time: the ids of one millisecond differ there, not only in a counter.
    const tails = new Set(ids.map((id) => id.slice(15)));
    expect(tails.size).toBe(ids.length);
    const def = await b.driver.query<{ d: string }>(
      `SELECT column_default AS d FROM information_schema.columns WHERE table_name = 'x402_payments' AND column_name = 'id'`,
    );
    expect(def.rows[0]?.d).toBe('x402_time_ordered_uuid()');
  });
});
