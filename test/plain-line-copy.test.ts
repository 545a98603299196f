/**
 * Payment and event lines copied as bytes (src/storage/backends/sql/payment-line-copy.ts,
 * event-line-copy.ts) give what the record path gives: for every line, the same COPY row and day,
 * or the same error. Lines in a store's plain form take the byte path (checked directly, so the
 * comparison is not between the record path and itself); every edit of such a line that makes it
 * invalid, or merely not plain, is compared whole: rows, days and error.
 */
import { describe, expect, it } from 'vitest';
import { encodeChunk } from '../src/storage/backends/sql/copy-encoding.js';
import { copyRows } from '../src/storage/backends/sql/copy-text.js';
import { eventLineCopy } from '../src/storage/backends/sql/event-line-copy.js';
import { paymentLineCopy } from '../src/storage/backends/sql/payment-line-copy.js';
import { lineFields } from '../src/storage/backends/sql/plain-line-scan.js';
import { isStorageError } from '../src/storage/contract/errors.js';
import type { StoredEvent, StoredX402Payment } from '../src/storage/contract/database.js';
import type { TableLinesChunk } from '../src/storage/contract/transfer.js';
import { recordLine, recordsFromLines } from '../src/storage/core/record-lines.js';
import { DAY_MS } from '../src/storage/core/time.js';
import { buildFullStore, dumpStore } from './migration/full-store.js';

const DAY = 86_400_000;

/** A valid payment, varied by `n`: both modes, late and carried ones, amounts 0 to 10^20-1, years 0100-9999. */
function payment(n: number): StoredX402Payment {
  const instants = [Date.UTC(2026, 1, 25, 10, 15, 30, 250), Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(1969, 11, 31, 0, 0, 0, 1), -58_000_000_000_000, Date.UTC(9999, 11, 31, 23, 59, 50), 0];
  const at = new Date((instants[n % instants.length] as number) + (n % 7) * 1_000);
  const hour = new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000).toISOString();
  const amounts = [0n, 1n, 10n ** 20n - 1n, 123_456_789n];
  const late = n % 5 === 0;
  return {
    id: `${n.toString(16).padStart(8, '0')}-0004-${1 + (n % 8)}abc-${'89ab'[n % 4]}abc-0123456789ab`,
    leaseId: ['LEASE-1', 'a', 'L'.repeat(255), "lease {with} 'quotes'? ~!@#$%^&*()_+=[]|;,./<>`"][n % 4] as string,
    mode: n % 2 === 0 ? 'second' : 'batch-5s',
    intervalSeconds: n % 2 === 0 ? 1 : 5,
    amountMinorUnits: amounts[n % amounts.length] as bigint,
    payer: `0x${(n % 3 === 0 ? 'aB' : 'cd').repeat(20)}`,
    paymentTimestamp: at,
    facilitatorTxHash: `0x${n.toString(16).padStart(64, 'F')}`,
    bucketSlot: hour,
    createdAt: new Date(at.getTime() + 5),
    ...(late ? { late: true as const } : {}),
    ...(late && n % 10 === 0 ? { carriedToBatchId: '00000001-0005-4000-8000-000000000001' } : {}),
  };
}

/** A valid event, varied by `n`: optional fields present or not, documents of every JSON kind. */
function event(n: number): StoredEvent {
  const docs = [
    { tokenId: String(n), amount: String(n * 1_000) },
    {},
    { nested: { list: [1, -2, 3.5, 1e21, true, false, null, 'x'], deeper: { a: [[], {}] } }, n },
    { big: '115792089237316195423570985008687907853269984665640564039457584007913129639935', braces: '{[}]', quote: 'none' },
  ];
  return {
    id: `${n.toString(16).padStart(8, '0')}-0003-4000-8abc-0123456789ab`,
    eventName: ['LeaseMinted', 'PaymentSettled', 'E'.repeat(100), 'x'][n % 4] as string,
    contractAddress: `0x${'Ab'.repeat(20)}`,
    blockNumber: [0, 10_000 + n, Number.MAX_SAFE_INTEGER][n % 3] as number,
    transactionHash: `0x${n.toString(16).padStart(64, 'e')}`,
    logIndex: [0, n, 2_147_483_647][n % 3] as number,
    args: docs[n % docs.length] as StoredEvent['args'],
    processed: n % 2 === 0,
    createdAt: new Date(Date.UTC(2025, 0, 1) + n * 1_000),
    ...(n % 3 === 0 ? { chainId: [1, 84532, 2_147_483_647][n % 9 === 0 ? 0 : n % 2 === 0 ? 1 : 2] as number } : {}),
    ...(n % 4 === 0 ? { blockHash: `0x${'b1'.repeat(32)}` } : {}),
    ...(n % 5 === 0 ? { removed: true as const } : {}),
    ...(n % 6 === 0 ? { attempts: [1, 3, 2_147_483_647][n % 3] as number } : {}),
    ...(n % 7 === 0 ? { lastError: ['boom', 'L'.repeat(2000)][n % 2] as string } : {}),
  } as StoredEvent;
}

