/**
 * Snapshot files: the format on disk, a faithful round trip, and refusal of damaged, truncated
 * or edited files before anything is written (MockDatabase and PGlite targets, and PostgreSQL,
 * which loads an empty store from the file's record lines).
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrateData } from '../../src/migration/migrate-data.js';
import { SnapshotError } from '../../src/migration/snapshot-format.js';
import { readSnapshot, readSnapshotLines, verifySnapshot, type SnapshotInfo } from '../../src/migration/snapshot-reader.js';
import { SnapshotWriter, exportSnapshot } from '../../src/migration/snapshot-writer.js';
import type { Database } from '../../src/storage/contract/database.js';
import { MockDatabase } from '../../src/storage/backends/memory/mock-database.js';
import { TABLES, type TableLinesChunk } from '../../src/storage/contract/transfer.js';
import { recordsFromLines } from '../../src/storage/core/record-lines.js';
import { MAX_AMOUNT, buildFullStore, dumpStore, isEmpty, summaries, type StoreDump } from './full-store.js';
import { backend, type OpenBackend } from '../support/backends.js';
import { tempDir } from './targets.js';

let source: MockDatabase;
let before: StoreDump;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let snapshot: string;
let text: string;
let pglite: OpenBackend;
let postgres: OpenBackend;

beforeAll(async () => {
  source = await buildFullStore();
  before = await dumpStore(source);
  tmp = await tempDir();
  snapshot = tmp.file('full.jsonl');
  await exportSnapshot(source, snapshot, { pageSize: 7 });
  text = await readFile(snapshot, 'utf8');
  pglite = await backend('pglite').open();
  postgres = await backend('postgres').open();
});
afterAll(async () => {
  await pglite?.dispose();
  await postgres?.dispose();
  await tmp?.remove();
});
beforeEach(async () => {
  await pglite.db.clear();
  await postgres.db.clear();
});

const lines = () => text.trimEnd().split('\n');

describe('snapshot format', () => {
  it('has a header, one JSON line per record in table order, and a trailer with counts and sums', async () => {
    const all = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(all[0]).toMatchObject({ format: 'asset-leasing-snapshot', version: 1, source: 'memory' });
    expect(Date.parse(String(all[0]?.['createdAt']))).not.toBeNaN();
    const records = all.slice(1, -1) as { t: string; r: Record<string, unknown> }[];
    expect(records.map((l) => l.t)).toEqual(TABLES.flatMap((t) => before[t].map(() => t)));
    const trailer = all.at(-1) as { trailer: boolean; records: number; tables: Record<string, { count: number; amountSum: string }> };
    const sums = await summaries(source);
    expect(trailer.trailer).toBe(true);
    expect(trailer.records).toBe(records.length);
    for (const t of TABLES) expect(trailer.tables[t]).toMatchObject({ count: sums[t].count, amountSum: sums[t].amountSum.toString() });
  });

  it('writes amounts as decimal strings and dates as ISO strings, unicode as is', () => {
    const payments = lines().filter((l) => l.startsWith('{"t":"x402_payments"')).map((l) => (JSON.parse(l) as { r: Record<string, unknown> }).r);
    expect(payments.map((p) => p['amountMinorUnits'])).toContain(MAX_AMOUNT.toString());
    expect(payments.map((p) => p['amountMinorUnits'])).toContain('0');
    expect(payments[0]?.['paymentTimestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(text).toContain('衛星 🛰️');
    expect(text).toContain('👩‍🚀');
  });

  it('the writer refuses tables out of order and ids that do not ascend, and abort leaves no file', async () => {
    const path = tmp.file('bad.jsonl');
    const writer = await SnapshotWriter.create(path, 'test');
    await writer.write('leases', before.leases.slice(0, 1));
    await expect(writer.write('assets', before.assets.slice(0, 1))).rejects.toThrow(/TABLES order/);
    await expect(writer.write('leases', before.leases.slice(0, 1))).rejects.toThrow(/ascend/);
    await writer.abort();
    await expect(readFile(`${path}.partial`)).rejects.toThrow(/ENOENT/);
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
  });
});

describe('snapshot import', () => {
  it.each([
    ['a MockDatabase', async () => (await (async () => { const m = new MockDatabase(); await m.connect(); return m; })()) as Database],
    ['PGlite', async () => pglite.db],
  ])('into %s reproduces every record exactly; a second import adds nothing', async (_name, make) => {
    const target = await make();
    const first = await migrateData(snapshot, target, { batchSize: 10 });
    expect(first.ok).toBe(true);
    expect(first.inserted).toBe(first.records);
    expect(await dumpStore(target)).toEqual(before);
    const second = await migrateData(snapshot, target, { batchSize: 10 });
    expect(second.ok).toBe(true);
    expect(second.inserted).toBe(0);
    expect(second.tables.map((t) => t.inserted)).toEqual([0, 0, 0, 0, 0]);
  });

  it('a dry run validates the whole file and writes nothing', async () => {
    const report = await migrateData(snapshot, pglite.db, { dryRun: true });
    expect(report).toMatchObject({ ok: true, dryRun: true, inserted: 0 });
    expect(report.records).toBe(TABLES.reduce((n, t) => n + before[t].length, 0));
    expect(await isEmpty(pglite.db)).toBe(true);
  });
});

/** A snapshot of `records` (record lines) with the header and trailer of `text`, its checksum made to fit. */
function withRecordLines(records: string[]): string {
  const all = lines();
  const trailer = JSON.parse(all.at(-1) ?? '') as { sha256: string };
  trailer.sha256 = createHash('sha256').update(records.map((l) => `${l}\n`).join('')).digest('hex');
  return [all[0], ...records, JSON.stringify(trailer)].map((l) => `${l}\n`).join('');
}

