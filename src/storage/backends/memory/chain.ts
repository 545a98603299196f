/**
 * Chain ingestion and processing in memory (contract/chain.ts), with the SQL backends' results.
 * Ingestion is one synchronous step. Applying and rewinding resolve intents through the shared
 * core/chain-effects.ts, whose steps are asynchronous: chain operations are serialized with each
 * other, and a failing application is rolled back with its own undo images, so a refused call
 * leaves the tables as they were.
 */
import { randomUUID } from 'node:crypto';
import type {
  ChainApplication,
  ChainApplyResult,
  ChainBlockRef,
  ChainCursor,
  ChainRangeInput,
  ChainRangeResult,
  ChainRewindResult,
  StoredDeepReorg,
} from '../../contract/chain.js';
import { StorageError } from '../../contract/errors.js';
import type { StoredEvent } from '../../contract/records.js';
import { applyIntents, linkKey, undoEntries, type ChainEffectView, type ChainLink, type ChainTablesDump, type UndoEntry } from '../../core/chain-effects.js';
import { cloneJson } from '../../core/json-document.js';
import type { StorageBackend } from '../../core/backend.js';
import type { MemoryLedger } from './ledger.js';
import { copyEvent, eventKey, type MemoryTables } from './tables.js';

const DEFAULT_RETAIN_BLOCKS = 1024;

/** The record operations of the memory backend the effects go through (its own checks apply). */
export type MemoryRecordOps = Pick<StorageBackend, 'findAsset' | 'findAssetByToken' | 'insertAsset' | 'updateAsset' | 'findLease' | 'insertLease' | 'updateLease'>;

