/**
 * The HTTP service: a fastify instance around any backend. `buildApp` does not listen, so the
 * entry point (src/main.ts), the tests (port 0) and the benchmark each decide where it runs.
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import { requireDecimalIntegers, type TextValidator } from './decimal-integers.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifySchemaCompiler } from 'fastify';
import { pino } from 'pino';
import type { AppConfig } from '../config.js';
import type { SchemaManager } from '../storage/contract/database.js';
import type { Database } from '../storage/contract/database.js';
import type { ChainMonitor } from '../chain/runner.js';
import type { AppContext } from './context.js';
import { clientErrorHandler, errorBody, frameworkErrors, installErrorHandlers } from './errors.js';
import { createFacilitator } from './facilitator/index.js';
import type { Facilitator } from './facilitator/facilitator.js';
import { createMetrics } from './metrics.js';
import { MemoryPendingPaymentStore, type PendingPaymentStore } from '../ledger/pending-payments.js';
import { MemorySettlementJournal, type SettlementJournal } from '../ledger/settlement-journal.js';
import { DEFAULT_RECORD_RETRY_DELAYS_MS } from '../ledger/record-settled-payment.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerChainAdminRoutes } from './routes/chain-admin.js';
import { registerAssetRoutes } from './routes/assets.js';
import { registerEventRoutes } from './routes/events.js';
import { registerLeaseAgreementRoute } from './routes/lease-agreement.js';
import { registerLeaseRoutes } from './routes/leases.js';
import { registerPaymentRoutes } from './routes/payments.js';
import { registerRevenueRoutes } from './routes/revenue.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerX402Routes } from './routes/x402.js';
import { installAccessRateLimit, installAuth, installCors } from './security.js';
import { installConsole } from './console.js';
import { installOpenApi } from './openapi.js';
import { installResponseValidation } from './response-validation.js';
import { namedSchemas } from './response-schemas.js';

/** Largest request body (1 MB); larger is a 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Request headers that carry credentials or signed payments, never logged (both x402 versions). */
export const REDACTED_HEADERS = ['req.headers.authorization', 'req.headers["x-payment"]', 'req.headers["payment-signature"]'] as const;

/** Inputs of {@link buildApp}. */
export interface BuildAppOptions {
  /** A connected backend (the app never connects or disconnects it). */
  db: Database;
  schema: SchemaManager;
  config: AppConfig;
  /** Default: from `config.facilitator` (local without a URL). */
  facilitator?: Facilitator;
  /** Default: pino at `config.logLevel`. */
  logger?: FastifyBaseLogger;
  /** Where unrecordable settled payments go. Default: in memory (main.ts passes the file store). */
  pending?: PendingPaymentStore;
  /** The write-ahead journal of settlements. Default: in memory (the service passes the file journal). */
  journal?: SettlementJournal;
  /** Backend description for /api/system/status. */
  description?: string;
  /** Delays before each retry of a failed payment record. */
  recordRetryDelaysMs?: readonly number[];
  /** Clock (default: system time). */
  now?: () => Date;
  /** Export Node process metrics too (main.ts turns it on). */
  processMetrics?: boolean;
  /** Chain ingestion to report in status, readiness and metrics (none by default). */
  chain?: ChainMonitor;
  /** Check every response against its route's schema (the tests turn it on; see response-validation.ts). */
  validateResponses?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The context the routes share (decorated by buildApp; tests and main.ts read it). */
    appContext: AppContext;
  }
}

/** The service: a fastify instance decorated with its {@link AppContext}. */
export type App = FastifyInstance;

/**
 * Query strings and params arrive as text, so they are coerced to the schema's types; bodies are
 * JSON and are not, so `"chainId": "1"` is a 400 instead of silently becoming a number. Neither
 * strips unknown properties: `additionalProperties: false` refuses them. Integers in text must be
 * written in decimal (decimal-integers.ts): `0x10` and `1e3` are refused, not coerced.
 */
