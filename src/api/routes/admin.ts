/**
 * Admin routes (API key required whatever the method). The reset route exists only in
 * development mode (LEASING_MODE=development), so no key and no mistake can reach it elsewhere.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { replayPendingPayments } from '../../ledger/pending-payments.js';
import { resolveSettlements } from '../../ledger/resolve-settlements.js';
import { settlementLookup } from '../facilitator/facilitator.js';
import { intentJson } from '../serialize.js';
import { object } from '../schemas.js';
import { replayReportSchema, resolveReportSchema, responses } from '../response-schemas.js';

/** Registers the admin routes. */
export function registerAdminRoutes(app: FastifyInstance, ctx: AppContext): void {
  const admin = { admin: true };
  const noInput = { tags: ['admin'], querystring: object({}) };

  if (ctx.config.mode === 'development') {
    app.post('/api/admin/reset', { schema: { ...noInput, summary: 'Delete every record (development mode only)', response: responses({ 200: { type: 'object', additionalProperties: false, required: ['cleared'], properties: { cleared: { type: 'boolean', const: true } } } }) }, config: admin }, async () => {
      await ctx.db.clear();
      return { cleared: true };
    });
  }

  app.post('/api/admin/settlements/resolve', { schema: { ...noInput, summary: 'Resolve journaled settlements with the facilitator', response: responses({ 200: resolveReportSchema }) }, config: admin }, async () => {
    const report = await resolveSettlements({ journal: ctx.journal, db: ctx.db, lookup: settlementLookup(ctx.facilitator) });
    return { ...report, unknown: report.unknown.map(intentJson), remaining: ctx.journal.unresolved().length };
  });

  app.post('/api/admin/pending/replay', { schema: { ...noInput, summary: 'Record pending payments in the ledger', response: responses({ 200: replayReportSchema }) }, config: admin }, async () => {
    const report = await replayPendingPayments(ctx.db, ctx.pending);
    return { ...report, remaining: (await ctx.pending.listUnresolved()).length };
  });
}
