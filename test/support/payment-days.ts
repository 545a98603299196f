/**
 * Helpers of the tests that place payments on chosen UTC days (partitions, retention, hot and
 * cold claims): an instant on a day counted back from today, a wait away from midnight, a row
 * count, a lease, a fresh hash, a payment.
 */
import { beforeAll } from 'vitest';
import type { SqlDriver } from '../../src/storage/backends/sql/driver.js';
import type { SqlDatabase } from '../../src/storage/backends/sql/sql-database.js';
import { hash, newAsset, newLease } from '../conformance/fixtures.js';

const DAY_MS = 86_400_000;

/**
 * Start of the UTC day `daysAgo` days before today (the day of `now`), plus `hours` and
 * `minutes`. A file whose days must agree from its first test to its last passes one `now`, so a
 * run that crosses midnight does not move its days under it.
 */
export function at(daysAgo: number, hours = 0, minutes = 5, now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - daysAgo * DAY_MS + hours * 3_600_000 + minutes * 60_000);
}

/**
 * Returns at once unless the next 00:00 UTC is less than `marginMs` away; then waits until just
 * after it. For a test whose code under test reads the clock itself, with no way for the test to
 * pass its own (a CLI run as a child process, the service's upkeep, a store method that reads
 * `new Date()`, the database's `now()` in migration 007): the test cannot give that code the
 * instant its days are counted from, so it calls this, then reads that instant, and so no
 * midnight falls between it and the code's own reads. `marginMs` must cover everything from that
 * read to the code's last read of the clock (about three times the test's measured duration, at
 * least a minute), and the hook's or test's timeout the wait of up to `marginMs` on top.
 */
export async function awayFromMidnight(marginMs: number): Promise<void> {
  if (!(marginMs >= 0 && marginMs < DAY_MS / 2)) throw new RangeError(`marginMs must be from 0 to half a day, got ${marginMs}`);
  // A timer that fires early, or a clock that steps back, only means another wait.
  for (let left = DAY_MS - (Date.now() % DAY_MS); left < marginMs; left = DAY_MS - (Date.now() % DAY_MS)) {
    await new Promise((resolve) => setTimeout(resolve, left + 1_000));
  }
}

/** The instant a test file counts its days from, and {@link at} bound to it. */
export interface FileDays {
  /** The instant (read in the file's first `beforeAll`). */
  readonly now: Date;
  /** {@link at} from {@link now}. */
  at(daysAgo: number, hours?: number, minutes?: number): Date;
}

/**
 * Registers a file-level `beforeAll` (call it at the top of a test file) that waits
 * {@link awayFromMidnight}(`marginMs`) and then reads the one instant every day of the file is
 * counted from, so its first test and its last, and the code under test that reads the clock
 * itself, agree on what "today" is.
 */
export function fileDays(marginMs: number): FileDays {
  let instant: Date | undefined;
  beforeAll(async () => {
    await awayFromMidnight(marginMs);
    instant = new Date();
  }, marginMs + 10_000);
  const days: FileDays = {
    get now() {
      if (instant === undefined) throw new Error("the file's instant is read in its first beforeAll");
      return instant;
    },
    at: (daysAgo, hours, minutes) => at(daysAgo, hours, minutes, days.now),
  };
  return days;
}

/** The column `n` of `sql`'s first row, as a number. */
export async function count(driver: SqlDriver, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await driver.query<{ n: string | number }>(sql, params);
  return Number(rows[0]?.n);
}

/** A new asset and a lease on it; returns the lease id. */
export async function lease(db: SqlDatabase): Promise<string> {
  const asset = await db.saveAsset(newAsset());
  return (await db.saveLease(newLease(asset.assetId))).leaseId;
}

let seq = 0x7700;
/** A transaction hash this test file has not used before. */
export const freshHash = (): string => hash(++seq);

/** `recordPayment` parameters for `leaseId` at `when`, with a fresh settlement hash unless one is given. */
export const pay = (leaseId: string, when: Date, amount = '1000', facilitatorTxHash = freshHash()) => ({
  leaseId,
  amount,
  timestamp: when.toISOString(),
  mode: 'second',
  facilitatorTxHash,
});
