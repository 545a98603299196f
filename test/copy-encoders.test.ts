/**
 * The encoder threads of a bulk load (src/storage/backends/sql/copy-encoders.ts): the same COPY
 * bytes and payment days as encoding on the main thread, the same error for a line that is not a
 * valid record, chunks encoded on the main thread while the threads start and when a thread
 * cannot start, and nothing accepted after close.
 */
import { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CopyEncoders } from '../src/storage/backends/sql/copy-encoders.js';
import { encodeChunk } from '../src/storage/backends/sql/copy-encoding.js';
import { isStorageError } from '../src/storage/contract/errors.js';
import type { TableLinesChunk, TableName } from '../src/storage/contract/transfer.js';
import { recordLine } from '../src/storage/core/record-lines.js';
import { buildFullStore, dumpStore, type StoreDump } from './migration/full-store.js';

let store: StoreDump;
let pools: CopyEncoders[] = [];

beforeAll(async () => {
  store = await dumpStore(await buildFullStore(3));
});
afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  pools = [];
});

const pool = (...args: ConstructorParameters<typeof CopyEncoders>) => {
  const encoders = new CopyEncoders(...args);
  pools.push(encoders);
  return encoders;
};

/** A pool whose threads have started (or failed to). */
async function started(...args: ConstructorParameters<typeof CopyEncoders>): Promise<CopyEncoders> {
  const encoders = pool(...args);
  encoders.start();
  await encoders.ready();
  return encoders;
}

function chunkOf<T extends TableName>(table: T, records: readonly StoreDump[T][number][], firstLine = 2): TableLinesChunk {
  const text = records.map((r) => `${recordLine(table, r)}\n`).join('');
  return { table, lines: Buffer.from(text), count: records.length, firstLine };
}

/** What `work` rejects with. */
async function rejection(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => {
      throw new Error('resolved');
    },
    (error: unknown) => error,
  );
}

describe('encoder threads', () => {
  it('give the bytes and the days the main thread gives, for every table, whatever thread takes a chunk', async () => {
    const encoders = await started(2);
    const chunks = [
      chunkOf('assets', store.assets),
      chunkOf('leases', store.leases),
      chunkOf('events', store.events),
      // The payments in pieces, so both threads take some.
      ...[0, 1, 2, 3].map((i) => chunkOf('x402_payments', store.x402_payments.filter((_p, n) => n % 4 === i), 100 + i)),
      chunkOf('x402_batches', store.x402_batches),
    ];
    const threaded = await Promise.all(chunks.map((c) => encoders.encode(c)));
    for (const [i, chunk] of chunks.entries()) {
      const inline = encodeChunk(chunk);
      expect(Buffer.from(threaded[i]?.rows ?? []).equals(Buffer.from(inline.rows))).toBe(true);
      expect(threaded[i]).toMatchObject({ table: inline.table, count: inline.count, days: inline.days });
    }
    expect(threaded.find((e) => e.table === 'x402_payments')?.days.length).toBeGreaterThan(0);
    expect(encoders.counts).toEqual({ threads: chunks.length, here: 0 });
  });

  it('refuse a line that is not a valid record with the error the main thread throws', async () => {
    const payment = store.x402_payments[0] as StoreDump['x402_payments'][number];
    const chunk = chunkOf('x402_payments', [payment, { ...payment, payer: 'nobody' as `0x${string}` }], 10);
    let inline: unknown;
    try {
      encodeChunk(chunk);
    } catch (error) {
      inline = error;
    }
    const threaded = await rejection((await started(1)).encode(chunk));
    expect(isStorageError(inline, 'VALIDATION')).toBe(true);
    expect(isStorageError(threaded, 'VALIDATION')).toBe(true);
    expect((threaded as Error).message).toBe((inline as Error).message);
    expect((threaded as Error).message).toMatch(/^line 11: invalid x402_payments record/);
  });

  it('encode on the main thread when a thread cannot start', async () => {
    const broken = () => new Worker('throw new Error("no module here")', { eval: true });
    const chunk = chunkOf('events', store.events);
    const encoders = await started(2, broken);
    const encoded = await encoders.encode(chunk);
    expect(Buffer.from(encoded.rows).equals(Buffer.from(encodeChunk(chunk).rows))).toBe(true);
    expect(encoders.counts).toEqual({ threads: 0, here: 1 });
  });

  it('start from the compiled module beside the pool in dist/, as an installed package runs them', async () => {
    // dist/ is built by the tests' global setup (test/support/build.ts).
    const compiled = (await import(new URL('../dist/storage/backends/sql/copy-encoders.js', import.meta.url).href)) as { CopyEncoders: typeof CopyEncoders };
    const encoders = new compiled.CopyEncoders(1);
    pools.push(encoders);
    encoders.start();
    await encoders.ready();
    const chunk = chunkOf('leases', store.leases);
    const encoded = await encoders.encode(chunk);
    expect(Buffer.from(encoded.rows).equals(Buffer.from(encodeChunk(chunk).rows))).toBe(true);
    expect(encoders.counts).toEqual({ threads: 1, here: 0 });
  });

  it('encode on the main thread while the threads start, then on the threads', async () => {
    const encoders = pool(1);
    const chunk = chunkOf('leases', store.leases);
    const first = await encoders.encode(chunk);
    expect(encoders.counts).toEqual({ threads: 0, here: 1 });
    await encoders.ready();
    const second = await encoders.encode(chunk);
    expect(encoders.counts).toEqual({ threads: 1, here: 1 });
    expect(Buffer.from(first.rows).equals(Buffer.from(second.rows))).toBe(true);
  });

  it('take nothing after close', async () => {
    const encoders = pool(1);
    await encoders.encode(chunkOf('assets', store.assets));
    await encoders.close();
    expect(await rejection(encoders.encode(chunkOf('assets', store.assets)))).toMatchObject({ message: /closed/ });
  });
});
