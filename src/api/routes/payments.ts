/** Per-lease ledger routes: payments and hourly batches (keyset-paginated), hour totals. */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { notFound } from '../errors.js';
import { optionalInstant, pageOptions } from '../paging.js';
import { field, object, pageQuery, params, type PageQuery } from '../schemas.js';
import { batchJson, hourTotalsJson, pageJson, paymentJson } from '../serialize.js';
import { batchSchema, hourTotalsSchema, pageOf, paymentSchema, responses } from '../response-schemas.js';

const tags = ['ledger'];

/** Registers the payment and batch routes. */
export function registerPaymentRoutes(app: FastifyInstance, { db, now }: AppContext): void {
  const leaseParams = params({ leaseId: field.key });

  // An unknown lease is a 404, not an empty page, so a typo in an id is not mistaken for "no payments".
  const requireLease = async (leaseId: string) => {
    if ((await db.getLease(leaseId)) === null) throw notFound('lease', { leaseId });
  };

  app.get<{ Params: { leaseId: string }; Querystring: PageQuery }>(
    '/api/leases/:leaseId/payments',
    { schema: { tags, summary: "A lease's payments (keyset-paginated)", params: leaseParams, querystring: object(pageQuery), response: responses({ 200: pageOf(paymentSchema) }) } },
    async (request) => {
      const { leaseId } = request.params;
      await requireLease(leaseId);
      const page = await db.getPaymentsPage(leaseId, pageOptions(request.query));
      return pageJson(page, paymentJson);
    },
  );

  app.get<{ Params: { leaseId: string }; Querystring: PageQuery }>(
    '/api/leases/:leaseId/batches',
    { schema: { tags, summary: "A lease's hourly batches, open and settled (keyset-paginated)", params: leaseParams, querystring: object(pageQuery), response: responses({ 200: pageOf(batchSchema) }) } },
    async (request) => {
      const { leaseId } = request.params;
      await requireLease(leaseId);
      return pageJson(await db.getBatchesPage(leaseId, pageOptions(request.query)), batchJson);
    },
  );

  app.get<{ Params: { leaseId: string }; Querystring: { at?: string } }>(
    '/api/leases/:leaseId/hour-totals',
    { schema: { tags, summary: 'Total and count of the hour containing `at` (default now)', params: leaseParams, querystring: object({ at: field.instant }), response: responses({ 200: hourTotalsSchema }) } },
    async (request) => {
      const { leaseId } = request.params;
      await requireLease(leaseId);
      return hourTotalsJson(await db.getHourTotals(leaseId, optionalInstant(request.query.at, 'at') ?? now()));
    },
  );
}

