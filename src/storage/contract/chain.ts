/**
 * The storage side of chain ingestion (docs/ingestion.md): ranges of decoded logs stored with the
 * ingestion cursor in one transaction, reorg rewinds, and handler effects applied with the
 * events' processed marks in one transaction. Effects are data ({@link ChainIntent}), resolved by
 * the backend inside its own atomic step, so every backend applies them alike.
 */
import type { JsonObject, StoredEvent } from './records.js';

/** One decoded log of a range. */
export interface ChainLogInput {
  eventName: string;
  contractAddress: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  logIndex: number;
  /** Decoded arguments; uint256 values as decimal strings. */
  args: JsonObject;
}

/** A block range [fromBlock, toBlock] with its logs, stored with the cursor in one transaction. */
export interface ChainRangeInput {
  chainId: number;
  fromBlock: number;
  toBlock: number;
  /** The node's hash of `toBlock` when the range was read. */
  toBlockHash: string;
  logs: ChainLogInput[];
  /** Block hashes older than `toBlock - retainBlocks` are pruned (default 1024). */
  retainBlocks?: number;
}

/** What {@link ChainStore.ingestChainRange} stored. */
export interface ChainRangeResult {
  /** Logs stored for the first time. */
  inserted: number;
  /** Logs that a reorg had removed and that came back (same transaction and log index). */
  revived: number;
}

/** The ingestion cursor of one chain. */
export interface ChainCursor {
  chainId: number;
  /** The last block whose logs are stored. */
  ingestedBlock: number;
  ingestedBlockHash: string;
  /** Every event up to this block is processed; null before the first processing step. */
  processedBlock: number | null;
  updatedAt: Date;
}

/** A stored block hash. */
export interface ChainBlockRef {
  blockNumber: number;
  blockHash: string;
}

/** What a rewind to a common ancestor did. */
export interface ChainRewindResult {
  /** Events above the ancestor now marked removed. */
  removed: number;
  /** Of those, the processed ones whose effects were undone. */
  undone: number;
  /** What could not be undone and why (e.g. a lease that payments refer to is kept, terminated). */
  notes: string[];
  /** The deep reorg recorded with the rewind (`deep: true`), else null. */
  deepReorg: StoredDeepReorg | null;
}

/** Options of {@link ChainStore.rewindChain}. */
export interface ChainRewindOptions {
  /**
   * The reorg is deeper than the confirmations: it is recorded in the same transaction, for an
   * operator to acknowledge ({@link ChainStore.acknowledgeDeepReorgs}).
   */
  deep?: boolean;
}

/**
 * A reorg deeper than the confirmations, as the store keeps it: unacknowledged until an operator
 * has looked, then marked with who, when and why. Never deleted.
 */
export interface StoredDeepReorg {
  id: number;
  chainId: number;
  detectedAt: Date;
  /** The first replaced block. */
  fromBlock: number;
  /** How many blocks were replaced (the ingested block minus the common ancestor). */
  depth: number;
  /** Events of the replaced blocks marked removed, and of those, the processed ones undone. */
  removedEvents: number;
  undoneEvents: number;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  acknowledgedNote: string | null;
}

/** An asset registered on chain (AssetRegistered). */
export interface AssetRegisteredIntent {
  kind: 'asset-registered';
  chainId: number;
  /** The AssetRegistry address. */
  contractAddress: string;
  /** The on-chain asset id (uint256 as decimal). */
  onchainAssetId: string;
  assetType: string;
  tokenAddress: string;
  blockNumber: number;
  transactionHash: string;
}

/** A lease offer posted on chain (LeaseOfferPosted): remembered so an accept can build its lease. */
export interface OfferPostedIntent {
  kind: 'offer-posted';
  chainId: number;
  onchainOfferId: string;
  lessor: string;
  onchainAssetId: string;
}

/** A lease token minted (LeaseMinted) or an offer accepted into one (LeaseAccepted). */
export interface LeaseIntent {
  kind: 'lease';
  chainId: number;
  /** The emitting contract (LeaseFactory or Marketplace). */
  contractAddress: string;
  onchainLeaseTokenId: string;
  /** Known from LeaseMinted; from the offer for LeaseAccepted. */
  lessor?: string;
  lessee: string;
  onchainAssetId?: string;
  /** Set by LeaseAccepted: the offer whose lessor and asset complete the lease. */
  onchainOfferId?: string;
  /** `active` after an accept; a mint alone creates `pending` and never lowers a status. */
  status: 'pending' | 'active';
  blockNumber: number;
  transactionHash: string;
}

