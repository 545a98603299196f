/**
 * Every error status the API promises, each produced over real HTTP, always in the one error
 * format and never with a stack trace: the routes' own, and fastify's and Node's (unknown route
 * or method, long or malformed URL, oversized headers, malformed HTTP, body size and type, JSON,
 * schema validation, shutting down); the rate limit's 429 is in security.test.ts.
 */
import { connect } from 'node:net';
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

/** Sends `request` as it is over a socket (what a client Node itself refuses might send) and reads the answer. */
function rawHttp(base: string, request: string): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    let data = '';
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(request));
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', () => undefined); // the server closes the socket after answering, maybe mid-write
    socket.on('close', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = new Headers(lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()] as [string, string]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: body === '' ? undefined : JSON.parse(body) });
    });
  });
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

  it('405 with Allow for a known path and another method', async () => {
    const put = await http(base, 'PUT', '/api/assets', { body: assetBody('A-9'), headers: AUTH });
    expectError(put, 405, 'METHOD_NOT_ALLOWED');
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    const del = await http(base, 'DELETE', '/api/leases/L-1');
    expectError(del, 405, 'METHOD_NOT_ALLOWED');
    expect(del.body.error.details).toEqual({ allowed: ['GET', 'HEAD'] });
  });

  it('414 for a URL over 8 KiB, a path segment over the router limit, and a request line over Node\'s limit', async () => {
    expectError(await http(base, 'GET', `/api/assets?limit=1&${'x'.repeat(9_000)}=1`), 414, 'URI_TOO_LONG');
    expectError(await http(base, 'GET', `/api/assets/${'a'.repeat(2_000)}`), 414, 'URI_TOO_LONG');
    expectError(await rawHttp(base, `GET /api/assets?${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`), 414, 'URI_TOO_LONG');
  });

  it('431 for headers over Node\'s limit, 400 for a request that is not HTTP', async () => {
    expectError(await rawHttp(base, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`), 431, 'HEADERS_TOO_LARGE');
    expectError(await rawHttp(base, 'NOT HTTP AT ALL\r\n\r\n'), 400, 'BAD_REQUEST');
  });

  it('400 VALIDATION for a URL that is not valid percent-encoded UTF-8, in the path or the query', async () => {
    for (const path of ['/api/assets/%ED%A0%80', '/api/assets/%', '/api/events/0x1/%ZZ', '/api/leases?assetId=%ED%A0%80', '/api/leases?assetId=%E0%A4%A', '/api/nothing%']) {
      const answer = await http(base, 'GET', path);
      expectError(answer, 400, 'VALIDATION');
      expect(answer.body.error.message, path).toBe('the URL is not valid percent-encoded UTF-8');
    }
  });

  it('503 SHUTTING_DOWN in the one format for a request that arrives while the service closes', async () => {
    const db = new MockDatabase();
    await db.connect();
    const app = await startApp({ db });
    try {
      app.app.appContext.closing = true;
      const answer = await http(app.url, 'GET', '/api/assets');
      expectError(answer, 503, 'SHUTTING_DOWN');
      expect(answer.headers.get('connection')).toBe('close');
    } finally {
      app.app.appContext.closing = false;
      await app.close();
    }
  });

  it('413 on a body over 1 MB', async () => {
    const huge = { ...assetBody('A-BIG'), metadata: { blob: 'x'.repeat(1_100_000) } };
    expectError(await http(base, 'POST', '/api/assets', { body: huge, headers: AUTH }), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('415 on a body that is not JSON, text/plain included', async () => {
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      expectError(await http(base, 'POST', '/api/assets', { raw: 'assetId=A-1', headers: { ...AUTH, 'content-type': type } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
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
