/**
 * The stored-payment and stored-event checks of validate-records.ts without zod, for bulk loads:
 * payments and events are 98% of a store's rows, and zod's per-record cost (about 35 µs for a
 * payment) was the largest step of loading an empty store. Every rule here is the schema's rule or stricter; a record it does not accept as plainly
 * valid is handed to {@link validateStoredRecord}, so an invalid one is refused with exactly the
 * same error, and a valid one comes out the same (test/migration/validate-fast.test.ts compares
 * the two on valid and damaged records).
 */
import { INTERVAL_SECONDS, type StoredX402Payment } from '../contract/database.js';
import type { TableName, TableRecords } from '../contract/transfer.js';
import { ADDRESS_RE, HASH_RE } from '../../util/hex.js';
import { hasUnstorableCharacter, jsonDocumentProblem } from './json-document.js';
import { MAX_AMOUNT } from './money.js';
import { checkDate, hourBucketOf } from './time.js';
import { validateStoredRecord } from './validate-records.js';

// Lowercase only (what stores export), a subset of what the schema's z.uuid() accepts.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const REQUIRED = ['id', 'createdAt', 'leaseId', 'mode', 'intervalSeconds', 'amountMinorUnits', 'payer', 'paymentTimestamp', 'facilitatorTxHash', 'bucketSlot'];
const OPTIONAL = ['late', 'carriedToBatchId'];
const EVENT_REQUIRED = ['id', 'createdAt', 'eventName', 'contractAddress', 'blockNumber', 'transactionHash', 'logIndex', 'args', 'processed'];
const EVENT_OPTIONAL = ['chainId', 'blockHash', 'removed', 'attempts', 'lastError'];
const MAX_INT4 = 2_147_483_647;

const intIn = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Own keys are exactly `required` plus those of `optional` present with a value. */
function exactKeys(r: Record<string, unknown>, required: readonly string[], optional: readonly string[]): boolean {
  let keys = 0;
  for (const k in r) {
    if (!Object.prototype.hasOwnProperty.call(r, k)) return false;
    keys += 1;
  }
  let expected = required.length;
  for (const k of optional) {
    if (k in r) {
      // Present but undefined: the schema drops it; left to the schema.
      if (r[k] === undefined) return false;
      expected += 1;
    }
  }
  return keys === expected && required.every((k) => k in r);
}

/** True when `r` is certainly a valid stored event in its normalized form. */
function plainlyValidEvent(r: Record<string, unknown>): boolean {
  if (!exactKeys(r, EVENT_REQUIRED, EVENT_OPTIONAL)) return false;
  const { id, eventName, lastError } = r;
  if (typeof id !== 'string' || !UUID.test(id)) return false;
  if (typeof eventName !== 'string' || eventName.length < 1 || eventName.length > 100) return false;
  if (typeof r['contractAddress'] !== 'string' || !ADDRESS_RE.test(r['contractAddress'])) return false;
  if (typeof r['transactionHash'] !== 'string' || !HASH_RE.test(r['transactionHash'])) return false;
  if (!intIn(r['blockNumber'], 0, Number.MAX_SAFE_INTEGER) || !intIn(r['logIndex'], 0, MAX_INT4)) return false;
  if (typeof r['processed'] !== 'boolean' || !validDate(r['createdAt'])) return false;
  if (r['chainId'] !== undefined && !intIn(r['chainId'], 1, MAX_INT4)) return false;
  if (r['blockHash'] !== undefined && (typeof r['blockHash'] !== 'string' || !HASH_RE.test(r['blockHash']))) return false;
  if (r['removed'] !== undefined && r['removed'] !== true) return false;
  if (r['attempts'] !== undefined && !intIn(r['attempts'], 1, MAX_INT4)) return false;
  if (lastError !== undefined && (typeof lastError !== 'string' || lastError.length > 2000)) return false;
  return jsonDocumentProblem(r['args']) === null;
}

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
  if (!exactKeys(r, REQUIRED, OPTIONAL)) return false;
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

/** True when the zod-free check alone accepts `record` (else the schema decides); for tests. */
export function fastPathAccepts(table: TableName, record: unknown): boolean {
  if (typeof record !== 'object' || record === null || Array.isArray(record) || Object.getPrototypeOf(record) !== Object.prototype) return false;
  const r = record as Record<string, unknown>;
  return table === 'x402_payments' ? plainlyValid(r) : table === 'events' && plainlyValidEvent(r);
}

/**
 * {@link validateStoredRecord}, faster for payments and events: same result, same errors. Returns
 * a copy, as the schema does.
 */
export function validateStoredRecordFast<T extends TableName>(table: T, record: unknown): TableRecords[T] {
  if (fastPathAccepts(table, record)) return { ...(record as TableRecords[T]) };
  return validateStoredRecord(table, record);
}
