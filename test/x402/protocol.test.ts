/**
 * The paid access route speaks both x402 versions: each 402 carries what each version's official
 * schema expects (v2 PAYMENT-REQUIRED header, v1 body with a string `error`), both payment
 * layouts are accepted and normalized, receipts go out under both names, anything malformed is
 * a 400 (never a 500), and every refusal of the payment check is a 402 with its reason.
 */
import { decodePaymentRequiredHeader, decodePaymentResponseHeader, encodePaymentSignatureHeader } from '@x402/core/http';
import { PaymentRequiredV1Schema, PaymentRequiredV2Schema } from '@x402/core/schemas';
import { describe, expect, it } from 'vitest';
import { PaymentRequirementsSchema as V1RequirementsSchema } from 'x402/types';
import { createPaymentPayload, paymentHeader, THROWAWAY_PAYER, type PaymentOptions } from '../../src/api/x402/client.js';
import { decodePaymentHeader, encodeJsonHeader } from '../../src/api/x402/payment-header.js';
import { receiptHeaders } from '../../src/api/x402/access.js';
import { http, type Answer } from '../api/support.js';
import { useLeaseOnSale } from './support.js';

describe('x402 v1 and v2 on the paid access route', () => {
  const sale = useLeaseOnSale();
  const access = '/api/leases/L-1/access?mode=second';


  const pay = (headers: Record<string, string>) => http(sale.server.url, 'POST', access, { headers });
  const v1 = (options: PaymentOptions = {}) => pay({ 'x-payment': paymentHeader(sale.requirements, options) });
  const v2 = (options: PaymentOptions = {}) => pay({ 'payment-signature': paymentHeader(sale.requirements, { ...options, version: 2 }) });
  const recorded = async () => (await http(sale.server.url, 'GET', '/api/leases/L-1/payments')).body.items.length as number;
  const refused = (answer: Answer, reason: string) => {
    expect(answer.status).toBe(402);
    expect(answer.body).toMatchObject({ x402Version: 1, error: `payment refused: ${reason}`, code: 'PAYMENT_INVALID', details: { reason } });
  };

  it('402: the v2 PAYMENT-REQUIRED header and the v1 body, each valid under its official schema', async () => {
    const unpaid = await http(sale.server.url, 'POST', access);
    expect(unpaid.status).toBe(402);

    const header = decodePaymentRequiredHeader(unpaid.headers.get('payment-required') ?? '');
    expect(PaymentRequiredV2Schema.safeParse(header).success).toBe(true);
    expect(header).toEqual({
      x402Version: 2,
      error: 'payment required',
      resource: { url: sale.requirements.resource, description: sale.requirements.description, mimeType: 'application/json' },
      accepts: [
        {
          scheme: 'exact',
          network: 'eip155:84532',
          amount: '1000000',
          asset: sale.requirements.asset,
          payTo: sale.requirements.payTo,
          maxTimeoutSeconds: 60,
          extra: { name: 'USDC', version: '2' },
        },
      ],
    });

    expect(PaymentRequiredV1Schema.safeParse(unpaid.body).success).toBe(true);
    expect(typeof unpaid.body.error).toBe('string');
    expect(unpaid.body).toMatchObject({ x402Version: 1, error: 'payment required', code: 'PAYMENT_REQUIRED', details: {} });
    // What x402-fetch 1.x parses each requirement with.
    const accepted = V1RequirementsSchema.parse(unpaid.body.accepts[0]);
    expect(accepted).toMatchObject({ network: 'base-sepolia', maxAmountRequired: '1000000', resource: sale.requirements.resource, extra: { name: 'USDC', version: '2' } });
  });

  it('takes a v1 X-PAYMENT and a v2 PAYMENT-SIGNATURE, and answers with the receipt under both names', async () => {
    for (const [answer, network] of [
      [await v1(), 'base-sepolia'],
      [await v2(), 'eip155:84532'],
    ] as const) {
      expect(answer.status).toBe(200);
      expect(answer.body.payment.payer.toLowerCase()).toBe(THROWAWAY_PAYER.address.toLowerCase());
      const receipt = answer.headers.get('payment-response');
      expect(answer.headers.get('x-payment-response')).toBe(receipt);
      expect(decodePaymentResponseHeader(receipt ?? '')).toEqual({ success: true, transaction: answer.body.payment.facilitatorTxHash, network, payer: answer.body.payment.payer });
    }
  });

  it('normalizes both layouts into one payment', () => {
    const one = createPaymentPayload(sale.requirements, { nonce: `0x${'1'.repeat(64)}`, now: new Date('2026-01-01T00:00:00Z') });
    const two = createPaymentPayload(sale.requirements, { nonce: `0x${'1'.repeat(64)}`, now: new Date('2026-01-01T00:00:00Z'), version: 2 });
    const [a, b] = [one, two].map((p) => decodePaymentHeader(encodeJsonHeader(p)));
    expect(a).toMatchObject({ x402Version: 1, scheme: 'exact', network: 'base-sepolia', payload: b?.payload });
    expect(b).toMatchObject({ x402Version: 2, scheme: 'exact', network: 'base-sepolia', asset: sale.requirements.asset });
    expect(b?.wire).toMatchObject({ accepted: { network: 'eip155:84532', amount: '1000000' } });
  });

  it('receiptHeaders names the network the way the payment did', () => {
    const payment = decodePaymentHeader(paymentHeader(sale.requirements, { version: 2 }));
    const headers = receiptHeaders(payment, { success: true, transaction: `0x${'a'.repeat(64)}`, network: 'base-sepolia' as `${string}:${string}` }, undefined);
    expect(Object.keys(headers).sort()).toEqual(['payment-response', 'x-payment-response']);
    expect(decodePaymentResponseHeader(headers['payment-response'] ?? '')).toEqual({ success: true, transaction: `0x${'a'.repeat(64)}`, network: 'eip155:84532' });
  });

  it('400 MALFORMED_PAYMENT for anything malformed in either layout, never a 500', async () => {
    const good = createPaymentPayload(sale.requirements, { version: 2 }) as unknown as Record<string, unknown>;
    const bad = [
      '',
      '%%%not-base64%%%',
      Buffer.from('not json').toString('base64'),
      encodeJsonHeader(null),
      encodeJsonHeader({ x402Version: 3, scheme: 'exact', network: 'base-sepolia', payload: {} }),
      // v2 without the accepted requirement, with a v1 network name, or without the payload.
      encodeJsonHeader({ ...good, accepted: undefined }),
      encodeJsonHeader({ ...good, accepted: { ...(good['accepted'] as object), network: 'base-sepolia' } }),
      encodeJsonHeader({ ...good, payload: 'signed' }),
      encodeJsonHeader({ ...good, payload: { signature: '0x', authorization: { from: 'me' } } }),
      encodeJsonHeader({ ...good, payload: { signature: 7, authorization: (good['payload'] as { authorization: object }).authorization } }),
      paymentHeader(sale.requirements, { value: '1e6' }),
      paymentHeader(sale.requirements, { value: '-1' }),
      paymentHeader(sale.requirements, { value: '1'.repeat(79) }),
      'A'.repeat(9000),
    ];
    for (const header of bad) {
      for (const name of ['x-payment', 'payment-signature']) {
        const answer = await pay({ [name]: header });
        expect([answer.status, answer.body.error?.code, header.slice(0, 40)]).toEqual([400, 'MALFORMED_PAYMENT', header.slice(0, 40)]);
      }
    }
    const both = await pay({ 'x-payment': paymentHeader(sale.requirements), 'payment-signature': paymentHeader(sale.requirements) });
    expect(both.status).toBe(400);
    expect(both.body.error.details.reason).toMatch(/different payments/);
  });

  it('402 with the reason for each refusal of the payment check, and nothing recorded', async () => {
    const before = await recorded();
    const now = Math.floor(Date.now() / 1000);
    // A zero-padded value would pass every numeric check and then never be recordable.
    refused(await v1({ value: '0000000000000000001000000' }), 'invalid_value_not_canonical');
    refused(await v2({ value: '01000000' }), 'invalid_value_not_canonical');
    refused(await v1({ value: (2n ** 256n).toString() }), 'invalid_value_out_of_range');
    refused(await v1({ value: '999999' }), 'insufficient_amount');
    refused(await v1({ value: '1000001' }), 'amount_exceeds_required');
    refused(await v1({ to: THROWAWAY_PAYER.address }), 'invalid_pay_to');
    refused(await v1({ validAfter: String(now + 30) }), 'authorization_not_yet_valid');
    refused(await v1({ validAfter: '0', validBefore: String(now - 1) }), 'authorization_expired');
    refused(await v1({ validBefore: String(now + 60 + 60) }), 'authorization_window_too_long');
    refused(await v2({ validBefore: String(now + 3600) }), 'authorization_window_too_long');
    refused(await pay({ 'x-payment': paymentHeader({ ...sale.requirements, network: 'base' }) }), 'invalid_network');
    refused(await pay({ 'x-payment': paymentHeader({ ...sale.requirements, scheme: 'upto' as 'exact' }) }), 'unsupported_scheme');
    // v2 names the network and the asset in `accepted`.
    refused(await pay({ 'payment-signature': paymentHeader({ ...sale.requirements, network: 'base' }, { version: 2 }) }), 'invalid_network');
    const otherAsset = createPaymentPayload({ ...sale.requirements, asset: `0x${'5'.repeat(40)}` }, { version: 2 });
    refused(await pay({ 'payment-signature': encodePaymentSignatureHeader(otherAsset as Parameters<typeof encodePaymentSignatureHeader>[0]) }), 'invalid_asset');
    expect(await recorded()).toBe(before);
    // Within the documented clock-skew allowance is fine.
    expect((await v1({ validBefore: String(now + 60 + 4) })).status).toBe(200);
  });
});
