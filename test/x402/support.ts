/**
 * Helpers of the x402 tests: a service with a lease on sale, and a remote facilitator server
 * (x402's GET /supported, POST /verify, POST /settle) backed by the local facilitator, for the
 * HTTP client and the service to talk to.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { LocalFacilitator } from '../../src/api/facilitator/local.js';
import { networkByName } from '../../src/api/x402/networks.js';
import { decodePaymentHeader, encodeJsonHeader } from '../../src/api/x402/payment-header.js';
import type { PaymentPayload, PaymentRequirements } from '../../src/api/x402/types.js';
import { activeLease, http, LESSOR, startApp, type Running } from '../api/support.js';
import { backend, type OpenBackend } from '../support/backends.js';

/** A quote of 1,000 minor units of Base Sepolia USDC for one second of lease L-1, for tests that need requirements without a service. */
export const SAMPLE_REQUIREMENTS: PaymentRequirements = {
  scheme: 'exact',
  network: 'base-sepolia',
  asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
  amount: '1000',
  maxAmountRequired: '1000',
  payTo: LESSOR,
  resource: 'http://localhost/api/leases/L-1/access?mode=second',
  description: 'test',
  mimeType: 'application/json',
  maxTimeoutSeconds: 60,
  mode: 'second',
  intervalSeconds: 1,
  intervalStart: '2026-01-01T00:00:00.000Z',
  extra: { name: 'USDC', version: '2' },
};

/** What {@link useLeaseOnSale} gives a suite once its beforeAll has run. */
export interface LeaseOnSale {
  server: Running;
  /** The quote of lease L-1 (1 USDC a second) in `second` mode. */
  requirements: PaymentRequirements;
}

/**
 * For the enclosing describe: an app on the memory backend with the local facilitator, and an
 * active lease L-1 with its quote; closed after the suite.
 */
export function useLeaseOnSale(): LeaseOnSale {
  const state = {} as LeaseOnSale;
  let handle: OpenBackend | undefined;
  beforeAll(async () => {
    handle = await backend('memory').open();
    state.server = await startApp({ db: handle.db });
    await activeLease(state.server.url, 'A-1', 'L-1');
    state.requirements = (await http(state.server.url, 'GET', '/api/leases/L-1/x402/requirements?mode=second')).body.accepts[0];
  });
  afterAll(async () => {
    await state.server?.close();
    await handle?.dispose();
  });
  return state;
}

/** A facilitator request body (either x402 version) as the local facilitator reads it. */
export function fromWire(body: unknown): { payload: PaymentPayload; requirements: PaymentRequirements } {
  const { paymentPayload, paymentRequirements } = body as { paymentPayload: unknown; paymentRequirements: Record<string, unknown> };
  const r = paymentRequirements;
  // v1 requirements carry maxAmountRequired and a v1 network name; v2 ones amount and CAIP-2.
  const requirements =
    typeof r['maxAmountRequired'] === 'string'
      ? { ...r, amount: r['maxAmountRequired'] }
      : { ...r, maxAmountRequired: r['amount'], network: networkByName(String(r['network']))?.v1 ?? r['network'] };
  return { payload: decodePaymentHeader(encodeJsonHeader(paymentPayload)), requirements: requirements as unknown as PaymentRequirements };
}

/** Options of {@link serveLocalFacilitator}. */
export interface FacilitatorServerOptions {
  local?: LocalFacilitator;
  /** Runs before each verify/settle answer (a delay, a failure). */
  before?: (operation: 'verify' | 'settle') => Promise<void>;
  /** What GET /supported lists (default: the local facilitator's kinds). */
  supported?: () => Promise<unknown>;
}

/** Registers x402's facilitator routes on `app`, answered by a local facilitator. */
export function serveLocalFacilitator(app: FastifyInstance, options: FacilitatorServerOptions = {}): void {
  const local = options.local ?? new LocalFacilitator();
  app.get('/supported', async () => (options.supported === undefined ? { kinds: await local.supported(), extensions: [], signers: {} } : options.supported()));
  for (const operation of ['verify', 'settle'] as const) {
    app.post(`/${operation}`, async (request) => {
      await options.before?.(operation);
      const { payload, requirements } = fromWire(request.body);
      return local[operation](payload, requirements);
    });
  }
}
