/**
 * The x402 routes: the quote of the current interval, and paid access (DOMAIN.md, HTTP 402 flow).
 * Before the service listens, the facilitator must say it takes `exact` payments on the
 * configured network (`GET /supported`); otherwise the service refuses to start.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PaymentMode } from '../../storage/contract/database.js';
import type { AppContext } from '../context.js';
import { notFound } from '../errors.js';
import { checkFacilitatorSupport } from '../facilitator/facilitator.js';
import { field, object, params } from '../schemas.js';
import { handleAccess } from '../x402/access.js';
import { paymentHeaderOf } from '../x402/payment-header.js';
import { buildRequirements } from '../x402/requirements.js';
import { accessGrantedResponse, paymentRequestHeaders, paymentRequiredResponse, quoteSchema, responses } from '../response-schemas.js';

type LeaseRequest = FastifyRequest<{ Params: { leaseId: string }; Querystring: { mode: PaymentMode } }>;

/** Registers the x402 routes. */
export function registerX402Routes(app: FastifyInstance, ctx: AppContext): void {
  app.addHook('onReady', async () => {
    const support = await checkFacilitatorSupport(ctx.facilitator, ctx.config.x402.network);
    for (const version of [1, 2] as const) {
      if (!support[`v${version}`]) {
        app.log.warn({ facilitator: ctx.facilitator.kind, network: ctx.config.x402.network }, `the facilitator does not take x402 v${version} exact payments on this network; such payments will be refused`);
      }
    }
  });

  const input = { tags: ['x402'], params: params({ leaseId: field.key }), querystring: object({ mode: field.mode }) };

  // The URL a payment buys: what x402 calls the resource.
  const resourceOf = (request: LeaseRequest) => {
    const base = ctx.config.publicUrl ?? `${request.protocol}://${request.host}`;
    return `${base}/api/leases/${encodeURIComponent(request.params.leaseId)}/access?mode=${request.query.mode}`;
  };
  const leaseOf = async (request: LeaseRequest) => {
    const lease = await ctx.db.getLease(request.params.leaseId);
    if (lease === null) throw notFound('lease', { leaseId: request.params.leaseId });
    return lease;
  };

  app.get<{ Params: { leaseId: string }; Querystring: { mode: PaymentMode } }>(
    '/api/leases/:leaseId/x402/requirements',
    { schema: { ...input, summary: 'The price of the current interval, as x402 payment requirements', response: responses({ 200: quoteSchema }) } },
    async (request) => {
      const lease = await leaseOf(request);
      const { requirements, quote } = buildRequirements(lease, request.query.mode, ctx.now(), ctx.config.x402, resourceOf(request));
      return {
        x402Version: 1,
        accepts: [requirements],
        quote: {
          leaseId: lease.leaseId,
          mode: quote.mode,
          intervalIndex: quote.intervalIndex,
          intervalsPerHour: quote.intervalsPerHour,
          hourlyPriceMinorUnits: quote.hourlyPriceMinorUnits.toString(),
        },
      };
    },
  );

  app.post<{ Params: { leaseId: string }; Querystring: { mode: PaymentMode } }>(
    '/api/leases/:leaseId/access',
    {
      schema: {
        ...input,
        summary: 'Paid access: answers 402 with requirements until a payment header pays the current interval',
        description:
          'Send the signed payment in `X-PAYMENT` (x402 v1) or `PAYMENT-SIGNATURE` (x402 v2). A 402 carries the v1 requirements in its body and the v2 ones in `PAYMENT-REQUIRED`; a 200 carries the settlement receipt in `PAYMENT-RESPONSE` and `X-PAYMENT-RESPONSE`. Resending the same payment inside its interval is granted again and recorded once.',
        headers: paymentRequestHeaders,
        response: responses({ 200: accessGrantedResponse, 402: paymentRequiredResponse }),
      },
      config: { public: true },
    },
    async (request, reply) => {
      const header = paymentHeaderOf(request.headers);
      const result = await handleAccess(ctx, request.params.leaseId, request.query.mode, header, resourceOf(request), request.log);
      return reply.code(result.status).headers(result.headers).send(result.body);
    },
  );
}
