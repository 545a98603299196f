/**
 * A payment's record line turned into its COPY row without parsing it into a record: the bytes of
 * each field are checked where they are and copied as they are. Payments are nearly all of a
 * store's rows, and parsing, reviving and re-formatting each one (JSON.parse, two Dates, a bigint,
 * then the COPY text) was most of a migration's CPU in Node (docs/operations.md, section 4).
 *
 * Only the plain form a store writes is taken (plain-line-scan.ts), with canonical amounts and ISO
 * instants (`YYYY-MM-DDTHH:MM:SS.sssZ`, a real calendar date). For such a line the COPY row is
 * the one the record path gives (recordOfLine, then copyRows): every check here is one of
 * validate-payment-fast.ts's or stricter, and every field copied is already in the form that path
 * prints. For any other line the caller takes the record path, which gives the same row or the
 * same error (test/plain-line-copy.test.ts compares the two).
 */
import { INTERVAL_SECONDS } from '../../contract/database.js';
import { equals, fieldsHaveKinds, instantDay, isHex, isUuid, lineShape, NUMBER, putFlag, putOrNull, putSlots, scanLine, STRING, TRUE, type LineFields } from './plain-line-scan.js';

// Slots, in the order of the payments' COPY columns (records.ts): the row is slots 0-9 as they are,
// then `late` and `carried_to_batch_id`.
const ID = 0;
const LEASE_ID = 1;
const MODE = 2;
const INTERVAL = 3;
const AMOUNT = 4;
const PAYER = 5;
const PAYMENT_TIMESTAMP = 6;
const TX_HASH = 7;
const BUCKET_SLOT = 8;
const CREATED_AT = 9;
const LATE = 10;
const CARRIED = 11;
/** The kind of each slot's value; slots before `late` are required. */
const KINDS = [STRING, STRING, STRING, NUMBER, STRING, STRING, STRING, STRING, STRING, STRING, TRUE, STRING];

const SHAPE = lineShape('x402_payments', [
  'id',
  'leaseId',
  'mode',
  'intervalSeconds',
  'amountMinorUnits',
  'payer',
  'paymentTimestamp',
  'facilitatorTxHash',
  'bucketSlot',
  'createdAt',
  'late',
  'carriedToBatchId',
]);

/** Each mode's name and its interval as JSON prints it (INTERVAL_SECONDS). */
const MODES = Object.entries(INTERVAL_SECONDS).map(([mode, seconds]) => [Buffer.from(mode, 'latin1'), Buffer.from(String(seconds), 'latin1')] as const);
const TOP_OF_HOUR = Buffer.from('00:00.000Z', 'latin1');

/**
 * Writes the COPY row of the payment line `b[from, to)` (without its newline) at `out[at]`, sets
 * `f.day` to the payment's UTC day, and returns where the row ends; or returns -1 when the line is
 * not in the plain form (whatever was written past `at` does not count). `out` needs room for the
 * line's length plus 16 bytes at `at`: a row is never longer than its line.
 */
export function paymentLineCopy(b: Uint8Array, from: number, to: number, out: Uint8Array, at: number, f: LineFields): number {
  if (!scanLine(b, from, to, SHAPE, f)) return -1;
  // `late` may only be true, and `carriedToBatchId` needs it.
  if (!fieldsHaveKinds(f, KINDS, LATE)) return -1;
  const { start, end, kind } = f;
  if (kind[CARRIED] !== 0 && (kind[LATE] !== TRUE || !isUuid(b, start[CARRIED] as number, end[CARRIED] as number))) return -1;
  if (!isUuid(b, start[ID] as number, end[ID] as number)) return -1;
  const leaseLength = (end[LEASE_ID] as number) - (start[LEASE_ID] as number);
  if (leaseLength < 1 || leaseLength > 255) return -1;
  if (!intervalMatchesMode(b, start[MODE] as number, end[MODE] as number, start[INTERVAL] as number, end[INTERVAL] as number)) return -1;
  if (!isCanonicalAmount(b, start[AMOUNT] as number, end[AMOUNT] as number)) return -1;
  if (!isHex(b, start[PAYER] as number, end[PAYER] as number, 40) || !isHex(b, start[TX_HASH] as number, end[TX_HASH] as number, 64)) return -1;
  const day = instantDay(b, start[PAYMENT_TIMESTAMP] as number, end[PAYMENT_TIMESTAMP] as number);
  if (Number.isNaN(day) || Number.isNaN(instantDay(b, start[CREATED_AT] as number, end[CREATED_AT] as number))) return -1;
  if (!isBucketOf(b, start[BUCKET_SLOT] as number, end[BUCKET_SLOT] as number, start[PAYMENT_TIMESTAMP] as number)) return -1;

  let p = putSlots(b, f, ID, CREATED_AT, out, at);
  p = putFlag(kind[LATE] === TRUE, out, p);
  p = putOrNull(b, f, CARRIED, out, p);
  out[p++] = 0x0a;
  f.day = day;
  return p;
}

/** The mode is one of INTERVAL_SECONDS's, and the interval is its number as JSON prints it. */
function intervalMatchesMode(b: Uint8Array, ms: number, me: number, is: number, ie: number): boolean {
  for (const [mode, seconds] of MODES) if (equals(b, ms, me, mode)) return equals(b, is, ie, seconds);
  return false;
}

/**
 * 1-20 decimal digits without a leading zero (or `0` alone): an amount below 10^20 (MAX_AMOUNT)
 * in the form `bigint.toString()` prints it.
 */
function isCanonicalAmount(b: Uint8Array, from: number, to: number): boolean {
  const n = to - from;
  if (n < 1 || n > 20 || (n > 1 && b[from] === 0x30)) return false;
  for (let i = from; i < to; i++) if ((b[i] as number) < 0x30 || (b[i] as number) > 0x39) return false;
  return true;
}

/** The bucket is the top of the payment's UTC hour (hourBucketOf): its first 14 bytes, then `00:00.000Z`. */
function isBucketOf(b: Uint8Array, from: number, to: number, paidAt: number): boolean {
  if (to - from !== 24) return false;
  for (let i = 0; i < 14; i++) if (b[from + i] !== b[paidAt + i]) return false;
  return equals(b, from + 14, to, TOP_OF_HOUR);
}
