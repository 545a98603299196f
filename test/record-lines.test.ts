/**
 * Record lines (src/storage/core/record-lines.ts): every kind of stored record written as a line
 * and read back equal to what validation makes of it; a line that is not JSON, not of its table or
 * not a valid record refused with a VALIDATION error naming its line; a chunk of lines whose shape
 * is wrong refused before it is read.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isStorageError, type StorageError } from '../src/storage/contract/errors.js';
import { TABLES, type TableLinesChunk, type TableName } from '../src/storage/contract/transfer.js';
import { recordLine, recordsFromLines, validateLinesChunk } from '../src/storage/core/record-lines.js';
import { validateStoredRecord } from '../src/storage/core/validate-records.js';
import { buildFullStore, dumpStore, type StoreDump } from './migration/full-store.js';

let store: StoreDump;

beforeAll(async () => {
  store = await dumpStore(await buildFullStore(3));
});

const bytesOf = (lines: string[]) => Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');

/** The error recordsFromLines throws for `lines`, which must be a StorageError. */
function refusal(table: TableName, lines: string[] | Buffer, firstLine = 1): StorageError {
  try {
    recordsFromLines(table, Array.isArray(lines) ? bytesOf(lines) : lines, firstLine);
  } catch (error) {
    if (isStorageError(error)) return error;
    throw error;
  }
  throw new Error('the lines were accepted');
}

describe('record lines', () => {
  it.each(TABLES)('%s: every record read back as validation makes it', (table) => {
    const records = store[table];
    expect(records.length).toBeGreaterThan(0);
    const read = recordsFromLines(table, bytesOf(records.map((r) => recordLine(table, r))), 1);
    expect(read).toEqual(records.map((r) => validateStoredRecord(table, r)));
  });

  it('reads characters of every UTF-8 length, the line numbers counted from firstLine', () => {
    const asset = { ...(store.assets[0] as StoreDump['assets'][number]), metadata: { name: 'é 衛星 🛰️ 👩‍🚀' } };
    const [read] = recordsFromLines('assets', bytesOf([recordLine('assets', asset)]), 1);
    expect(read?.metadata).toEqual({ name: 'é 衛星 🛰️ 👩‍🚀' });
    const good = recordLine('assets', asset);
    expect(refusal('assets', [good, good, '{"t":"assets"'], 40).message).toMatch(/^line 42: not valid JSON/);
  });

  it('refuses, naming the line, what is not a valid record of its table', () => {
    const payment = store.x402_payments[0] as StoreDump['x402_payments'][number];
    const line = recordLine('x402_payments', payment);
    const cases: [string, string, RegExp][] = [
      ['not JSON', line.slice(0, -3), /^line 7: not valid JSON/],
      ['another table', recordLine('leases', store.leases[0] as StoreDump['leases'][number]), /^line 7: not a x402_payments record line/],
      ['no record object', '{"t":"x402_payments","r":[1]}', /^line 7: the record is not an object/],
      ['a date that is not one', line.replace(/"paymentTimestamp":"[^"]*"/, '"paymentTimestamp":"yesterday"'), /^line 7: x402_payments.paymentTimestamp is not an ISO date/],
      ['an amount with a sign', line.replace(/"amountMinorUnits":"/, '"amountMinorUnits":"-'), /^line 7: x402_payments.amountMinorUnits is not a decimal amount/],
      ['an invalid field', line.replace(/"payer":"[^"]*"/, '"payer":"nobody"'), /^line 7: invalid x402_payments record: .*payer/],
    ];
    for (const [name, bad, message] of cases) {
      const error = refusal('x402_payments', [line, bad], 6);
      expect(error.code, name).toBe('VALIDATION');
      expect(error.message, name).toMatch(message);
      expect(error.details?.['line'], name).toBe(7);
    }
    expect(refusal('x402_payments', Buffer.from(`${line}\n${line}`)).message).toMatch(/^line 2: the last line has no newline/);
  });

  it('refuses a chunk whose shape is wrong before reading it', () => {
    const good: TableLinesChunk = { table: 'assets', lines: bytesOf([]), count: 0, firstLine: 1 };
    expect(validateLinesChunk('assets', good)).toEqual(good);
    const bad: [string, unknown][] = [
      ['lines', { ...good, lines: 'text' }],
      ['count', { ...good, count: -1 }],
      ['count', { ...good, count: 1.5 }],
      ['firstLine', { ...good, firstLine: 0 }],
    ];
    for (const [field, chunk] of bad) {
      expect(() => validateLinesChunk('assets', chunk as TableLinesChunk)).toThrow(expect.objectContaining({ code: 'VALIDATION', field }));
    }
  });
});
