/**
 * The HTTP service as a function: configuration, backend, migrations, HTTP. `src/main.ts`
 * (`npm start`) and the CLI's `serve` command both call {@link startService}.
 *
 * It fails closed: unless LEASING_MODE=development names development mode, the service runs in
 * production mode and refuses to start without `DATABASE_URL` (PostgreSQL), `API_KEY` and
 * `FACILITATOR_URL` (config.ts names every missing one). Development mode (what `npm start` sets)
 * may run on the embedded PGlite (default) or in memory (`USE_MOCK_DATABASE=true`), with the local
 * facilitator and open writes; its first log line says it is not for production.
 *
 * With `signals` on (the default), SIGTERM/SIGINT stop accepting connections, drain in-flight
 * requests, flush gathered payments, close the pool and exit 0; a shutdown that hangs past
 * SHUTDOWN_TIMEOUT_MS exits 1.
 */
import { pino, type Logger } from 'pino';
import { REDACTED_HEADERS, buildApp, type App } from './api/app.js';
import { schemaProblems } from './api/ops.js';
import { chainConfigFromEnv } from './chain/config.js';
import { createNodeClient } from './chain/rpc.js';
import { ChainRunner } from './chain/runner.js';
import { FilePendingPaymentStore } from './ledger/pending-payments-file.js';
import { MemoryPendingPaymentStore, replayPendingPayments, type PendingPaymentStore } from './ledger/pending-payments.js';
import { resolveSettlements } from './ledger/resolve-settlements.js';
import { MemorySettlementJournal, type SettlementJournal } from './ledger/settlement-journal.js';
import { FileSettlementJournal } from './ledger/settlement-journal-file.js';
import { settlementLookup } from './api/facilitator/facilitator.js';
import { ConfigError, loadConfig, type AppConfig } from './config.js';
import { createDatabase, storeConfigFromEnv } from './storage/create-database.js';
import { disableAllocationSitePretenuring } from './util/pretenuring.js';
import { describeError } from './error-text.js';
import { keepStorageUpkeep } from './storage-upkeep.js';

/** How often pending payments are replayed and journaled settlements resolved in the background. */
const PENDING_REPLAY_INTERVAL_MS = 60_000;

/**
 * A repeated signal this soon after the first is the same stop request delivered twice: Ctrl-C
 * reaches every process of the terminal's process group, and `npm start` forwards it to its
 * child again. A later one means "stop now" and exits 1 without finishing the shutdown.
 */
const REPEATED_SIGNAL_GRACE_MS = 1_000;

/** Options of {@link startService}. */
export interface ServiceOptions {
  /** Environment read for the configuration and the backend (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Stop on SIGTERM/SIGINT and exit the process with the outcome (default true). */
  signals?: boolean;
}

/** A listening service. */
export interface RunningService {
  app: App;
  config: AppConfig;
  /** The address it listens on, e.g. `http://127.0.0.1:3001`. */
  url: string;
  /**
   * Stops accepting connections, drains in-flight requests, closes the backend (committing
   * gathered payments) and the pending payment store. Rejects when it takes longer than
   * `config.shutdownTimeoutMs`. Calling it again returns the same promise.
   */
  stop(): Promise<void>;
}

/** The service could not start; the reason has already been logged (or printed, for configuration). */
export class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';
}

/**
 * Brings money that moved without a ledger row into the ledger: pending payments are replayed,
 * and journaled settlements resolved. `minAgeMs` leaves intents younger than that to the
 * requests still settling them (0 at startup, when nothing is in flight).
 */
