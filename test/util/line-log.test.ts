/** Compacting a line log while it is appended to (src/util/line-log.ts). */
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineLog, damagedFileOf, encodeLine, readLineLog, type CompactionKeep, type RecordKind } from '../../src/util/line-log.js';

interface Rec {
  n: number;
  drop: boolean;
}
const REC: RecordKind<Rec> = {
  name: 'test record',
  is: (v): v is Rec => typeof v === 'object' && v !== null && typeof (v as Rec).n === 'number' && typeof (v as Rec).drop === 'boolean',
};
const keepAll = (records: Rec[]) => records;
/** Keeps the records not marked `drop`, read one at a time as a compaction gives them. */
const keepWanted: CompactionKeep<Rec> = async (records) => {
  const kept: Rec[] = [];
  for await (const r of records) if (!r.drop) kept.push(r);
  return kept;
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'line-log-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('compacting a log in use', () => {
  it('keeps what the owner needs and every record appended while it ran, in order', async () => {
    const path = join(dir, 'busy.log');
    const { log } = await LineLog.open(path, { kind: REC, keep: keepAll });
    for (let n = 0; n < 1000; n++) await log.append({ n, drop: n % 3 !== 0 });
    const sizeBefore = (await readFile(path)).length;

    // Appends race the compaction: some land in the part it filters, some after it.
    const during = Array.from({ length: 300 }, (_, i) => log.append({ n: 1000 + i, drop: false }));
    const compaction = log.compact(keepWanted);
    const [done] = await Promise.all([compaction, ...during]);
    await log.append({ n: 5000, drop: false }); // after the swap: into the new file

    const expected = [...Array.from({ length: 1000 }, (_, n) => n).filter((n) => n % 3 === 0), ...Array.from({ length: 300 }, (_, i) => 1000 + i), 5000];
    const { records, damaged } = await readLineLog(path, REC);
    expect(records.map((r) => r.n)).toEqual(expected);
    expect(damaged).toEqual([]);
    expect(done.recordsRead).toBeGreaterThanOrEqual(1000);
    expect(done.recordsKept).toBe(done.recordsRead - 666);
    expect(done.bytesAfter).toBeLessThan(sizeBefore);
    // Growth counts from the swap: what was carried over, plus the append after it.
    expect(log.appendedBytes).toBeGreaterThan(0);
    expect(log.appendedBytes).toBeLessThan(done.bytesAfter);
    await log.close();

    const reopened = await LineLog.open(path, { kind: REC, keep: keepAll });
    await reopened.log.close();
    expect(reopened.records.map((r) => r.n)).toEqual(expected);
  });

  it('runs one compaction at a time: a call made while one runs starts from its result and covers what was appended before it', async () => {
    const path = join(dir, 'serial.log');
    const { log } = await LineLog.open(path, { kind: REC, keep: keepAll });
    for (let n = 0; n < 200; n++) await log.append({ n, drop: n % 2 === 0 });
    const first = log.compact(keepWanted);
    await log.append({ n: 999, drop: true }); // after the first call, before the second
    const second = log.compact(keepWanted);
    const [a, b] = await Promise.all([first, second]);
    // The second started from the first's result (nothing was appended in between), and the
    // late append, wherever it fell, was filtered by one of them.
    expect(b.bytesBefore).toBe(a.bytesAfter);
    expect(b.recordsKept).toBe(100);
    expect((await readLineLog(path, REC)).records.map((r) => r.n)).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i + 1));
    await log.close();
  });

  it('gives the event loop back while it encodes a state that is slow to build, not only every so many records', async () => {
    const path = join(dir, 'slow-state.log');
    const { log } = await LineLog.open(path, { kind: REC, keep: keepAll });
    const held: Rec[] = [];
    for (let n = 0; n < 320; n++) await log.append({ n, drop: false }, () => held.push({ n, drop: false }));
    // Each record takes at least 0.25 ms to build, so every 32 records take longer than one turn
    // may: the encoding must yield 10 times whatever the machine's speed. A fixed count of records
    // per turn (2,000) would have held the thread for all 320.
    let turnsBefore = 0;
    let turnsDuring = 0;
    const slowly = function* () {
      turnsBefore = turns;
      for (const r of held) {
        const until = performance.now() + 0.25;
        while (performance.now() < until);
        yield r;
      }
      turnsDuring = turns - turnsBefore;
    };
    let turns = 0;
    let counting = true;
    const count = () => {
      if (!counting) return;
      turns += 1;
      setImmediate(count);
    };
    setImmediate(count);
    const done = await log.compact(keepWanted, slowly);
    counting = false;
    expect(done).toMatchObject({ from: 'state', recordsKept: 320 });
    // Turns of the event loop between the first record built and the last.
    expect(turnsDuring).toBeGreaterThanOrEqual(9);
    expect((await readLineLog(path, REC)).records.map((r) => r.n)).toEqual(held.map((r) => r.n));
    await log.close();
  });

  it('compacts from the state its owner holds, without reading the file, keeping what was appended meanwhile', async () => {
    const path = join(dir, 'state.log');
    const { log } = await LineLog.open(path, { kind: REC, keep: keepAll });
    // The owner takes each record in once it is written, as the settlement journal does.
    const held: Rec[] = [];
    const append = (r: Rec) => log.append(r, () => held.push(r));
    for (let n = 0; n < 500; n++) await append({ n, drop: n % 2 === 0 });
    let asked = 0;
    const state = () => {
      asked += 1;
      return held.filter((r) => !r.drop);
    };
    // A keep that would give something else: the state path must not use it.
    const wrong: CompactionKeep<Rec> = async () => [{ n: -1, drop: false }];
    const during = Array.from({ length: 100 }, (_, i) => append({ n: 500 + i, drop: false }));
    const [done] = await Promise.all([log.compact(wrong, state), ...during]);
    expect(asked).toBe(1);
    expect(done.from).toBe('state');
    // What the owner held when the compaction looked is exactly what the file held then.
    expect(done.recordsRead).toBeGreaterThanOrEqual(500);
    expect(done.recordsKept).toBe(250 + (done.recordsRead - 500));
    const expected = [...Array.from({ length: 250 }, (_, i) => 2 * i + 1), ...Array.from({ length: 100 }, (_, i) => 500 + i)];
    expect((await readLineLog(path, REC)).records.map((r) => r.n)).toEqual(expected);
    // Again, from the compacted file.
    const again = await log.compact(wrong, state);
    expect(again).toMatchObject({ from: 'state', recordsRead: 350, recordsKept: 350 });
    expect((await readLineLog(path, REC)).records.map((r) => r.n)).toEqual(expected);
    // The owner may give records it encoded before (lines it keeps): they are written as they are.
    const encoded = await log.compact(wrong, () => held.filter((r) => !r.drop).map((r) => (r.n % 2 === 0 ? encodeLine(r) : r)));
    expect(encoded).toMatchObject({ from: 'state', recordsKept: 350 });
    const reread = await readLineLog(path, REC);
    expect(reread.records.map((r) => r.n)).toEqual(expected);
    expect(reread.damaged).toEqual([]);
    await log.close();
  });

  it('moves a damaged line to the side file before rewriting the log without it', async () => {
    const path = join(dir, 'damaged.log');
    const { log } = await LineLog.open(path, { kind: REC, keep: keepAll });
    const held: Rec[] = [];
    await log.append({ n: 1, drop: false }, () => held.push({ n: 1, drop: false }));
    await appendFile(path, 'deadbeef {"n": 2, "drop": false}\n'); // checksum mismatch, written by another hand
    await log.append({ n: 3, drop: false }, () => held.push({ n: 3, drop: false }));
    // The file is not as the log wrote it: it is read back, whatever the owner holds.
    const done = await log.compact(keepWanted, () => held);
    expect(done.from).toBe('file');
    expect(done.setAside).toBe(1);
    const { records, damaged } = await readLineLog(path, REC);
    expect(records.map((r) => r.n)).toEqual([1, 3]);
    expect(damaged).toMatchObject([{ reason: 'checksum mismatch', text: 'deadbeef {"n": 2, "drop": false}' }]);
    expect(await readFile(damagedFileOf(path), 'utf8')).toContain('checksum mismatch');
    // Rewritten by the log, the file is its own again: the next compaction uses the owner's state.
    await log.append({ n: 4, drop: false }, () => held.push({ n: 4, drop: false }));
    const next = await log.compact(keepWanted, () => held);
    expect(next).toMatchObject({ from: 'state', recordsRead: 3, recordsKept: 3, setAside: 0 });
    expect((await readLineLog(path, REC)).records.map((r) => r.n)).toEqual([1, 3, 4]);
    await log.close();
  });

  it('refuses a keep that stops reading early (what it did not read would vanish), leaving the file as it was', async () => {
    const path = join(dir, 'early.log');
    const { log } = await LineLog.open(path, { kind: REC, keep: keepAll });
    for (let n = 0; n < 10; n++) await log.append({ n, drop: false });
    const before = await readFile(path, 'utf8');
    const firstOnly: CompactionKeep<Rec> = async (records) => {
      for await (const r of records) return [r];
      return [];
    };
    await expect(log.compact(firstOnly)).rejects.toThrow(/stopped before the last record/);
    expect(await readFile(path, 'utf8')).toBe(before);
    await log.append({ n: 10, drop: false }); // still usable
    expect((await readLineLog(path, REC)).records).toHaveLength(11);
    await log.close();
  });

  it('refuses to compact a closed log and leaves its file as it was', async () => {
    const path = join(dir, 'closed.log');
    const { log } = await LineLog.open(path, { kind: REC, keep: keepAll });
    await log.append({ n: 1, drop: true });
    await log.close();
    const before = await readFile(path, 'utf8');
    await expect(log.compact(keepWanted)).rejects.toThrow(/closed/);
    expect(await readFile(path, 'utf8')).toBe(before);
  });
});
