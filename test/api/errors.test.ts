/**
 * Every error status the API promises, each produced over real HTTP, always in the one error
 * format and never with a stack trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentHeader, THROWAWAY_PAYER } from '../../src/api/x402/client.js';
import { encodeJsonHeader } from '../../src/api/x402/payment-header.js';
import type { PaymentRequirements } from '../../src/api/x402/types.js';
import { MockDatabase } from '../../src/storage/backends/memory/mock-database.js';
import { AUTH, type Answer, type Running, activeLease, assetBody, http, leaseBody, startApp } from './support.js';
import { backend, type OpenBackend } from '../support/backends.js';

const PAYER = THROWAWAY_PAYER.address;

/** A 402: x402 v1's body (`error` is a message string) with this API's code and details beside it. */
function expectPaymentRequired(answer: Answer, code: string): void {
  expect(answer.status).toBe(402);
  expect(answer.body).toMatchObject({ x402Version: 1, error: expect.any(String), accepts: [expect.any(Object)], code, details: expect.any(Object) });
}

function expectError(answer: Answer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.body).toMatchObject({ error: { code, message: expect.any(String), details: expect.any(Object) } });
  expect(JSON.stringify(answer.body)).not.toMatch(/ at .*\.(ts|js):\d+/);
}

describe('error statuses', () => {
  let handle: OpenBackend;
  let server: Running;
  let base: string;
  let requirements: PaymentRequirements;

  beforeAll(async () => {
    handle = await backend('memory').open();
    server = await startApp({ db: handle.db });
    base = server.url;
    await activeLease(base, 'A-1', 'L-1');
    requirements = (await http(base, 'GET', '/api/leases/L-1/x402/requirements')).body.accepts[0];
  });
  afterAll(async () => {
    await server?.close();
    await handle?.dispose();
  });

  it('400 on schema violations: wrong types, unknown fields, bad params', async () => {
    expectError(await http(base, 'POST', '/api/assets', { body: { ...assetBody('A-2'), chainId: '84532' }, headers: AUTH }), 400, 'VALIDATION');
    const unknown = await http(base, 'POST', '/api/assets', { body: { ...assetBody('A-2'), owner: 'me' }, headers: AUTH });
    expectError(unknown, 400, 'VALIDATION');
    expect(unknown.body.error.details.issues[0]).toMatchObject({ property: 'owner' });
    expectError(await http(base, 'GET', '/api/assets/by-token/0x123'), 400, 'VALIDATION');
    expectError(await http(base, 'GET', '/api/leases?status=paused'), 400, 'VALIDATION');
    expectError(await http(base, 'GET', '/api/leases/L-1/x402/requirements?mode=minute'), 400, 'VALIDATION');
    expectError(await http(base, 'GET', '/api/leases/L-1/hour-totals?at=yesterday'), 400, 'VALIDATION');
    expectError(await http(base, 'GET', '/api/leases/L-1/revenue/daily?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z'), 400, 'VALIDATION');
    expectError(await http(base, 'GET', '/api/events/0xabc/1'), 400, 'VALIDATION');
  });

  it('400 on malformed JSON', async () => {
    expectError(await http(base, 'POST', '/api/assets', { raw: '{"assetId": ', headers: AUTH }), 400, 'MALFORMED_JSON');
    expectError(await http(base, 'POST', '/api/assets', { raw: '', headers: AUTH }), 400, 'MALFORMED_JSON');
  });

  it('400 on a malformed payment header, never 500', async () => {
    const bad = [
      '%%%not-base64%%%',
      Buffer.from('not json').toString('base64'),
      encodeJsonHeader({ x402Version: 1, scheme: 'exact' }),
      encodeJsonHeader({ x402Version: 1, scheme: 'exact', network: 'base-sepolia', payload: { authorization: { from: PAYER, to: PAYER, value: '-1', validAfter: '0', validBefore: '1', nonce: '0x1' } } }),
      encodeJsonHeader([1, 2, 3]),
    ];
    for (const header of bad) {
      expectError(await http(base, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': header } }), 400, 'MALFORMED_PAYMENT');
    }
  });

  it('401 on write and admin routes without the key, 200 with it; the access route needs none', async () => {
    expectError(await http(base, 'POST', '/api/assets', { body: assetBody('A-3') }), 401, 'UNAUTHORIZED');
    const wrong = await http(base, 'POST', '/api/assets', { body: assetBody('A-3'), headers: { authorization: 'Bearer wrong-key-wrong-key' } });
    expectError(wrong, 401, 'UNAUTHORIZED');
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expectError(await http(base, 'PATCH', '/api/leases/L-1/status', { body: { status: 'completed' } }), 401, 'UNAUTHORIZED');
    expectError(await http(base, 'POST', '/api/admin/pending/replay'), 401, 'UNAUTHORIZED');
    expect((await http(base, 'POST', '/api/admin/pending/replay', { headers: AUTH })).status).toBe(200);
    expect((await http(base, 'GET', '/api/assets')).status).toBe(200);
    expect((await http(base, 'POST', '/api/leases/L-1/access')).status).toBe(402);
  });

  it('402 for a missing, insufficient or invalid payment, with fresh requirements', async () => {
    const low = await http(base, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': paymentHeader(requirements, { from: PAYER, value: '999999' }) } });
    expectPaymentRequired(low, 'PAYMENT_INVALID');
    expect(low.body.details.reason).toBe('insufficient_amount');
    expect(low.headers.get('payment-required')).toBeTruthy();
    const elsewhere = paymentHeader({ ...requirements, payTo: PAYER }, { from: PAYER });
    const wrongPayee = await http(base, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': elsewhere } });
    expectPaymentRequired(wrongPayee, 'PAYMENT_INVALID');
    expect(wrongPayee.body.details.reason).toBe('invalid_pay_to');
    const expired = paymentHeader(requirements, { from: PAYER, validAfter: '0', validBefore: '1' });
    expectPaymentRequired(await http(base, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': expired } }), 'PAYMENT_INVALID');
    expect((await http(base, 'GET', '/api/leases/L-1/payments')).body.items).toHaveLength(0);
  });

  it('403 for a lease that is not active or outside its term', async () => {
    expect((await http(base, 'POST', '/api/leases', { body: leaseBody('L-PENDING', 'A-1'), headers: AUTH })).status).toBe(201);
    expectError(await http(base, 'POST', '/api/leases/L-PENDING/access'), 403, 'LEASE_NOT_ACTIVE');
    await activeLease(base, 'A-1', 'L-PAST', { startDate: '2024-06-01T00:00:00.000Z', endDate: '2025-06-01T00:00:00.000Z' });
    expectError(await http(base, 'POST', '/api/leases/L-PAST/access'), 403, 'OUTSIDE_LEASE_WINDOW');
  });

  it('404 for unknown routes and records', async () => {
    expectError(await http(base, 'GET', '/api/nothing-here'), 404, 'NOT_FOUND');
    expectError(await http(base, 'GET', '/api/assets/NO-SUCH'), 404, 'NOT_FOUND');
    expectError(await http(base, 'GET', '/api/leases/NO-SUCH'), 404, 'NOT_FOUND');
    expectError(await http(base, 'POST', '/api/leases/NO-SUCH/access'), 404, 'NOT_FOUND');
    expectError(await http(base, 'GET', `/api/events/0x${'1'.repeat(64)}/0`), 404, 'NOT_FOUND');
  });

  it('409 on duplicates, invalid transitions and unpriced leases', async () => {
    expectError(await http(base, 'POST', '/api/assets', { body: assetBody('A-1'), headers: AUTH }), 409, 'DUPLICATE');
    const back = await http(base, 'PATCH', '/api/leases/L-1/status', { body: { status: 'pending' }, headers: AUTH });
    expectError(back, 409, 'INVALID_TRANSITION');
    expect(back.body.error.details).toMatchObject({ from: 'active', to: 'pending', allowed: ['completed', 'terminated'] });
    await activeLease(base, 'A-1', 'L-FREE', { paymentAmount: 'a lot' });
    expectError(await http(base, 'GET', '/api/leases/L-FREE/x402/requirements'), 409, 'LEASE_NOT_PAYABLE');
  });

  it('413 on a body over 1 MB', async () => {
    const huge = { ...assetBody('A-BIG'), metadata: { blob: 'x'.repeat(1_100_000) } };
    expectError(await http(base, 'POST', '/api/assets', { body: huge, headers: AUTH }), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('422 on a missing reference', async () => {
    expectError(await http(base, 'POST', '/api/leases', { body: leaseBody('L-X', 'NO-ASSET'), headers: AUTH }), 422, 'REFERENCE_NOT_FOUND');
  });

  it('500 hides the failure of an unexpected error', async () => {
    const db = new MockDatabase();
    await db.connect();
    db.getAssetsPage = async () => {
      throw new Error('secret internals at /srv/app.js:12');
    };
    const broken = await startApp({ db });
    try {
      const answer = await http(broken.url, 'GET', '/api/assets');
      expectError(answer, 500, 'INTERNAL');
      expect(JSON.stringify(answer.body)).not.toContain('secret');
    } finally {
      await broken.close();
    }
  });

  it('503 when the database is not connected, and /ready says so', async () => {
    const db = new MockDatabase();
    await db.connect();
    const app = await startApp({ db });
    try {
      expect((await http(app.url, 'GET', '/ready')).status).toBe(200);
      await db.disconnect();
      const down = await http(app.url, 'GET', '/api/assets/A-1');
      expectError(down, 503, 'NOT_CONNECTED');
      expect(down.headers.get('retry-after')).toBe('1');
      expectError(await http(app.url, 'GET', '/ready'), 503, 'NOT_READY');
      expect((await http(app.url, 'GET', '/health')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('503 from /ready while a migration is pending', async () => {
    const schema = { status: async () => [{ version: 3, name: 'keyset_indexes', state: 'pending' as const }], up: handle.db.schema.up };
    const app = await startApp({ db: handle.db, schema });
    try {
      const answer = await http(app.url, 'GET', '/ready');
      expectError(answer, 503, 'MIGRATIONS_NOT_CURRENT');
      expect(answer.body.error.details.migrations).toEqual([{ version: 3, name: 'keyset_indexes', state: 'pending' }]);
    } finally {
      await app.close();
    }
  });
});
