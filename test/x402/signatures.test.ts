/**
 * The local (development) facilitator checks the EIP-712 TransferWithAuthorization signature
 * against the asset's domain (extra.name/version, the network's chain id, the asset as verifying
 * contract): every forgery is a 402 with its reason and nothing is recorded; the payer recorded
 * is the recovered signer.
 */
import { recoverTypedDataAddress, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { LocalFacilitator } from '../../src/api/facilitator/local.js';
import { assetDomain, authorizationTypedData } from '../../src/api/x402/authorization.js';
import { paymentHeader, throwawayPayer, THROWAWAY_PAYER, type PaymentOptions } from '../../src/api/x402/client.js';
import { decodePaymentHeader } from '../../src/api/x402/payment-header.js';
import { http, LESSOR } from '../api/support.js';
import { useLeaseOnSale } from './support.js';

describe('signatures (local facilitator)', () => {
  const sale = useLeaseOnSale();


  const pay = (options: PaymentOptions) =>
    http(sale.server.url, 'POST', '/api/leases/L-1/access?mode=second', {
      headers: { [options.version === 2 ? 'payment-signature' : 'x-payment']: paymentHeader(sale.requirements, options) },
    });
  const payments = async () => (await http(sale.server.url, 'GET', '/api/leases/L-1/payments')).body.items as { payer: string }[];

  it.each<[string, PaymentOptions, string]>([
    ['"0x00"', { signature: '0x00' }, 'invalid_signature'],
    ['"not-hex"', { signature: 'not-hex' }, 'invalid_signature'],
    ['"0x" (the old README)', { signature: '0x' }, 'missing_signature'],
    ['none at all', { signature: null }, 'missing_signature'],
    ['65 zero bytes (unrecoverable)', { signature: `0x${'00'.repeat(65)}` }, 'invalid_signature'],
    ['by another key', { payer: throwawayPayer(), from: THROWAWAY_PAYER.address }, 'signature_mismatch'],
    ['for another amount', { signedAuthorization: { value: '1' } }, 'signature_mismatch'],
    ['for another payTo', { signedAuthorization: { to: `0x${'4'.repeat(40)}` } }, 'signature_mismatch'],
    ['for another chain', { signedDomain: { chainId: 8453 } }, 'signature_mismatch'],
    ['for another token', { signedDomain: { verifyingContract: `0x${'5'.repeat(40)}` } }, 'signature_mismatch'],
    ['for another EIP-712 name', { signedDomain: { name: 'USD Coin' } }, 'signature_mismatch'],
    ['for another nonce', { signedAuthorization: { nonce: `0x${'6'.repeat(64)}` } }, 'signature_mismatch'],
    ['v2 layout, by another key', { version: 2, payer: throwawayPayer(), from: THROWAWAY_PAYER.address }, 'signature_mismatch'],
    ['v2 layout, "0x00"', { version: 2, signature: '0x00' }, 'invalid_signature'],
  ])('refuses a payment signed %s with a 402 and records nothing', async (_case, options, reason) => {
    const answer = await pay(options);
    expect(answer.status).toBe(402);
    expect(answer.body).toMatchObject({ code: 'PAYMENT_INVALID', details: { reason }, error: `payment refused: ${reason}` });
    expect(answer.headers.get('payment-required')).toBeTruthy();
    expect(await payments()).toHaveLength(0);
  });

  it('records the recovered signer as the payer, in either layout', async () => {
    const payer = throwawayPayer();
    // The claim in lower case is the same address; the signer comes back checksummed.
    const v1 = await pay({ payer, from: payer.address.toLowerCase() });
    expect(v1.status).toBe(200);
    expect(v1.body.payment.payer.toLowerCase()).toBe(payer.address.toLowerCase());
    const v2 = await pay({ payer, version: 2 });
    expect(v2.status).toBe(200);
    expect((await payments()).map((p) => p.payer.toLowerCase())).toEqual([payer.address.toLowerCase(), payer.address.toLowerCase()]);
  });

  it('verifies against the asset domain: name and version from extra, chain id of the network, asset as verifying contract', async () => {
    const payment = decodePaymentHeader(paymentHeader(sale.requirements));
    const domain = assetDomain(sale.requirements);
    expect(domain).toEqual({ name: 'USDC', version: '2', chainId: 84532, verifyingContract: sale.requirements.asset.toLowerCase() });
    const signer = await recoverTypedDataAddress({
      ...authorizationTypedData(payment.payload.authorization, domain ?? {}),
      signature: payment.payload.signature as Hex,
    });
    expect(signer).toBe(THROWAWAY_PAYER.address);

    // The same payment checked against other requirements' domain is refused.
    const local = new LocalFacilitator();
    expect(await local.verify(payment, sale.requirements)).toEqual({ isValid: true, payer: THROWAWAY_PAYER.address });
    expect(await local.verify(payment, { ...sale.requirements, extra: { name: 'USDC', version: '1' } })).toEqual({ isValid: false, invalidReason: 'signature_mismatch' });
    expect(await local.verify(payment, { ...sale.requirements, asset: `0x${'7'.repeat(40)}` })).toEqual({ isValid: false, invalidReason: 'signature_mismatch' });
    // On the local chain (31337) the network is named anvil / eip155:31337.
    const anvil = { ...sale.requirements, network: 'anvil' };
    const onAnvil = decodePaymentHeader(paymentHeader(anvil, { version: 2 }));
    expect(onAnvil.wire).toMatchObject({ accepted: { network: 'eip155:31337' } });
    expect(await local.verify(onAnvil, anvil)).toEqual({ isValid: true, payer: THROWAWAY_PAYER.address });
    expect(LESSOR).toBe(sale.requirements.payTo);
  });

  it('answers the same with signature recovery on worker threads and on the calling thread', async () => {
    const good = decodePaymentHeader(paymentHeader(sale.requirements, {}));
    const forged = decodePaymentHeader(paymentHeader(sale.requirements, { signedAuthorization: { value: '1' } }));
    for (const signatureWorkers of [0, 1]) {
      const local = new LocalFacilitator({ signatureWorkers });
      expect(await local.verify(good, sale.requirements)).toEqual({ isValid: true, payer: THROWAWAY_PAYER.address });
      expect(await local.verify(forged, sale.requirements)).toEqual({ isValid: false, invalidReason: 'signature_mismatch' });
    }
  });
});