type Table = 'x402_payments' | 'events';
const lineOf = (p: StoredX402Payment) => recordLine('x402_payments', p);
const eventLineOf = (e: StoredEvent) => recordLine('events', e);
const chunkOf = (lines: readonly string[], firstLine = 2, table: Table = 'x402_payments'): TableLinesChunk => ({
  table,
  lines: Buffer.from(lines.map((l) => `${l}\n`).join('')),
  count: lines.length,
  firstLine,
});

type Outcome = { rows: string; days: number[] } | { error: string; code: string; details: unknown };

/** What the record path gives for `chunk`: parse every line, then encode the records. */
function recordPath(chunk: TableLinesChunk): Outcome {
  try {
    if (chunk.table === 'events') {
      const events = recordsFromLines('events', chunk.lines, chunk.firstLine);
      if (events.length !== chunk.count) return { error: `count ${events.length}`, code: 'VALIDATION', details: undefined };
      return { rows: copyRows('events', events).toString('utf8'), days: [] };
    }
    const records = recordsFromLines('x402_payments', chunk.lines, chunk.firstLine);
    const days = [...new Set(records.map((p) => Math.floor(p.paymentTimestamp.getTime() / DAY_MS)))];
    if (records.length !== chunk.count) return { error: `count ${records.length}`, code: 'VALIDATION', details: undefined };
    return { rows: copyRows('x402_payments', records).toString('utf8'), days };
  } catch (error) {
    return failure(error);
  }
}

function encoded(chunk: TableLinesChunk): Outcome {
  try {
    const { rows, days, count } = encodeChunk(chunk);
    if (count !== chunk.count) return { error: `count ${count}`, code: 'VALIDATION', details: undefined };
    return { rows: Buffer.from(rows).toString('utf8'), days };
  } catch (error) {
    if (error instanceof Error && /says \d+ lines and holds (\d+)/.test(error.message)) return { error: `count ${/holds (\d+)/.exec(error.message)?.[1]}`, code: 'VALIDATION', details: undefined };
    return failure(error);
  }
}

function failure(error: unknown): Outcome {
  if (!isStorageError(error)) throw error;
  return { error: error.message, code: error.code, details: error.details };
}

/** True when the byte path takes `line` (it copies it) rather than handing it to the record path. */
function plain(line: string, table: Table = 'x402_payments'): boolean {
  const b = Buffer.from(line);
  return (table === 'events' ? eventLineCopy : paymentLineCopy)(b, 0, b.length, Buffer.alloc(b.length + 16), 0, lineFields()) !== -1;
}

