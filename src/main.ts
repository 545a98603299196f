/**
 * The service entry point (`npm start`): configuration, backend (embedded PGlite by default,
 * `DATABASE_URL` for PostgreSQL, `USE_MOCK_DATABASE=true` for memory), migrations, HTTP.
 * SIGTERM/SIGINT stop accepting connections, drain in-flight requests, flush gathered payments,
 * close the pool and exit 0; a shutdown that hangs past SHUTDOWN_TIMEOUT_MS exits 1.
 */
import { pino, type Logger } from 'pino';
import { buildApp } from './api/app.js';
import { schemaProblems } from './api/ops.js';
import { FilePendingPaymentStore } from './ledger/pending-payments-file.js';
import { MemoryPendingPaymentStore, replayPendingPayments, type PendingPaymentStore } from './ledger/pending-payments.js';
import { ConfigError, loadConfig, type AppConfig } from './config.js';
import { createDatabase, storeConfigFromEnv } from './storage/create-database.js';
import { isStorageError } from './storage/contract/errors.js';
import { scrubSecrets } from './shared/scrub-secrets.js';

/** How often pending payments are replayed in the background. */
const PENDING_REPLAY_INTERVAL_MS = 60_000;

function readConfig(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

function describe(error: unknown): string {
  const text = isStorageError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  return scrubSecrets(text);
}

async function replay(db: Parameters<typeof replayPendingPayments>[0], pending: PendingPaymentStore, logger: Logger): Promise<void> {
  if ((await pending.listUnresolved()).length === 0) return;
  const report = await replayPendingPayments(db, pending);
  logger.warn({ recorded: report.recorded.length, failed: report.failed.length, skipped: report.skipped }, 'replayed pending payments');
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = pino({ level: config.logLevel, redact: ['req.headers.authorization', 'req.headers["x-payment"]'] });
  const store = await createDatabase({ ...storeConfigFromEnv(), logger }).catch((error: unknown) => {
    logger.fatal({ reason: describe(error) }, 'cannot start: invalid database configuration');
    process.exit(1);
  });
  const { db, schema, description } = store;

  try {
    await db.connect();
    const migrated = await schema.up();
    if (migrated.error) throw migrated.error;
    const problems = await schemaProblems(schema);
    if (problems.length > 0) throw new Error(`schema is not current: ${problems.map((p) => `${p.version} ${p.state}`).join(', ')}`);
    if (migrated.applied.length > 0) logger.info({ applied: migrated.applied }, 'migrations applied');
  } catch (error) {
    logger.fatal({ backend: description, reason: describe(error) }, 'cannot start: the database is not usable');
    await db.disconnect().catch(() => undefined);
    process.exit(1);
  }

  // The file survives a database outage (the usual reason a payment cannot be recorded); the
  // in-memory backend keeps nothing across restarts, so neither do its pending records.
  let pending: PendingPaymentStore;
  try {
    pending = db.capabilities.durable ? await FilePendingPaymentStore.open(config.pendingPaymentsFile) : new MemoryPendingPaymentStore();
  } catch (error) {
    logger.fatal({ file: config.pendingPaymentsFile, reason: describe(error) }, 'cannot start: the pending payment file is not usable');
    await db.disconnect().catch(() => undefined);
    process.exit(1);
  }
  const app = await buildApp({ db, schema, config, logger, pending, description, processMetrics: true });
  await replay(db, pending, logger).catch((error: unknown) => logger.error({ reason: describe(error) }, 'pending payment replay failed'));
  const replayTimer = setInterval(() => {
    replay(db, pending, logger).catch((error: unknown) => logger.error({ reason: describe(error) }, 'pending payment replay failed'));
  }, PENDING_REPLAY_INTERVAL_MS);
  replayTimer.unref();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without finishing the shutdown');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: draining requests');
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    clearInterval(replayTimer);
    try {
      await app.close(); // stops accepting, waits for in-flight requests
      await db.disconnect(); // waits for gathered payment groups to commit, closes the pool
      await pending.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ reason: describe(error) }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    logger.fatal({ reason: describe(error), port: config.port, host: config.host }, 'cannot listen');
    await db.disconnect().catch(() => undefined);
    process.exit(1);
  }
  logger.info({ backend: description, facilitator: app.appContext.facilitator.kind, env: config.env }, 'service started');
}

await main();
