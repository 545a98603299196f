/**
 * Lease routes: filtered, paginated list; get; create; and status changes along the lifecycle
 * pending -> active | terminated, active -> completed | terminated (anything else is 409).
 */
import type { FastifyInstance } from 'fastify';
import type { LeaseStatus, NewLease, StoredLease } from '../../storage/database.js';
import type { AppContext } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { pageByCreation } from '../paging.js';
import { field, object, pageQuery, params, type PageQuery } from '../schemas.js';
import { leaseJson, pageJson } from '../serialize.js';

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

/** Reads with the most selective filter the contract offers, then applies the others. */
async function findLeases(ctx: AppContext, q: LeaseQuery): Promise<StoredLease[]> {
  const { db } = ctx;
  const leases =
    q.assetId !== undefined
      ? await db.getLeasesByAsset(q.assetId)
      : q.lessor !== undefined
        ? await db.getLeasesByLessor(q.lessor)
        : q.lessee !== undefined
          ? await db.getLeasesByLessee(q.lessee)
          : q.status !== undefined
            ? await db.getLeasesByStatus(q.status)
            : await db.getAllLeases();
  const same = (a: string, b: string | undefined) => b === undefined || a.toLowerCase() === b.toLowerCase();
  return leases.filter(
    (l) => (q.status === undefined || l.status === q.status) && (q.assetId === undefined || l.assetId === q.assetId) && same(l.lessor, q.lessor) && same(l.lessee, q.lessee),
  );
}

// Status changes of one lease run one at a time in this process, so two concurrent requests
// cannot both pass the transition check. Across processes this needs a conditional update in the
// contract (see the issue 6 report).
const locks = new Map<string, Promise<unknown>>();
async function withLeaseLock<T>(leaseId: string, work: () => Promise<T>): Promise<T> {
  const previous = locks.get(leaseId) ?? Promise.resolve();
  const run = previous.then(work, work);
  const settled = run.catch(() => undefined);
  locks.set(leaseId, settled);
  try {
    return await run;
  } finally {
    if (locks.get(leaseId) === settled) locks.delete(leaseId);
  }
}

/** Registers the lease routes. */
export function registerLeaseRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { db } = ctx;
  const leaseParams = params({ leaseId: field.key });

  app.get<{ Querystring: LeaseQuery }>(
    '/api/leases',
    { schema: { querystring: object({ ...pageQuery, status: field.status, assetId: field.key, lessor: field.address, lessee: field.address }) } },
    async (request) => pageJson(pageByCreation(await findLeases(ctx, request.query), request.query.limit, request.query.after), leaseJson),
  );

  app.get<{ Params: { leaseId: string } }>('/api/leases/:leaseId', { schema: { params: leaseParams } }, async (request) => {
    const lease = await db.getLease(request.params.leaseId);
    if (lease === null) throw notFound('lease', { leaseId: request.params.leaseId });
    return leaseJson(lease);
  });

  app.post<{ Body: Omit<NewLease, 'status' | 'blockNumber'> & { status?: LeaseStatus; blockNumber?: number } }>(
    '/api/leases',
    { schema: { body: newLeaseBody } },
    async (request, reply) => {
      const lease = await db.saveLease({ status: 'pending', blockNumber: 0, ...request.body });
      return reply.code(201).header('location', `/api/leases/${encodeURIComponent(lease.leaseId)}`).send(leaseJson(lease));
    },
  );

  app.patch<{ Params: { leaseId: string }; Body: { status: LeaseStatus } }>(
    '/api/leases/:leaseId/status',
    { schema: { params: leaseParams, body: object({ status: field.status }, ['status']) } },
    async (request) => {
      const { leaseId } = request.params;
      const next = request.body.status;
      return withLeaseLock(leaseId, async () => {
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
        const updated = await db.updateLease(leaseId, { status: next });
        if (updated === null) throw notFound('lease', { leaseId });
        return leaseJson(updated);
      });
    },
  );
}
