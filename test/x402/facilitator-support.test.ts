/**
 * A remote facilitator through the official HTTP client: the service asks GET /supported before
 * it listens and refuses to start unless `exact` is supported on X402_NETWORK; each payment goes
 * to /verify and /settle with requirements in the payment's own x402 version; a 4xx refusal is
 * an answer (402), a 5xx is not (502).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpFacilitator } from '../../src/api/facilitator/http.js';
import { LocalFacilitator } from '../../src/api/facilitator/local.js';
import { paymentHeader } from '../../src/api/x402/client.js';
import { testConfig } from '../../src/config.js';
import { ServiceStartError, startService } from '../../src/service.js';
import { activeLease, API_KEY, http, startApp, type Running } from '../api/support.js';
import { backend } from '../support/backends.js';
import { serveLocalFacilitator, type FacilitatorServerOptions } from './support.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fakeFacilitator(options: FacilitatorServerOptions = {}): Promise<{ url: string; bodies: Record<string, unknown>[] }> {
  const app: FastifyInstance = Fastify();
  const bodies: Record<string, unknown>[] = [];
  app.addHook('preHandler', async (request) => {
    if (request.method === 'POST') bodies.push({ op: request.url, ...(request.body as object) });
  });
  serveLocalFacilitator(app, options);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => app.close());
  return { url, bodies };
}

const kinds = (...list: [number, string][]) => async () => ({ kinds: list.map(([x402Version, network]) => ({ x402Version, scheme: 'exact', network })) });

async function appWith(url: string, network?: string): Promise<Running> {
  const { db, dispose } = await backend('memory').open();
  cleanups.push(dispose);
  const config = testConfig({ apiKey: API_KEY });
  const server = await startApp({
    db,
    config: network === undefined ? config : { ...config, x402: { ...config.x402, network } },
    facilitator: new HttpFacilitator({ url, verifyTimeoutMs: 2000, settleTimeoutMs: 2000 }),
  });
  cleanups.push(() => server.close());
  return server;
}

describe('the facilitator is checked before the service listens', () => {
  it('refuses to start when the facilitator does not support exact on the configured network', async () => {
    const { url } = await fakeFacilitator({ supported: kinds([1, 'base'], [2, 'eip155:8453'], [2, 'solana:devnet']) });
    await expect(appWith(url)).rejects.toThrow(
      /the http facilitator does not support the exact scheme on base-sepolia \(eip155:84532\), the configured X402_NETWORK; it supports: v1 exact on base, v2 exact on eip155:8453/,
    );
  });

  it('refuses to start when the facilitator does not answer GET /supported', async () => {
    const app = Fastify();
    app.post('/verify', async () => ({ isValid: true }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => app.close());
    await expect(appWith(url)).rejects.toThrow(/the http facilitator did not say what it supports \(GET \/supported\)/);
  });

  it('refuses an X402_NETWORK it cannot name in both versions', async () => {
    const { db, dispose } = await backend('memory').open();
    cleanups.push(dispose);
    const config = testConfig();
    await expect(startApp({ db, config: { ...config, x402: { ...config.x402, network: 'polygon' } } })).rejects.toThrow(/X402_NETWORK "polygon" is not a network/);
  });

  it('startService refuses to start with a clear message', async () => {
    const { url } = await fakeFacilitator({ supported: kinds([1, 'base']) });
    const env = { LEASING_MODE: 'development', NODE_ENV: 'test', USE_MOCK_DATABASE: 'true', LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0', FACILITATOR_URL: url };
    const started = startService({ env, signals: false });
    await expect(started).rejects.toBeInstanceOf(ServiceStartError);
    await expect(started).rejects.toThrow(/does not support the exact scheme on base-sepolia/);
  });

  it('starts with a facilitator that supports only one version (v2 by wildcard) or names the network by its CAIP-2 id', async () => {
    const { url } = await fakeFacilitator({ supported: kinds([2, 'eip155:*']) });
    await appWith(url);
    const local = await fakeFacilitator();
    const server = await appWith(local.url, 'eip155:84532');
    await activeLease(server.url, 'A-1', 'L-1');
    const quote = (await http(server.url, 'GET', '/api/leases/L-1/x402/requirements')).body.accepts[0];
    expect(quote.network).toBe('base-sepolia');
  });
});

describe('payments through the official HTTP facilitator client', () => {
  it('sends each payment with requirements in its own version, and records the verified payer', async () => {
    const { url, bodies } = await fakeFacilitator();
    const server = await appWith(url);
    await activeLease(server.url, 'A-1', 'L-1');
    const quote = (await http(server.url, 'GET', '/api/leases/L-1/x402/requirements')).body.accepts[0];

    const v1 = await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': paymentHeader(quote) } });
    expect(v1.status).toBe(200);
    expect(bodies.at(-1)).toMatchObject({
      op: '/settle',
      x402Version: 1,
      paymentPayload: { x402Version: 1, scheme: 'exact', network: 'base-sepolia' },
      paymentRequirements: { network: 'base-sepolia', maxAmountRequired: '1000000', resource: quote.resource, asset: quote.asset },
    });
    const v2 = await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'payment-signature': paymentHeader(quote, { version: 2 }) } });
    expect(v2.status).toBe(200);
    expect(bodies.at(-1)).toMatchObject({
      op: '/settle',
      x402Version: 2,
      paymentPayload: { x402Version: 2, accepted: { network: 'eip155:84532', amount: '1000000' } },
      paymentRequirements: { network: 'eip155:84532', amount: '1000000', payTo: quote.payTo, extra: { name: 'USDC', version: '2' } },
    });
    expect(bodies.at(-1)?.['paymentRequirements']).not.toHaveProperty('maxAmountRequired');
  });

  it('a 4xx refusal is a 402 with its reason; a 5xx is a 502', async () => {
    let status = 400;
    const app = Fastify();
    const local = new LocalFacilitator();
    app.get('/supported', async () => ({ kinds: await local.supported() }));
    app.post('/verify', async (_request, reply) => reply.code(status).send({ isValid: false, invalidReason: 'insufficient_funds', payer: 7 }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => app.close());
    const server = await appWith(url);
    await activeLease(server.url, 'A-1', 'L-1');
    const quote = (await http(server.url, 'GET', '/api/leases/L-1/x402/requirements')).body.accepts[0];
    const refused = await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': paymentHeader(quote) } });
    expect(refused.status).toBe(402);
    expect(refused.body.details.reason).toBe('insufficient_funds');
    status = 503;
    const failed = await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': paymentHeader(quote) } });
    expect(failed.status).toBe(502);
    expect(failed.body.error).toMatchObject({ code: 'FACILITATOR_UNAVAILABLE', details: { operation: 'verify' } });
  });
});
