/**
 * The library entry point (`import { ... } from 'asset-leasing-offchain-store'`): the storage
 * contract and its three backends, the backend chooser, data migration between backends, the
 * errors, the record types and the pricing rule. Everything else under `src/` is internal.
 *
 * ```ts
 * import { createDatabase } from 'asset-leasing-offchain-store';
 * const { db } = await createDatabase(); // USE_MOCK_DATABASE / DATABASE_URL / PGLITE_DATA_DIR
 * await db.connect();
 * await db.schema.up();
 * ```
 */

// The storage contract and its records.
export { INTERVAL_SECONDS, LEASE_STATUSES, PAYMENT_MODES } from './storage/contract/database.js';
export type {
  AssetMetadata,
  AssetUpdate,
  BackendCapabilities,
  BatchUpdate,
  ClearOptions,
  Database,
  JsonObject,
  JsonValue,
  LeaseAgreement,
  LeaseFilter,
  LeaseStatus,
  LeaseUpdate,
  LeaseWithBatch,
  NewAsset,
  NewEvent,
  NewLease,
  NewX402Batch,
  NewX402Payment,
  PaymentMode,
  PoolStats,
  RecordPaymentParams,
  RecordedPayment,
  SchemaManager,
  PartitionCompaction,
  MigrateUpResult,
  MigrationResult,
  MigrationState,
  MigrationStatus,
  StoredAsset,
  StoredEvent,
  StoredLease,
  StoredX402Batch,
  StoredX402Payment,
} from './storage/contract/database.js';
export type {
  AssetRevenue,
  DailyRevenue,
  HourTotals,
  LedgerQueries,
  Page,
  PageOptions,
  ReconcileDifference,
  ReconcileOptions,
  ReconcileReport,
  TimeRange,
} from './storage/contract/ledger-queries.js';
export { TABLES } from './storage/contract/transfer.js';
export type { RecordTransfer, TableName, TableRecords, TableSize, TableSummary } from './storage/contract/transfer.js';

// Errors.
export { isStorageError, STORAGE_ERROR_CODES, STORAGE_TIMEOUT_REASONS, StorageError } from './storage/contract/errors.js';
export type { StorageErrorCode, StorageErrorOptions, StorageTimeoutReason } from './storage/contract/errors.js';

// The backends (each the one core wrapper over its backend) and the one place that chooses among them.
export { MockDatabase } from './storage/backends/memory/mock-database.js';
export { PostgresDatabase } from './storage/backends/postgres/postgres-database.js';
export type { PostgresDatabaseOptions } from './storage/backends/postgres/postgres-database.js';
export { PgliteDatabase } from './storage/backends/pglite/pglite-database.js';
export type { PgliteDatabaseOptions } from './storage/backends/pglite/pglite-database.js';
export { SqlDatabase } from './storage/backends/sql/sql-database.js';
export type { SqlDatabaseOptions } from './storage/backends/sql/sql-database.js';
export type { PoolEnv } from './storage/backends/postgres/pool-config.js';
export type { StorageLogger } from './storage/backends/sql/logger.js';
export { createDatabase, storeConfigFromEnv } from './storage/create-database.js';
export type { ConfiguredDatabase, StoreConfig } from './storage/create-database.js';
export type { StoreOptions } from './storage/core/store.js';

// Copying every record from one backend to another, verified.
export { migrateData } from './migration/migrate-data.js';
export type { MigrateDataOptions, MigrationPhase, MigrationProgress, MigrationReport, TableReport } from './migration/migrate-data.js';

// Pricing: what each interval of a paid hour costs.
export { AGREEMENT_DECIMALS, hourlyPriceFromAgreement, intervalPrice, intervalsPerHour, quoteInterval, USDC_DECIMALS } from './ledger/pricing.js';
export type { IntervalQuote } from './ledger/pricing.js';

// The HTTP service, for embedding it (the `serve` command and `npm start` use the same function).
export { ServiceStartError, startService } from './service.js';
export { disableAllocationSitePretenuring } from './util/pretenuring.js';
export type { RunningService, ServiceOptions } from './service.js';

// A typed client of the HTTP API, generated from its OpenAPI document (`npm run client:generate`).
export { createLeasingClient } from './client/index.js';
export type { ApiComponents, ApiPaths, ApiSchema, LeasingClient, LeasingClientOptions } from './client/index.js';
