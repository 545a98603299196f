/**
 * The protocol's flow over real HTTP, written once and run on every backend (memory.test.ts,
 * pglite.test.ts, postgres.test.ts): asset, lease, activation, quote, 402, payment, 200, the
 * payment once in the ledger and in its batch, a replayed header not counted twice; plus the
 * storage-mapped statuses, which each backend must produce the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSettlementHash } from '../../src/api/facilitator/local.js';
import { paymentHeader, THROWAWAY_PAYER } from '../../src/api/x402/client.js';
import type { PaymentRequirements } from '../../src/api/x402/types.js';
import { decodePaymentHeader } from '../../src/api/x402/payment-header.js';
import { AUTH, LESSEE, LESSOR, type Running, assetBody, decodeHeader, http, leaseBody, startApp } from './support.js';
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
      const created = await http(base, 'POST', '/api/assets', { body: assetBody('SAT-ALPHA-1'), headers: AUTH });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ assetId: 'SAT-ALPHA-1', chainId: 84532, metadata: { name: 'Satellite Alpha-1' } });
      expect((await http(base, 'GET', '/api/assets/SAT-ALPHA-1')).body.assetId).toBe('SAT-ALPHA-1');

      expect((await http(base, 'POST', '/api/leases', { body: leaseBody('L-1', 'SAT-ALPHA-1'), headers: AUTH })).status).toBe(201);
      const activated = await http(base, 'PATCH', '/api/leases/L-1/status', { body: { status: 'active' }, headers: AUTH });
      expect(activated.status).toBe(200);
      expect(activated.body.status).toBe('active');

      const quote = await http(base, 'GET', '/api/leases/L-1/x402/requirements?mode=second');
      expect(quote.status).toBe(200);
      const requirements = quote.body.accepts[0] as PaymentRequirements;
      expect(requirements).toMatchObject({ scheme: 'exact', network: 'base-sepolia', amount: '1000000', payTo: LESSOR, mode: 'second', intervalSeconds: 1 });
      expect(requirements.resource).toContain('/api/leases/L-1/access?mode=second');
      expect(quote.body.quote.hourlyPriceMinorUnits).toBe('3600000000');

      const unpaid = await http(base, 'POST', '/api/leases/L-1/access?mode=second');
      expect(unpaid.status).toBe(402);
      expect(unpaid.body).toMatchObject({ x402Version: 1, error: 'payment required', code: 'PAYMENT_REQUIRED' });
      expect(unpaid.body.accepts[0]).toMatchObject({ amount: '1000000', maxAmountRequired: '1000000', network: 'base-sepolia', payTo: LESSOR });
      expect(decodeHeader(unpaid.headers.get('payment-required'))).toMatchObject({ x402Version: 2, accepts: [{ amount: '1000000', network: 'eip155:84532' }] });

      const header = paymentHeader(requirements);
      const payload = decodePaymentHeader(header);
      const paid = await http(base, 'POST', '/api/leases/L-1/access?mode=second', { headers: { 'x-payment': header } });
      expect(paid.status).toBe(200);
      expect(paid.body).toMatchObject({ access: 'granted', ledger: 'recorded', payment: { amountMinorUnits: '1000000', payer: PAYER, mode: 'second' } });
      const txHash = localSettlementHash(payload.payload.authorization);
      expect(decodeHeader(paid.headers.get('payment-response'))).toMatchObject({ success: true, transaction: txHash });
      expect(paid.headers.get('x-payment-response')).toBe(paid.headers.get('payment-response'));

      const ledger = await http(base, 'GET', '/api/leases/L-1/payments');
      expect(ledger.body.items.filter((p: { facilitatorTxHash: string }) => p.facilitatorTxHash === txHash)).toHaveLength(1);
      const bucket = paid.body.payment.bucketSlot as string;
      const batchOf = async () => (await http(base, 'GET', '/api/leases/L-1/batches')).body.items.find((b: { hourBucket: string }) => b.hourBucket === bucket);
      expect(await batchOf()).toMatchObject({ paymentCount: 1, totalAmountMinorUnits: '1000000' });

      // The same header again inside the interval it paid for (x402 v2 name): the same grant,
      // recorded once.
      const replay = await http(base, 'POST', '/api/leases/L-1/access?mode=second', { headers: { 'payment-signature': header } });
      expect(replay.status).toBe(200);
      expect(replay.body.ledger).toBe('replayed');
      expect(replay.body.payment.id).toBe(paid.body.payment.id);
      expect(decodeHeader(replay.headers.get('payment-response'))).toMatchObject({ success: true, transaction: txHash });
      // The payment's timestamp is the instant it was priced at, so its hour is the priced one.
      expect(paid.body.payment.paymentTimestamp < requirements.intervalStart).toBe(false);
      expect((await http(base, 'GET', '/api/leases/L-1/payments')).body.items).toHaveLength(1);
      expect(await batchOf()).toMatchObject({ paymentCount: 1, totalAmountMinorUnits: '1000000' });

      // Once the interval is over, the same payment buys nothing more.
      ms += 1000;
      const used = await http(base, 'POST', '/api/leases/L-1/access?mode=second', { headers: { 'x-payment': header } });
      expect(used.status).toBe(402);
      expect(used.body).toMatchObject({ error: 'payment refused: payment_already_used', code: 'PAYMENT_ALREADY_USED', details: { reason: 'payment_already_used' } });
      expect((await http(base, 'GET', '/api/leases/L-1/payments')).body.items).toHaveLength(1);

      const hour = await http(base, 'GET', `/api/leases/L-1/hour-totals?at=${encodeURIComponent(bucket)}`);
      expect(hour.body).toMatchObject({ bucket, paymentCount: 1, totalAmountMinorUnits: '1000000' });
      const daily = await http(base, 'GET', '/api/leases/L-1/revenue/daily');
      expect(daily.body.items[0]).toMatchObject({ leaseId: 'L-1', totalAmountMinorUnits: '1000000', paymentCount: 1 });
      const revenue = await http(base, 'GET', '/api/assets/SAT-ALPHA-1/revenue');
      expect(revenue.body).toMatchObject({ totalAmountMinorUnits: '1000000', leases: [{ leaseId: 'L-1', paymentCount: 1 }] });
      const reconcile = await http(base, 'GET', '/api/system/reconcile', { headers: AUTH });
      expect(reconcile.body).toMatchObject({ consistent: true, differences: [], pendingPayments: [] });
      const metrics = await http(base, 'GET', '/metrics', { headers: AUTH });
      expect(metrics.body).toContain('leasing_x402_payments_total{mode="second",outcome="recorded"} 1');
      expect(metrics.body).toContain('leasing_x402_payments_total{mode="second",outcome="replayed"} 1');
    });

    it('pays in batch-5s mode at five times the per-second price', async () => {
      const quote = await http(base, 'GET', '/api/leases/L-1/x402/requirements?mode=batch-5s');
      const requirements = quote.body.accepts[0] as PaymentRequirements;
      expect(requirements).toMatchObject({ amount: '5000000', intervalSeconds: 5 });
      const paid = await http(base, 'POST', '/api/leases/L-1/access?mode=batch-5s', { headers: { 'x-payment': paymentHeader(requirements) } });
      expect(paid.status).toBe(200);
      expect(paid.body.payment).toMatchObject({ mode: 'batch-5s', intervalSeconds: 5, amountMinorUnits: '5000000' });
    });

    it('maps storage errors to the same statuses', async () => {
      const duplicate = await http(base, 'POST', '/api/assets', { body: assetBody('SAT-ALPHA-1'), headers: AUTH });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.error.code).toBe('DUPLICATE');
      const orphan = await http(base, 'POST', '/api/leases', { body: leaseBody('L-ORPHAN', 'NO-SUCH-ASSET'), headers: AUTH });
      expect(orphan.status).toBe(422);
      expect(orphan.body.error.code).toBe('REFERENCE_NOT_FOUND');
      const invalid = await http(base, 'POST', '/api/leases', { body: { ...leaseBody('L-BAD', 'SAT-ALPHA-1'), agreement: { terms: 'x'.repeat(300_000) } }, headers: AUTH });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toBe('VALIDATION');
      const cursor = await http(base, 'GET', '/api/leases/L-1/payments?after=not-a-cursor');
      expect(cursor.status).toBe(400);
      expect((await http(base, 'GET', '/api/leases/NOPE/payments')).status).toBe(404);
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
      for (const id of ['L-2', 'L-3', 'L-4']) {
        expect((await http(base, 'POST', '/api/leases', { body: leaseBody(id, 'SAT-ALPHA-1'), headers: AUTH })).status).toBe(201);
      }
      const ids: string[] = [];
      let after: string | null = null;
      do {
        const query: string = after === null ? '' : `&after=${after}`;
        const page = await http(base, 'GET', `/api/leases?status=pending&lessee=${LESSEE.toLowerCase()}&limit=2${query}`);
        expect(page.status).toBe(200);
        ids.push(...page.body.items.map((l: { leaseId: string }) => l.leaseId));
        after = page.body.nextCursor;
      } while (after !== null);
      expect(ids).toEqual(['L-2', 'L-3', 'L-4']);
      expect((await http(base, 'GET', '/api/leases?assetId=SAT-ALPHA-1')).body.items).toHaveLength(4);
      expect((await http(base, 'GET', '/api/leases?status=active')).body.items.map((l: { leaseId: string }) => l.leaseId)).toEqual(['L-1']);
    });
  });
}
