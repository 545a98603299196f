/**
 * The facilitators: the local one's checks and deterministic settlement, and the HTTP client
 * against a fake facilitator server over real HTTP (answers, timeouts, failures), including how
 * the access route reports a facilitator that does not answer.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FacilitatorError } from '../../src/api/facilitator/facilitator.js';
import { HttpFacilitator } from '../../src/api/facilitator/http.js';
import { LocalFacilitator, localSettlementHash } from '../../src/api/facilitator/local.js';
import { paymentHeader, THROWAWAY_PAYER, type PaymentOptions } from '../../src/api/x402/client.js';
import { decodePaymentHeader } from '../../src/api/x402/payment-header.js';
import type { PaymentPayload, PaymentRequirements } from '../../src/api/x402/types.js';
import { activeLease, http, startApp } from './support.js';
import { backend } from '../support/backends.js';
import { SAMPLE_REQUIREMENTS, serveLocalFacilitator } from '../x402/support.js';

const PAYER = THROWAWAY_PAYER.address;
const requirements = SAMPLE_REQUIREMENTS;

/** A signed payment, decoded as the service reads it. */
const createPaymentPayload = (r: PaymentRequirements, options: PaymentOptions = {}): PaymentPayload => decodePaymentHeader(paymentHeader(r, options));

describe('LocalFacilitator', () => {
  const local = new LocalFacilitator();

  it('verifies a payment and settles it to the hash of its authorization, the same on replay', async () => {
    const payload = createPaymentPayload(requirements);
    expect(await local.verify(payload, requirements)).toEqual({ isValid: true, payer: PAYER });
    const first = await local.settle(payload, requirements);
    expect(first).toMatchObject({ success: true, transaction: localSettlementHash(payload.payload.authorization), payer: PAYER });
    expect((await local.settle(structuredClone(payload), requirements)).transaction).toBe(first.transaction);
    const other = createPaymentPayload(requirements);
    expect((await local.settle(other, requirements)).transaction).not.toBe(first.transaction);
  });

  it.each([
    ['insufficient_amount', (p: PaymentPayload) => (p.payload.authorization.value = '999')],
    ['invalid_pay_to', (p: PaymentPayload) => (p.payload.authorization.to = PAYER)],
    ['invalid_network', (p: PaymentPayload) => (p.network = 'base')],
    ['authorization_expired', (p: PaymentPayload) => (p.payload.authorization.validBefore = '1')],
    ['invalid_payload_nonce', (p: PaymentPayload) => (p.payload.authorization.nonce = 'nonce')],
    ['invalid_payload_from', (p: PaymentPayload) => (p.payload.authorization.from = 'me')],
  ])('refuses %s', async (reason, spoil) => {
    const payload = createPaymentPayload(requirements);
    spoil(payload);
    expect(await local.verify(payload, requirements)).toEqual({ isValid: false, invalidReason: reason });
    expect(await local.settle(payload, requirements)).toMatchObject({ success: false, errorReason: reason, transaction: '' });
  });

  it('settles with the signer verify recovered, and recovers again for anything the signature covers', async () => {
    class Counting extends LocalFacilitator {
      recoveries = 0;
      protected override recoverSigner(...args: Parameters<LocalFacilitator['recoverSigner']>): Promise<string | null> {
        this.recoveries += 1;
        return super.recoverSigner(...args);
      }
    }
    const counting = new Counting({ signatureWorkers: 0 });
    const payload = createPaymentPayload(requirements);
    expect(await counting.verify(payload, requirements)).toEqual({ isValid: true, payer: PAYER });
    expect(await counting.settle(payload, requirements)).toMatchObject({ success: true, payer: PAYER });
    expect(counting.recoveries).toBe(1);
    // The same signature under another token name (part of the signed domain) is not the cached one.
    const renamed = { ...requirements, extra: { name: 'USD Coin', version: '2' } };
    expect(await counting.verify(payload, renamed)).toEqual({ isValid: false, invalidReason: 'signature_mismatch' });
    // Nor over another nonce, though the signature is the same.
    const otherNonce = structuredClone(payload);
    otherNonce.payload.authorization.nonce = `0x${'ab'.repeat(32)}`;
    expect(await counting.verify(otherNonce, requirements)).toEqual({ isValid: false, invalidReason: 'signature_mismatch' });
    expect(counting.recoveries).toBe(3);
  });

  it('refuses a malformed payload without throwing', async () => {
    expect(await local.verify({} as PaymentPayload, requirements)).toEqual({ isValid: false, invalidReason: 'invalid_payload' });
  });
});

