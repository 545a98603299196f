/**
 * `POST /api/admin/chain/acknowledge-reorg`: an operator acknowledges the deep reorgs chain
 * ingestion has seen (the API key is required), naming themselves and what they checked. Until
 * then `/ready` answers 503 CHAIN_NOT_READY; after it, readiness passes again and
 * `/api/system/status` shows who acknowledged what, when. Refused with 409 when nothing awaits
 * acknowledgement or processing has not yet re-applied the replacing blocks, and with 404 when
 * this service runs no chain ingestion.
 */
import type { FastifyInstance } from 'fastify';
import { ReorgAcknowledgementRefused } from '../../chain/runner.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../errors.js';
import { object } from '../schemas.js';
import { responses } from '../response-schemas.js';

const reorg = {
  type: 'object',
  additionalProperties: false,
  required: ['detectedAt', 'depth', 'fromBlock', 'deep'],
  properties: { detectedAt: { type: 'string' }, depth: { type: 'integer' }, fromBlock: { type: 'integer' }, deep: { type: 'boolean' } },
};

const acknowledgementSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['by', 'note', 'acknowledgedAt', 'reorgs'],
  properties: { by: { type: 'string' }, note: { type: 'string' }, acknowledgedAt: { type: 'string' }, reorgs: { type: 'array', items: reorg } },
};

/** Registers the chain's admin route. */
export function registerChainAdminRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.post<{ Body: { by: string; note?: string } }>(
    '/api/admin/chain/acknowledge-reorg',
    {
      schema: {
        tags: ['admin'],
        summary: 'Acknowledge the deep reorgs chain ingestion saw, so readiness passes again (who and why are recorded)',
        querystring: object({}),
        body: object({ by: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' }, note: { type: 'string', maxLength: 2000 } }, ['by']),
        response: responses({ 200: acknowledgementSchema }),
      },
      config: { admin: true },
    },
    async (request) => {
      if (ctx.chain === null) throw new ApiError(404, 'NO_CHAIN', 'this service runs no chain ingestion (CHAIN_DEPLOYMENT_FILE or CHAIN_RPC_URL with the contracts)');
      try {
        return await ctx.chain.acknowledgeDeepReorg(request.body.by.trim(), request.body.note ?? '');
      } catch (error) {
        if (error instanceof ReorgAcknowledgementRefused) throw new ApiError(409, error.code, error.message, error.details);
        throw error;
      }
    },
  );
}