describe('a snapshot read as record lines', () => {
  it('gives every record line once, in order, with its line number, at most maxLines per chunk', async () => {
    const chunks: TableLinesChunk[] = [];
    const info: Partial<SnapshotInfo> = {};
    for await (const chunk of readSnapshotLines(snapshot, info, 4)) chunks.push(chunk);
    const numbered: { table: string; line: number }[] = [];
    for await (const batch of readSnapshot(snapshot)) for (const { table, line } of batch) numbered.push({ table, line });
    expect(chunks.every((c) => c.count >= 1 && c.count <= 4)).toBe(true);
    let at = 0;
    for (const chunk of chunks) {
      expect(numbered[at]).toEqual({ table: chunk.table, line: chunk.firstLine });
      at += chunk.count;
    }
    expect(at).toBe(numbered.length);
    for (const table of TABLES) {
      const read = chunks.filter((c) => c.table === table).flatMap((c) => recordsFromLines(table, c.lines, c.firstLine));
      expect(read).toEqual(before[table]);
    }
    expect(info.tables).toEqual((await verifySnapshot(snapshot)).tables);
  });

  it('reads lines not in the writer\'s form, and PostgreSQL loads them as written', async () => {
    // Every payment's keys the other way round: {"r":...,"t":"x402_payments"}.
    const records = lines()
      .slice(1, -1)
      .map((l) => {
        const { t, r } = JSON.parse(l) as { t: string; r: unknown };
        return t === 'x402_payments' ? JSON.stringify({ r, t }) : l;
      });
    const path = tmp.file('reordered.jsonl');
    await writeFile(path, withRecordLines(records));
    const report = await migrateData(path, postgres.db);
    expect(report.ok).toBe(true);
    expect(report.steps?.['copy']).toBeDefined();
    expect(await dumpStore(postgres.db)).toEqual(before);
  });

  it('into PostgreSQL, an intact file with an invalid record is refused naming its line, with nothing written', async () => {
    const records = lines().slice(1, -1);
    const at = records.findIndex((l) => l.startsWith('{"t":"x402_payments"'));
    records[at] = (records[at] ?? '').replace(/"payer":"[^"]*"/, '"payer":"nobody"');
    const path = tmp.file('invalid-line.jsonl');
    await writeFile(path, withRecordLines(records));
    await expect(migrateData(path, postgres.db)).rejects.toThrow(new RegExp(`^line ${at + 2}: invalid x402_payments record: .*payer`));
    expect(await isEmpty(postgres.db)).toBe(true);
  });

  it('into PostgreSQL, a row the server refuses while the rows stream rolls the whole load back; the same command then completes', async () => {
    // A constraint the load keeps (it drops keys, indexes and foreign keys only) refuses the
    // largest payment, inside the payments' COPY; the dropped indexes come back with the rollback.
    const sql = new pg.Client({ connectionString: postgres.url });
    await sql.connect();
    try {
      await sql.query(`ALTER TABLE x402_payments ADD CONSTRAINT test_refuse_largest CHECK (amount_minor_units <> ${MAX_AMOUNT})`);
      await expect(migrateData(snapshot, postgres.db)).rejects.toMatchObject({ message: /test_refuse_largest/ });
      expect(await isEmpty(postgres.db)).toBe(true);
      const { rows } = await sql.query<{ indexes: number }>(`SELECT count(*)::int AS indexes FROM pg_indexes WHERE tablename LIKE 'x402_payments%' AND indexname LIKE '%lease_time%'`);
      expect(rows[0]?.indexes).toBeGreaterThan(0);
    } finally {
      await sql.query('ALTER TABLE x402_payments DROP CONSTRAINT IF EXISTS test_refuse_largest');
      await sql.end();
    }
    const report = await migrateData(snapshot, postgres.db);
    expect(report.ok).toBe(true);
    expect(await dumpStore(postgres.db)).toEqual(before);
  });

  it('loadEmpty refuses a chunk of lines whose shape is wrong, with nothing written', async () => {
    const good = (await readSnapshotLines(snapshot)[Symbol.asyncIterator]().next()).value as TableLinesChunk;
    const chunks = async function* () {
      yield good;
      yield { ...good, table: 'leases', count: -1 } as TableLinesChunk;
    };
    await expect(postgres.db.loadEmpty(chunks(), async () => true)).rejects.toMatchObject({ code: 'VALIDATION', field: 'count' });
    expect(await isEmpty(postgres.db)).toBe(true);
  });
});

