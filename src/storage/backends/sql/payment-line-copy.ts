/**
 * A payment's record line turned into its COPY row without parsing it into a record: the bytes of
 * each field are checked where they are and copied as they are. Payments are nearly all of a
 * store's rows, and parsing, reviving and re-formatting each one (JSON.parse, two Dates, a bigint,
 * then the COPY text) was most of a migration's CPU in Node (docs/operations.md, section 4).
 *
 * Only the plain form a store writes is taken: one flat object of the known fields, strings of
 * printable ASCII without escapes, canonical numbers, amounts and ISO instants
 * (`YYYY-MM-DDTHH:MM:SS.sssZ`, a real calendar date), in any key order. For such a line the
 * COPY row is the one the record path gives (recordOfLine, then copyText): every check here is
 * one of validate-payment-fast.ts's or stricter, and every field it copies is already in the form
 * that path would print. Anything else returns false, and the caller takes the record path, which
 * gives the same row or the same error (test/payment-line-copy.test.ts compares the two).
 */
import { INTERVAL_SECONDS } from '../../contract/database.js';
import { DAY_MS } from '../../core/time.js';

const PREFIX = Buffer.from('{"t":"x402_payments","r":{', 'latin1');

// Field slots, in the order of the payments' COPY columns (records.ts) where they are columns.
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
const SLOTS = 12;

const KEYS: readonly (readonly [string, number])[] = [
  ['id', ID],
  ['leaseId', LEASE_ID],
  ['mode', MODE],
  ['intervalSeconds', INTERVAL],
  ['amountMinorUnits', AMOUNT],
  ['payer', PAYER],
  ['paymentTimestamp', PAYMENT_TIMESTAMP],
  ['facilitatorTxHash', TX_HASH],
  ['bucketSlot', BUCKET_SLOT],
  ['createdAt', CREATED_AT],
  ['late', LATE],
  ['carriedToBatchId', CARRIED],
];
/** The keys' bytes by slot, and each key's slot by its length and first byte (no two share both). */
const KEY_BYTES: Uint8Array[] = [];
const KEY_SLOT = new Int8Array(32 * 128).fill(-1);
for (const [key, slot] of KEYS) {
  KEY_BYTES[slot] = Buffer.from(key, 'latin1');
  KEY_SLOT[key.length * 128 + key.charCodeAt(0)] = slot;
}

// The value kinds a slot can hold here.
const STRING = 1;
const NUMBER = 2;
const TRUE = 3;

const Q = 0x22; // "
const COLON = 0x3a;
const COMMA = 0x2c;
const TAB = 0x09;
const NL = 0x0a;
const ZERO = 0x30;
const NINE = 0x39;

/** Each mode's name and its interval as JSON prints it (INTERVAL_SECONDS). */
const MODES = Object.entries(INTERVAL_SECONDS).map(([mode, seconds]) => [Buffer.from(mode, 'latin1'), Buffer.from(String(seconds), 'latin1')] as const);

/** Lowercase hex digits: 1; uppercase: 2; anything else: 0. */
const HEX = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) HEX[c] = 1;
for (let c = 0x61; c <= 0x66; c++) HEX[c] = 1;
for (let c = 0x41; c <= 0x46; c++) HEX[c] = 2;

/** Where a line's values are, by slot, and their kinds; reused for every line of a chunk. */
export interface LineFields {
  start: Int32Array;
  end: Int32Array;
  kind: Uint8Array;
  /** The UTC day number (days since 1970-01-01) of the last payment accepted. */
  day: number;
}

/** Room for one line's fields. */
export function lineFields(): LineFields {
  return { start: new Int32Array(SLOTS), end: new Int32Array(SLOTS), kind: new Uint8Array(SLOTS), day: 0 };
}

/**
 * Writes the COPY row of the payment line `b[from, to)` (without its newline) at `out[at]`, sets
 * `f.day` to the payment's UTC day, and returns where the row ends; or returns -1 when the line is
 * not in the plain form (whatever was written past `at` does not count). `out` needs room for the
 * line's length plus 16 bytes at `at`: a row is never longer than its line.
 */
