/**
 * Finding and checking the fields of a record line in a store's plain form, as bytes, for the
 * tables whose lines are copied into COPY rows without being parsed into records
 * (payment-line-copy.ts, event-line-copy.ts). The plain form is what a store writes: one object of
 * known keys in any order, no whitespace, values that are strings of printable ASCII without
 * escapes, unsigned integers, `true`, `false`, or a JSON object whose strings are the same (a
 * table's own checks say which keys may hold which). Anything else is left to the record path.
 */
import { DAY_MS } from '../../core/time.js';

// Value kinds a field can have here.
export const STRING = 1;
export const NUMBER = 2;
export const TRUE = 3;
export const FALSE = 4;
export const OBJECT = 5;

const Q = 0x22; // "
const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

/** The keys of one table's records, by slot, and the line's prefix. */
export interface LineShape {
  /** `{"t":"<table>","r":{` */
  prefix: Uint8Array;
  keys: Uint8Array[];
  /** A key's slot by its length and first byte (no two keys of a table share both). */
  slotOf: Int8Array;
}

/** The shape of `table`'s lines with `keys` in slots 0, 1, ... */
export function lineShape(table: string, keys: readonly string[]): LineShape {
  const slotOf = new Int8Array(32 * 128).fill(-1);
  keys.forEach((key, slot) => {
    const at = key.length * 128 + key.charCodeAt(0);
    if (key.length >= 32 || slotOf[at] !== -1) throw new Error(`key ${key} cannot be told apart`);
    slotOf[at] = slot;
  });
  return { prefix: Buffer.from(`{"t":"${table}","r":{`, 'latin1'), keys: keys.map((k) => Buffer.from(k, 'latin1')), slotOf };
}

/** Where a line's values are, by slot, and their kinds; reused for every line of a chunk. */
export interface LineFields {
  start: Int32Array;
  end: Int32Array;
  kind: Uint8Array;
  /** Payments: the UTC day number (days since 1970-01-01) of the last payment accepted. */
  day: number;
}

/** Room for the fields of a line of up to `slots` keys. */
export function lineFields(slots = 16): LineFields {
  return { start: new Int32Array(slots), end: new Int32Array(slots), kind: new Uint8Array(slots), day: 0 };
}

/**
 * Finds the fields of the line `b[from, to)`: the shape's prefix, then `"key":value` pairs
 * separated by commas, then `}}`. False for anything else: another shape, an unknown or repeated
 * key, an escape, whitespace, a non-ASCII byte, a number that is not digits only.
 */
export function scanLine(b: Uint8Array, from: number, to: number, shape: LineShape, f: LineFields): boolean {
  const { start, end, kind } = f;
  kind.fill(0);
  const { prefix } = shape;
  if (to - from < prefix.length + 2 || b[to - 1] !== 0x7d || b[to - 2] !== 0x7d) return false;
  for (let i = 0; i < prefix.length; i++) if (b[from + i] !== prefix[i]) return false;
  const close = to - 2;
  let p = from + prefix.length;
  if (p === close) return false;
  for (;;) {
    if (b[p] !== Q) return false;
    const keyStart = p + 1;
    let keyEnd = keyStart;
    while (keyEnd < close && b[keyEnd] !== Q) keyEnd++;
    if (keyEnd >= close || b[keyEnd + 1] !== COLON) return false;
    const slot = keySlot(b, keyStart, keyEnd, shape);
    if (slot < 0 || kind[slot] !== 0) return false;
    p = keyEnd + 2;
    const c = b[p];
    if (c === Q) {
      const ve = stringEnd(b, p + 1, close);
      if (ve < 0) return false;
      start[slot] = p + 1;
      end[slot] = ve;
      kind[slot] = STRING;
      p = ve + 1;
    } else {
      let ve: number;
      if (c !== undefined && c >= ZERO && c <= NINE) {
        ve = p + 1;
        while (ve < close && (b[ve] as number) >= ZERO && (b[ve] as number) <= NINE) ve++;
        kind[slot] = NUMBER;
      } else if (c === 0x74 && b[p + 1] === 0x72 && b[p + 2] === 0x75 && b[p + 3] === 0x65) {
        ve = p + 4;
        kind[slot] = TRUE;
      } else if (c === 0x66 && b[p + 1] === 0x61 && b[p + 2] === 0x6c && b[p + 3] === 0x73 && b[p + 4] === 0x65) {
        ve = p + 5;
        kind[slot] = FALSE;
      } else if (c === 0x7b) {
        ve = objectEnd(b, p, close);
        if (ve < 0) return false;
        kind[slot] = OBJECT;
      } else return false;
      start[slot] = p;
      end[slot] = ve;
      p = ve;
    }
    if (p === close) return true;
    if (b[p] !== COMMA) return false;
    p++;
  }
}

/** An expected kind ({@link fieldsHaveKinds}) that either `true` or `false` meets. */
export const BOOLEAN = 6;

/**
 * Every slot below `required` is present, and each present slot has the kind `kinds` gives it
 * ({@link BOOLEAN}: `true` or `false`).
 */