async function recover(app: App, minAgeMs: number, logger: Logger): Promise<void> {
  const { db, pending, journal, facilitator } = app.appContext;
  if ((await pending.listUnresolved()).length > 0) {
    const report = await replayPendingPayments(db, pending);
    logger.warn({ recorded: report.recorded.length, failed: report.failed.length, skipped: report.skipped }, 'replayed pending payments');
  }
  if (journal.unresolved().length > 0) {
    const report = await resolveSettlements({ journal, db, lookup: settlementLookup(facilitator), minAgeMs });
    const summary = { recorded: report.recorded.length, notSettled: report.notSettled.length, failed: report.failed.length };
    if (report.unknown.length > 0) {
      logger.error({ ...summary, unknown: report.unknown.map((i) => ({ id: i.id, nonce: i.nonce, leaseId: i.leaseId, reason: i.reason })) }, 'settlements with an unknown outcome: finish them by hand (see reconcile)');
    } else if (report.recorded.length + report.notSettled.length + report.failed.length > 0) {
      logger.warn(summary, 'resolved journaled settlements');
    }
  }
}

function readConfig(env: NodeJS.ProcessEnv): AppConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    throw new ServiceStartError(error.message);
  }
}

/**
 * Starts the service and resolves once it listens. Throws {@link ServiceStartError} (after
 * logging why, and releasing what it had opened) when the configuration, the database or the
 * port is not usable.
 */
export async function startService(options: ServiceOptions = {}): Promise<RunningService> {
  const env = options.env ?? process.env;
  const config = readConfig(env);
  // One large read (a status page, an export) would otherwise slow every small read after it
  // with long scavenges: see util/pretenuring.ts.
  disableAllocationSitePretenuring();
  const logger = pino({ level: config.logLevel, redact: [...REDACTED_HEADERS] });
  logMode(logger, config);
  const fail = (message: string, details: Record<string, unknown>): ServiceStartError => {
    logger.fatal(details, message);
    return new ServiceStartError(`${message}: ${String(details['reason'])}`);
  };

  let store: Awaited<ReturnType<typeof createDatabase>>;
  try {
    // NODE_ENV as the configuration settled it: production mode gets the pool's production
    // defaults (verified TLS) even when NODE_ENV is unset.
    store = await createDatabase({ ...storeConfigFromEnv({ ...env, NODE_ENV: config.env }), logger });
  } catch (error) {
    throw fail('cannot start: invalid database configuration', { reason: describeError(error) });
  }
  const { db, schema, description } = store;

  try {
    await db.connect();
    const migrated = await schema.up();
    if (migrated.error) throw migrated.error;
    const problems = await schemaProblems(schema);
    if (problems.length > 0) throw new Error(`schema is not current: ${problems.map((p) => `${p.version} ${p.state}`).join(', ')}`);
    if (migrated.applied.length > 0) logger.info({ applied: migrated.applied }, 'migrations applied');
  } catch (error) {
    const failure = fail('cannot start: the database is not usable', { backend: description, reason: describeError(error) });
    await db.disconnect().catch(() => undefined);
    throw failure;
  }

  // The file survives a database outage (the usual reason a payment cannot be recorded); the
  // in-memory backend keeps nothing across restarts, so neither do its pending records.
  let pending: PendingPaymentStore;
  try {
    pending = db.capabilities.durable ? await FilePendingPaymentStore.open(config.pendingPaymentsFile) : new MemoryPendingPaymentStore();
  } catch (error) {
    const failure = fail('cannot start: the pending payment file is not usable', { file: config.pendingPaymentsFile, reason: describeError(error) });
    await db.disconnect().catch(() => undefined);
    throw failure;
  }
  // Written before every settle, so a settlement survives a crash at any instant; like the
  // pending records, it is kept in memory only for the in-memory backend.
  let journal: SettlementJournal;
  try {
    journal = db.capabilities.durable ? await FileSettlementJournal.open(config.settlementJournalFile) : new MemorySettlementJournal();
  } catch (error) {
    const failure = fail('cannot start: the settlement journal is not usable', { file: config.settlementJournalFile, reason: describeError(error) });
    await pending.close().catch(() => undefined);
    await db.disconnect().catch(() => undefined);
    throw failure;
  }
  // Chain ingestion when CHAIN_DEPLOYMENT_FILE or CHAIN_RPC_URL is set (src/chain/config.ts).
  let chain: ChainRunner | null = null;
  try {
    const chainConfig = await chainConfigFromEnv(env);
    if (chainConfig) chain = new ChainRunner(db, createNodeClient(chainConfig.rpcUrl), { ...chainConfig, logger: logger.child({ component: 'chain' }) });
  } catch (error) {
    const failure = fail('cannot start: invalid chain configuration', { reason: describeError(error) });
    await journal.close().catch(() => undefined);
    await pending.close().catch(() => undefined);
    await db.disconnect().catch(() => undefined);
    throw failure;
  }
  let app: App;
  try {
    app = await buildApp({ db, schema, config, logger, pending, journal, description, processMetrics: true, ...(chain ? { chain } : {}) });
  } catch (error) {
    const failure = fail('cannot start: the service could not be built', { reason: describeError(error) });
    await journal.close().catch(() => undefined);
    await pending.close().catch(() => undefined);
    await db.disconnect().catch(() => undefined);
    throw failure;
  }
  const upkeep = keepStorageUpkeep(schema, logger, config.compactPayments);
  const recoveryFailed = (error: unknown) => logger.error({ reason: describeError(error) }, 'recovering settled payments failed');
  await recover(app, 0, logger).catch(recoveryFailed);
  // Intents younger than a settle with its retries may still be in flight in this process.
  const inFlightMs = 2 * config.facilitator.settleTimeoutMs;
  const replayTimer = setInterval(() => {
    recover(app, inFlightMs, logger).catch(recoveryFailed);
  }, PENDING_REPLAY_INTERVAL_MS);
  replayTimer.unref();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(replayTimer);
      upkeep.stop();
      let deadline: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(new Error(`shutdown took longer than ${config.shutdownTimeoutMs} ms`)), config.shutdownTimeoutMs);
        deadline.unref();
      });
      const close = async () => {
        await chain?.stop(); // finishes its step, gives leadership up
        await app.close(); // stops accepting, waits for in-flight requests
        await db.disconnect(); // waits for gathered payment groups to commit, closes the pool
        await pending.close();
        await journal.close();
      };
      try {
        await Promise.race([close(), timeout]);
      } finally {
        clearTimeout(deadline);
      }
    })();
    return stopping;
  };

  // Before listening: a signal that arrives as soon as the port accepts connections drains too.
  if (options.signals ?? true) stopOnSignals(stop, logger, config);
  let url: string;
  try {
    url = await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const failure = fail('cannot listen', { reason: describeError(error), port: config.port, host: config.host });
    await stop().catch(() => undefined);
    throw failure;
  }
  chain?.start();
  logger.info({ mode: config.mode, backend: description, facilitator: app.appContext.facilitator.kind, env: config.env, host: config.host, url, chain: chain !== null }, 'service started');
  return { app, config, url, stop };
}