export function paymentLineCopy(b: Uint8Array, from: number, to: number, out: Uint8Array, at: number, f: LineFields): number {
  if (!scan(b, from, to, f)) return -1;
  const { start, end, kind } = f;
  // Types and the required fields; `late` may only be true, and `carriedToBatchId` needs it.
  for (let s = 0; s < SLOTS; s++) {
    const k = kind[s] as number;
    if (k === 0) {
      if (s < LATE) return -1;
      continue;
    }
    if (k !== (s === INTERVAL ? NUMBER : s === LATE ? TRUE : STRING)) return -1;
  }
  if (kind[CARRIED] !== 0 && (kind[LATE] !== TRUE || !isUuid(b, start[CARRIED] as number, end[CARRIED] as number))) return -1;
  if (!isUuid(b, start[ID] as number, end[ID] as number)) return -1;
  const leaseLength = (end[LEASE_ID] as number) - (start[LEASE_ID] as number);
  if (leaseLength < 1 || leaseLength > 255) return -1;
  if (!intervalMatchesMode(b, start[MODE] as number, end[MODE] as number, start[INTERVAL] as number, end[INTERVAL] as number)) return -1;
  if (!isCanonicalAmount(b, start[AMOUNT] as number, end[AMOUNT] as number)) return -1;
  if (!isHex(b, start[PAYER] as number, end[PAYER] as number, 40)) return -1;
  if (!isHex(b, start[TX_HASH] as number, end[TX_HASH] as number, 64)) return -1;
  const paidAt = start[PAYMENT_TIMESTAMP] as number;
  const day = instantDay(b, paidAt, end[PAYMENT_TIMESTAMP] as number);
  if (Number.isNaN(day) || Number.isNaN(instantDay(b, start[CREATED_AT] as number, end[CREATED_AT] as number))) return -1;
  if (!isBucketOf(b, start[BUCKET_SLOT] as number, end[BUCKET_SLOT] as number, paidAt)) return -1;

  // Byte by byte: the fields are short, and a view per field (for TypedArray.set) is garbage.
  let p = at;
  for (let s = ID; s <= CREATED_AT; s++) {
    for (let i = start[s] as number, e = end[s] as number; i < e; i++) out[p++] = b[i] as number;
    out[p++] = TAB;
  }
  out[p++] = kind[LATE] === TRUE ? 0x74 : 0x66; // t / f
  out[p++] = TAB;
  if (kind[CARRIED] === 0) {
    out[p++] = 0x5c; // \N
    out[p++] = 0x4e;
  } else {
    for (let i = start[CARRIED] as number, e = end[CARRIED] as number; i < e; i++) out[p++] = b[i] as number;
  }
  out[p++] = NL;
  f.day = day;
  return p;
}

/**
 * Finds the line's fields: `{"t":"x402_payments","r":{` then `"key":value` pairs separated by
 * commas, then `}}`. A value is a string of printable ASCII without a backslash, digits, or
 * `true`. False for anything else: another shape, an unknown or repeated key, an escape,
 * whitespace, a non-ASCII byte.
 */
function scan(b: Uint8Array, from: number, to: number, f: LineFields): boolean {
  const { start, end, kind } = f;
  kind.fill(0);
  if (to - from < PREFIX.length + 2 || b[to - 1] !== 0x7d || b[to - 2] !== 0x7d) return false;
  for (let i = 0; i < PREFIX.length; i++) if (b[from + i] !== PREFIX[i]) return false;
  const close = to - 2;
  let p = from + PREFIX.length;
  if (p === close) return false;
  for (;;) {
    if (b[p] !== Q) return false;
    const keyStart = p + 1;
    let keyEnd = keyStart;
    while (keyEnd < close && b[keyEnd] !== Q) keyEnd++;
    if (keyEnd >= close || b[keyEnd + 1] !== COLON) return false;
    const slot = keySlot(b, keyStart, keyEnd);
    if (slot < 0 || kind[slot] !== 0) return false;
    p = keyEnd + 2;
    const c = b[p];
    if (c === Q) {
      const vs = p + 1;
      let ve = vs;
      for (;;) {
        if (ve >= close) return false;
        const x = b[ve] as number;
        if (x === Q) break;
        // Control characters, the backslash and non-ASCII bytes: the record path decides.
        if (x < 0x20 || x === 0x5c || x > 0x7e) return false;
        ve++;
      }
      start[slot] = vs;
      end[slot] = ve;
      kind[slot] = STRING;
      p = ve + 1;
    } else if (c !== undefined && c >= ZERO && c <= NINE) {
      const vs = p;
      while (p < close && (b[p] as number) >= ZERO && (b[p] as number) <= NINE) p++;
      start[slot] = vs;
      end[slot] = p;
      kind[slot] = NUMBER;
    } else if (c === 0x74 && b[p + 1] === 0x72 && b[p + 2] === 0x75 && b[p + 3] === 0x65) {
      start[slot] = p;
      end[slot] = p + 4;
      kind[slot] = TRUE;
      p += 4;
    } else return false;
    if (p === close) return true;
    if (b[p] !== COMMA) return false;
    p++;
  }
}

