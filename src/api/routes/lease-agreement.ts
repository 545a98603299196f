/**
 * `PUT /api/leases/:leaseId/agreement`: attaches (or replaces) a lease's terms. The domain keeps
 * lease terms offchain, in the `agreement` document; a lease born on chain (LeaseMinted,
 * LeaseAccepted) has only its parties and asset, so this is how its price and term window reach
 * the store and make it payable. The agreement must carry readable terms (an hourly
 * `terms.paymentAmount`, and `startDate` before `endDate` when given) and, when it names the
 * lease or the asset, name this lease's. A completed or terminated lease keeps its terms (409).
 */
import type { FastifyInstance } from 'fastify';
import { agreementTermDate } from '../../ledger/payability.js';
import { hourlyPriceFromAgreement } from '../../ledger/pricing.js';
import type { JsonObject } from '../../storage/contract/database.js';
import { validationError } from '../../storage/contract/errors.js';
import type { AppContext } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { field, object, params } from '../schemas.js';
import { leaseJson } from '../serialize.js';
import { leaseSchema, responses } from '../response-schemas.js';

/** Checks the terms an agreement must carry to be paid for; throws a VALIDATION error naming the field. */
export function checkAgreementTerms(agreement: JsonObject, lease: { leaseId: string; assetId: string }): void {
  const terms = agreement['terms'];
  if (terms === undefined || terms === null || typeof terms !== 'object' || Array.isArray(terms)) throw validationError('agreement.terms', 'must be an object');
  hourlyPriceFromAgreement(agreement);
  // Read as payability() reads them when the lease is paid for.
  const dates: Partial<Record<'startDate' | 'endDate', Date>> = {};
  for (const name of ['startDate', 'endDate'] as const) {
    const date = agreementTermDate(agreement, name);
    if (date === 'invalid') throw validationError(`agreement.terms.${name}`, 'must be an ISO-8601 instant');
    if (date !== null) dates[name] = date;
  }
  if (dates.startDate !== undefined && dates.endDate !== undefined && dates.startDate >= dates.endDate) {
    throw validationError('agreement.terms.endDate', 'must be after terms.startDate');
  }
  for (const name of ['leaseId', 'assetId'] as const) {
    const given = agreement[name];
    if (given !== undefined && given !== lease[name]) throw validationError(`agreement.${name}`, `must be ${JSON.stringify(lease[name])} (the lease's own) when given`);
  }
}

/** Registers `PUT /api/leases/:leaseId/agreement`. */
export function registerLeaseAgreementRoute(app: FastifyInstance, ctx: AppContext): void {
  app.put<{ Params: { leaseId: string }; Body: { agreement: JsonObject } }>(
    '/api/leases/:leaseId/agreement',
    {
      schema: {
        tags: ['leases'],
        summary: 'Attach or replace the lease\'s offchain terms (its agreement document), e.g. for a lease born on chain',
        params: params({ leaseId: field.key }),
        body: object({ agreement: field.document }, ['agreement']),
        response: responses({ 200: leaseSchema }),
      },
    },
    async (request) => {
      const { leaseId } = request.params;
      const lease = await ctx.db.getLease(leaseId);
      if (lease === null) throw notFound('lease', { leaseId });
      if (lease.status !== 'pending' && lease.status !== 'active') {
        throw new ApiError(409, 'LEASE_CLOSED', `lease ${leaseId} is ${lease.status}: its terms no longer change`, { leaseId, status: lease.status });
      }
      checkAgreementTerms(request.body.agreement, lease);
      const updated = await ctx.db.updateLease(leaseId, { agreement: request.body.agreement });
      if (updated === null) throw notFound('lease', { leaseId });
      return leaseJson(updated);
    },
  );
}