/** An effect of a handler, as data the backend resolves and applies atomically. */
export type ChainIntent = AssetRegisteredIntent | OfferPostedIntent | LeaseIntent;

/** One event's effects; an empty list just marks the event processed. */
export interface ChainApplication {
  eventId: string;
  intents: ChainIntent[];
}

/** What {@link ChainStore.applyChainEvents} did. */
export interface ChainApplyResult {
  /** Events marked processed by this call. */
  applied: number;
  /** Events already processed or removed (another processor, or a reorg), left as they were. */
  skipped: number;
  /** Where the chain overrode a hand-made record, for the log. */
  notes: string[];
}

/** Chain ingestion and processing operations of the storage contract. */
export interface ChainStore {
  /**
   * Stores a range's logs (idempotent on transaction hash and log index; a removed event that
   * comes back is revived), its block hashes, and moves the cursor to `toBlock`, in one
   * transaction. `CONFLICT` when the cursor is not at `fromBlock - 1` (another ingester moved it).
   */
  ingestChainRange(range: ChainRangeInput): Promise<ChainRangeResult>;
  /** The chain's cursor, or null before its first range. */
  getChainCursor(chainId: number): Promise<ChainCursor | null>;
  /** Stored block hashes at or below `atOrBelow`, newest first, at most `limit`. */
  getChainBlocks(chainId: number, atOrBelow: number, limit: number): Promise<ChainBlockRef[]>;
  /**
   * Rewinds to the common ancestor `toBlock` (hash `toBlockHash`) in one transaction: events above
   * it are marked removed, the processed ones' effects undone (newest first), block hashes above
   * it dropped, the cursor set to it (and the processed block lowered to it).
   */
  rewindChain(chainId: number, toBlock: number, toBlockHash: string, options?: ChainRewindOptions): Promise<ChainRewindResult>;
  /** The chain's deep reorgs no operator has acknowledged yet, oldest first. */
  getUnacknowledgedDeepReorgs(chainId: number): Promise<StoredDeepReorg[]>;
  /**
   * Marks the chain's deep reorgs `ids` acknowledged by `by` (an operator's name, 1-200
   * characters) with `note`, at one instant; returns those it marked, oldest first. An id that is
   * not an unacknowledged deep reorg of the chain (unknown, or acknowledged meanwhile) is left out.
   */
  acknowledgeDeepReorgs(chainId: number, ids: readonly number[], by: string, note: string): Promise<StoredDeepReorg[]>;
  /**
   * Unprocessed, not removed events of the chain above its cursor's processed block and up to
   * `throughBlock`, in chain order. Nothing at or below the processed block is pending: ingestion
   * only adds events above the ingested block (never below the processed one), processing moves
   * the processed block only past applied events, and a rewind lowers it.
   */
  getPendingChainEvents(chainId: number, throughBlock: number, limit: number): Promise<StoredEvent[]>;
  /** Unprocessed, not removed events of the chain (the processing backlog). */
  countPendingChainEvents(chainId: number): Promise<number>;
  /**
   * Applies each event's intents and marks it processed, all in one transaction, in order; an
   * event already processed or removed is skipped. Then, when given, sets the cursor's processed
   * block. A failing intent rolls the whole call back.
   */
  applyChainEvents(chainId: number, applications: ChainApplication[], processedBlock?: number): Promise<ChainApplyResult>;
  /** Records a failed processing attempt of an event; returns its attempt count. */
  recordChainEventFailure(eventId: string, error: string): Promise<number>;
}

/**
 * Exclusive leadership of one named role (the chain processor): a PostgreSQL session advisory
 * lock held on a dedicated connection, or in-process exclusivity where one process owns the store.
 */
export interface Leadership {
  /** Resolves when leadership is lost (the lock's connection failed) or released. */
  readonly lost: Promise<void>;
  /** False once lost or released. */
  isHeld(): boolean;
  /** Gives leadership up; idempotent. */
  release(): Promise<void>;
}
