/**
 * Refusing before money moves: whether the lease's batch for the hour a payment is priced in can
 * still take it. The store enforces the same rules when the payment is recorded; checking them
 * before settlement means a payment the ledger would refuse is never settled.
 */
import type { Database } from '../storage/contract/database.js';
import { batchRoom } from '../storage/core/invariants.js';
import { hourBucketOf } from '../storage/core/time.js';

/** Why the batch cannot take the payment. */
export type BatchRefusal = { code: 'HOUR_SETTLED'; hourBucket: string } | { code: 'BATCH_FULL'; hourBucket: string };

/** Null when the batch of `leaseId` for the hour of `pricedAt` can take `amount`; otherwise why not. */
export async function batchRefusal(db: Pick<Database, 'getX402Batch'>, leaseId: string, pricedAt: Date, amount: bigint): Promise<BatchRefusal | null> {
  const hourBucket = hourBucketOf(pricedAt);
  const batch = await db.getX402Batch(leaseId, hourBucket);
  const room = batchRoom(batch === null ? undefined : { settlementTxHash: batch.settlementTxHash, total: batch.totalAmountMinorUnits }, amount);
  if (room === null) return null;
  return { code: room === 'settled' ? 'HOUR_SETTLED' : 'BATCH_FULL', hourBucket };
}
