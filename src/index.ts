/**
 * The library entry point (`import { ... } from 'asset-leasing-offchain-store'`): the storage
 * contract and its three backends, the backend chooser, data migration between backends, the
 * errors, the record types and the pricing rule. Everything else under `src/` is internal.
 *
 * ```ts
 * import { createDatabase } from 'asset-leasing-offchain-store';
 * const { db, schema } = await createDatabase(); // USE_MOCK_DATABASE / DATABASE_URL / PGLITE_DATA_DIR
 * await db.connect();
 * await schema.up();
 * ```
 */

// The storage contract and its records.
export { INTERVAL_SECONDS, LEASE_STATUSES, PAYMENT_MODES } from './storage/database.js';
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
  NewAsset,
  NewEvent,
  NewLease,
  NewX402Batch,
  NewX402Payment,
  PaymentMode,
  RecordPaymentParams,
  StoredAsset,
  StoredEvent,
  StoredLease,
  StoredX402Batch,
  StoredX402Payment,
} from './storage/database.js';
export type {
  AssetRevenue,
  DailyRevenue,
  HourTotals,
  LedgerQueries,
  Page,
  PageOptions,
  ReconcileDifference,
  ReconcileReport,
  TimeRange,
} from './storage/ledger-queries.js';
export { TABLES } from './storage/records.js';
export type { RecordTransfer, TableName, TableRecords, TableSummary } from './storage/records.js';
export type { PoolStats } from './storage/sql/driver.js';

// Errors.
export { isStorageError, STORAGE_ERROR_CODES, StorageError } from './storage/errors.js';
export type { StorageErrorCode, StorageErrorOptions } from './storage/errors.js';

// The backends and the one place that chooses among them.
export { MockDatabase } from './storage/mock-database.js';
export { PostgresDatabase } from './storage/postgres-database.js';
export type { PostgresDatabaseOptions } from './storage/postgres-database.js';
export { PgliteDatabase } from './storage/pglite-database.js';
export { SqlDatabase } from './storage/sql/sql-database.js';
export type { SqlDatabaseOptions } from './storage/sql/sql-database.js';
export type { PoolEnv } from './storage/postgres-pool-config.js';
export type { StorageLogger } from './storage/sql/logger.js';
export { createDatabase, storeConfigFromEnv } from './storage/create-database.js';
export type { SchemaManager, Store, StoreConfig } from './storage/create-database.js';
export type { MigrateUpResult, MigrationResult, MigrationState, MigrationStatus } from './storage/sql/migrator.js';

// Copying every record from one backend to another, verified.
export { importSnapshot, migrateData } from './migration/migrate-data.js';
export type { MigrateDataOptions, MigrationPhase, MigrationProgress, MigrationReport, TableReport } from './migration/migrate-data.js';

// Pricing: what each interval of a paid hour costs.
export { AGREEMENT_DECIMALS, hourlyPriceFromAgreement, intervalPrice, intervalsPerHour, quoteInterval, USDC_DECIMALS } from './ledger/pricing.js';
export type { IntervalQuote } from './ledger/pricing.js';

// The HTTP service, for embedding it (the `serve` command and `npm start` use the same function).
export { ServiceStartError, startService } from './service.js';
export type { RunningService, ServiceOptions } from './service.js';
