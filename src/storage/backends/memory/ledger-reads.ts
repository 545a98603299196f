/**
 * Ledger reads of the in-memory backend, computed from the indexes of {@link MemoryLedger} with
 * the same orders, ranges and cursors as the SQL backends.
 */
import type { StoredX402Batch, StoredX402Payment } from '../../contract/database.js';
import type { PageRequest, Slice, TimeIdKey } from '../../core/backend.js';
import type { AssetRevenue, DailyRevenue, LatePayment, ReconcileDifference, ReconcileReport, TimeRange } from '../../contract/ledger-queries.js';
import { batchKey } from '../../core/invariants.js';
import { batchRecord, paymentRecord, type MemoryLedger, type PaymentRow } from './ledger.js';
import { compareStrings } from './sorted-list.js';

/** The lease's payments with from <= timestamp < to, in order. */
function paymentsInRange(ledger: MemoryLedger, leaseId: string, range: TimeRange): readonly PaymentRow[] {
  const list = ledger.paymentsByLease.list(leaseId);
  if (!list) return [];
  const from = range.from.getTime();
  const to = range.to.getTime();
  const start = list.firstAfter((row) => (row.ts < from ? -1 : 1));
  const end = list.firstAfter((row) => (row.ts < to ? -1 : 1));
  return list.values().slice(start, end);
}

/** Revenue per UTC day, newest first, keyset-paginated by day. */
export function dailyRevenue(
  ledger: MemoryLedger,
  leaseId: string,
  range: TimeRange,
  { limit, after }: PageRequest<string>,
): Slice<DailyRevenue> {
  const days = new Map<string, DailyRevenue>();
  for (const row of paymentsInRange(ledger, leaseId, range)) {
    const day = new Date(row.ts).toISOString().slice(0, 10);
    let entry = days.get(day);
    if (!entry) {
      entry = { leaseId, day, totalAmountMinorUnits: 0n, paymentCount: 0 };
      days.set(day, entry);
    }
    entry.totalAmountMinorUnits += row.amount;
    entry.paymentCount += 1;
  }
  const ordered = [...days.values()].filter((d) => after === null || d.day < after).sort((a, b) => compareStrings(b.day, a.day));
  return { items: ordered.slice(0, limit), more: ordered.length > limit };
}

/** Revenue of one asset's leases over a range. */
export function assetRevenue(
  ledger: MemoryLedger,
  assetId: string,
  leaseIds: readonly string[],
  range: TimeRange,
): AssetRevenue {
  const leases: AssetRevenue['leases'] = [];
  let total = 0n;
  let count = 0;
  for (const leaseId of [...leaseIds].sort(compareStrings)) {
    let leaseTotal = 0n;
    const rows = paymentsInRange(ledger, leaseId, range);
    for (const row of rows) leaseTotal += row.amount;
    if (rows.length === 0) continue;
    leases.push({ leaseId, totalAmountMinorUnits: leaseTotal, paymentCount: rows.length });
    total += leaseTotal;
    count += rows.length;
  }
  return { assetId, from: new Date(range.from), to: new Date(range.to), totalAmountMinorUnits: total, paymentCount: count, leases };
}

/** A lease's payments ordered by (paymentTimestamp, id), keyset-paginated. */
export function paymentsPage(ledger: MemoryLedger, leaseId: string, { limit, after }: PageRequest<TimeIdKey>): Slice<StoredX402Payment> {
  const list = ledger.paymentsByLease.list(leaseId);
  if (!list) return { items: [], more: false };
  let start = 0;
  if (after) {
    const { ts, id } = after;
    start = list.firstAfter((row) => row.ts - ts || compareStrings(row.id, id));
  }
  const rows = list.values().slice(start, start + limit + 1);
  return { items: rows.slice(0, limit).map(paymentRecord), more: rows.length > limit };
}

/** A lease's batches ordered by hourBucket, keyset-paginated. */
export function batchesPage(ledger: MemoryLedger, leaseId: string, { limit, after }: PageRequest<string>): Slice<StoredX402Batch> {
  const list = ledger.batchesByLease.list(leaseId);
  if (!list) return { items: [], more: false };
  const start = after === null ? 0 : list.firstAfter((row) => compareStrings(row.hourBucket, after));
  const rows = list.values().slice(start, start + limit + 1);
  return { items: rows.slice(0, limit).map(batchRecord), more: rows.length > limit };
}

/** Compares every batch with the sum and count of its on-time payments, and lists the late ones. */
export function reconcile(ledger: MemoryLedger): ReconcileReport {
  const sums = new Map<string, { leaseId: string; bucket: string; total: bigint; count: number }>();
  const latePayments: LatePayment[] = [];
  for (const row of ledger.paymentsByHash.values()) {
    if (row.late) {
      latePayments.push({ leaseId: row.leaseId, hourBucket: row.bucket, facilitatorTxHash: row.hash, amountMinorUnits: row.amount, carriedToBatchId: row.carriedTo ?? null });
      continue;
    }
    const key = batchKey(row.leaseId, row.bucket);
    let sum = sums.get(key);
    if (!sum) {
      sum = { leaseId: row.leaseId, bucket: row.bucket, total: 0n, count: 0 };
      sums.set(key, sum);
    }
    sum.total += row.amount;
    sum.count += 1;
  }
  const differences: ReconcileDifference[] = [];
  for (const batch of ledger.batchesById.values()) {
    const key = batchKey(batch.leaseId, batch.hourBucket);
    const sum = sums.get(key);
    sums.delete(key);
    const paymentsTotal = sum?.total ?? 0n;
    const paymentsCount = sum?.count ?? 0;
    if (paymentsTotal !== batch.total || paymentsCount !== batch.count) {
      differences.push({
        leaseId: batch.leaseId,
        hourBucket: batch.hourBucket,
        batchId: batch.id,
        storedTotal: batch.total,
        storedCount: batch.count,
        paymentsTotal,
        paymentsCount,
      });
    }
  }
  for (const sum of sums.values()) {
    differences.push({
      leaseId: sum.leaseId,
      hourBucket: sum.bucket,
      batchId: null,
      storedTotal: 0n,
      storedCount: 0,
      paymentsTotal: sum.total,
      paymentsCount: sum.count,
    });
  }
  differences.sort((a, b) => compareStrings(a.leaseId, b.leaseId) || compareStrings(a.hourBucket, b.hourBucket));
  latePayments.sort((a, b) => compareStrings(a.leaseId, b.leaseId) || compareStrings(a.hourBucket, b.hourBucket) || compareStrings(a.facilitatorTxHash, b.facilitatorTxHash));
  return { batchesChecked: ledger.batchesById.size, paymentsChecked: ledger.paymentsByHash.size, differences, latePayments };
}