/** The first log line: the mode, and in development what makes it unfit for production. */
function logMode(logger: Logger, config: AppConfig): void {
  if (config.mode === 'production') {
    logger.info({ mode: 'production' }, 'production mode (LEASING_MODE=production)');
    return;
  }
  const unsafe = [
    config.facilitator.url === undefined && config.facilitator.chain === undefined ? 'the local facilitator (moves no money; checks signatures offline, not balances or used nonces)' : undefined,
    config.apiKey === undefined ? 'write and operational routes open without an API key' : undefined,
    'POST /api/admin/reset deletes everything',
  ].filter((item) => item !== undefined);
  logger.warn({ mode: 'development', host: config.host }, `development mode (LEASING_MODE=development), NOT FOR PRODUCTION: ${unsafe.join('; ')}`);
}

/** SIGTERM/SIGINT run `stop` and exit 0, or 1 when it fails, times out, or a later signal insists. */
function stopOnSignals(stop: () => Promise<void>, logger: Logger, config: AppConfig): void {
  let firstAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstAt !== undefined) {
      if (Date.now() - firstAt < REPEATED_SIGNAL_GRACE_MS) {
        logger.debug({ signal }, 'repeated signal ignored: already shutting down');
        return;
      }
      logger.warn({ signal }, 'second signal: exiting without finishing the shutdown');
      process.exit(1);
    }
    firstAt = Date.now();
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: draining requests');
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ reason: describeError(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