export function fieldsHaveKinds(f: LineFields, kinds: readonly number[], required: number): boolean {
  for (let s = 0; s < kinds.length; s++) {
    const k = f.kind[s] as number;
    if (k === 0) {
      if (s < required) return false;
    } else if (k !== kinds[s] && !(kinds[s] === BOOLEAN && (k === TRUE || k === FALSE))) return false;
  }
  return true;
}

/** The slot of the key `b[from, to)`, or -1 when it is not one of the shape's. */
function keySlot(b: Uint8Array, from: number, to: number, shape: LineShape): number {
  const length = to - from;
  const first = b[from] as number;
  if (length >= 32 || first >= 128) return -1;
  const slot = shape.slotOf[length * 128 + first] as number;
  return slot >= 0 && equals(b, from, to, shape.keys[slot] as Uint8Array) ? slot : -1;
}

/**
 * Where the string whose text starts at `p` ends (its closing quote), or -1 when it does not end
 * before `limit` or holds a control character, a backslash or a non-ASCII byte.
 */
function stringEnd(b: Uint8Array, p: number, limit: number): number {
  for (let i = p; i < limit; i++) {
    const x = b[i] as number;
    if (x === Q) return i;
    if (x < 0x20 || x === 0x5c || x > 0x7e) return -1;
  }
  return -1;
}

/**
 * Where the object starting at `b[p]` (`{`) ends (just past its `}`), or -1: its strings as
 * {@link stringEnd} takes them, other bytes printable ASCII. Brackets only are matched here;
 * whether it is JSON is for the caller to check.
 */
function objectEnd(b: Uint8Array, p: number, limit: number): number {
  let depth = 0;
  for (let i = p; i < limit; i++) {
    const x = b[i] as number;
    if (x === Q) {
      i = stringEnd(b, i + 1, limit);
      if (i < 0) return -1;
    } else if (x === 0x7b || x === 0x5b) depth++;
    else if (x === 0x7d || x === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    } else if (x <= 0x20 || x > 0x7e) return -1;
  }
  return -1;
}

/** `b[from, to)` holds exactly `text`. */
export function equals(b: Uint8Array, from: number, to: number, text: Uint8Array): boolean {
  if (to - from !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[from + i] !== text[i]) return false;
  return true;
}

/** Lowercase hex digits: 1; uppercase: 2; anything else: 0. */
const HEX = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) HEX[c] = 1;
for (let c = 0x61; c <= 0x66; c++) HEX[c] = 1;
for (let c = 0x41; c <= 0x46; c++) HEX[c] = 2;

/** A lowercase canonical UUID with version 1-8 and the RFC variant (validate-payment-fast.ts's UUID). */
export function isUuid(b: Uint8Array, from: number, to: number): boolean {
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
export function isHex(b: Uint8Array, from: number, to: number, digits: number): boolean {
  if (to - from !== digits + 2 || b[from] !== ZERO || b[from + 1] !== 0x78) return false;
  for (let i = from + 2; i < to; i++) if (HEX[b[i] as number] === 0) return false;
  return true;
}

/**
 * The digits `b[from, to)` (a NUMBER field) as an integer in [min, max], written as JSON writes it
 * (no leading zero); else -1. `max` is at most Number.MAX_SAFE_INTEGER.
 */
export function integerIn(b: Uint8Array, from: number, to: number, min: number, max: number): number {
  const n = to - from;
  if (n < 1 || n > 16 || (n > 1 && b[from] === ZERO)) return -1;
  let value = 0;
  for (let i = from; i < to; i++) value = value * 10 + ((b[i] as number) - ZERO);
  // Sixteen digits can pass 2^53, where the sum above rounds: such a value is over any max here.
  return value >= min && value <= max ? value : -1;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The UTC day number of `YYYY-MM-DDTHH:MM:SS.sssZ` (years 0100-9999, a real calendar date and
 * time), or NaN. Such a text is what `isoString` prints for the instant `new Date` reads from it.
 */
export function instantDay(b: Uint8Array, from: number, to: number): number {
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
    n = n * 10 + (c - ZERO);
  }
  return n;
}

/** Copies `b[from, to)` to `out[at]`; returns where it ends. Byte by byte: the fields are short. */
export function put(b: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  let p = at;
  for (let i = from; i < to; i++) out[p++] = b[i] as number;
  return p;
}

/** Copies the values of slots `first` to `last`, each followed by a tab, to `out[at]`; returns where they end. */
export function putSlots(b: Uint8Array, f: LineFields, first: number, last: number, out: Uint8Array, at: number): number {
  let p = at;
  for (let s = first; s <= last; s++) {
    p = put(b, f.start[s] as number, f.end[s] as number, out, p);
    out[p++] = 0x09;
  }
  return p;
}

/** `t` or `f` and a tab at `out[at]` (a boolean column); returns where they end. */
export function putFlag(on: boolean, out: Uint8Array, at: number): number {
  out[at] = on ? 0x74 : 0x66;
  out[at + 1] = 0x09;
  return at + 2;
}

/** The value of slot `s`, or `\N` when the line has none, at `out[at]`; returns where it ends. */
export function putOrNull(b: Uint8Array, f: LineFields, s: number, out: Uint8Array, at: number): number {
  if (f.kind[s] !== 0) return put(b, f.start[s] as number, f.end[s] as number, out, at);
  out[at] = 0x5c;
  out[at + 1] = 0x4e;
  return at + 2;
}
