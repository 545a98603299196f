/**
 * The service paid by the official x402 clients, each set up as its README shows, with a viem
 * account of a throwaway key, against the local facilitator (which checks the signature):
 * `x402-fetch` 1.x (protocol v1: the 402 body, X-PAYMENT, X-PAYMENT-RESPONSE) and `@x402/fetch`
 * 2.x with the exact EVM scheme for `eip155:*` (protocol v2: PAYMENT-REQUIRED, PAYMENT-SIGNATURE,
 * PAYMENT-RESPONSE). Each pays, gets 200 with the receipt its client decodes, and the payment is
 * recorded with the payer the signature recovers. Plus the browser preflight of the paid retry.
 */
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { decodePaymentResponseHeader, wrapFetchWithPayment as wrapFetchWithPaymentV2, x402Client } from '@x402/fetch';
import { createWalletClient, http as viemHttp } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { baseSepolia } from 'viem/chains';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeXPaymentResponse, wrapFetchWithPayment } from 'x402-fetch';
import { testConfig } from '../../src/config.js';
import { API_KEY, activeLease, http, startApp, type Running } from '../api/support.js';
import { backend, type OpenBackend } from '../support/backends.js';

// 36 tokens an hour: 10,000 minor units (0.01 USDC) a second, under x402-fetch's default cap of 0.1 USDC.
const PRICE = { paymentAmount: '36000000000000000000' };
const ORIGIN = 'https://app.example.com';

describe('the official x402 clients pay the service', () => {
  let handle: OpenBackend;
  let server: Running;

  beforeAll(async () => {
    handle = await backend('memory').open();
    server = await startApp({ db: handle.db, config: testConfig({ apiKey: API_KEY, corsOrigins: [ORIGIN] }) });
    await activeLease(server.url, 'A-1', 'L-V1', PRICE);
    await activeLease(server.url, 'A-1', 'L-V2', PRICE);
  });
  afterAll(async () => {
    await server?.close();
    await handle?.dispose();
  });

  const payments = async (leaseId: string) => (await http(server.url, 'GET', `/api/leases/${leaseId}/payments`)).body.items;

  it('x402-fetch (v1): 402, signs, 200 with the X-PAYMENT-RESPONSE it decodes; the signer is recorded', async () => {
    // As the x402-fetch README: a viem wallet client on Base Sepolia around a private key.
    const account = privateKeyToAccount(generatePrivateKey());
    const client = createWalletClient({ account, transport: viemHttp(), chain: baseSepolia });
    // x402's Signer type also wants the public actions the README's client does not have and
    // the wrapper does not use for a local account (it only signs typed data): a type-only cast.
    const fetchWithPay = wrapFetchWithPayment(fetch, client as unknown as Parameters<typeof wrapFetchWithPayment>[1]);

    const response = await fetchWithPay(`${server.url}/api/leases/L-V1/access?mode=second`, { method: 'POST' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access: string; payment: { payer: string; facilitatorTxHash: string; amountMinorUnits: string } };
    expect(body).toMatchObject({ access: 'granted', payment: { amountMinorUnits: '10000' } });
    const receipt = decodeXPaymentResponse(response.headers.get('x-payment-response') ?? '');
    expect(receipt).toMatchObject({ success: true, transaction: body.payment.facilitatorTxHash, network: 'base-sepolia', payer: account.address });

    const recorded = await payments('L-V1');
    expect(recorded).toHaveLength(1);
    expect(recorded[0].payer.toLowerCase()).toBe(account.address.toLowerCase());
  });

  it('@x402/fetch (v2, exact for eip155:*): PAYMENT-REQUIRED, PAYMENT-SIGNATURE, PAYMENT-RESPONSE; the signer is recorded', async () => {
    // As the @x402/fetch README (builder pattern): an x402Client with the exact EVM scheme.
    const signer = privateKeyToAccount(generatePrivateKey());
    const client = new x402Client().register('eip155:*', new ExactEvmScheme(signer));
    const fetchWithPayment = wrapFetchWithPaymentV2(fetch, client);
    const sent: Headers[] = [];
    const recording: typeof fetch = async (input, init) => {
      if (input instanceof Request) sent.push(input.headers);
      return fetch(input, init);
    };

    const response = await wrapFetchWithPaymentV2(recording, client)(`${server.url}/api/leases/L-V2/access?mode=batch-5s`, { method: 'POST' });
    expect(response.status).toBe(200);
    // The paid retry was a v2 one.
    expect(sent.at(-1)?.get('payment-signature')).toBeTruthy();
    expect(sent.at(-1)?.get('x-payment')).toBeNull();
    const body = (await response.json()) as { payment: { payer: string; facilitatorTxHash: string; amountMinorUnits: string } };
    expect(body.payment.amountMinorUnits).toBe('50000');
    const receipt = decodePaymentResponseHeader(response.headers.get('payment-response') ?? '');
    expect(receipt).toMatchObject({ success: true, transaction: body.payment.facilitatorTxHash, network: 'eip155:84532', payer: signer.address });

    const recorded = await payments('L-V2');
    expect(recorded).toHaveLength(1);
    expect(recorded[0].payer.toLowerCase()).toBe(signer.address.toLowerCase());
    // A second paid request through the same wrapper pays again (a new authorization).
    expect((await fetchWithPayment(`${server.url}/api/leases/L-V2/access?mode=batch-5s`, { method: 'POST' })).status).toBe(200);
    expect(await payments('L-V2')).toHaveLength(2);
  });

  it('allows the browser preflight of the paid retry and exposes the payment headers', async () => {
    const preflight = await http(server.url, 'OPTIONS', '/api/leases/L-V1/access?mode=second', {
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'access-control-expose-headers, payment-signature, x-payment',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(['access-control-expose-headers', 'payment-signature', 'x-payment']));

    const unpaid = await http(server.url, 'POST', '/api/leases/L-V1/access?mode=second', { headers: { origin: ORIGIN } });
    expect(unpaid.status).toBe(402);
    const exposed = (unpaid.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/\s*,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(['payment-required', 'payment-response', 'x-payment-response']));
  });
});
