/**
 * The stored-payment check of validate-records.ts without zod, for bulk loads: a payment is 88% of
 * a store's rows and zod's per-record cost (about 35 µs) was the largest step of loading an empty
 * store. Every rule here is the schema's rule or stricter; a record it does not accept as plainly
 * valid is handed to {@link validateStoredRecord}, so an invalid one is refused with exactly the
 * same error, and a valid one comes out the same (test/migration/validate-fast.test.ts compares
 * the two on valid and damaged records).
 */
import { INTERVAL_SECONDS, type StoredX402Payment } from '../contract/database.js';
import type { TableName, TableRecords } from '../contract/transfer.js';
import { ADDRESS_RE, HASH_RE } from '../../util/hex.js';
import { hasUnstorableCharacter } from './json-document.js';
import { MAX_AMOUNT } from './money.js';
import { checkDate, hourBucketOf } from './time.js';
import { validateStoredRecord } from './validate-records.js';

// Lowercase only (what stores export), a subset of what the schema's z.uuid() accepts.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const REQUIRED = ['id', 'createdAt', 'leaseId', 'mode', 'intervalSeconds', 'amountMinorUnits', 'payer', 'paymentTimestamp', 'facilitatorTxHash', 'bucketSlot'];
const OPTIONAL = new Set(['late', 'carriedToBatchId']);

function validDate(value: unknown): boolean {
  if (!(value instanceof Date)) return false;
  try {
    checkDate(value, '');
    return true;
  } catch {
    return false;
  }
}

/** True when `r` is certainly a valid stored payment in its normalized form. */
function plainlyValid(r: Record<string, unknown>): boolean {
  let keys = 0;
  for (const k in r) {
    if (!Object.prototype.hasOwnProperty.call(r, k)) return false;
    keys += 1;
    if (OPTIONAL.has(k) && r[k] === undefined) return false;
  }
  if (keys !== REQUIRED.length + (r['late'] !== undefined ? 1 : 0) + (r['carriedToBatchId'] !== undefined ? 1 : 0)) return false;
  for (const k of REQUIRED) if (!(k in r)) return false;
  const { id, leaseId, mode, amountMinorUnits: amount, paymentTimestamp, bucketSlot } = r;
  if (typeof id !== 'string' || !UUID.test(id)) return false;
  if (typeof leaseId !== 'string' || leaseId.length < 1 || leaseId.length > 255 || hasUnstorableCharacter(leaseId)) return false;
  if (typeof mode !== 'string' || !Object.prototype.hasOwnProperty.call(INTERVAL_SECONDS, mode)) return false;
  if (r['intervalSeconds'] !== INTERVAL_SECONDS[mode as StoredX402Payment['mode']]) return false;
  if (typeof amount !== 'bigint' || amount < 0n || amount > MAX_AMOUNT) return false;
  if (typeof r['payer'] !== 'string' || !ADDRESS_RE.test(r['payer'])) return false;
  if (typeof r['facilitatorTxHash'] !== 'string' || !HASH_RE.test(r['facilitatorTxHash'])) return false;
  if (!validDate(paymentTimestamp) || !validDate(r['createdAt'])) return false;
  if (bucketSlot !== hourBucketOf(paymentTimestamp as Date)) return false;
  if (r['late'] !== undefined && r['late'] !== true) return false;
  const carried = r['carriedToBatchId'];
  if (carried !== undefined && (r['late'] !== true || typeof carried !== 'string' || !UUID.test(carried))) return false;
  return true;
}

/**
 * {@link validateStoredRecord}, faster for payments: same result, same errors. Returns a copy, as
 * the schema does.
 */
export function validateStoredRecordFast<T extends TableName>(table: T, record: unknown): TableRecords[T] {
  if (table === 'x402_payments' && typeof record === 'object' && record !== null && !Array.isArray(record) && Object.getPrototypeOf(record) === Object.prototype) {
    if (plainlyValid(record as Record<string, unknown>)) return { ...(record as TableRecords[T]) };
  }
  return validateStoredRecord(table, record);
}
