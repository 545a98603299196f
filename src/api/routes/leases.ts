/**
 * Lease routes: filtered, paginated list; get; create; and status changes along the lifecycle
 * pending -> active | terminated, active -> completed | terminated (anything else is 409).
 */
import type { FastifyInstance } from 'fastify';
import type { LeaseStatus, NewLease } from '../../storage/contract/database.js';
import type { AppContext } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { pageOptions } from '../paging.js';
import { field, object, pageQuery, params, type PageQuery } from '../schemas.js';
import { leaseJson, pageJson } from '../serialize.js';
import { leaseSchema, pageOf, responses } from '../response-schemas.js';

const tags = ['leases'];

/** The allowed status transitions. */
export const LEASE_TRANSITIONS: Readonly<Record<LeaseStatus, readonly LeaseStatus[]>> = {
  pending: ['active', 'terminated'],
  active: ['completed', 'terminated'],
  completed: [],
  terminated: [],
};

const newLeaseBody = object(
  {
    leaseId: field.key,
    assetId: field.key,
    chainId: field.chainId,
    contractAddress: field.address,
    lessor: field.address,
    lessee: field.address,
    agreement: field.document,
    status: field.status,
    blockNumber: field.blockNumber,
    transactionHash: field.hash,
  },
  ['leaseId', 'assetId', 'chainId', 'contractAddress', 'lessor', 'lessee', 'agreement', 'transactionHash'],
);

interface LeaseQuery extends PageQuery {
  status?: LeaseStatus;
  assetId?: string;
  lessor?: string;
  lessee?: string;
}

/** Registers the lease routes. */
export function registerLeaseRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { db } = ctx;
  const leaseParams = params({ leaseId: field.key });

  app.get<{ Querystring: LeaseQuery }>(
    '/api/leases',
    {
      schema: {
        tags,
        summary: 'List leases by status, asset, lessor or lessee (keyset-paginated)',
        querystring: object({ ...pageQuery, status: field.status, assetId: field.key, lessor: field.address, lessee: field.address }),
        response: responses({ 200: pageOf(leaseSchema) }),
      },
    },
    async (request) => {
      const { status, assetId, lessor, lessee } = request.query;
      // Only the filters given: an undefined member would not fit the exact-optional filter type.
      const filter = Object.fromEntries(Object.entries({ status, assetId, lessor, lessee }).filter(([, v]) => v !== undefined));
      return pageJson(await db.getLeasesPage(filter, pageOptions(request.query)), leaseJson);
    },
  );

  app.get<{ Params: { leaseId: string } }>('/api/leases/:leaseId', { schema: { tags, summary: 'Get a lease', params: leaseParams, response: responses({ 200: leaseSchema }) } }, async (request) => {
    const lease = await db.getLease(request.params.leaseId);
    if (lease === null) throw notFound('lease', { leaseId: request.params.leaseId });
    return leaseJson(lease);
  });

  app.post<{ Body: Omit<NewLease, 'status' | 'blockNumber'> & { status?: LeaseStatus; blockNumber?: number } }>(
    '/api/leases',
    { schema: { tags, summary: 'Create a lease (pending unless a status is given)', body: newLeaseBody, response: responses({ 201: leaseSchema }) } },
    async (request, reply) => {
      const lease = await db.saveLease({ status: 'pending', blockNumber: 0, ...request.body });
      return reply.code(201).header('location', `/api/leases/${encodeURIComponent(lease.leaseId)}`).send(leaseJson(lease));
    },
  );

  app.patch<{ Params: { leaseId: string }; Body: { status: LeaseStatus } }>(
    '/api/leases/:leaseId/status',
    {
      schema: {
        tags,
        summary: 'Move a lease along its lifecycle (pending -> active | terminated, active -> completed | terminated)',
        params: leaseParams,
        body: object({ status: field.status }, ['status']),
        response: responses({ 200: leaseSchema }),
      },
    },
    async (request) => {
      const { leaseId } = request.params;
      const next = request.body.status;
      const lease = await db.getLease(leaseId);
      if (lease === null) throw notFound('lease', { leaseId });
      if (!LEASE_TRANSITIONS[lease.status].includes(next)) {
        throw new ApiError(409, 'INVALID_TRANSITION', `lease ${leaseId} cannot go from ${lease.status} to ${next}`, {
          leaseId,
          from: lease.status,
          to: next,
          allowed: [...LEASE_TRANSITIONS[lease.status]],
        });
      }
      // Conditional on the status just checked: a concurrent change (in any process) is a CONFLICT.
      const updated = await db.transitionLeaseStatus(leaseId, lease.status, next);
      if (updated === null) throw notFound('lease', { leaseId });
      return leaseJson(updated);
    },
  );
}
