/**
 * Payment lines copied as bytes (src/storage/backends/sql/payment-line-copy.ts) give what the
 * record path gives: for every line, the same COPY row and day, or the same error. Lines in a
 * store's plain form take the byte path (checked directly, so the comparison is not between the
 * record path and itself); every edit of such a line that makes it invalid, or merely not plain,
 * is compared whole: rows, days and error.
 */
import { describe, expect, it } from 'vitest';
import { encodeChunk } from '../src/storage/backends/sql/copy-encoding.js';
import { copyRows } from '../src/storage/backends/sql/copy-text.js';
import { lineFields, paymentLineCopy } from '../src/storage/backends/sql/payment-line-copy.js';
import { isStorageError } from '../src/storage/contract/errors.js';
import type { StoredX402Payment } from '../src/storage/contract/database.js';
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

const lineOf = (p: StoredX402Payment) => recordLine('x402_payments', p);
const chunkOf = (lines: readonly string[], firstLine = 2): TableLinesChunk => ({
  table: 'x402_payments',
  lines: Buffer.from(lines.map((l) => `${l}\n`).join('')),
  count: lines.length,
  firstLine,
});

type Outcome = { rows: string; days: number[] } | { error: string; code: string; details: unknown };

/** What the record path gives for `chunk`: parse every line, then encode the records. */
function recordPath(chunk: TableLinesChunk): Outcome {
  try {
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
function plain(line: string): boolean {
  const b = Buffer.from(line);
  return paymentLineCopy(b, 0, b.length, Buffer.alloc(b.length + 16), 0, lineFields()) !== -1;
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

describe('payment lines copied as bytes', () => {
  const lines = Array.from({ length: 120 }, (_v, n) => lineOf(payment(n)));

  it('take the byte path for every line in the plain form, and give the record path\'s rows and days', () => {
    for (const line of lines) expect(plain(line), line).toBe(true);
    const chunk = chunkOf(lines);
    const out = encoded(chunk);
    expect(out).toEqual(recordPath(chunk));
    expect('rows' in out && out.rows.split('\n').length).toBe(lines.length + 1);
  });

  it('take the byte path for the payments a store exports, in its key order', async () => {
    const store = await dumpStore(await buildFullStore());
    const storeLines = store.x402_payments.map(lineOf);
    expect(storeLines.length).toBeGreaterThan(50);
    for (const line of storeLines) expect(plain(line), line).toBe(true);
    const chunk = chunkOf(storeLines, 7);
    expect(encoded(chunk)).toEqual(recordPath(chunk));
  });

  it('give the record path\'s row or error for every edit of a line, in the middle of a chunk', () => {
    let changed = 0;
    let byteAccepted = 0;
    for (const [name, edit] of EDITS) {
      for (const n of [0, 1, 5, 10, 3, 4]) {
        const original = lines[n] as string;
        const line = edit(original);
        if (line === original) continue;
        changed += 1;
        if (plain(line)) byteAccepted += 1;
        const chunk = chunkOf([lines[20] as string, line, lines[21] as string], 40);
        expect(encoded(chunk), `${name}: ${line}`).toEqual(recordPath(chunk));
      }
    }
    expect(changed).toBeGreaterThan(EDITS.length * 3);
    // Reordered keys and a real leap day stay plain; the edits that change a value's form do not.
    expect(byteAccepted).toBeGreaterThan(0);
    expect(byteAccepted).toBeLessThan(changed / 4);
  });

  it('give the record path\'s row or error for random byte edits', () => {
    const next = random(14);
    const alphabet = '0123456789abcdefABCDEF-:.TZ"{},\\ x\u00fc';
    for (let i = 0; i < 4_000; i++) {
      const original = lines[Math.floor(next() * lines.length)] as string;
      const at = Math.floor(next() * original.length);
      const ch = alphabet[Math.floor(next() * alphabet.length)] as string;
      const kind = Math.floor(next() * 3);
      const line = kind === 0 ? original.slice(0, at) + ch + original.slice(at + 1) : kind === 1 ? original.slice(0, at) + original.slice(at + 1) : original.slice(0, at) + ch + original.slice(at);
      const chunk = chunkOf([line], 100 + i);
      expect(encoded(chunk), line).toEqual(recordPath(chunk));
    }
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
