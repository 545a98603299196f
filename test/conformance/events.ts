/** Conformance cases for chain events: idempotent ingestion, processing order and marking. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/storage/contract/database.js';
import {
  type ConformanceBackend,
  dumpStore,
  expectRefused,
  expectStorageError,
  hash,
  idsOf,
  newEvent,
  unchecked,
  useDatabase,
  UUID,
} from './fixtures.js';

// The contract's event order: (blockNumber, logIndex).
function eventOrder(events: readonly StoredEvent[]): StoredEvent[] {
  return [...events].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
}

/** Registers the event cases. */
export function eventTests(backend: ConformanceBackend): void {
  describe('events', () => {
    const ctx = useDatabase(backend);

    it('saveEvent stores an unprocessed event with a UUID', async () => {
      const input = newEvent();
      const saved = await ctx.db.saveEvent(input);
      expect(saved).toMatchObject({ ...input, processed: false });
      expect(saved.id).toMatch(UUID);
      expect(saved.createdAt).toBeInstanceOf(Date);
      expect(await ctx.db.getEvent(input.transactionHash, input.logIndex)).toEqual(saved);
      const done = await ctx.db.saveEvent(newEvent({ processed: true }));
      expect(done.processed).toBe(true);
      expect(idsOf(await ctx.db.getUnprocessedEvents())).toEqual([saved.id]);
    });

    it('getEvent tells events of one transaction apart by logIndex', async () => {
      const tx = hash(0xe7e7);
      const first = await ctx.db.saveEvent(newEvent({ transactionHash: tx, logIndex: 0 }));
      const second = await ctx.db.saveEvent(newEvent({ transactionHash: tx, logIndex: 1 }));
      expect(second.id).not.toBe(first.id);
      expect(await ctx.db.getEvent(tx, 0)).toEqual(first);
      expect(await ctx.db.getEvent(tx, 1)).toEqual(second);
      expect(await ctx.db.getEvent(tx, 2)).toBeNull();
      expect(await ctx.db.getEvent(hash(0xe7e8), 0)).toBeNull();
    });

    it('saving an existing (transactionHash, logIndex) returns the stored event unchanged', async () => {
      const original = await ctx.db.saveEvent(newEvent());
      const before = await dumpStore(ctx.db);
      const replay = await ctx.db.saveEvent(
        newEvent({
          transactionHash: original.transactionHash,
          logIndex: original.logIndex,
          eventName: 'Other',
          blockNumber: original.blockNumber + 1,
          args: { replaced: true },
        }),
      );
      expect(replay).toEqual(original);
      expect(await dumpStore(ctx.db)).toEqual(before);
    });

    it('a re-ingested event keeps processed = true', async () => {
      const original = await ctx.db.saveEvent(newEvent());
      await ctx.db.markEventProcessed(original.id);
      const key = { transactionHash: original.transactionHash, logIndex: original.logIndex };
      for (const replay of [newEvent(key), newEvent({ ...key, processed: false })]) {
        const got = await ctx.db.saveEvent(replay);
        expect(got).toEqual({ ...original, processed: true });
      }
      expect((await ctx.db.getEvent(original.transactionHash, original.logIndex))?.processed).toBe(true);
      expect(await ctx.db.getUnprocessedEvents()).toEqual([]);
    });

    it('concurrent saves of one event store it once', async () => {
      const input = newEvent();
      const results = await Promise.all(Array.from({ length: 8 }, () => ctx.db.saveEvent({ ...input })));
      expect(new Set(idsOf(results)).size).toBe(1);
      expect((await dumpStore(ctx.db)).events).toHaveLength(1);
    });

    it('getUnprocessedEvents orders by (blockNumber, logIndex) and skips processed events', async () => {
      const keys: [number, number][] = [[5, 2], [3, 7], [5, 0], [1, 4], [3, 1], [12, 0], [3, 10], [2, 0]];
      const saved: StoredEvent[] = [];
      for (const [blockNumber, logIndex] of keys) saved.push(await ctx.db.saveEvent(newEvent({ blockNumber, logIndex })));
      const processed = saved[2];
      if (processed) await ctx.db.markEventProcessed(processed.id);
      const expected = eventOrder(saved.filter((e) => e !== processed));
      expect(idsOf(await ctx.db.getUnprocessedEvents())).toEqual(idsOf(expected));
      expect(idsOf(await ctx.db.getUnprocessedEvents(3))).toEqual(idsOf(expected.slice(0, 3)));
      expect(idsOf(await ctx.db.getUnprocessedEvents(1))).toEqual(idsOf(expected.slice(0, 1)));
    });

    it('getUnprocessedEvents returns at most 100 by default', async () => {
      const saved: StoredEvent[] = [];
      // Reverse block order, so "the first 100 saved" and "the first 100 in order" differ.
      for (let i = 150; i > 0; i--) saved.push(await ctx.db.saveEvent(newEvent({ blockNumber: i, logIndex: i % 3 })));
      const expected = eventOrder(saved);
      expect(idsOf(await ctx.db.getUnprocessedEvents())).toEqual(idsOf(expected.slice(0, 100)));
      expect(idsOf(await ctx.db.getUnprocessedEvents(10_000))).toEqual(idsOf(expected));
      expect(await ctx.db.getUnprocessedEvents(149)).toHaveLength(149);
    });

    it('getUnprocessedEvents refuses a limit outside 1..10000', async () => {
      for (const limit of [0, -1, 1.5, 10_001, Number.NaN, Number.POSITIVE_INFINITY, unchecked<number>('5')]) {
        await expectStorageError(() => ctx.db.getUnprocessedEvents(limit), 'VALIDATION', 'limit', String(limit));
      }
    });

    it('markEventProcessed: unknown UUID is NOT_FOUND, a non-UUID is VALIDATION, twice is harmless', async () => {
      const event = await ctx.db.saveEvent(newEvent());
      await expectRefused(ctx.db, () => ctx.db.markEventProcessed(randomUUID()), 'NOT_FOUND');
      await expectRefused(ctx.db, () => ctx.db.markEventProcessed('event-1'), 'VALIDATION');
      await expectRefused(ctx.db, () => ctx.db.markEventProcessed(''), 'VALIDATION');
      await ctx.db.markEventProcessed(event.id);
      const once = await dumpStore(ctx.db);
      await ctx.db.markEventProcessed(event.id);
      expect(await dumpStore(ctx.db)).toEqual(once);
      expect(await ctx.db.getEvent(event.transactionHash, event.logIndex)).toEqual({ ...event, processed: true });
    });

    it('extreme block numbers and log indexes round-trip exactly', async () => {
      const big = await ctx.db.saveEvent(newEvent({ blockNumber: Number.MAX_SAFE_INTEGER, logIndex: 2 ** 31 - 1 }));
      const zero = await ctx.db.saveEvent(newEvent({ blockNumber: 0, logIndex: 0 }));
      expect(await ctx.db.getEvent(big.transactionHash, 2 ** 31 - 1)).toEqual(big);
      expect(big.blockNumber).toBe(Number.MAX_SAFE_INTEGER);
      expect(idsOf(await ctx.db.getUnprocessedEvents())).toEqual([zero.id, big.id]);
    });

    it('getEvent refuses a malformed hash or log index', async () => {
      await expectStorageError(() => ctx.db.getEvent('0x1234', 0), 'VALIDATION');
      await expectStorageError(() => ctx.db.getEvent(hash(1), -1), 'VALIDATION');
    });
  });
}
