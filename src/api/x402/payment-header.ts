/**
 * The base64 JSON headers of x402: decoding the client's payment (`X-PAYMENT`, or
 * `Payment-Signature` in x402 v2) strictly enough that nothing malformed reaches the facilitator,
 * and encoding `Payment-Required` / `Payment-Response`.
 */
import { z } from 'zod';
import { ADDRESS_RE, HASH_RE } from '../../shared/hex.js';
import { ApiError } from '../errors.js';
import type { PaymentPayload } from './types.js';

/** Largest header accepted; a real payment is well under 2 KB. */
export const MAX_PAYMENT_HEADER_LENGTH = 8 * 1024;

const digits = (max: number) => z.string().regex(new RegExp(`^[0-9]{1,${max}}$`), 'must be decimal digits');
// validAfter/validBefore are uint256 in the contract; clients send them as strings or numbers.
const unixSeconds = z.union([digits(20), z.number().int().nonnegative().transform(String)]);

const authorizationSchema = z.looseObject({
  from: z.string().regex(ADDRESS_RE, 'must be an address'),
  to: z.string().regex(ADDRESS_RE, 'must be an address'),
  value: digits(78),
  validAfter: unixSeconds,
  validBefore: unixSeconds,
  nonce: z.string().regex(HASH_RE, 'must be 0x followed by 64 hex digits'),
});

// Loose objects: x402 v2 adds fields (accepted, resource, extensions) the facilitator may need,
// so they are kept and forwarded; only the fields this service reads are checked.
const payloadSchema = z.looseObject({
  x402Version: z.number().int().min(1).max(2),
  scheme: z.string().min(1).max(32),
  network: z.string().min(1).max(64),
  payload: z.looseObject({
    signature: z.string().max(2048).optional(),
    authorization: authorizationSchema,
  }),
});

function malformed(reason: string): ApiError {
  return new ApiError(400, 'MALFORMED_PAYMENT', `the payment header is malformed: ${reason}`, { reason });
}

/** Decodes a payment header; anything malformed is a 400 `MALFORMED_PAYMENT`, never a 500. */
export function decodePaymentHeader(header: string): PaymentPayload {
  if (header.length > MAX_PAYMENT_HEADER_LENGTH) throw malformed('too long');
  const compact = header.trim();
  // Buffer.from(..., 'base64') silently skips invalid characters, so the alphabet is checked first.
  if (compact === '' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) throw malformed('not base64');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(compact, 'base64').toString('utf8'));
  } catch {
    throw malformed('not base64-encoded JSON');
  }
  const result = payloadSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw malformed(issue ? `${issue.path.join('.') || 'payload'} ${issue.message}` : 'invalid payload');
  }
  return result.data as PaymentPayload;
}

/** Base64 of a JSON value, as the x402 headers carry it. */
export function encodeJsonHeader(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

/** Reads the payment header of a request (`X-PAYMENT` first, then `Payment-Signature`). */
export function paymentHeaderOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const raw = headers['x-payment'] ?? headers['payment-signature'];
  if (Array.isArray(raw)) throw malformed('sent more than once');
  return raw;
}
