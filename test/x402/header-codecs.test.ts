/**
 * The service's own base64 JSON header codecs (payment-header.ts, faster than @x402/core's) give
 * exactly what @x402/core's give: the same header text for every value, and for every header the
 * same value or the same refusal.
 */
import { randomBytes } from 'node:crypto';
import { decodePaymentSignatureHeader, encodePaymentRequiredHeader, encodePaymentResponseHeader } from '@x402/core/http';
import { describe, expect, it } from 'vitest';
import { paymentHeader } from '../../src/api/x402/client.js';
import { decodeJsonHeader, encodeJsonHeader } from '../../src/api/x402/payment-header.js';
import { SAMPLE_REQUIREMENTS } from './support.js';

// Text beyond ASCII in a field the 402 body carries.
const requirements = { ...SAMPLE_REQUIREMENTS, description: 'accès à la seconde — 租赁 🚀' };

/** What @x402/core's decoder answers: the value, or that it threw. */
function official(header: string): { value: unknown } | { threw: true } {
  try {
    return { value: decodePaymentSignatureHeader(header) };
  } catch {
    return { threw: true };
  }
}

function ours(header: string): { value: unknown } | { threw: true } {
  try {
    return { value: decodeJsonHeader(header) };
  } catch {
    return { threw: true };
  }
}

describe('base64 JSON header codecs', () => {
  it('encode receipts and 402 bodies as @x402/core does, non-ASCII text and lone surrogates included', () => {
    const values = [
      { success: true, transaction: `0x${'ab'.repeat(32)}`, network: 'eip155:84532', payer: '0x742d35Cc6511C84a92A30A7D7B0D6E1234567890' },
      { success: true, transaction: `0x${'01'.repeat(32)}`, network: 'base-sepolia' },
      { x402Version: 2, error: 'payment required', resource: { url: requirements.resource, description: requirements.description }, accepts: [requirements] },
      { x402Version: 2, error: 'bad \ud800 surrogate and \u0000 nul', accepts: [] },
    ];
    for (const value of values) {
      expect(encodeJsonHeader(value)).toBe(encodePaymentResponseHeader(value as never));
      expect(encodeJsonHeader(value)).toBe(encodePaymentRequiredHeader(value as never));
    }
  });

  it('decode real payment headers of both versions as @x402/core does', () => {
    for (const version of [1, 2] as const) {
      for (let i = 0; i < 20; i++) {
        const header = paymentHeader(requirements, { version });
        expect(ours(header)).toEqual(official(header));
        expect(ours(header)).not.toEqual({ threw: true });
      }
    }
  });

  it('accept and refuse the same padded, unpadded, truncated and garbage headers', () => {
    const good = encodeJsonHeader({ x402Version: 1, note: 'héllo' });
    const headers = [
      '',
      'e30=',
      'e30',
      'e30==',
      'e3==',
      'e3=',
      'e30x',
      'e30xx',
      'e30=x',
      '=e30',
      'e 30',
      'e30-',
      'e30_',
      good,
      good.replace(/=+$/, ''),
      `${good}=`,
      `${good}==`,
      good.slice(0, -1),
      good.slice(0, -2),
      good.slice(0, -5),
      `${good}A`,
      `${good.replace(/=+$/, '')}A`,
      // Invalid UTF-8 inside valid JSON strings: both decoders must replace it the same way.
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x9f, 0x98, 0xed, 0xa0, 0x80, 0xff]), Buffer.from('"}')]).toString('base64'),
    ];
    for (const header of headers) expect({ header, result: ours(header) }).toEqual({ header, result: official(header) });
  });

  it('agree on random bytes wrapped as JSON strings, and on random base64 text', () => {
    for (let i = 0; i < 2000; i++) {
      // Random bytes, but none that JSON refuses inside a string (a quote, a backslash, a control character).
      const inner = Buffer.from(randomBytes(1 + (i % 40)).map((b) => (b === 0x22 || b === 0x5c || b < 0x20 ? 0x78 : b)));
      const asJson = Buffer.concat([Buffer.from('"'), inner, Buffer.from('"')]).toString('base64');
      expect(ours(asJson)).toEqual(official(asJson));
      const cut = asJson.slice(0, i % (asJson.length + 1));
      expect(ours(cut)).toEqual(official(cut));
    }
  });
});