describe('HttpFacilitator against a facilitator server', () => {
  let fake: FastifyInstance;
  let url: string;
  let mode: 'ok' | 'slow' | 'broken' = 'ok';
  const seen: unknown[] = [];

  beforeAll(async () => {
    fake = Fastify();
    fake.addHook('preHandler', async (request) => {
      seen.push({ op: request.url.slice(1), body: request.body, authorization: request.headers['authorization'] });
    });
    serveLocalFacilitator(fake, {
      before: async () => {
        if (mode === 'slow') await new Promise((resolve) => setTimeout(resolve, 500));
        if (mode === 'broken') throw new Error('boom');
      },
    });
    url = await fake.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('verifies and settles through POST /verify and /settle with the x402 body', async () => {
    mode = 'ok';
    const client = new HttpFacilitator({ url: `${url}/`, verifyTimeoutMs: 2000, settleTimeoutMs: 2000, apiKey: 'facilitator-key' });
    const payload = createPaymentPayload(requirements);
    expect(await client.verify(payload, requirements)).toMatchObject({ isValid: true, payer: PAYER });
    expect(await client.settle(payload, requirements)).toMatchObject({ success: true, transaction: localSettlementHash(payload.payload.authorization) });
    expect(seen.at(-1)).toMatchObject({
      op: 'settle',
      authorization: 'Bearer facilitator-key',
      body: { x402Version: 1, paymentPayload: payload.wire, paymentRequirements: { maxAmountRequired: '1000', network: 'base-sepolia', resource: requirements.resource } },
    });
  });

  it('fails with TIMEOUT, BAD_RESPONSE or UNAVAILABLE when there is no usable answer', async () => {
    const payload = createPaymentPayload(requirements);
    mode = 'slow';
    const hasty = new HttpFacilitator({ url, verifyTimeoutMs: 100, settleTimeoutMs: 100 });
    await expect(hasty.verify(payload, requirements)).rejects.toMatchObject({ code: 'TIMEOUT', operation: 'verify' });
    mode = 'broken';
    await expect(hasty.settle(payload, requirements)).rejects.toMatchObject({ code: 'BAD_RESPONSE', operation: 'settle' });
    const nowhere = new HttpFacilitator({ url: 'http://127.0.0.1:9', verifyTimeoutMs: 1000, settleTimeoutMs: 1000 });
    await expect(nowhere.verify(payload, requirements)).rejects.toBeInstanceOf(FacilitatorError);
    await expect(nowhere.verify(payload, requirements)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('makes the access route answer 504 on a facilitator timeout and 502 when it fails', async () => {
    const { db, dispose } = await backend('memory').open();
    const server = await startApp({ db, facilitator: new HttpFacilitator({ url, verifyTimeoutMs: 100, settleTimeoutMs: 100 }) });
    try {
      await activeLease(server.url, 'A-1', 'L-1');
      const quote = (await http(server.url, 'GET', '/api/leases/L-1/x402/requirements')).body.accepts[0];
      mode = 'slow';
      const slow = await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': paymentHeader(quote) } });
      expect(slow.status).toBe(504);
      expect(slow.body.error.code).toBe('FACILITATOR_TIMEOUT');
      mode = 'broken';
      const broken = await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': paymentHeader(quote) } });
      expect(broken.status).toBe(502);
      expect(broken.body.error.code).toBe('FACILITATOR_UNAVAILABLE');
      mode = 'ok';
      const paid = await http(server.url, 'POST', '/api/leases/L-1/access', { headers: { 'x-payment': paymentHeader(quote) } });
      expect(paid.status).toBe(200);
      expect(paid.body.payment.payer).toBe(PAYER);
    } finally {
      await server.close();
      await dispose();
    }
  });
});
