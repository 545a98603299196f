/**
 * Prometheus metrics, one registry per app instance (so tests and several apps in one process
 * never share counters). Gauges that describe the database are read at scrape time.
 *
 * Every name is here, and follows Prometheus conventions: the `leasing_` prefix, one unit per
 * metric named in its suffix (`_seconds`, `_minor_units`, `_connections`), `_total` on counters.
 * ops/ (dashboard and alert rules) and docs/operations.md use these names; a test checks them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database, PaymentMode } from '../storage/contract/database.js';
import { eventBacklog, readAtMostEvery } from './ops.js';
import type { PendingPaymentStore } from '../ledger/pending-payments.js';
import type { ChainMonitor } from '../chain/runner.js';
import { registerChainMetrics } from './chain-metrics.js';
import { PaymentActivity } from './activity.js';

/** The metrics an app records into. */
export interface ApiMetrics {
  readonly registry: Registry;
  /** Request latency by method, route pattern and status. */
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Records the outcome of a paid access: a new payment, a replay, or a pending record. */
  payment(mode: PaymentMode, outcome: 'recorded' | 'replayed' | 'pending', amount: bigint): void;
  /** The same outcomes, as live activity for the operator page. */
  readonly activity: PaymentActivity;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  db: Database;
  pending: PendingPaymentStore;
  /** How often the batches' money total (a read of every batch) may be refreshed (default 5 min). */
  batchTotalRefreshMs?: number;
  /** Also export Node process metrics (CPU, memory, event loop); off in tests. */
  processMetrics?: boolean;
  /** Chain ingestion, when the service runs one. */
  chain?: ChainMonitor | null;
  /** Clock of the activity window (default: system time). */
  now?: () => Date;
}

/** How long a scrape-time database read is reused: scrapes every few seconds must not each read. */
const SCRAPE_CACHE_MS = 30_000;

/** `read` at most once per `ttlMs`; a failed read gives null (the gauge is left out of that scrape). */
function cached<T>(read: () => Promise<T>, ttlMs = SCRAPE_CACHE_MS): () => Promise<T | null> {
  const timed = readAtMostEvery(ttlMs, read);
  return () => timed().then(
    (t) => t.value,
    () => null,
  );
}

/** The name of every metric the service exports itself (process metrics aside). */
export const METRIC_NAMES = {
  httpDuration: 'leasing_http_request_duration_seconds',
  payments: 'leasing_x402_payments_total',
  paymentAmount: 'leasing_x402_payment_minor_units_total',
  poolConnections: 'leasing_db_pool_connections',
  poolFree: 'leasing_db_pool_free_connections',
  poolWaiting: 'leasing_db_pool_waiting_clients',
  batches: 'leasing_x402_batches',
  batchAmount: 'leasing_x402_batch_amount_minor_units',
  eventsUnprocessed: 'leasing_contract_events_unprocessed',
  pendingPayments: 'leasing_x402_pending_payments',
  pendingDamagedLines: 'leasing_x402_pending_payment_damaged_lines',
} as const;

/** Creates the registry and its metrics. */
export function createMetrics({ db, pending, processMetrics = false, batchTotalRefreshMs = 300_000, chain = null, now }: MetricsOptions): ApiMetrics {
  const registry = new Registry();
  // Node's own metrics keep their standard names (process_*, nodejs_*), which stock dashboards know.
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const activity = new PaymentActivity(now);

  const httpDuration = new Histogram({
    name: METRIC_NAMES.httpDuration,
    help: 'HTTP request latency by route pattern and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const payments = new Counter({
    name: METRIC_NAMES.payments,
    help: 'Paid accesses by mode and outcome (recorded: new ledger row; replayed: already recorded; pending: kept for replay)',
    labelNames: ['mode', 'outcome'] as const,
    registers: [registry],
  });
  const amount = new Counter({
    name: METRIC_NAMES.paymentAmount,
    help: 'USDC minor units of newly recorded payments (a float: exact sums are in the ledger)',
    labelNames: ['mode'] as const,
    registers: [registry],
  });

  // Scrape-time gauges: a failing read leaves the gauge out of that scrape instead of failing it.
  // Counts are estimates (no scan); the money total reads every batch, so it is refreshed seldom.
  const sizes = cached(() => db.estimateTableSizes());
  const batchTotal = cached(() => db.summarizeTable('x402_batches'), batchTotalRefreshMs);
  const backlog = cached(() => eventBacklog(db));
  new Gauge({
    name: METRIC_NAMES.poolConnections,
    help: 'Database pool connections by state: total (open), idle (open and unused), max (the most the pool opens)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const stats = db.poolStats();
      if (stats === null) return;
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'max' }, stats.max);
    },
  });
  new Gauge({
    name: METRIC_NAMES.poolFree,
    help: 'Connections a request can get without waiting: idle ones plus those the pool may still open',
    registers: [registry],
    collect() {
      const stats = db.poolStats();
      if (stats !== null) this.set(Math.max(0, stats.max - stats.total) + stats.idle);
    },
  });
  new Gauge({
    name: METRIC_NAMES.poolWaiting,
    help: 'Callers queued for a database pool connection',
    registers: [registry],
    collect() {
      const stats = db.poolStats();
      if (stats !== null) this.set(stats.waiting);
    },
  });
  new Gauge({
    name: METRIC_NAMES.batches,
    help: `Hourly batches (an estimate on large tables, refreshed every ${SCRAPE_CACHE_MS / 1000} s)`,
    registers: [registry],
    async collect() {
      const count = await sizes();
      if (count !== null) this.set(count.x402_batches.count);
    },
  });
  new Gauge({
    name: METRIC_NAMES.batchAmount,
    help: `Total USDC minor units of all hourly batches (refreshed every ${batchTotalRefreshMs / 1000} s; a float: exact sums are in the ledger)`,
    registers: [registry],
    async collect() {
      const total = await batchTotal();
      if (total !== null) this.set(Number(total.amountSum));
    },
  });
  new Gauge({
    name: METRIC_NAMES.eventsUnprocessed,
    help: 'Unprocessed contract events (refreshed every 30 s)',
    registers: [registry],
    async collect() {
      const events = await backlog();
      if (events !== null) this.set(events.count);
    },
  });
  new Gauge({
    name: METRIC_NAMES.pendingPayments,
    help: 'Settled payments waiting to be recorded in the ledger',
    registers: [registry],
    async collect() {
      const unresolved = await pending.listUnresolved().catch(() => null);
      if (unresolved !== null) this.set(unresolved.length);
    },
  });
  new Gauge({
    name: METRIC_NAMES.pendingDamagedLines,
    help: 'Lines of the pending payments file that could not be read back, kept aside for an operator (each may be a settled payment)',
    registers: [registry],
    async collect() {
      const damaged = await pending.listDamaged().catch(() => null);
      if (damaged !== null) this.set(damaged.length);
    },
  });
  if (chain) registerChainMetrics(registry, chain);

  return {
    registry,
    httpDuration,
    activity,
    payment(mode, outcome, value) {
      payments.inc({ mode, outcome });
      activity.record(mode, outcome);
      if (outcome !== 'replayed') amount.inc({ mode }, Number(value));
    },
  };
}
