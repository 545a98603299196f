/**
 * Helpers of the tests that place payments on chosen UTC days (partitions, retention, hot and
 * cold claims): an instant on a day counted back from today, a row count, a lease, a fresh hash, a payment.
 */
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
