/**
 * Configuration and the security surface: the mode (production unless development is named) and
 * config validation, CORS from the allow list, the API key on writes and operational reads, the
 * reset route that only development mode has, the rate limit of the paid route, and the payer
 * the ledger trusts.
 */
import { describe, expect, it } from 'vitest';
import type { Facilitator } from '../../src/api/facilitator/facilitator.js';
import { LocalFacilitator } from '../../src/api/facilitator/local.js';
import { paymentHeader } from '../../src/api/x402/client.js';
import { ConfigError, loadConfig, testConfig } from '../../src/config.js';
import { API_KEY, AUTH, activeLease, assetBody, http, startApp } from './support.js';
import { backend } from '../support/backends.js';

/** What production mode needs, for tests that start from a valid production configuration. */
const PRODUCTION = { DATABASE_URL: 'postgres://db.example.com/leasing', API_KEY: 'k'.repeat(32), FACILITATOR_URL: 'https://facilitator.example.com' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('fails closed: without LEASING_MODE it is production mode and names everything it misses at once', () => {
    const refused = (() => {
      try {
        loadConfig({});
      } catch (error) {
        return error as ConfigError;
      }
      throw new Error('an empty environment started');
    })();
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused.problems).toEqual([
      expect.stringMatching(/^API_KEY is required in production mode/),
      expect.stringMatching(/^DATABASE_URL is required in production mode/),
      expect.stringMatching(/^FACILITATOR_URL is required in production mode/),
    ]);
    expect(refused.message).toContain('LEASING_MODE is not set');
    expect(refused.message).toContain('npm start');
    // Only a missing one is named.
    expect(problemsOf({ ...PRODUCTION, API_KEY: '' })).toEqual([expect.stringMatching(/^API_KEY is required/)]);
    expect(problemsOf({ ...PRODUCTION, FACILITATOR_URL: 'ftp://x' })).toEqual(['FACILITATOR_URL must be an http(s) URL']);
  });

  it('production mode: PostgreSQL only, production pool defaults, every interface', () => {
    const config = loadConfig(PRODUCTION);
    expect(config).toMatchObject({ mode: 'production', env: 'production', host: '0.0.0.0', apiKey: 'k'.repeat(32) });
    expect(problemsOf({ ...PRODUCTION, USE_MOCK_DATABASE: 'true' })).toEqual([expect.stringContaining('USE_MOCK_DATABASE=true is for development only')]);
    expect(problemsOf({ ...PRODUCTION, LEASING_MODE: 'staging' })).toEqual([expect.stringContaining('LEASING_MODE must be one of development, production')]);
    expect(loadConfig({ ...PRODUCTION, LEASING_MODE: 'production', NODE_ENV: 'test' }).env).toBe('test');
  });

  it('development mode only when named: local facilitator, no key needed, localhost', () => {
    const config = loadConfig({ LEASING_MODE: 'development' });
    expect(config).toMatchObject({ mode: 'development', env: 'development', port: 3001, host: '127.0.0.1', apiKey: undefined, corsOrigins: [], logLevel: 'info' });
    expect(config.facilitator).toMatchObject({ url: undefined, verifyTimeoutMs: 5000, settleTimeoutMs: 30000 });
    expect(config.x402).toMatchObject({ network: 'base-sepolia', assetAddress: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', payTo: undefined });
    expect(config).toMatchObject({ accessRateLimit: { max: 600, windowMs: 60_000 }, trustProxy: false, reconcileRefreshMs: 300_000 });
    expect(problemsOf({ LEASING_MODE: 'development', NODE_ENV: 'production' })).toEqual(['NODE_ENV=production contradicts LEASING_MODE=development']);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ...PRODUCTION,
      LEASING_MODE: 'production',
      PORT: '8080',
      HOST: '127.0.0.1',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      FACILITATOR_URL: 'https://facilitator.example.com/x402/',
      FACILITATOR_VERIFY_TIMEOUT_MS: '1500',
      X402_NETWORK: 'base',
      X402_PAY_TO: '0x0000000000000000000000000000000000000001',
      LOG_LEVEL: 'warn',
      ACCESS_RATE_LIMIT_MAX: '20',
      ACCESS_RATE_LIMIT_WINDOW_SECONDS: '10',
      TRUST_PROXY: '10.0.0.0/8, 192.168.1.1',
      RECONCILE_REFRESH_SECONDS: '30',
      PAYMENT_COMPACTION: 'off',
    });
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', env: 'production', corsOrigins: ['https://app.example.com', 'http://localhost:5173'] });
    expect(config.facilitator).toMatchObject({ url: 'https://facilitator.example.com/x402', verifyTimeoutMs: 1500 });
    expect(config.x402).toMatchObject({ network: 'base', assetAddress: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', assetName: 'USD Coin' });
    expect(config).toMatchObject({ accessRateLimit: { max: 20, windowMs: 10_000 }, trustProxy: ['10.0.0.0/8', '192.168.1.1'], reconcileRefreshMs: 30_000, compactPayments: false });
    expect(loadConfig(PRODUCTION).compactPayments).toBe(true);
    expect(loadConfig({ ...PRODUCTION, TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ ...PRODUCTION, TRUST_PROXY: 'true' }).trustProxy).toBe(true);
  });

  it('lists every invalid value at once', () => {
    const problems = problemsOf({
      LEASING_MODE: 'development',
      PORT: '80a',
      LOG_LEVEL: 'loud',
      CORS_ORIGINS: 'https://ok.example.com/path,*',
      API_KEY: 'short',
      X402_NETWORK: 'solana',
      ACCESS_RATE_LIMIT_MAX: '0',
      TRUST_PROXY: 'everyone',
      RECONCILE_REFRESH_SECONDS: '0',
      PAYMENT_COMPACTION: 'sometimes',
    }).join('\n');
    for (const name of ['PORT', 'LOG_LEVEL', 'CORS_ORIGINS: "https://ok.example.com/path"', 'CORS_ORIGINS: "*"', 'API_KEY', 'X402_ASSET_ADDRESS', 'ACCESS_RATE_LIMIT_MAX', 'TRUST_PROXY', 'RECONCILE_REFRESH_SECONDS', 'PAYMENT_COMPACTION']) {
      expect(problems).toContain(name);
    }
  });
});