/** The chain tables of the memory backend. */
export class MemoryChain {
  private readonly cursors = new Map<number, ChainCursor>();
  private readonly blocks = new Map<number, Map<number, string>>();
  private readonly links = new Map<string, ChainLink>();
  private readonly effects = new Map<string, UndoEntry[]>();
  /** Deep reorgs in the order recorded (ids ascending). */
  private readonly deepReorgs: StoredDeepReorg[] = [];
  private nextDeepReorgId = 1;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly tables: MemoryTables,
    private readonly ledger: MemoryLedger,
    private readonly backend: MemoryRecordOps,
  ) {}

  /** Empties the chain tables. */
  clear(): void {
    this.cursors.clear();
    this.blocks.clear();
    this.links.clear();
    this.effects.clear();
    this.deepReorgs.length = 0;
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private view(): ChainEffectView {
    const { tables, ledger, backend, links } = this;
    return {
      findAsset: (assetId) => backend.findAsset(assetId),
      findAssetByToken: (token) => backend.findAssetByToken(token),
      insertAsset: async (a) => void (await backend.insertAsset(a)),
      setAsset: async (assetId, image) => void (await backend.updateAsset(assetId, image)),
      async deleteAsset(assetId) {
        const stored = tables.assets.get(assetId);
        if (!stored) return true;
        if (tables.leasesByAsset.get(assetId).length > 0) return false;
        tables.removeAsset(stored);
        return true;
      },
      findLease: (leaseId) => backend.findLease(leaseId),
      insertLease: async (l) => void (await backend.insertLease(l)),
      setLease: async (leaseId, image) => void (await backend.updateLease(leaseId, image)),
      async deleteLease(leaseId) {
        const stored = tables.leases.get(leaseId);
        if (!stored) return true;
        if (ledger.paymentsByLease.get(leaseId).length > 0 || ledger.batchesByLease.get(leaseId).length > 0) return false;
        tables.removeLease(stored);
        return true;
      },
      async getLink(chainId, kind, onchainId) {
        const link = links.get(linkKey(chainId, kind, onchainId));
        return link ? { ...link, data: cloneJson(link.data) } : null;
      },
      async setLink(link) {
        links.set(linkKey(link.chainId, link.kind, link.onchainId), { ...link, data: cloneJson(link.data) });
      },
      async deleteLink(chainId, kind, onchainId) {
        links.delete(linkKey(chainId, kind, onchainId));
      },
    };
  }

  async ingestRange(range: ChainRangeInput): Promise<ChainRangeResult> {
    const { chainId, fromBlock, toBlock, toBlockHash } = range;
    const cursor = this.cursors.get(chainId);
    if (cursor && cursor.ingestedBlock !== fromBlock - 1) {
      throw new StorageError('CONFLICT', `chain ${chainId} cursor is at block ${cursor.ingestedBlock}, not ${fromBlock - 1}`, { details: { chainId, fromBlock } });
    }
    let inserted = 0;
    let revived = 0;
    for (const log of range.logs) {
      const existing = this.tables.events.get(eventKey(log.transactionHash, log.logIndex));
      if (existing?.removed) {
        // Re-mined after a reorg: the same event again, to be processed afresh.
        Object.assign(existing, { eventName: log.eventName, contractAddress: log.contractAddress, blockNumber: log.blockNumber, args: cloneJson(log.args), chainId, blockHash: log.blockHash, processed: false });
        delete existing.removed;
        delete existing.attempts;
        delete existing.lastError;
        this.tables.unprocessedEvents.insert(existing);
        revived += 1;
      } else if (!existing) {
        const { blockHash, ...fields } = log;
        this.tables.insertEvent({ ...fields, args: cloneJson(log.args), id: randomUUID(), createdAt: new Date(), processed: false, chainId, blockHash });
        inserted += 1;
      }
    }
    const hashes = this.blocks.get(chainId) ?? new Map<number, string>();
    this.blocks.set(chainId, hashes);
    for (const log of range.logs) hashes.set(log.blockNumber, log.blockHash);
    hashes.set(toBlock, toBlockHash);
    const oldest = toBlock - (range.retainBlocks ?? DEFAULT_RETAIN_BLOCKS);
    for (const n of hashes.keys()) if (n < oldest) hashes.delete(n);
    this.cursors.set(chainId, { chainId, ingestedBlock: toBlock, ingestedBlockHash: toBlockHash, processedBlock: cursor?.processedBlock ?? null, updatedAt: new Date() });
    return { inserted, revived };
  }

  async cursor(chainId: number): Promise<ChainCursor | null> {
    const cursor = this.cursors.get(chainId);
    return cursor ? { ...cursor, updatedAt: new Date(cursor.updatedAt) } : null;
  }

  async blockRefs(chainId: number, atOrBelow: number, limit: number): Promise<ChainBlockRef[]> {
    const hashes = this.blocks.get(chainId) ?? new Map<number, string>();
    return [...hashes]
      .filter(([n]) => n <= atOrBelow)
      .sort((a, b) => b[0] - a[0])
      .slice(0, limit)
      .map(([blockNumber, blockHash]) => ({ blockNumber, blockHash }));
  }

  private chainEvents(chainId: number, above: number): StoredEvent[] {
    return [...this.tables.eventsById.values()]
      .filter((e) => e.chainId === chainId && e.blockNumber > above && !e.removed)
      .sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex || (a.id < b.id ? -1 : 1));
  }

  rewind(chainId: number, toBlock: number, toBlockHash: string, deep: boolean): Promise<ChainRewindResult> {
    return this.serialized(async () => {
      const replaced = (this.cursors.get(chainId)?.ingestedBlock ?? toBlock) - toBlock;
      const orphaned = this.chainEvents(chainId, toBlock);
      const processed = orphaned.filter((e) => e.processed);
      const notes: string[] = [];
      await undoEntries(this.view(), processed.flatMap((e) => this.effects.get(e.id) ?? []), notes);
      for (const event of orphaned) {
        this.tables.dropFromQueue(event);
        event.removed = true;
        this.effects.delete(event.id);
      }
      const hashes = this.blocks.get(chainId) ?? new Map<number, string>();
      this.blocks.set(chainId, hashes);
      for (const n of hashes.keys()) if (n > toBlock) hashes.delete(n);
      hashes.set(toBlock, toBlockHash);
      const cursor = this.cursors.get(chainId);
      const processedBlock = cursor?.processedBlock === null || cursor?.processedBlock === undefined ? null : Math.min(cursor.processedBlock, toBlock);
      this.cursors.set(chainId, { chainId, ingestedBlock: toBlock, ingestedBlockHash: toBlockHash, processedBlock, updatedAt: new Date() });
      let deepReorg: StoredDeepReorg | null = null;
      if (deep && replaced >= 1) {
        deepReorg = {
          id: this.nextDeepReorgId++,
          chainId,
          detectedAt: new Date(),
          fromBlock: toBlock + 1,
          depth: replaced,
          removedEvents: orphaned.length,
          undoneEvents: processed.length,
          acknowledgedAt: null,
          acknowledgedBy: null,
          acknowledgedNote: null,
        };
        this.deepReorgs.push(deepReorg);
      }
      return { removed: orphaned.length, undone: processed.length, notes, deepReorg: deepReorg && copyDeepReorg(deepReorg) };
    });
  }

  async unacknowledgedDeepReorgs(chainId: number): Promise<StoredDeepReorg[]> {
    return this.deepReorgs.filter((r) => r.chainId === chainId && r.acknowledgedAt === null).map(copyDeepReorg);
  }

  async acknowledgeDeepReorgs(chainId: number, ids: readonly number[], by: string, note: string): Promise<StoredDeepReorg[]> {
    const wanted = new Set(ids);
    const at = new Date();
    const marked: StoredDeepReorg[] = [];
    for (const reorg of this.deepReorgs) {
      if (reorg.chainId !== chainId || reorg.acknowledgedAt !== null || !wanted.has(reorg.id)) continue;
      Object.assign(reorg, { acknowledgedAt: at, acknowledgedBy: by, acknowledgedNote: note });
      marked.push(copyDeepReorg(reorg));
    }
    return marked;
  }

  async pending(chainId: number, throughBlock: number, limit: number): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    const above = this.cursors.get(chainId)?.processedBlock ?? -1;
    for (const event of this.tables.unprocessedEvents.values()) {
      if (event.blockNumber > throughBlock || out.length >= limit) break;
      if (event.chainId === chainId && event.blockNumber > above) out.push(copyEvent(event));
    }
    return out;
  }

  async countPending(chainId: number): Promise<number> {
    return this.tables.unprocessedEvents.values().filter((e) => e.chainId === chainId).length;
  }

  apply(chainId: number, applications: ChainApplication[], processedBlock: number | undefined): Promise<ChainApplyResult> {
    return this.serialized(async () => {
      const view = this.view();
      const notes: string[] = [];
      const done: { event: StoredEvent; undo: UndoEntry[] }[] = [];
      const seen = new Set<StoredEvent>();
      let skipped = 0;
      try {
        for (const application of applications) {
          const event = this.tables.eventsById.get(application.eventId);
          if (!event) throw new StorageError('NOT_FOUND', `event ${application.eventId} does not exist`, { details: { id: application.eventId } });
          if (event.chainId !== chainId) throw new StorageError('CONFLICT', `event ${application.eventId} is not an event of chain ${chainId}`);
          if (event.processed || event.removed || seen.has(event)) {
            skipped += 1;
            continue;
          }
          const undo: UndoEntry[] = [];
          done.push({ event, undo });
          seen.add(event);
          await applyIntents(view, application.intents, undo, notes);
        }
      } catch (error) {
        // All or nothing, as the SQL transaction: put back what this call changed.
        await undoEntries(view, done.flatMap((d) => d.undo), []);
        throw error;
      }
      for (const { event, undo } of done) {
        this.tables.markEventProcessed(event.id);
        delete event.lastError;
        if (undo.length > 0) this.effects.set(event.id, undo);
      }
      const cursor = this.cursors.get(chainId);
      if (processedBlock !== undefined && cursor) this.cursors.set(chainId, { ...cursor, processedBlock, updatedAt: new Date() });
      return { applied: done.length, skipped, notes };
    });
  }

  async recordFailure(eventId: string, error: string): Promise<number | null> {
    const event = this.tables.eventsById.get(eventId);
    if (!event) return null;
    event.attempts = (event.attempts ?? 0) + 1;
    event.lastError = error;
    return event.attempts;
  }

  /** The links of `chainId` and the undo images of its events, copied (tests and diagnostics). */
  async dump(chainId: number): Promise<ChainTablesDump> {
    const links = [...this.links.entries()]
      .filter(([, l]) => l.chainId === chainId)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, l]) => ({ ...l, data: cloneJson(l.data) }));
    const effects = [...this.effects.entries()]
      .filter(([id]) => this.tables.eventsById.get(id)?.chainId === chainId)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([eventId, entries]) => entries.map((e, seq) => ({ eventId, seq, target: e.target, key: e.key, before: e.before === null ? null : cloneJson(e.before) })));
    return { links, effects };
  }
}

/** A caller's own copy (its dates too). */
function copyDeepReorg(r: StoredDeepReorg): StoredDeepReorg {
  return { ...r, detectedAt: new Date(r.detectedAt), acknowledgedAt: r.acknowledgedAt && new Date(r.acknowledgedAt) };
}