function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const factory = AjvCompiler();
  const body = factory({}, { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } });
  const text = factory({}, { customOptions: { coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false } });
  type Route = Parameters<typeof body>[0];
  return (route) =>
    (route.httpPart === 'body' ? body(route as Route) : requireDecimalIntegers(route.schema, text(route as Route) as TextValidator)) as ReturnType<FastifySchemaCompiler<unknown>>;
}

function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

/** Builds the service around a connected backend. */
export async function buildApp(options: BuildAppOptions): Promise<App> {
  const { db, schema, config } = options;
  const pending = options.pending ?? new MemoryPendingPaymentStore();
  const logger = options.logger ?? pino({ level: config.logLevel, redact: [...REDACTED_HEADERS] });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    // Ids are up to 255 characters, percent-encoded up to three times that; longer than the
    // router's default (100) must reach the schema and get a 400, not a 404.
    routerOptions: { maxParamLength: 1024 },
    // A hop count trusts that many proxies in front (what proxy-addr does with a number).
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    // Errors raised before a route or hook runs, in the one error format (errors.ts).
    frameworkErrors,
    clientErrorHandler,
    // fastify's own 503 while closing has its own body; the onRequest hook below sends ours.
    return503OnClosing: false,
  });
  const now = options.now ?? (() => new Date());
  const ctx: AppContext = {
    db,
    schema,
    config,
    facilitator: options.facilitator ?? createFacilitator(config.facilitator),
    pending,
    journal: options.journal ?? new MemorySettlementJournal(),
    metrics: createMetrics({ db, pending, processMetrics: options.processMetrics ?? false, batchTotalRefreshMs: config.reconcileRefreshMs, chain: options.chain ?? null, now }),
    description: options.description ?? db.capabilities.kind,
    recordRetryDelaysMs: options.recordRetryDelaysMs ?? DEFAULT_RECORD_RETRY_DELAYS_MS,
    now,
    chain: options.chain ?? null,
    closing: false,
  };

  app.setValidatorCompiler(validatorCompiler());
  // Response schemas document the API (and are checked in tests); bodies are serialized as they
  // are, never filtered or coerced by a schema-driven serializer.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Bodies are JSON only: text/plain (which fastify parses by default) is a 415 like any other type.
  app.removeContentTypeParser('text/plain');
  installErrorHandlers(app);
  app.addHook('onRequest', async (_request, reply) => {
    if (ctx.closing) return reply.code(503).header('connection', 'close').send(errorBody('SHUTTING_DOWN', 'the service is shutting down'));
    return undefined;
  });
  await installCors(app, config.corsOrigins);
  installAuth(app, config.apiKey);
  await installAccessRateLimit(app, config.accessRateLimit);

  app.addHook('onResponse', async (request, reply) => {
    ctx.metrics.httpDuration.observe(
      { method: request.method, route: request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched'), status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.addHook('preClose', async () => {
    ctx.closing = true;
  });
  // A keep-alive socket that goes idle after close() began would hold the server open until its
  // keep-alive timeout; answering in-flight requests with `Connection: close` ends them instead.
  app.addHook('onSend', async (_request, reply) => {
    if (ctx.closing) reply.header('connection', 'close');
  });

  for (const schema of namedSchemas) app.addSchema(schema);
  if (options.validateResponses === true) installResponseValidation(app, namedSchemas);
  await installOpenApi(app);
  await installConsole(app);

  registerSystemRoutes(app, ctx);
  registerAssetRoutes(app, ctx);
  registerLeaseRoutes(app, ctx);
  registerLeaseAgreementRoute(app, ctx);
  registerEventRoutes(app, ctx);
  registerPaymentRoutes(app, ctx);
  registerRevenueRoutes(app, ctx);
  registerX402Routes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerChainAdminRoutes(app, ctx);

  app.decorate('appContext', ctx);
  return app;
}
