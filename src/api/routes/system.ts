/**
 * Operations: liveness, readiness, status, reconcile and Prometheus metrics. Readiness is what a
 * load balancer asks before sending traffic: the database answers a cheap read and the schema is
 * current; a service that is shutting down is not ready. Liveness and readiness are open; status,
 * reconcile and metrics need the API key when one is set, and never scan a table per call.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { describeError, errorBody } from '../errors.js';
import { eventBacklog, readAtMostEvery, schemaProblems } from '../ops.js';
import { object } from '../schemas.js';
import { reconcileJson } from '../serialize.js';
import { activitySchema, metricsResponse, reconcileSchema, responses, statusSchema, statusWord } from '../response-schemas.js';

/** Registers the system routes. */
export function registerSystemRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { db, schema, metrics, pending } = ctx;
  const noQuery = { tags: ['system'], querystring: object({}) };

  app.get('/health', { schema: { ...noQuery, summary: 'Liveness', response: responses({ 200: statusWord('ok') }) } }, async () => ({ status: 'ok' }));

  // Open: the operator page asks before its first operational read whether to prompt for a key.
  app.get(
    '/api/system/auth',
    {
      schema: {
        ...noQuery,
        summary: 'Whether operational and write routes need the API key',
        response: responses({
          200: { type: 'object', additionalProperties: false, required: ['apiKeyRequired', 'scheme'], properties: { apiKeyRequired: { type: 'boolean' }, scheme: { type: 'string', const: 'bearer' } } },
        }),
      },
    },
    async () => ({ apiKeyRequired: ctx.config.apiKey !== undefined, scheme: 'bearer' }),
  );

  app.get('/ready', { schema: { ...noQuery, summary: 'Readiness: the database answers and the schema is current', response: responses({ 200: statusWord('ready') }) } }, async (_request, reply) => {
    if (ctx.closing) return reply.code(503).send(errorBody('SHUTTING_DOWN', 'the service is shutting down'));
    try {
      // A keyed lookup: one index probe on every backend, whatever the data size.
      await db.getAsset('__readiness_probe__');
      const problems = await schemaProblems(schema);
      if (problems.length > 0) return reply.code(503).send(errorBody('MIGRATIONS_NOT_CURRENT', 'the schema is not current', { migrations: problems }));
      // A deep reorg or a processor far behind: the store no longer reflects the chain.
      const chainProblem = ctx.chain ? await ctx.chain.notReadyReason() : null;
      if (chainProblem !== null) return reply.code(503).send(errorBody('CHAIN_NOT_READY', chainProblem));
      return { status: 'ready' };
    } catch (error) {
      const { body } = describeError(error);
      return reply.code(503).send(errorBody('NOT_READY', 'the database is not reachable', { cause: body.error.code }));
    }
  });

  // Operational reads need the API key when one is set (admin), and are cheap: estimated counts,
  // and a reconcile result (a read of every batch and payment) at most once per refresh interval.
  const operational = (summary: string, response: Record<string, unknown>) => ({ schema: { ...noQuery, summary, response }, config: { admin: true } });
  const reconciled = readAtMostEvery(ctx.config.reconcileRefreshMs, () => db.reconcile());

  app.get('/api/system/status', operational('Backend, pool, table counts, backlogs, migrations and chain ingestion', responses({ 200: statusSchema })), async () => {
    const sizes = await db.estimateTableSizes();
    return {
      mode: ctx.config.mode,
      backend: { kind: db.capabilities.kind, durable: db.capabilities.durable, description: ctx.description },
      facilitator: ctx.facilitator.kind,
      pool: db.poolStats(),
      counts: sizes,
      eventBacklog: await eventBacklog(db),
      chain: ctx.chain ? await ctx.chain.status() : null,
      pendingPayments: { store: pending.kind, count: (await pending.listUnresolved()).length, damagedLines: (await pending.listDamaged()).length },
      migrations: await schema.status().then((list) => list.map((m) => ({ version: m.version, name: m.name, state: m.state }))),
      uptimeSeconds: Math.round(process.uptime()),
    };
  });

  // Pending payments and damaged lines are read fresh (the store keeps them at hand); the ledger
  // check is the cached one, dated, with when it may next run.
  app.get('/api/system/reconcile', operational('Ledger check (cached), pending payments and unresolved settlements', responses({ 200: reconcileSchema })), async () => {
    const { at, value } = await reconciled();
    return {
      ...reconcileJson(value, {
        pending: await pending.listUnresolved(),
        damaged: await pending.listDamaged(),
        settlements: ctx.journal.unresolved(),
        damagedJournalLines: await ctx.journal.listDamaged(),
      }),
      checkedAt: at.toISOString(),
      nextCheckAfter: new Date(at.getTime() + ctx.config.reconcileRefreshMs).toISOString(),
    };
  });

  // Live payment activity (in memory, no database read): what the operator page polls for its rate.
  app.get('/api/system/activity', operational('Paid accesses since start and recorded payments per second over the last minute', responses({ 200: activitySchema })), async () =>
    metrics.activity.snapshot(),
  );

  app.get('/metrics', operational('Prometheus metrics', responses({ 200: metricsResponse })), async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });
}
