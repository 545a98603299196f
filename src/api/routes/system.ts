/**
 * Operations: liveness, readiness, status, reconcile and Prometheus metrics. Readiness is what a
 * load balancer asks before sending traffic: the database answers a cheap read and the schema is
 * current; a service that is shutting down is not ready.
 */
import type { FastifyInstance } from 'fastify';
import { TABLES } from '../../storage/contract/transfer.js';
import type { AppContext } from '../context.js';
import { describeError, errorBody } from '../errors.js';
import { eventBacklog, schemaProblems } from '../ops.js';
import { object } from '../schemas.js';
import { reconcileJson } from '../serialize.js';

/** Registers the system routes. */
export function registerSystemRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { db, schema, metrics, pending } = ctx;
  const noQuery = { querystring: object({}) };

  app.get('/health', { schema: noQuery }, async () => ({ status: 'ok' }));

  app.get('/ready', { schema: noQuery }, async (_request, reply) => {
    if (ctx.closing) return reply.code(503).send(errorBody('SHUTTING_DOWN', 'the service is shutting down'));
    try {
      // A keyed lookup: one index probe on every backend, whatever the data size.
      await db.getAsset('__readiness_probe__');
      const problems = await schemaProblems(schema);
      if (problems.length > 0) return reply.code(503).send(errorBody('MIGRATIONS_NOT_CURRENT', 'the schema is not current', { migrations: problems }));
      return { status: 'ready' };
    } catch (error) {
      const { body } = describeError(error);
      return reply.code(503).send(errorBody('NOT_READY', 'the database is not reachable', { cause: body.error.code }));
    }
  });

  app.get('/api/system/status', { schema: noQuery }, async () => {
    const counts: Record<string, { count: number; amountSum: string }> = {};
    for (const table of TABLES) {
      const summary = await db.summarizeTable(table);
      counts[table] = { count: summary.count, amountSum: summary.amountSum.toString() };
    }
    return {
      backend: { kind: db.capabilities.kind, durable: db.capabilities.durable, description: ctx.description },
      facilitator: ctx.facilitator.kind,
      pool: db.poolStats(),
      counts,
      eventBacklog: await eventBacklog(db),
      pendingPayments: { store: pending.kind, count: (await pending.listUnresolved()).length },
      migrations: await schema.status().then((list) => list.map((m) => ({ version: m.version, name: m.name, state: m.state }))),
      uptimeSeconds: Math.round(process.uptime()),
    };
  });

  app.get('/api/system/reconcile', { schema: noQuery }, async () =>
    reconcileJson(await db.reconcile(), await pending.listUnresolved(), await pending.listDamaged()),
  );

  app.get('/metrics', { schema: noQuery }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });
}
