/**
 * A lease and its batch for one hour in one statement (Database.getLeaseWithBatch): the lease's
 * columns as they are, the batch's under a `batch.` prefix (both tables have `id`, `lease_id` and
 * `created_at`), null when the lease has no batch for the hour. Concurrent reads go as one
 * statement for all their (lease, hour) pairs (read-coalescer.ts).
 */
import type { LeaseWithBatch } from '../../contract/records.js';
import { batchFromRow, leaseFromRow, type Row } from './codecs.js';
import { COLUMNS } from './records.js';

const PREFIX = 'batch.';
const BATCH_COLUMNS = COLUMNS.x402_batches.map(([name]) => name);
/** The batch's columns under the prefix, as both statements select them. */
const BATCH_SELECT = BATCH_COLUMNS.map((c) => `b.${c} AS "${PREFIX}${c}"`).join(', ');

/** $1 the lease id, $2 the hour bucket. */
export const LEASE_WITH_BATCH_SQL = `SELECT l.*, ${BATCH_SELECT}
  FROM leases l LEFT JOIN x402_batches b ON b.lease_id = l.lease_id AND b.hour_bucket = $2
 WHERE l.lease_id = $1`;

/**
 * $1 the lease ids, $2 their hour buckets (same order): a row per pair whose lease exists, with
 * its 1-based position in the arrays as `key.ord`.
 */
export const LEASES_WITH_BATCHES_SQL = `SELECT k.ord AS "key.ord", l.*, ${BATCH_SELECT}
  FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS k(lease_id, hour_bucket, ord)
  JOIN leases l ON l.lease_id = k.lease_id
  LEFT JOIN x402_batches b ON b.lease_id = k.lease_id AND b.hour_bucket = k.hour_bucket`;

/** The answers of {@link LEASES_WITH_BATCHES_SQL}'s rows for `count` pairs, in the pairs' order. */
export function leasesWithBatchesFromRows(rows: readonly Row[], count: number): (LeaseWithBatch | null)[] {
  const answers = new Array<LeaseWithBatch | null>(count).fill(null);
  for (const row of rows) answers[Number(row['key.ord']) - 1] = leaseWithBatchFromRow(row);
  return answers;
}

/** The lease and batch of a row of {@link LEASE_WITH_BATCH_SQL}. */
export function leaseWithBatchFromRow(row: Row): LeaseWithBatch {
  if (row[`${PREFIX}id`] === null) return { lease: leaseFromRow(row), batch: null };
  const batch: Row = {};
  for (const column of BATCH_COLUMNS) batch[column] = row[`${PREFIX}${column}`];
  return { lease: leaseFromRow(row), batch: batchFromRow(batch) };
}
