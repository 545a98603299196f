/**
 * Assets, leases and events of the in-memory backend with every index a keyed read needs: by
 * natural key, by token address, by asset, by status, by lessor and lessee, unprocessed events in
 * chain order. Stored objects never leave this module uncopied.
 */
import type { LeaseStatus, StoredAsset, StoredEvent, StoredLease } from '../../contract/database.js';
import { cloneJson } from '../../core/json-document.js';
import { SortedIndex, SortedList, byCreatedThenId, compareStrings } from './sorted-list.js';

/** The natural key of an event. */
export function eventKey(transactionHash: string, logIndex: number): string {
  return `${transactionHash}:${logIndex}`;
}

const byChainOrder = (a: StoredEvent, b: StoredEvent) =>
  a.blockNumber - b.blockNumber || a.logIndex - b.logIndex || compareStrings(a.id, b.id);

/** The asset, lease and event tables. */
export class MemoryTables {
  readonly assets = new Map<string, StoredAsset>();
  readonly assetList = new SortedList<StoredAsset>(byCreatedThenId);
  readonly assetsByToken = new SortedIndex<string, StoredAsset>(byCreatedThenId);

  readonly leases = new Map<string, StoredLease>();
  readonly leaseList = new SortedList<StoredLease>(byCreatedThenId);
  readonly leasesByAsset = new SortedIndex<string, StoredLease>(byCreatedThenId);
  readonly leasesByStatus = new SortedIndex<LeaseStatus, StoredLease>(byCreatedThenId);
  readonly leasesByLessor = new SortedIndex<string, StoredLease>(byCreatedThenId);
  readonly leasesByLessee = new SortedIndex<string, StoredLease>(byCreatedThenId);

  readonly events = new Map<string, StoredEvent>();
  readonly eventsById = new Map<string, StoredEvent>();
  readonly unprocessedEvents = new SortedList<StoredEvent>(byChainOrder);

  /** Ids of every asset and lease, to refuse a clash of imported ids. */
  readonly assetIds = new Set<string>();
  readonly leaseIds = new Set<string>();

  /** Adds a stored asset to every index. */
  insertAsset(asset: StoredAsset): void {
    this.assets.set(asset.assetId, asset);
    this.assetIds.add(asset.id);
    this.assetList.insert(asset);
    this.assetsByToken.add(asset.tokenAddress.toLowerCase(), asset);
  }

  /** Swaps an asset for its updated version (same assetId, id and createdAt). */
  replaceAsset(old: StoredAsset, next: StoredAsset): void {
    this.assetList.remove(old);
    this.assetsByToken.delete(old.tokenAddress.toLowerCase(), old);
    this.assets.delete(old.assetId);
    this.assetIds.delete(old.id);
    this.insertAsset(next);
  }

  /** Adds a stored lease to every index. */
  insertLease(lease: StoredLease): void {
    this.leases.set(lease.leaseId, lease);
    this.leaseIds.add(lease.id);
    this.leaseList.insert(lease);
    this.leasesByAsset.add(lease.assetId, lease);
    this.leasesByStatus.add(lease.status, lease);
    this.leasesByLessor.add(lease.lessor.toLowerCase(), lease);
    this.leasesByLessee.add(lease.lessee.toLowerCase(), lease);
  }

  /** Swaps a lease for its updated version. */
  replaceLease(old: StoredLease, next: StoredLease): void {
    this.leaseList.remove(old);
    this.leasesByAsset.delete(old.assetId, old);
    this.leasesByStatus.delete(old.status, old);
    this.leasesByLessor.delete(old.lessor.toLowerCase(), old);
    this.leasesByLessee.delete(old.lessee.toLowerCase(), old);
    this.leases.delete(old.leaseId);
    this.leaseIds.delete(old.id);
    this.insertLease(next);
  }

  /** Drops an asset from every index (the caller checked no lease refers to it). */
  removeAsset(asset: StoredAsset): void {
    this.assetList.remove(asset);
    this.assetsByToken.delete(asset.tokenAddress.toLowerCase(), asset);
    this.assets.delete(asset.assetId);
    this.assetIds.delete(asset.id);
  }

  /** Drops a lease from every index (the caller checked nothing refers to it). */
  removeLease(lease: StoredLease): void {
    this.leases.delete(lease.leaseId);
    this.leaseIds.delete(lease.id);
    this.leaseList.remove(lease);
    this.leasesByAsset.delete(lease.assetId, lease);
    this.leasesByStatus.delete(lease.status, lease);
    this.leasesByLessor.delete(lease.lessor.toLowerCase(), lease);
    this.leasesByLessee.delete(lease.lessee.toLowerCase(), lease);
  }

  /** Takes an event out of the unprocessed order (it was processed, or a reorg removed it). */
  dropFromQueue(event: StoredEvent): void {
    if (!event.processed && !event.removed) this.unprocessedEvents.remove(event);
  }

  /** Adds a stored event to every index. */
  insertEvent(event: StoredEvent): void {
    this.events.set(eventKey(event.transactionHash, event.logIndex), event);
    this.eventsById.set(event.id, event);
    if (!event.processed && !event.removed) this.unprocessedEvents.insert(event);
  }

  /** Marks an event processed; false when no event has that id. */
  markEventProcessed(id: string): boolean {
    const event = this.eventsById.get(id);
    if (!event) return false;
    if (!event.processed) {
      this.dropFromQueue(event);
      event.processed = true;
    }
    return true;
  }

  /** Removes everything. */
  clear(): void {
    for (const m of [this.assets, this.leases, this.events, this.eventsById]) m.clear();
    this.assetIds.clear();
    this.leaseIds.clear();
    for (const i of [this.assetsByToken, this.leasesByAsset, this.leasesByLessor, this.leasesByLessee]) i.clear();
    this.leasesByStatus.clear();
    this.assetList.clear();
    this.leaseList.clear();
    this.unprocessedEvents.clear();
  }
}

/** A caller's copy of a stored asset. */
export function copyAsset(a: StoredAsset): StoredAsset {
  return { ...a, metadata: cloneJson(a.metadata), createdAt: new Date(a.createdAt), updatedAt: new Date(a.updatedAt) };
}

/** A caller's copy of a stored lease. */
export function copyLease(l: StoredLease): StoredLease {
  return { ...l, agreement: cloneJson(l.agreement), createdAt: new Date(l.createdAt), updatedAt: new Date(l.updatedAt) };
}

/** A caller's copy of a stored event. */
export function copyEvent(e: StoredEvent): StoredEvent {
  return { ...e, args: cloneJson(e.args), createdAt: new Date(e.createdAt) };
}