/** Each edit of a line, named; a function of the line's text. */
const EDITS: [string, (l: string) => string][] = [
  ['amount with a leading zero', (l) => l.replace(/"amountMinorUnits":"(\d+)"/, '"amountMinorUnits":"0$1"')],
  ['amount negative', (l) => l.replace(/"amountMinorUnits":"(\d+)"/, '"amountMinorUnits":"-$1"')],
  ['amount as a number', (l) => l.replace(/"amountMinorUnits":"(\d+)"/, '"amountMinorUnits":$1')],
  ['amount of 21 digits', (l) => l.replace(/"amountMinorUnits":"(\d+)"/, '"amountMinorUnits":"100000000000000000000"')],
  ['amount empty', (l) => l.replace(/"amountMinorUnits":"(\d+)"/, '"amountMinorUnits":""')],
  ['amount with an exponent', (l) => l.replace(/"amountMinorUnits":"(\d+)"/, '"amountMinorUnits":"1e3"')],
  ['interval 1.0', (l) => l.replace(/"intervalSeconds":(\d)/, '"intervalSeconds":$1.0')],
  ['interval 01', (l) => l.replace(/"intervalSeconds":(\d)/, '"intervalSeconds":0$1')],
  ['interval as a string', (l) => l.replace(/"intervalSeconds":(\d)/, '"intervalSeconds":"$1"')],
  ['interval of the other mode', (l) => l.replace(/"intervalSeconds":(\d)/, (_m, d: string) => `"intervalSeconds":${d === '1' ? 5 : 1}`)],
  ['interval 1e0', (l) => l.replace(/"intervalSeconds":(\d)/, '"intervalSeconds":1e0')],
  ['mode capitalized', (l) => l.replace(/"mode":"(\w)/, (_m, c: string) => `"mode":"${c.toUpperCase()}`)],
  ['mode unknown', (l) => l.replace(/"mode":"[^"]*"/, '"mode":"batch-1h"')],
  ['id upper-case', (l) => l.replace(/"id":"([^"]*)"/, (_m, id: string) => `"id":"${id.toUpperCase()}"`)],
  ['id version 0', (l) => l.replace(/"id":"(.{14})./, '"id":"$10')],
  ['id variant c', (l) => l.replace(/"id":"(.{19})./, '"id":"$1c')],
  ['id without a dash', (l) => l.replace(/"id":"(.{8})-/, '"id":"$1x')],
  ['id one digit short', (l) => l.replace(/"id":"(.{35})."/, '"id":"$1"')],
  ['payer upper-case 0X', (l) => l.replace(/"payer":"0x/, '"payer":"0X')],
  ['payer one digit long', (l) => l.replace(/"payer":"0x/, '"payer":"0xa')],
  ['payer not hex', (l) => l.replace(/"payer":"0x./, '"payer":"0xg')],
  ['hash one digit short', (l) => l.replace(/"facilitatorTxHash":"0x./, '"facilitatorTxHash":"0x')],
  ['hash not hex', (l) => l.replace(/"facilitatorTxHash":"0x./, '"facilitatorTxHash":"0x-')],
  ['timestamp on 29 February of a common year', (l) => l.replace(/"paymentTimestamp":"\d{4}-\d\d-\d\d/, '"paymentTimestamp":"2025-02-29')],
  ['every date on 29 February 2000', (l) => l.replace(/\d{4}-\d\d-\d\dT/g, '2000-02-29T')],
  ['every date on 30 February 2024', (l) => l.replace(/\d{4}-\d\d-\d\dT/g, '2024-02-30T')],
  ['every date on 29 February 2100', (l) => l.replace(/\d{4}-\d\d-\d\dT/g, '2100-02-29T')],
  ['every date on 31 June', (l) => l.replace(/\d{4}-\d\d-\d\dT/g, '2026-06-31T')],
  ['every date in month 13', (l) => l.replace(/\d{4}-\d\d-\d\dT/g, '2026-13-01T')],
  ['every date on day 00', (l) => l.replace(/\d{4}-\d\d-\d\dT/g, '2026-01-00T')],
  ['timestamp on 31 April', (l) => l.replace(/"paymentTimestamp":"\d{4}-\d\d-\d\d/, '"paymentTimestamp":"2025-04-31')],
  ['timestamp at hour 24', (l) => l.replace(/("paymentTimestamp":"[^T]*T)\d\d/, '$124')],
  ['timestamp at second 60', (l) => l.replace(/("paymentTimestamp":"[^T]*T\d\d:\d\d:)\d\d/, '$160')],
  ['timestamp without milliseconds', (l) => l.replace(/("paymentTimestamp":"[^.]*)\.\d{3}Z/, '$1Z')],
  ['timestamp with an offset', (l) => l.replace(/("paymentTimestamp":"[^"]*)Z"/, '$1+00:00"')],
  ['timestamp lower-case z', (l) => l.replace(/("paymentTimestamp":"[^"]*)Z"/, '$1z"')],
  ['timestamp in year 0000', (l) => l.replace(/"paymentTimestamp":"\d{4}/, '"paymentTimestamp":"0000')],
  ['timestamp in year 0099', (l) => l.replace(/"paymentTimestamp":"\d{4}/, '"paymentTimestamp":"0099')],
  ['timestamp in year +10000', (l) => l.replace(/"paymentTimestamp":"\d{4}/, '"paymentTimestamp":"+010000')],
  ['timestamp with a space for T', (l) => l.replace(/("paymentTimestamp":"[^T]*)T/, '$1 ')],
  ['createdAt not a date', (l) => l.replace(/"createdAt":"[^"]*"/, '"createdAt":"yesterday"')],
  ['createdAt as a number', (l) => l.replace(/"createdAt":"[^"]*"/, '"createdAt":1700000000000')],
  ['bucket of another hour', (l) => l.replace(/("bucketSlot":"[^T]*T)(\d\d)/, (_m, a: string, h: string) => `${a}${String((Number(h) + 1) % 24).padStart(2, '0')}`)],
  // A canonical-looking bucket of no real instant once threw a RangeError (parseHourBucket).
  ['bucket in month 13', (l) => l.replace(/("bucketSlot":"\d{4}-)\d\d/, '$113')],
  ['bucket with minutes', (l) => l.replace(/("bucketSlot":"[^T]*T\d\d:)00/, '$101')],
  ['bucket without milliseconds', (l) => l.replace(/("bucketSlot":"[^.]*)\.000Z/, '$1Z')],
  ['late false', (l) => l.replace(/}}$/, ',"late":false}}').replace(/,"late":true(,"late":false)/, '$1')],
  ['late null', (l) => l.replace(/}}$/, ',"late":null}}').replace(/,"late":true(,"late":null)/, '$1')],
  ['late as a string', (l) => l.replace(/"late":true/, '"late":"true"')],
  ['late repeated', (l) => l.replace(/}}$/, ',"late":true}}')],
  ['carried without late', (l) => l.replace(/,"late":true/, '').replace(/}}$/, l.includes('carriedToBatchId') ? '}}' : ',"carriedToBatchId":"00000001-0005-4000-8000-000000000001"}}')],
  ['carried null', (l) => l.replace(/}}$/, ',"carriedToBatchId":null}}').replace(/,"carriedToBatchId":"[^"]*"(,"carriedToBatchId":null)/, '$1')],
  ['carried upper-case', (l) => l.replace(/"carriedToBatchId":"([^"]*)"/, (_m, id: string) => `"carriedToBatchId":"${id.toUpperCase()}"`)],
  ['keys reversed', (l) => reorder(l, (entries) => entries.reverse())],
  ['a key repeated', (l) => l.replace(/}}$/, `,"mode":"second"}}`)],
  ['an unknown key', (l) => l.replace(/}}$/, ',"note":"x"}}')],
  ['a key missing', (l) => l.replace(/"payer":"[^"]*",/, '')],
  ['a key escaped', (l) => l.replace('"leaseId"', '"le\\u0061seId"')],
  ['a space after a colon', (l) => l.replace('"mode":', '"mode": ')],
  ['a space before the end', (l) => l.replace(/}}$/, ' }}')],
  ['leaseId with an escaped letter', (l) => l.replace(/"leaseId":"/, '"leaseId":"\\u0041')],
  ['leaseId with a tab', (l) => l.replace(/"leaseId":"/, '"leaseId":"\\t')],
  ['leaseId with a backslash', (l) => l.replace(/"leaseId":"/, '"leaseId":"\\\\')],
  ['leaseId with a quote', (l) => l.replace(/"leaseId":"/, '"leaseId":"\\"')],
  ['leaseId with a NUL', (l) => l.replace(/"leaseId":"/, '"leaseId":"\\u0000')],
  ['leaseId with a lone surrogate', (l) => l.replace(/"leaseId":"/, '"leaseId":"\\ud800')],
  ['leaseId with a raw tab', (l) => l.replace(/"leaseId":"/, '"leaseId":"\t')],
  ['leaseId with DEL', (l) => l.replace(/"leaseId":"/, '"leaseId":"\u007f')],
  ['leaseId non-ASCII', (l) => l.replace(/"leaseId":"/, '"leaseId":"ü🚀')],
  ['leaseId empty', (l) => l.replace(/"leaseId":"[^"]*"/, '"leaseId":""')],
  ['leaseId of 256', (l) => l.replace(/"leaseId":"[^"]*"/, `"leaseId":"${'L'.repeat(256)}"`)],
  ['leaseId null', (l) => l.replace(/"leaseId":"[^"]*"/, '"leaseId":null')],
  ['wrapper reordered', (l) => `{"r":${l.slice('{"t":"x402_payments","r":'.length, -1)},"t":"x402_payments"}`],
  ['wrapper of another table', (l) => l.replace('"t":"x402_payments"', '"t":"x402_batches"')],
  ['wrapper with a space', (l) => l.replace('"r":{', '"r": {')],
  ['a key after the record', (l) => l.replace(/}$/, ',"x":{}}')],
  ['truncated', (l) => l.slice(0, -1)],
  ['an empty record', () => '{"t":"x402_payments","r":{}}'],
  ['not an object', () => '{"t":"x402_payments","r":[]}'],
  ['an empty line', () => ''],
];

/** `line` with its record changed by `change`, written again as JSON.stringify writes it. */
function withRecord(line: string, change: (r: Record<string, unknown>) => void): string {
  const wrapper = JSON.parse(line) as { t: string; r: Record<string, unknown> };
  change(wrapper.r);
  return JSON.stringify(wrapper);
}

const deep = (levels: number): unknown => (levels === 0 ? 1 : { d: deep(levels - 1) });

/** Each edit of an event line, named. */
const EVENT_EDITS: [string, (l: string) => string][] = [
  ['args with a space', (l) => l.replace('"args":{', '"args":{ ')],
  ['args with a newline escape', (l) => withRecord(l, (r) => void (r['args'] = { note: 'a\nb' }))],
  ['args with a tab escape', (l) => withRecord(l, (r) => void (r['args'] = { note: 'a\tb' }))],
  ['args with a quote', (l) => withRecord(l, (r) => void (r['args'] = { note: 'say "hi"' }))],
  ['args non-ASCII', (l) => withRecord(l, (r) => void (r['args'] = { note: 'ü🚀' }))],
  ['args 3.50', (l) => l.replace('3.5,', '3.50,')],
  ['args 1E21', (l) => l.replace('1e+21', '1E21')],
  ['args a repeated key', (l) => l.replace('"args":{', '"args":{"k":1,"k":2,')],
  ['args -0', (l) => l.replace('"args":{', '"args":{"z":-0,')],
  ['args an array', (l) => withRecord(l, (r) => void (r['args'] = [1, 2]))],
  ['args a string', (l) => withRecord(l, (r) => void (r['args'] = 'x'))],
  ['args null', (l) => withRecord(l, (r) => void (r['args'] = null))],
  ['args 70 levels deep', (l) => withRecord(l, (r) => void (r['args'] = deep(70)))],
  ['args 60 levels deep', (l) => withRecord(l, (r) => void (r['args'] = deep(60)))],
  ['args over 256 KiB', (l) => withRecord(l, (r) => void (r['args'] = { s: 'x'.repeat(262_144) }))],
  ['args unclosed', (l) => l.replace(/"args":\{/, '"args":{{')],
  ['blockNumber past 2^53', (l) => withRecord(l, (r) => void (r['blockNumber'] = 2 ** 53))],
  ['blockNumber with a leading zero', (l) => l.replace(/"blockNumber":(\d)/, '"blockNumber":0$1')],
  ['blockNumber negative', (l) => withRecord(l, (r) => void (r['blockNumber'] = -1))],
  ['blockNumber 1.5', (l) => withRecord(l, (r) => void (r['blockNumber'] = 1.5))],
  ['blockNumber as a string', (l) => withRecord(l, (r) => void (r['blockNumber'] = '7'))],
  ['logIndex past int4', (l) => withRecord(l, (r) => void (r['logIndex'] = 2 ** 31))],
  ['chainId 0', (l) => withRecord(l, (r) => void (r['chainId'] = 0))],
  ['chainId null', (l) => withRecord(l, (r) => void (r['chainId'] = null))],
  ['attempts 0', (l) => withRecord(l, (r) => void (r['attempts'] = 0))],
  ['removed false', (l) => withRecord(l, (r) => void (r['removed'] = false))],
  ['processed as a string', (l) => withRecord(l, (r) => void (r['processed'] = 'true'))],
  ['processed missing', (l) => withRecord(l, (r) => void delete r['processed'])],
  ['lastError of 2001', (l) => withRecord(l, (r) => void (r['lastError'] = 'L'.repeat(2001)))],
  ['lastError with a tab', (l) => withRecord(l, (r) => void (r['lastError'] = 'a\tb'))],
  ['eventName empty', (l) => withRecord(l, (r) => void (r['eventName'] = ''))],
  ['eventName of 101', (l) => withRecord(l, (r) => void (r['eventName'] = 'E'.repeat(101)))],
  ['eventName with a backslash', (l) => withRecord(l, (r) => void (r['eventName'] = 'a\\b'))],
  ['createdAt on 29 February 2025', (l) => withRecord(l, (r) => void (r['createdAt'] = '2025-02-29T00:00:00.000Z'))],
  ['createdAt without milliseconds', (l) => withRecord(l, (r) => void (r['createdAt'] = '2025-02-28T00:00:00Z'))],
  ['blockHash not hex', (l) => withRecord(l, (r) => void (r['blockHash'] = `0x${'g'.repeat(64)}`))],
  ['contractAddress short', (l) => withRecord(l, (r) => void (r['contractAddress'] = '0xab'))],
  ['transactionHash upper-case 0X', (l) => l.replace('"transactionHash":"0x', '"transactionHash":"0X')],
  ['id upper-case', (l) => withRecord(l, (r) => void (r['id'] = String(r['id']).toUpperCase()))],
  ['an unknown key', (l) => withRecord(l, (r) => void (r['note'] = 'x'))],
  ['keys reversed', (l) => reorder(l, (entries) => entries.reverse())],
  ['a key repeated', (l) => l.replace(/}}$/, ',"processed":true}}')],
  ['wrapper of payments', (l) => l.replace('"t":"events"', '"t":"x402_payments"')],
  ['truncated', (l) => l.slice(0, -1)],
];

/** `line` with its record's members rearranged by `change` (string values are plain here). */
function reorder(line: string, change: (entries: [string, unknown][]) => [string, unknown][]): string {
  const wrapper = JSON.parse(line) as { t: string; r: Record<string, unknown> };
  return JSON.stringify({ t: wrapper.t, r: Object.fromEntries(change(Object.entries(wrapper.r))) });
}

/** A deterministic sequence of numbers in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

/** Every one of `lines` takes the byte path, and the chunk of them gives the record path's rows. */
function comparePlainChunk(lines: readonly string[], table: Table): void {
  for (const line of lines) expect(plain(line, table), line).toBe(true);
  const chunk = chunkOf(lines, 2, table);
  const out = encoded(chunk);
  expect(out).toEqual(recordPath(chunk));
  expect('rows' in out && out.rows.split('\n').length).toBe(lines.length + 1);
}

/**
 * Each edit applied to each of `lines[at]`, the edited line in the middle of a chunk: both paths
 * give the same. Most edits must leave the plain form (a few are plain, and must still agree).
 */
function compareEdits(edits: readonly [string, (l: string) => string][], lines: readonly string[], at: readonly number[], table: Table): void {
  let changed = 0;
  let byteAccepted = 0;
  for (const [name, edit] of edits) {
    for (const n of at) {
      const original = lines[n] as string;
      const line = edit(original);
      if (line === original) continue;
      changed += 1;
      if (plain(line, table)) byteAccepted += 1;
      const chunk = chunkOf([lines[20] as string, line, lines[21] as string], 40, table);
      expect(encoded(chunk), `${name}: ${line.slice(0, 400)}`).toEqual(recordPath(chunk));
    }
  }
  expect(changed).toBeGreaterThan(edits.length * 3);
  expect(byteAccepted).toBeGreaterThan(0);
  expect(byteAccepted).toBeLessThan(changed / 4);
}

/** `count` lines of `lines` with a byte replaced, removed or inserted at random: both paths give the same. */
function compareRandomEdits(lines: readonly string[], table: Table, seed: number, count: number): void {
  const next = random(seed);
  const alphabet = '0123456789abcdefABCDEF-:.TZ"{}[],\\ x\u00fc';
  for (let i = 0; i < count; i++) {
    const original = lines[Math.floor(next() * lines.length)] as string;
    const at = Math.floor(next() * original.length);
    const ch = alphabet[Math.floor(next() * alphabet.length)] as string;
    const kind = Math.floor(next() * 3);
    const line = kind === 0 ? original.slice(0, at) + ch + original.slice(at + 1) : kind === 1 ? original.slice(0, at) + original.slice(at + 1) : original.slice(0, at) + ch + original.slice(at);
    const chunk = chunkOf([line], 100 + i, table);
    expect(encoded(chunk), line).toEqual(recordPath(chunk));
  }
}

describe('payment and event lines copied as bytes', () => {
  const lines = Array.from({ length: 120 }, (_v, n) => lineOf(payment(n)));

  it('take the byte path for every line in the plain form, and give the record path\'s rows and days', () => {
    comparePlainChunk(lines, 'x402_payments');
  });

  it('take the byte path for the payments a store exports (all of them, in its key order) and most of its events, with the record path\'s rows', async () => {
    const store = await dumpStore(await buildFullStore());
    const payments = store.x402_payments.map(lineOf);
    expect(payments.length).toBeGreaterThan(50);
    for (const line of payments) expect(plain(line), line).toBe(true);
    const events = store.events.map(eventLineOf);
    expect(events.filter((l) => plain(l, 'events')).length).toBeGreaterThan(events.length / 2);
    for (const chunk of [chunkOf(payments, 7), chunkOf(events, 7, 'events')]) expect(encoded(chunk)).toEqual(recordPath(chunk));
  });

  it('give the record path\'s row or error for every edit of a line, in the middle of a chunk', () => {
    // Reordered keys and a real leap day stay plain; the edits that change a value's form do not.
    compareEdits(EDITS, lines, [0, 1, 5, 10, 3, 4], 'x402_payments');
  });

  it('give the record path\'s row or error for random byte edits', () => {
    compareRandomEdits(lines, 'x402_payments', 14, 4_000);
  });

  const events = Array.from({ length: 60 }, (_v, n) => eventLineOf(event(n)));

  it('take the byte path for every event line in the plain form, and give the record path\'s rows', () => {
    comparePlainChunk(events, 'events');
  });

  it('give the record path\'s row or error for every edit of an event line', () => {
    // Reordered keys and a document 60 levels deep stay plain; the rest do not.
    compareEdits(EVENT_EDITS, events, [0, 2, 3, 5, 6, 7], 'events');
  });

  it('give the record path\'s row or error for random byte edits of event lines', () => {
    compareRandomEdits(events, 'events', 15, 3_000);
  });

  it('refuse a chunk whose last line has no newline, or whose count is wrong, as the record path does', () => {
    const text = `${lines[0] as string}\n${lines[1] as string}`;
    const unterminated: TableLinesChunk = { table: 'x402_payments', lines: Buffer.from(text), count: 2, firstLine: 3 };
    expect(encoded(unterminated)).toEqual(recordPath(unterminated));
    expect(encoded(unterminated)).toMatchObject({ error: 'line 4: the last line has no newline' });
    const miscounted = { ...chunkOf(lines.slice(0, 3)), count: 4 };
    expect(encoded(miscounted)).toEqual({ error: 'count 3', code: 'VALIDATION', details: undefined });
    expect(recordPath(miscounted)).toEqual({ error: 'count 3', code: 'VALIDATION', details: undefined });
  });

  it('keep the days of the chunk apart from the rows, one per UTC day', () => {
    const days = [0, 1, 2].map((d) => lineOf({ ...payment(0), paymentTimestamp: new Date(Date.UTC(2026, 0, 1 + d, 5)), createdAt: new Date(Date.UTC(2026, 0, 1 + d, 5)), bucketSlot: new Date(Date.UTC(2026, 0, 1 + d, 5)).toISOString() }));
    const out = encoded(chunkOf([...days, ...days]));
    expect(out).toMatchObject({ days: [0, 1, 2].map((d) => Date.UTC(2026, 0, 1 + d) / DAY) });
  });
});
