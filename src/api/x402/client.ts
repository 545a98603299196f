/**
 * The client side of a payment, for development, tests and the benchmark: builds the payload a
 * wallet would send for some requirements. It does not sign (the local facilitator checks
 * everything but the signature); a real client signs the EIP-3009 authorization with its key.
 */
import { randomBytes } from 'node:crypto';
import { encodeJsonHeader } from './payment-header.js';
import type { PaymentPayload, PaymentRequirements } from './types.js';

/** Options of {@link createPaymentPayload}. */
export interface PaymentOptions {
  /** Payer address. */
  from: string;
  /** Minor units (default: the required amount). */
  value?: string;
  /** 0x + 64 hex (default: random, so each payment is new). */
  nonce?: string;
  /** Validity window in unix seconds (default: from a minute ago to `maxTimeoutSeconds` ahead). */
  validAfter?: string;
  validBefore?: string;
  /** Clock for the default window. */
  now?: Date;
}

/** An unsigned `exact` payment for `requirements`. */
export function createPaymentPayload(requirements: PaymentRequirements, options: PaymentOptions): PaymentPayload {
  const seconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return {
    x402Version: 1,
    scheme: requirements.scheme,
    network: requirements.network,
    payload: {
      signature: `0x${'00'.repeat(65)}`,
      authorization: {
        from: options.from,
        to: requirements.payTo,
        value: options.value ?? requirements.amount,
        validAfter: options.validAfter ?? String(seconds - 60),
        validBefore: options.validBefore ?? String(seconds + requirements.maxTimeoutSeconds),
        nonce: options.nonce ?? `0x${randomBytes(32).toString('hex')}`,
      },
    },
  };
}

/** The `X-PAYMENT` header value for a payment. */
export function paymentHeader(requirements: PaymentRequirements, options: PaymentOptions): string {
  return encodeJsonHeader(createPaymentPayload(requirements, options));
}