const payLine = () => lines().findIndex((l) => l.includes(`"amountMinorUnits":"${MAX_AMOUNT}"`));
const DAMAGE: [string, () => string, RegExp][] = [
  ['truncated mid-line', () => text.slice(0, Math.floor(text.length * 0.6)), /truncated/],
  ['truncated at a line end (no trailer)', () => `${lines().slice(0, -1).join('\n')}\n`, /no trailer.*truncated/],
  ['cut to the header', () => `${lines()[0]}\n`, /truncated/],
  ['empty', () => '', /empty/],
  ['an amount edited', () => text.replace(`"amountMinorUnits":"${MAX_AMOUNT}"`, `"amountMinorUnits":"${MAX_AMOUNT - 1n}"`), /checksum|amount sum/],
  ['a line removed', () => lines().filter((_l, i) => i !== payLine()).join('\n') + '\n', /records|count/],
  ['a record duplicated', () => { const l = lines(); l.splice(payLine(), 0, l[payLine()] ?? ''); return `${l.join('\n')}\n`; }, /out of order/],
  ['data after the trailer', () => `${text}${lines()[1]}\n`, /after the trailer/],
  ['another format version', () => text.replace('"version":1', '"version":2'), /version 2/],
  ['not a snapshot', () => '{"hello":"world"}\n', /not a asset-leasing-snapshot/],
  ['a byte flipped in a document', () => text.replace('衛星', '衛生'), /checksum/],
];

/**
 * A snapshot of `assets` records several MiB long whose byte at `boundary` is the middle of a
 * three-byte character: the reader reads 1 MiB at a time, so a line, and a character, continue in
 * the next read. Returns the file's bytes.
 */
