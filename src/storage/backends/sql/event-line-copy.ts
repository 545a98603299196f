/**
 * A contract event's record line turned into its COPY row without parsing it into a record, as
 * payment-line-copy.ts does for payments: events are the next largest table, and a load waited for
 * their parsing before the payments began. Only the plain form (plain-line-scan.ts) is taken; the
 * `args` document alone is parsed, to check it as the record path does and to be sure it is
 * already written as JSON.stringify writes it. Every check is one of validate-payment-fast.ts's
 * event checks or stricter; for any other line the caller takes the record path
 * (test/plain-line-copy.test.ts compares the two).
 */
import { jsonDocumentProblem } from '../../core/json-document.js';
import { BOOLEAN, fieldsHaveKinds, instantDay, integerIn, isHex, isUuid, lineShape, NUMBER, OBJECT, put, putFlag, putOrNull, putSlots, scanLine, STRING, TRUE, type LineFields } from './plain-line-scan.js';

// Slots, in the order of the events' COPY columns (records.ts).
const ID = 0;
const EVENT_NAME = 1;
const CONTRACT = 2;
const BLOCK_NUMBER = 3;
const TX_HASH = 4;
const LOG_INDEX = 5;
const ARGS = 6;
const PROCESSED = 7;
const CREATED_AT = 8;
const CHAIN_ID = 9;
const BLOCK_HASH = 10;
const REMOVED = 11;
const ATTEMPTS = 12;
const LAST_ERROR = 13;
/** Slots before this one are required. */
const FIRST_OPTIONAL = CHAIN_ID;

const SHAPE = lineShape('events', [
  'id',
  'eventName',
  'contractAddress',
  'blockNumber',
  'transactionHash',
  'logIndex',
  'args',
  'processed',
  'createdAt',
  'chainId',
  'blockHash',
  'removed',
  'attempts',
  'lastError',
]);

/** The kind of each slot's value (`removed` may only be true). */
const KINDS = [STRING, STRING, STRING, NUMBER, STRING, NUMBER, OBJECT, BOOLEAN, STRING, NUMBER, STRING, TRUE, NUMBER, STRING];
const MAX_INT4 = 2_147_483_647;
const TAB = 0x09;

/**
 * Writes the COPY row of the event line `b[from, to)` (without its newline) at `out[at]` and
 * returns where the row ends, or -1 when the line is not in the plain form (whatever was written
 * past `at` does not count). `out` needs room for the line's length plus 16 bytes at `at`.
 */
export function eventLineCopy(b: Uint8Array, from: number, to: number, out: Uint8Array, at: number, f: LineFields): number {
  if (!scanLine(b, from, to, SHAPE, f)) return -1;
  if (!fieldsHaveKinds(f, KINDS, FIRST_OPTIONAL)) return -1;
  const { start, end, kind } = f;
  if (!isUuid(b, start[ID] as number, end[ID] as number)) return -1;
  const nameLength = (end[EVENT_NAME] as number) - (start[EVENT_NAME] as number);
  if (nameLength < 1 || nameLength > 100) return -1;
  if (!isHex(b, start[CONTRACT] as number, end[CONTRACT] as number, 40) || !isHex(b, start[TX_HASH] as number, end[TX_HASH] as number, 64)) return -1;
  if (integerIn(b, start[BLOCK_NUMBER] as number, end[BLOCK_NUMBER] as number, 0, Number.MAX_SAFE_INTEGER) < 0) return -1;
  if (integerIn(b, start[LOG_INDEX] as number, end[LOG_INDEX] as number, 0, MAX_INT4) < 0) return -1;
  if (Number.isNaN(instantDay(b, start[CREATED_AT] as number, end[CREATED_AT] as number))) return -1;
  if (kind[CHAIN_ID] !== 0 && integerIn(b, start[CHAIN_ID] as number, end[CHAIN_ID] as number, 1, MAX_INT4) < 0) return -1;
  if (kind[BLOCK_HASH] !== 0 && !isHex(b, start[BLOCK_HASH] as number, end[BLOCK_HASH] as number, 64)) return -1;
  if (kind[ATTEMPTS] !== 0 && integerIn(b, start[ATTEMPTS] as number, end[ATTEMPTS] as number, 1, MAX_INT4) < 0) return -1;
  if (kind[LAST_ERROR] !== 0 && (end[LAST_ERROR] as number) - (start[LAST_ERROR] as number) > 2000) return -1;
  if (!isPlainDocument(b, start[ARGS] as number, end[ARGS] as number)) return -1;

  let p = putSlots(b, f, ID, ARGS, out, at);
  p = putFlag(kind[PROCESSED] === TRUE, out, p);
  p = putSlots(b, f, CREATED_AT, CREATED_AT, out, p);
  p = putOrNull(b, f, CHAIN_ID, out, p);
  out[p++] = TAB;
  p = putOrNull(b, f, BLOCK_HASH, out, p);
  out[p++] = TAB;
  p = putFlag(kind[REMOVED] === TRUE, out, p);
  if (kind[ATTEMPTS] === 0) out[p++] = 0x30; // no attempts yet: 0
  else p = put(b, start[ATTEMPTS] as number, end[ATTEMPTS] as number, out, p);
  out[p++] = TAB;
  p = putOrNull(b, f, LAST_ERROR, out, p);
  out[p++] = 0x0a;
  return p;
}

/**
 * The object `b[from, to)` is a document the record path accepts (jsonDocumentProblem) and is
 * written exactly as JSON.stringify writes it, so its bytes are the COPY text that path prints.
 */
function isPlainDocument(b: Uint8Array, from: number, to: number): boolean {
  const text = Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('latin1');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  return jsonDocumentProblem(value) === null && JSON.stringify(value) === text;
}