/** The slot of the key `b[from, to)`, or -1 when it is not one of a payment's. */
function keySlot(b: Uint8Array, from: number, to: number): number {
  const length = to - from;
  const first = b[from] as number;
  if (length >= 32 || first >= 128) return -1;
  const slot = KEY_SLOT[length * 128 + first] as number;
  return slot >= 0 && equals(b, from, to, KEY_BYTES[slot] as Uint8Array) ? slot : -1;
}

/** A lowercase canonical UUID with version 1-8 and the RFC variant (validate-payment-fast.ts's UUID). */
function isUuid(b: Uint8Array, from: number, to: number): boolean {
  if (to - from !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = b[from + i] as number;
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false;
    } else if (HEX[c] !== 1) return false;
  }
  const version = b[from + 14] as number;
  const variant = b[from + 19] as number;
  return version >= 0x31 && version <= 0x38 && (variant === 0x38 || variant === 0x39 || variant === 0x61 || variant === 0x62);
}

/** `0x` and `digits` hex digits of either case (ADDRESS_RE, HASH_RE). */
function isHex(b: Uint8Array, from: number, to: number, digits: number): boolean {
  if (to - from !== digits + 2 || b[from] !== ZERO || b[from + 1] !== 0x78) return false;
  for (let i = from + 2; i < to; i++) if (HEX[b[i] as number] === 0) return false;
  return true;
}

/** The mode is one of INTERVAL_SECONDS's, and the interval is its number as JSON prints it. */
function intervalMatchesMode(b: Uint8Array, ms: number, me: number, is: number, ie: number): boolean {
  for (const [mode, seconds] of MODES) if (equals(b, ms, me, mode)) return equals(b, is, ie, seconds);
  return false;
}

function equals(b: Uint8Array, from: number, to: number, text: Uint8Array): boolean {
  if (to - from !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[from + i] !== text[i]) return false;
  return true;
}

/**
 * 1-20 decimal digits without a leading zero (or `0` alone): an amount below 10^20 (MAX_AMOUNT)
 * in the form `bigint.toString()` prints it.
 */
function isCanonicalAmount(b: Uint8Array, from: number, to: number): boolean {
  const n = to - from;
  if (n < 1 || n > 20 || (n > 1 && b[from] === ZERO)) return false;
  for (let i = from; i < to; i++) if ((b[i] as number) < ZERO || (b[i] as number) > NINE) return false;
  return true;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The UTC day number of `YYYY-MM-DDTHH:MM:SS.sssZ` (years 0100-9999, a real calendar date and
 * time), or NaN. Such a text is what `isoString` prints for the instant `new Date` reads from it.
 */
function instantDay(b: Uint8Array, from: number, to: number): number {
  if (to - from !== 24) return NaN;
  if (b[from + 4] !== 0x2d || b[from + 7] !== 0x2d || b[from + 10] !== 0x54 || b[from + 13] !== COLON || b[from + 16] !== COLON) return NaN;
  if (b[from + 19] !== 0x2e || b[from + 23] !== 0x5a) return NaN;
  const year = digits(b, from, 4);
  const month = digits(b, from + 5, 2);
  const day = digits(b, from + 8, 2);
  const hour = digits(b, from + 11, 2);
  const minute = digits(b, from + 14, 2);
  const second = digits(b, from + 17, 2);
  if (digits(b, from + 20, 3) < 0 || year < 100 || month < 1 || month > 12 || day < 1) return NaN;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return NaN;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number))) return NaN;
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

/** The `count` decimal digits at `from` as a number, or -1. */
function digits(b: Uint8Array, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const c = b[i] as number;
    if (c < ZERO || c > NINE) return -1;
    n = n * 10 + c - ZERO;
  }
  return n;
}

/** The bucket is the top of the payment's UTC hour (hourBucketOf): its first 14 bytes, then `00:00.000Z`. */
function isBucketOf(b: Uint8Array, from: number, to: number, paidAt: number): boolean {
  if (to - from !== 24) return false;
  for (let i = 0; i < 14; i++) if (b[from + i] !== b[paidAt + i]) return false;
  return equals(b, from + 14, to, TOP_OF_HOUR);
}

const TOP_OF_HOUR = Buffer.from('00:00.000Z', 'latin1');
