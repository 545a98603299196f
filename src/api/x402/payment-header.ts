/**
 * The client's payment header, x402 v1 `X-PAYMENT` or v2 `PAYMENT-SIGNATURE`: decoded with
 * @x402/core's header decoder and checked against its payload schema (either version), then
 * against this service's stricter checks of the `exact` EVM payload, so that nothing malformed
 * reaches the ledger or a facilitator. Both layouts become one {@link PaymentPayload}.
 */
import { PaymentPayloadSchema } from '@x402/core/schemas';
import { z } from 'zod';
import { ADDRESS_RE, HASH_RE } from '../../util/hex.js';
import { ApiError } from '../errors.js';
import { networkInVersion } from './networks.js';
import type { PaymentPayload } from './types.js';

/** Largest header accepted; a real payment is well under 2 KB (a v2 one repeats the requirement). */
export const MAX_PAYMENT_HEADER_LENGTH = 8 * 1024;

const digits = (max: number) => z.string().regex(new RegExp(`^[0-9]{1,${max}}$`), 'must be decimal digits');
// validAfter/validBefore are uint256 in the contract; clients send them as strings or numbers.
const unixSeconds = z.union([digits(20), z.number().int().nonnegative().transform(String)]);

// The `exact` EVM payload. Digits only here: whether the value is canonical and in range, and
// whether the signature is one, are the payment check's and the facilitator's answers (a 402
// with a reason), not a malformed header.
const exactPayloadSchema = z.looseObject({
  signature: z.string().max(2048).optional(),
  authorization: z.looseObject({
    from: z.string().regex(ADDRESS_RE, 'must be an address'),
    to: z.string().regex(ADDRESS_RE, 'must be an address'),
    value: digits(78),
    validAfter: unixSeconds,
    validBefore: unixSeconds,
    nonce: z.string().regex(HASH_RE, 'must be 0x followed by 64 hex digits'),
  }),
});

function malformed(reason: string): ApiError {
  return new ApiError(400, 'MALFORMED_PAYMENT', `the payment header is malformed: ${reason}`, { reason });
}

function firstIssue(issues: readonly { path: readonly PropertyKey[]; message: string }[], prefix: string): string {
  const issue = issues[0];
  if (issue === undefined) return 'invalid payload';
  const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
  return `${path || 'payload'} ${issue.message}`;
}

/** Decodes a payment header; anything malformed is a 400 `MALFORMED_PAYMENT`, never a 500. */
export function decodePaymentHeader(header: string): PaymentPayload {
  if (header.length > MAX_PAYMENT_HEADER_LENGTH) throw malformed('too long');
  let json: unknown;
  try {
    json = decodeJsonHeader(header.trim());
  } catch {
    throw malformed('not base64-encoded JSON');
  }
  const wire = PaymentPayloadSchema.safeParse(json);
  if (!wire.success) throw malformed(firstIssue(wire.error.issues, ''));
  const exact = exactPayloadSchema.safeParse(wire.data.payload);
  if (!exact.success) throw malformed(firstIssue(exact.error.issues, 'payload'));
  const { signature, authorization } = exact.data;
  const payload = { signature, authorization };
  if (wire.data.x402Version === 1) {
    const { scheme, network } = wire.data;
    return { x402Version: 1, scheme, network: networkInVersion(network, 1)?.v1 ?? network, payload, wire: wire.data };
  }
  const { accepted } = wire.data;
  return {
    x402Version: 2,
    scheme: accepted.scheme,
    network: networkInVersion(accepted.network, 2)?.v1 ?? accepted.network,
    asset: accepted.asset,
    payload,
    wire: wire.data,
  };
}

/** The characters @x402/core's header decoders accept (its `Base64EncodedRegex`). */
const BASE64_HEADER = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Base64 of a JSON value, as the x402 headers carry it: the string @x402/core's
 * `encodePaymentResponseHeader` and `encodePaymentRequiredHeader` give (a test compares them).
 * Theirs builds the binary string for `btoa` one character per byte, 3 % of a paid request's
 * main-thread time in the http bench for the receipt alone.
 */
export function encodeJsonHeader(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

/**
 * The JSON value of an x402 header, as @x402/core's `decodePaymentSignatureHeader` reads it
 * (its character check, then `atob`'s forgiving base64, then UTF-8 and JSON), without its
 * per-character copy; throws where it throws (a test compares them on valid, padded, unpadded,
 * truncated and garbage headers). Buffer's decoder alone skips what `atob` refuses: a `=` inside
 * the text, or a length that leaves one character over.
 */
export function decodeJsonHeader(header: string): unknown {
  if (!BASE64_HEADER.test(header)) throw new Error('Invalid payment signature header');
  let data = header;
  if (data.length % 4 === 0) data = data.endsWith('==') ? data.slice(0, -2) : data.endsWith('=') ? data.slice(0, -1) : data;
  if (data.length % 4 === 1 || data.includes('=')) throw new Error('Invalid payment signature header: not base64');
  return JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as unknown;
}

/**
 * The payment header of a request: v1 `X-PAYMENT` or v2 `PAYMENT-SIGNATURE` (the payload says
 * which version it is). Either sent twice, or both sent with different values, is a 400.
 */
export function paymentHeaderOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const v1 = headers['x-payment'];
  const v2 = headers['payment-signature'];
  if (Array.isArray(v1) || Array.isArray(v2)) throw malformed('sent more than once');
  if (v1 !== undefined && v2 !== undefined && v1 !== v2) throw malformed('X-PAYMENT and PAYMENT-SIGNATURE carry different payments');
  return v1 ?? v2;
}
