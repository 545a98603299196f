/**
 * Configuration and the security surface: config validation, CORS from the allow list, the API
 * key, the reset route that production does not have, and the payer the ledger trusts.
 */
import { describe, expect, it } from 'vitest';
import type { Facilitator } from '../../src/api/facilitator/facilitator.js';
import { LocalFacilitator } from '../../src/api/facilitator/local.js';
import { paymentHeader } from '../../src/api/x402/client.js';
import { ConfigError, loadConfig, testConfig } from '../../src/config.js';
import { API_KEY, AUTH, activeLease, assetBody, http, startApp } from './support.js';
import { backend } from '../support/backends.js';

describe('configuration', () => {
  it('has development defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ env: 'development', port: 3001, host: '0.0.0.0', apiKey: undefined, corsOrigins: [], logLevel: 'info' });
    expect(config.facilitator).toMatchObject({ url: undefined, verifyTimeoutMs: 5000, settleTimeoutMs: 30000 });
    expect(config.x402).toMatchObject({ network: 'base-sepolia', assetAddress: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', payTo: undefined });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      API_KEY: 'k'.repeat(32),
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      FACILITATOR_URL: 'https://facilitator.example.com/x402/',
      FACILITATOR_VERIFY_TIMEOUT_MS: '1500',
      X402_NETWORK: 'base',
      X402_PAY_TO: '0x0000000000000000000000000000000000000001',
      LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', env: 'production', corsOrigins: ['https://app.example.com', 'http://localhost:5173'] });
    expect(config.facilitator).toMatchObject({ url: 'https://facilitator.example.com/x402', verifyTimeoutMs: 1500 });
    expect(config.x402).toMatchObject({ network: 'base', assetAddress: '0x833589fCD6eDb6E08f4c7C32D4a71b54bdA02913', assetName: 'USD Coin' });
  });

  it('lists every invalid value at once', () => {
    const bad = () => loadConfig({ PORT: '80a', LOG_LEVEL: 'loud', CORS_ORIGINS: 'https://ok.example.com/path,*', API_KEY: 'short', X402_NETWORK: 'solana' });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      for (const name of ['PORT', 'LOG_LEVEL', 'CORS_ORIGINS: "https://ok.example.com/path"', 'CORS_ORIGINS: "*"', 'API_KEY', 'X402_ASSET_ADDRESS']) {
        expect(problems).toContain(name);
      }
    }
  });

  it('refuses production without an API key or a facilitator URL', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/API_KEY is required[\s\S]*FACILITATOR_URL is required/);
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

  it('has no reset route in production', async () => {
    const { db } = await backend('memory').open();
    const server = await startApp({ db, config: testConfig({ env: 'production', apiKey: API_KEY }) });
    try {
      expect((await http(server.url, 'POST', '/api/admin/reset', { headers: AUTH })).status).toBe(404);
      expect((await http(server.url, 'POST', '/api/admin/pending/replay', { headers: AUTH })).status).toBe(200);
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