describe('security', () => {
  it('answers CORS only for configured origins', async () => {
    const { db } = await backend('memory').open();
    const server = await startApp({ db, config: testConfig({ apiKey: API_KEY, corsOrigins: ['https://app.example.com'] }) });
    try {
      const allowed = await http(server.url, 'GET', '/health', { headers: { origin: 'https://app.example.com' } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const other = await http(server.url, 'GET', '/health', { headers: { origin: 'https://evil.example.com' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await http(server.url, 'OPTIONS', '/api/leases/L-1/access', {
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-payment' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-headers')).toContain('x-payment');
      expect(preflight.headers.get('access-control-expose-headers') ?? allowed.headers.get('access-control-expose-headers')).toContain('payment-response');
      // Every write method the API has, e.g. PUT for a lease's agreement from the browser console.
      const put = await http(server.url, 'OPTIONS', '/api/leases/L-1/agreement', {
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(put.headers.get('access-control-allow-methods')?.split(',').map((m) => m.trim())).toEqual(expect.arrayContaining(['PUT', 'PATCH', 'POST']));
    } finally {
      await server.close();
    }
  });

  it('leaves write routes open without a configured key (development)', async () => {
    const { db } = await backend('memory').open();
    const server = await startApp({ db, config: testConfig() });
    try {
      expect((await http(server.url, 'POST', '/api/assets', { body: assetBody('A-1') })).status).toBe(201);
      expect((await http(server.url, 'POST', '/api/admin/reset')).status).toBe(200);
      expect((await http(server.url, 'GET', '/api/assets')).body.items).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('has no reset route outside development mode', async () => {
    const { db } = await backend('memory').open();
    const server = await startApp({ db, config: testConfig({ mode: 'production', apiKey: API_KEY }) });
    try {
      expect((await http(server.url, 'POST', '/api/admin/reset', { headers: AUTH })).status).toBe(404);
      expect((await http(server.url, 'POST', '/api/admin/pending/replay', { headers: AUTH })).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('operational reads need the key when one is set; liveness and readiness stay open', async () => {
    const { db } = await backend('memory').open();
    const server = await startApp({ db });
    try {
      for (const path of ['/api/system/status', '/api/system/reconcile', '/metrics']) {
        const refused = await http(server.url, 'GET', path);
        expect(refused.status, path).toBe(401);
        expect(refused.body.error.code).toBe('UNAUTHORIZED');
        expect((await http(server.url, 'GET', path, { headers: AUTH })).status, path).toBe(200);
      }
      expect((await http(server.url, 'GET', '/health')).status).toBe(200);
      expect((await http(server.url, 'GET', '/ready')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('status and reconcile never scan per call: estimated counts, and a dated reconcile refreshed at most once per interval', async () => {
    const { db } = await backend('memory').open();
    const calls = { reconcile: 0, summarize: 0, estimate: 0 };
    const reconcile = db.reconcile.bind(db);
    const estimate = db.estimateTableSizes.bind(db);
    db.reconcile = async () => ((calls.reconcile += 1), reconcile());
    db.summarizeTable = async () => {
      calls.summarize += 1;
      throw new Error('status must not summarize a table');
    };
    db.estimateTableSizes = async () => ((calls.estimate += 1), estimate());
    const server = await startApp({ db, config: testConfig({ apiKey: API_KEY, reconcileRefreshMs: 1_500 }) });
    try {
      await activeLease(server.url, 'A-1', 'L-1');
      const status = await http(server.url, 'GET', '/api/system/status', { headers: AUTH });
      expect(status.body).toMatchObject({ mode: 'development', counts: { assets: { count: 1, exact: true }, leases: { count: 1, exact: true } }, pendingPayments: { count: 0, damagedLines: 0 } });
      const answers = await Promise.all(Array.from({ length: 5 }, () => http(server.url, 'GET', '/api/system/reconcile', { headers: AUTH })));
      const first = answers[0]?.body;
      expect(first).toMatchObject({ consistent: true, checkedAt: expect.any(String), nextCheckAfter: expect.any(String) });
      expect(Date.parse(first.nextCheckAfter) - Date.parse(first.checkedAt)).toBe(1_500);
      expect(new Set(answers.map((a) => a.body.checkedAt)).size).toBe(1);
      expect(calls.reconcile).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      const later = await http(server.url, 'GET', '/api/system/reconcile', { headers: AUTH });
      expect(Date.parse(later.body.checkedAt)).toBeGreaterThan(Date.parse(first.checkedAt));
      expect(calls.reconcile).toBe(2);
      expect(calls.summarize).toBe(0);
      expect(calls.estimate).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('rate-limits the paid route per client with 429 RATE_LIMITED and Retry-After, and nothing else', async () => {
    const { db } = await backend('memory').open();
    const config = testConfig({ apiKey: API_KEY, accessRateLimit: { max: 3, windowMs: 60_000 }, trustProxy: true });
    const server = await startApp({ db, config });
    try {
      await activeLease(server.url, 'A-1', 'L-1');
      const from = (client: string) => ({ 'x-forwarded-for': client });
      for (let i = 0; i < 3; i += 1) expect((await http(server.url, 'POST', '/api/leases/L-1/access', { headers: from('203.0.113.1') })).status).toBe(402);
      const limited = await http(server.url, 'POST', '/api/leases/L-1/access', { headers: from('203.0.113.1') });
      expect(limited.status).toBe(429);
      expect(limited.body).toEqual({ error: { code: 'RATE_LIMITED', message: expect.stringContaining('at most 3 per 60 s'), details: { limit: 3, retryAfterSeconds: expect.any(Number) } } });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another client is not limited by the first one, and other routes are not limited at all.
      expect((await http(server.url, 'POST', '/api/leases/L-1/access', { headers: from('203.0.113.2') })).status).toBe(402);
      for (let i = 0; i < 5; i += 1) expect((await http(server.url, 'GET', '/api/leases/L-1/x402/requirements', { headers: from('203.0.113.1') })).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('records the payer the facilitator verified, not the one the header claims', async () => {
    const verifiedPayer = '0x8888888888888888888888888888888888888888';
    const local = new LocalFacilitator();
    const facilitator: Facilitator = {
      kind: 'test',
      verify: async (payload, requirements) => ({ ...(await local.verify(payload, requirements)), payer: verifiedPayer }),
      settle: (payload, requirements) => local.settle(payload, requirements),
      supported: () => local.supported(),
    };
    const { db } = await backend('memory').open();
    const server = await startApp({ db, facilitator });
    try {
      await activeLease(server.url, 'A-1', 'L-1');
      const quote = (await http(server.url, 'GET', '/api/leases/L-1/x402/requirements')).body.accepts[0];
      const paid = await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': paymentHeader(quote) } });
      expect(paid.body.payment.payer).toBe(verifiedPayer);
    } finally {
      await server.close();
    }
  });
});
