/**
 * The record types of the storage contract (guide section 2): what every backend stores and
 * returns, and the inputs of its write methods. Imports nothing.
 */

/** Stored lease status (the guide's enum; differs from the agreement's own `status`). */
export const LEASE_STATUSES = ['pending', 'active', 'completed', 'terminated'] as const;
export type LeaseStatus = (typeof LEASE_STATUSES)[number];

/** x402 payment modes and the interval each one pays for. */
export const PAYMENT_MODES = ['second', 'batch-5s'] as const;
export type PaymentMode = (typeof PAYMENT_MODES)[number];
export const INTERVAL_SECONDS: Readonly<Record<PaymentMode, number>> = { second: 1, 'batch-5s': 5 };

/** A JSON value as JSONB can hold it exactly. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object document. */
export type JsonObject = { [key: string]: JsonValue };

/** Asset metadata document (opaque JSON object at the storage layer; see docs/domain.md). */
export type AssetMetadata = JsonObject;
/** Lease agreement document (opaque JSON object at the storage layer; see docs/domain.md). */
export type LeaseAgreement = JsonObject;

/** A registered asset. */
export interface StoredAsset {
  /** Internal id, a UUID made by the backend. */
  id: string;
  /** Offchain asset identifier, unique (e.g. "OCS-PRIMARY"). */
  assetId: string;
  chainId: number;
  /** AssetRegistry proxy address. */
  contractAddress: string;
  /** Deployed AssetERC20 clone address; looked up case-insensitively. */
  tokenAddress: string;
  metadata: AssetMetadata;
  /** On-chain schema hash (bytes32, 0x + 64 hex). */
  metadataHash: string;
  blockNumber: number;
  transactionHash: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A lease of an asset. */
export interface StoredLease {
  id: string;
  /** Offchain lease identifier, unique. */
  leaseId: string;
  /** The leased asset's `assetId`; must exist. */
  assetId: string;
  chainId: number;
  contractAddress: string;
  lessor: string;
  lessee: string;
  agreement: LeaseAgreement;
  status: LeaseStatus;
  blockNumber: number;
  transactionHash: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A decoded contract event; (`transactionHash`, `logIndex`) is unique. */
export interface StoredEvent {
  id: string;
  eventName: string;
  contractAddress: string;
  blockNumber: number;
  transactionHash: string;
  logIndex: number;
  /** Decoded arguments; uint256 values as decimal strings. */
  args: JsonObject;
  processed: boolean;
  createdAt: Date;
  /** The chain it was ingested from (absent on events saved by hand). */
  chainId?: number;
  /** The hash of its block when ingested (absent on events saved by hand). */
  blockHash?: string;
  /** Present (true) when a reorg orphaned its block: it is never processed (again). */
  removed?: true;
  /** Failed processing attempts, present when there was one. */
  attempts?: number;
  /** The last processing error, present while the event is failing. */
  lastError?: string;
}

/** One x402 streaming payment. */
export interface StoredX402Payment {
  id: string;
  leaseId: string;
  mode: PaymentMode;
  /** 1 for `second`, 5 for `batch-5s`. */
  intervalSeconds: number;
  /** USDC minor units (6 decimals), 0 .. 10^20-1. */
  amountMinorUnits: bigint;
  payer: string;
  paymentTimestamp: Date;
  /** Facilitator settlement transaction hash; unique, so a replay is recorded once. */
  facilitatorTxHash: string;
  /** UTC hour of `paymentTimestamp`, as `YYYY-MM-DDTHH:00:00.000Z`. */
  bucketSlot: string;
  createdAt: Date;
  /**
   * Present (true) on a settled payment recorded after its hour's batch was settled or full: it
   * is not in that batch's totals, and waits for the lease's next settlement to carry it.
   */
  late?: true;
  /** The batch whose settlement carried this late payment, once one did. */
  carriedToBatchId?: string;
}

/** The hourly batch of one lease's payments; (`leaseId`, `hourBucket`) is unique. */
export interface StoredX402Batch {
  id: string;
  leaseId: string;
  /** Top of a UTC hour, as `YYYY-MM-DDTHH:00:00.000Z`. */
  hourBucket: string;
  /** Sum of the batch's payments; maintained by the backend, never set by hand. */
  totalAmountMinorUnits: bigint;
  /** Number of the batch's payments; maintained by the backend. */
  paymentCount: number;
  revenueRoundId?: string;
  /** Set once, when the batch is settled on chain; a batch without it is open. */
  settlementTxHash?: string;
  /** Start of the hour. */
  startedAt: Date;
  /** End of the hour (start + 1 h). */
  closedAt: Date;
  createdAt: Date;
}

/** A lease with its batch for one hour, as {@link Database.getLeaseWithBatch} reads them. */
export interface LeaseWithBatch {
  lease: StoredLease;
  /** The lease's batch for the hour, open or settled; null when it has none yet. */
  batch: StoredX402Batch | null;
}

/** Input of {@link Database.saveAsset}. */
export type NewAsset = Omit<StoredAsset, 'id' | 'createdAt' | 'updatedAt'>;
/** Input of {@link Database.saveLease}. */
export type NewLease = Omit<StoredLease, 'id' | 'createdAt' | 'updatedAt'>;
/** Input of {@link Database.saveEvent}; `processed` defaults to false. */
export type NewEvent = Omit<StoredEvent, 'id' | 'createdAt' | 'processed' | 'chainId' | 'blockHash' | 'removed' | 'attempts' | 'lastError'> & { processed?: boolean };
/** Input of {@link Database.saveX402Payment}; `bucketSlot`, when given, must match the timestamp. */
export type NewX402Payment = Omit<StoredX402Payment, 'id' | 'createdAt' | 'bucketSlot' | 'late' | 'carriedToBatchId'> & { bucketSlot?: string };
/**
 * Input of {@link Database.saveX402Batch}: an empty batch. Totals follow payments, so when given
 * they must be zero; `startedAt`/`closedAt` default to the hour's bounds and must equal them.
 */
export type NewX402Batch = Omit<
  StoredX402Batch,
  'id' | 'createdAt' | 'totalAmountMinorUnits' | 'paymentCount' | 'startedAt' | 'closedAt'
> & { totalAmountMinorUnits?: bigint; paymentCount?: number; startedAt?: Date; closedAt?: Date };

/** Fields of an asset that {@link Database.updateAsset} may change. */
export type AssetUpdate = Partial<Omit<StoredAsset, 'id' | 'assetId' | 'createdAt' | 'updatedAt'>>;
/** Fields of a lease that {@link Database.updateLease} may change. */
export type LeaseUpdate = Partial<Omit<StoredLease, 'id' | 'leaseId' | 'createdAt' | 'updatedAt'>>;
/** Fields of a batch that {@link Database.updateX402Batch} may change: settlement only. */
export type BatchUpdate = Partial<Pick<StoredX402Batch, 'settlementTxHash' | 'revenueRoundId'>>;

/** Input of {@link Database.recordPayment}: the guide's four fields plus optional payer and hash. */
export interface RecordPaymentParams {
  leaseId: string;
  /** Minor units as plain decimal digits ("1000"); no sign, exponent, fraction or spaces. */
  amount: string;
  /** ISO-8601 instant with a zone. */
  timestamp: string;
  mode: string;
  /** Payer address; defaults to the lease's lessee. */
  payer?: string;
  /**
   * Facilitator settlement hash. A replay with the same hash returns the original payment.
   * Without one, the payment gets a fresh random reference and cannot be deduplicated.
   */
  facilitatorTxHash?: string;
  /**
   * The facilitator has already settled this payment: money moved, so the ledger takes it even if
   * its lease is no longer active, or its hour's batch is settled or full (then it is recorded as
   * late and carried by the lease's next settlement). The lease must still exist.
   */
  settled?: boolean;
}

/** Filter of {@link Database.getLeasesPage}; every given field must match (addresses case-insensitively). */
export interface LeaseFilter {
  status?: LeaseStatus;
  assetId?: string;
  lessor?: string;
  lessee?: string;
}

/** Options of {@link Database.clear}. */
export interface ClearOptions {
  /** Required to clear a store while `NODE_ENV=production`. */
  allowProduction?: boolean;
}
