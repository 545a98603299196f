/**
 * The protocol's flow over real HTTP through the typed client generated from the OpenAPI
 * document (every response also checked against its schema), written once and run on every backend (memory.test.ts,
 * pglite.test.ts, postgres.test.ts): asset, lease, activation, quote, 402, payment, 200, the
 * payment once in the ledger and in its batch, a replayed header not counted twice; plus the
 * storage-mapped statuses, which each backend must produce the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSettlementHash } from '../../src/api/facilitator/local.js';
import { paymentHeader, THROWAWAY_PAYER } from '../../src/api/x402/client.js';
import type { PaymentRequirements } from '../../src/api/x402/types.js';
import { decodePaymentHeader } from '../../src/api/x402/payment-header.js';
import { AUTH, LESSEE, LESSOR, type Running, assetBody, clientOf, decodeHeader, http, leaseBody, startApp } from './support.js';
import { type OpenBackend, type TestBackend } from '../support/backends.js';

const PAYER = THROWAWAY_PAYER.address;

/** Runs the flow suite against `backend`. */
export function describeApiFlow(backend: TestBackend): void {
  describe(`HTTP API flow on ${backend.name}`, () => {
    let handle: OpenBackend;
    let server: Running;
    let base: string;
    let ms = 0;

    beforeAll(async () => {
      handle = await backend.open();
      // A clock that starts a second and moves 1 ms per reading: a resent payment is granted again
      // only inside the (one-second) interval it paid for, so the flow must not cross one.
      ms = Math.floor(Date.now() / 1000) * 1000;
      server = await startApp({ db: handle.db, now: () => new Date(ms++) });
      base = server.url;
    });
    afterAll(async () => {
      await server?.close();
      await handle?.dispose();
    });

    it('runs the x402 flow and records a replayed payment once', async () => {
      // Through the typed client generated from the OpenAPI document: a route whose paths,
      // parameters or bodies drift from the document fails to compile here.
      const api = clientOf(server);
      const anonymous = clientOf(server, null);
      const created = await api.POST('/api/assets', { body: assetBody('SAT-ALPHA-1') });
      expect(created.response.status).toBe(201);
      expect(created.data).toMatchObject({ assetId: 'SAT-ALPHA-1', chainId: 84532, metadata: { name: 'Satellite Alpha-1' } });
      expect((await anonymous.GET('/api/assets/{assetId}', { params: { path: { assetId: 'SAT-ALPHA-1' } } })).data?.assetId).toBe('SAT-ALPHA-1');
      const byToken = await anonymous.GET('/api/assets/by-token/{tokenAddress}', { params: { path: { tokenAddress: assetBody('x').tokenAddress } } });
      expect(byToken.data?.assetId).toBe('SAT-ALPHA-1');

      const lease = { params: { path: { leaseId: 'L-1' } } };
      expect((await api.POST('/api/leases', { body: leaseBody('L-1', 'SAT-ALPHA-1') })).response.status).toBe(201);
      const activated = await api.PATCH('/api/leases/{leaseId}/status', { ...lease, body: { status: 'active' } });
      expect(activated.response.status).toBe(200);
      expect(activated.data?.status).toBe('active');
      expect((await anonymous.GET('/api/leases/{leaseId}', lease)).data?.status).toBe('active');

      const second = { params: { path: { leaseId: 'L-1' }, query: { mode: 'second' as const } } };
      const quote = await anonymous.GET('/api/leases/{leaseId}/x402/requirements', second);
      expect(quote.response.status).toBe(200);
      const requirements = quote.data?.accepts[0] as PaymentRequirements;
      expect(requirements).toMatchObject({ scheme: 'exact', network: 'base-sepolia', amount: '1000000', payTo: LESSOR, mode: 'second', intervalSeconds: 1 });
      expect(requirements.resource).toContain('/api/leases/L-1/access?mode=second');
      expect(quote.data?.quote.hourlyPriceMinorUnits).toBe('3600000000');

      const unpaid = await anonymous.POST('/api/leases/{leaseId}/access', second);
      expect(unpaid.response.status).toBe(402);
      expect(unpaid.error).toMatchObject({ x402Version: 1, error: 'payment required', code: 'PAYMENT_REQUIRED' });
      expect(unpaid.error && 'accepts' in unpaid.error ? unpaid.error.accepts[0] : undefined).toMatchObject({ amount: '1000000', maxAmountRequired: '1000000', network: 'base-sepolia', payTo: LESSOR });
      expect(decodeHeader(unpaid.response.headers.get('payment-required'))).toMatchObject({ x402Version: 2, accepts: [{ amount: '1000000', network: 'eip155:84532' }] });

      // Signed against the service's clock (the test's), not the wall clock, which runs ahead of it.
      const header = paymentHeader(requirements, { now: new Date(ms) });
      const payload = decodePaymentHeader(header);
      const paid = await anonymous.POST('/api/leases/{leaseId}/access', { params: { ...second.params, header: { 'x-payment': header } } });
      expect(paid.response.status).toBe(200);
      expect(paid.data).toMatchObject({ access: 'granted', ledger: 'recorded', payment: { amountMinorUnits: '1000000', payer: PAYER, mode: 'second' } });
      const paidPayment = paid.data !== undefined && 'payment' in paid.data ? paid.data.payment : undefined;
      const txHash = localSettlementHash(payload.payload.authorization);
      expect(decodeHeader(paid.response.headers.get('payment-response'))).toMatchObject({ success: true, transaction: txHash });
      expect(paid.response.headers.get('x-payment-response')).toBe(paid.response.headers.get('payment-response'));

      const payments = async () => (await anonymous.GET('/api/leases/{leaseId}/payments', lease)).data?.items ?? [];
      expect((await payments()).filter((p) => p.facilitatorTxHash === txHash)).toHaveLength(1);
      const bucket = paidPayment?.bucketSlot as string;
      const batchOf = async () => (await anonymous.GET('/api/leases/{leaseId}/batches', lease)).data?.items.find((b) => b.hourBucket === bucket);
      expect(await batchOf()).toMatchObject({ paymentCount: 1, totalAmountMinorUnits: '1000000', settlementTxHash: null });

      // The same header again inside the interval it paid for (x402 v2 name): the same grant,
      // recorded once.
      const replay = await anonymous.POST('/api/leases/{leaseId}/access', { params: { ...second.params, header: { 'payment-signature': header } } });
      expect(replay.response.status).toBe(200);
      expect(replay.data?.ledger).toBe('replayed');
      expect(replay.data !== undefined && 'payment' in replay.data ? replay.data.payment.id : undefined).toBe(paidPayment?.id);
      expect(decodeHeader(replay.response.headers.get('payment-response'))).toMatchObject({ success: true, transaction: txHash });
      // The payment's timestamp is the instant it was priced at, so its hour is the priced one.
      expect((paidPayment?.paymentTimestamp ?? '') < requirements.intervalStart).toBe(false);
      expect(await payments()).toHaveLength(1);
      expect(await batchOf()).toMatchObject({ paymentCount: 1, totalAmountMinorUnits: '1000000' });

      // Once the interval is over, the same payment buys nothing more.
      ms += 1000;
      const used = await anonymous.POST('/api/leases/{leaseId}/access', { params: { ...second.params, header: { 'x-payment': header } } });
      expect(used.response.status).toBe(402);
      expect(used.error).toMatchObject({ error: 'payment refused: payment_already_used', code: 'PAYMENT_ALREADY_USED', details: { reason: 'payment_already_used' } });
      expect(await payments()).toHaveLength(1);

      const hour = await anonymous.GET('/api/leases/{leaseId}/hour-totals', { params: { path: { leaseId: 'L-1' }, query: { at: bucket } } });
      expect(hour.data).toMatchObject({ bucket, paymentCount: 1, totalAmountMinorUnits: '1000000' });
      const daily = await anonymous.GET('/api/leases/{leaseId}/revenue/daily', lease);
      expect(daily.data?.items[0]).toMatchObject({ leaseId: 'L-1', totalAmountMinorUnits: '1000000', paymentCount: 1 });
      const revenue = await anonymous.GET('/api/assets/{assetId}/revenue', { params: { path: { assetId: 'SAT-ALPHA-1' } } });
      expect(revenue.data).toMatchObject({ totalAmountMinorUnits: '1000000', leases: [{ leaseId: 'L-1', paymentCount: 1 }] });
      const reconcile = await api.GET('/api/system/reconcile');
      expect(reconcile.data).toMatchObject({ consistent: true, differences: [], pendingPayments: [] });
      const activity = await api.GET('/api/system/activity');
      expect(activity.data?.totals).toEqual({ recorded: 1, replayed: 1, pending: 0 });
      expect(activity.data?.recordedInWindow).toBe(1);
      const status = await api.GET('/api/system/status');
      expect(status.data?.counts['x402_payments']).toMatchObject({ count: 1 });
      const metrics = await api.GET('/metrics', { parseAs: 'text' });
      expect(metrics.data).toContain('leasing_x402_payments_total{mode="second",outcome="recorded"} 1');
      expect(metrics.data).toContain('leasing_x402_payments_total{mode="second",outcome="replayed"} 1');
    });

    it('pays in batch-5s mode at five times the per-second price', async () => {
      const anonymous = clientOf(server, null);
      const batch5s = { params: { path: { leaseId: 'L-1' }, query: { mode: 'batch-5s' as const } } };
      const quote = await anonymous.GET('/api/leases/{leaseId}/x402/requirements', batch5s);
      const requirements = quote.data?.accepts[0] as PaymentRequirements;
      expect(requirements).toMatchObject({ amount: '5000000', intervalSeconds: 5 });
      const paid = await anonymous.POST('/api/leases/{leaseId}/access', { params: { ...batch5s.params, header: { 'x-payment': paymentHeader(requirements, { now: new Date(ms) }) } } });
      expect(paid.response.status, JSON.stringify(paid.error)).toBe(200);
      expect(paid.data).toMatchObject({ payment: { mode: 'batch-5s', intervalSeconds: 5, amountMinorUnits: '5000000' } });
    });

    it('ingests and reads contract events, and answers the operational routes, through the client', async () => {
      const api = clientOf(server);
      const event = { eventName: 'LeaseCreated', contractAddress: LESSOR, blockNumber: 7, transactionHash: `0x${'d'.repeat(64)}`, logIndex: 3, args: { leaseId: 'L-1' } };
      expect((await api.POST('/api/events', { body: event })).response.status).toBe(201);
      const again = await api.POST('/api/events', { body: event });
      expect(again.response.status).toBe(200);
      expect(again.data).toMatchObject({ eventName: 'LeaseCreated', processed: false });
      expect((await api.GET('/api/events/unprocessed', { params: { query: { limit: 10 } } })).data?.items.map((e) => e.logIndex)).toEqual([3]);
      expect((await api.GET('/api/events/backlog')).data).toEqual({ count: 1 });
      const one = await api.GET('/api/events/{txHash}/{logIndex}', { params: { path: { txHash: event.transactionHash, logIndex: 3 } } });
      expect(one.data?.args).toEqual({ leaseId: 'L-1' });

      expect((await api.GET('/health')).data).toEqual({ status: 'ok' });
      expect((await api.GET('/ready')).data).toEqual({ status: 'ready' });
      expect((await clientOf(server, null).GET('/api/system/auth')).data).toEqual({ apiKeyRequired: true, scheme: 'bearer' });
      expect((await clientOf(server, null).GET('/api/system/status')).response.status).toBe(401);
      expect((await api.POST('/api/admin/settlements/resolve')).data).toMatchObject({ recorded: [], unknown: [], remaining: 0 });
      expect((await api.POST('/api/admin/pending/replay')).data).toMatchObject({ attempted: 0, remaining: 0 });
    });

    it('maps storage errors to the same statuses', async () => {
      const api = clientOf(server);
      const duplicate = await api.POST('/api/assets', { body: assetBody('SAT-ALPHA-1') });
      expect(duplicate.response.status).toBe(409);
      expect(duplicate.error?.error.code).toBe('DUPLICATE');
      const orphan = await api.POST('/api/leases', { body: leaseBody('L-ORPHAN', 'NO-SUCH-ASSET') });
      expect(orphan.response.status).toBe(422);
      expect(orphan.error?.error.code).toBe('REFERENCE_NOT_FOUND');
      const invalid = await api.POST('/api/leases', { body: { ...leaseBody('L-BAD', 'SAT-ALPHA-1'), agreement: { terms: 'x'.repeat(300_000) } } });
      expect(invalid.response.status).toBe(400);
      expect(invalid.error?.error.code).toBe('VALIDATION');
      const cursor = await api.GET('/api/leases/{leaseId}/payments', { params: { path: { leaseId: 'L-1' }, query: { after: 'not-a-cursor' } } });
      expect(cursor.response.status).toBe(400);
      expect((await api.GET('/api/leases/{leaseId}/payments', { params: { path: { leaseId: 'NOPE' } } })).response.status).toBe(404);
    });

    it('a NUL or a lone surrogate in a key, a filter or a body is 400 VALIDATION on every route, never a 500 or a changed key', async () => {
      const event = { eventName: 'LeaseCreated', contractAddress: LESSOR, blockNumber: 1, transactionHash: `0x${'e'.repeat(64)}`, logIndex: 0, args: {} };
      // In a URL a lone surrogate can only be written as the UTF-8-like bytes of one, which are not UTF-8.
      for (const [bad, inUrl] of [
        ['A\u0000B', 'A%00B'],
        ['\uD800', '%ED%A0%80'],
      ] as const) {
        const paths = [
          `/api/assets/${inUrl}`,
          `/api/assets/${inUrl}/revenue`,
          `/api/leases/${inUrl}`,
          `/api/leases/${inUrl}/payments`,
          `/api/leases/${inUrl}/batches`,
          `/api/leases/${inUrl}/hour-totals`,
          `/api/leases/${inUrl}/revenue/daily`,
          `/api/leases/${inUrl}/x402/requirements`,
          `/api/leases?assetId=${inUrl}`,
          `/api/leases?status=active&assetId=SAT-ALPHA-1${inUrl}`,
        ];
        const requests: [string, string, Parameters<typeof http>[3]][] = [
          ...paths.map((path): [string, string, Parameters<typeof http>[3]] => ['GET', path, {}]),
          ['POST', `/api/leases/${inUrl}/access`, {}],
          ['PATCH', `/api/leases/${inUrl}/status`, { body: { status: 'active' }, headers: AUTH }],
          ['POST', '/api/assets', { body: assetBody(bad), headers: AUTH }],
          ['POST', '/api/assets', { body: { ...assetBody('SAT-KEYS'), metadata: { [bad]: 1 } }, headers: AUTH }],
          ['POST', '/api/leases', { body: leaseBody(bad, 'SAT-ALPHA-1'), headers: AUTH }],
          ['POST', '/api/leases', { body: leaseBody('L-KEYS', bad), headers: AUTH }],
          ['POST', '/api/leases', { body: { ...leaseBody('L-KEYS', 'SAT-ALPHA-1'), agreement: { note: bad } }, headers: AUTH }],
          ['POST', '/api/events', { body: { ...event, eventName: bad }, headers: AUTH }],
          ['POST', '/api/events', { body: { ...event, args: { [bad]: bad } }, headers: AUTH }],
        ];
        for (const [method, path, init] of requests) {
          const answer = await http(base, method, path, init);
          expect(answer.status, `${method} ${path} ${JSON.stringify(init?.body ?? '').slice(0, 60)}`).toBe(400);
          expect(answer.body.error).toMatchObject({ code: 'VALIDATION', message: expect.any(String), details: expect.any(Object) });
        }
      }
      expect((await http(base, 'GET', '/api/assets/SAT-KEYS')).status).toBe(404);
      expect((await http(base, 'GET', '/api/leases/L-KEYS')).status).toBe(404);
    });

    it('lists leases by filter with keyset pagination', async () => {
      const api = clientOf(server);
      for (const id of ['L-2', 'L-3', 'L-4']) {
        expect((await api.POST('/api/leases', { body: leaseBody(id, 'SAT-ALPHA-1') })).response.status).toBe(201);
      }
      const ids: string[] = [];
      let after: string | null = null;
      do {
        const query: { status: 'pending'; lessee: string; limit: number; after?: string } = { status: 'pending', lessee: LESSEE.toLowerCase(), limit: 2, ...(after === null ? {} : { after }) };
        const page = await api.GET('/api/leases', { params: { query } });
        expect(page.response.status).toBe(200);
        ids.push(...(page.data?.items ?? []).map((l) => l.leaseId));
        after = page.data?.nextCursor ?? null;
      } while (after !== null);
      expect(ids).toEqual(['L-2', 'L-3', 'L-4']);
      expect((await api.GET('/api/leases', { params: { query: { assetId: 'SAT-ALPHA-1' } } })).data?.items).toHaveLength(4);
      expect((await api.GET('/api/leases', { params: { query: { status: 'active' } } })).data?.items.map((l) => l.leaseId)).toEqual(['L-1']);
      expect((await api.GET('/api/assets')).data?.items.map((a) => a.assetId)).toEqual(['SAT-ALPHA-1']);
    });
  });
}