async function writeAcrossReads(path: string, boundary: number): Promise<Buffer> {
  const template = before.assets[0] as (typeof before.assets)[number];
  for (let pad = 0; pad < 3; pad++) {
    const assets = Array.from({ length: 400 }, (_v, n) => ({
      ...template,
      id: `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
      assetId: `ACROSS-${n}`,
      metadata: { name: `${'a'.repeat(n === 0 ? pad : 0)}${'衛'.repeat(3_000)}` },
    }));
    const writer = await SnapshotWriter.create(path, 'test');
    await writer.write('assets', assets);
    await writer.finish();
    const bytes = await readFile(path);
    // A UTF-8 continuation byte (10xxxxxx): the read ends inside a character.
    if (bytes.length > 3 * boundary && ((bytes[boundary] as number) & 0xc0) === 0x80) return bytes;
  }
  throw new Error('no padding put a character across the read boundary');
}

describe('a snapshot longer than one read', () => {
  it('reads back the records whose lines and characters continue in the next read, and refuses a changed byte there', async () => {
    const path = tmp.file('across.jsonl');
    const bytes = await writeAcrossReads(path, 1 << 20);
    const info = await verifySnapshot(path);
    expect(info.trailer.records).toBe(400);
    const read: unknown[] = [];
    for await (const batch of readSnapshot(path)) for (const { record } of batch) read.push(record);
    expect(read).toHaveLength(400);
    expect(read.map((r) => (r as { metadata: { name: string } }).metadata.name.replace(/^a*/, ''))).toEqual(Array(400).fill('衛'.repeat(3_000)));
    // As record lines too, each chunk within one read.
    const fromLines: unknown[] = [];
    for await (const chunk of readSnapshotLines(path)) fromLines.push(...recordsFromLines(chunk.table, chunk.lines, chunk.firstLine));
    expect(fromLines).toEqual(read);
    // 衛 (E8 A1 9B) becomes 衜 (E8 A1 9C) in the third read: the same length, still valid UTF-8.
    const at = bytes.indexOf(Buffer.from('衛'), 2 << 20);
    const changed = Buffer.from(bytes);
    changed[at + 2] = 0x9c;
    await writeFile(path, changed);
    await expect(verifySnapshot(path)).rejects.toThrow(/checksum/);
    // A byte that is not UTF-8 at all, where a read ends.
    const broken = Buffer.from(bytes);
    broken[1 << 20] = 0xff;
    await writeFile(path, broken);
    await expect(verifySnapshot(path)).rejects.toThrow(SnapshotError);
  });
});

describe('a snapshot whose reads are plain ASCII in places', () => {
  it('reads each record as written, whether its read held only ASCII or not', async () => {
    // About 1.5 MiB of ASCII first (the first read has nothing else), then a two-byte character
    // in every record, one that Latin-1 would read as two other characters.
    const template = before.assets[0] as (typeof before.assets)[number];
    const names = Array.from({ length: 300 }, (_v, n) => (n < 150 ? 'a'.repeat(10_000) : `é${'b'.repeat(10_000)}`));
    const assets = names.map((name, n) => ({ ...template, id: `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`, assetId: `ASCII-${n}`, metadata: { name } }));
    const path = tmp.file('ascii.jsonl');
    const writer = await SnapshotWriter.create(path, 'test');
    await writer.write('assets', assets);
    await writer.finish();
    const read: unknown[] = [];
    for await (const batch of readSnapshot(path)) for (const { record } of batch) read.push(record);
    expect(read.map((r) => (r as { metadata: { name: string } }).metadata.name)).toEqual(names);
  });
});

describe('damaged snapshots are refused before anything is written', () => {
  it.each(DAMAGE)('%s', async (_name, damage, message) => {
    const path = tmp.file('damaged.jsonl');
    await writeFile(path, damage());
    await expect(verifySnapshot(path)).rejects.toThrow(SnapshotError);
    const memory = new MockDatabase();
    await memory.connect();
    for (const target of [memory, pglite.db, postgres.db]) {
      await expect(migrateData(path, target, { batchSize: 5 })).rejects.toThrow(message);
      expect(await isEmpty(target)).toBe(true);
    }
  });

  it('an intact file with an invalid record is refused up front with validateFirst', async () => {
    const path = tmp.file('invalid.jsonl');
    const writer = await SnapshotWriter.create(path, 'test');
    for (const table of TABLES) await writer.write(table, table === 'x402_payments' ? before[table].map((p, i) => (i === 3 ? { ...p, payer: 'nobody' } : p)) : before[table]);
    await writer.finish();
    await expect(migrateData(path, pglite.db, { validateFirst: true })).rejects.toThrow(/payer/);
    expect(await isEmpty(pglite.db)).toBe(true);
    await expect(migrateData(path, pglite.db, { dryRun: true })).rejects.toThrow(/payer/);
  });
});
