/**
 * What every route module receives: the store, its schema manager, configuration and the
 * service's collaborators. Routes take it as an argument instead of reaching for globals, so a
 * test builds an app around any backend and any facilitator.
 */
import type { ChainMonitor } from '../chain/runner.js';
import type { AppConfig } from '../config.js';
import type { SchemaManager } from '../storage/contract/database.js';
import type { Database } from '../storage/contract/database.js';
import type { Facilitator } from './facilitator/facilitator.js';
import type { ApiMetrics } from './metrics.js';
import type { PendingPaymentStore } from '../ledger/pending-payments.js';
import type { SettlementJournal } from '../ledger/settlement-journal.js';

/** Shared dependencies of the routes. */
export interface AppContext {
  db: Database;
  schema: SchemaManager;
  config: AppConfig;
  facilitator: Facilitator;
  pending: PendingPaymentStore;
  /** The write-ahead journal of settlements (intents, outcomes, used authorizations). */
  journal: SettlementJournal;
  metrics: ApiMetrics;
  /** Backend description without secrets ("postgres", "pglite at ./data/pglite", "memory"). */
  description: string;
  /** Delays before retries of a failed payment record. */
  recordRetryDelaysMs: readonly number[];
  /** The clock (tests pin it). */
  now: () => Date;
  /** The chain ingestion this service runs, or null when no chain is configured. */
  chain: ChainMonitor | null;
  /** True once shutdown has begun; /ready then answers 503. */
  closing: boolean;
}
