/** Revenue reports: a lease's revenue per UTC day, an asset's revenue split by lease. */
import type { FastifyInstance } from 'fastify';
import { validationError } from '../../storage/contract/errors.js';
import type { TimeRange } from '../../storage/contract/ledger-queries.js';
import type { AppContext } from '../context.js';
import { DAY_MS } from '../../storage/core/time.js';
import { notFound } from '../errors.js';
import { optionalInstant, pageOptions } from '../paging.js';
import { field, object, pageQuery, params, type PageQuery } from '../schemas.js';
import { assetRevenueJson, dailyRevenueJson, pageJson } from '../serialize.js';
import { assetRevenueSchema, dailyRevenueSchema, responses } from '../response-schemas.js';

const tags = ['ledger'];

/** Default report window when `from` is not given. */
export const DEFAULT_REPORT_DAYS = 30;

/** The half-open range [from, to) of a report; `to` defaults to now, `from` to 30 days before it. */
function range(query: { from?: string; to?: string }, now: Date): TimeRange {
  const to = optionalInstant(query.to, 'to') ?? now;
  const from = optionalInstant(query.from, 'from') ?? new Date(to.getTime() - DEFAULT_REPORT_DAYS * DAY_MS);
  if (from.getTime() > to.getTime()) throw validationError('to', 'must not be before from');
  return { from, to };
}

/** Registers the revenue routes. */
export function registerRevenueRoutes(app: FastifyInstance, { db, now }: AppContext): void {
  const rangeQuery = { from: field.instant, to: field.instant };

  app.get<{ Params: { leaseId: string }; Querystring: PageQuery & { from?: string; to?: string } }>(
    '/api/leases/:leaseId/revenue/daily',
    {
      schema: {
        tags,
        summary: "A lease's revenue per UTC day over [from, to), newest first (default: the last 30 days)",
        params: params({ leaseId: field.key }),
        querystring: object({ ...rangeQuery, ...pageQuery }),
        response: responses({ 200: dailyRevenueSchema }),
      },
    },
    async (request) => {
      const { leaseId } = request.params;
      const window = range(request.query, now());
      if ((await db.getLease(leaseId)) === null) throw notFound('lease', { leaseId });
      const page = await db.getDailyRevenue(leaseId, window, pageOptions(request.query));
      return { from: window.from.toISOString(), to: window.to.toISOString(), ...pageJson(page, dailyRevenueJson) };
    },
  );

  app.get<{ Params: { assetId: string }; Querystring: { from?: string; to?: string } }>(
    '/api/assets/:assetId/revenue',
    { schema: { tags, summary: "An asset's revenue over [from, to), split by lease", params: params({ assetId: field.key }), querystring: object(rangeQuery), response: responses({ 200: assetRevenueSchema }) } },
    async (request) => {
      const { assetId } = request.params;
      const window = range(request.query, now());
      if ((await db.getAsset(assetId)) === null) throw notFound('asset', { assetId });
      return assetRevenueJson(await db.getAssetRevenue(assetId, window));
    },
  );
}
