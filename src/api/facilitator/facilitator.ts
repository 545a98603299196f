/**
 * The facilitator verifies and settles x402 payments on chain. The service only talks to this
 * interface: an HTTP client in production, a deterministic local one in development and tests.
 */
import type { SettlementLookup, SettlementLookupResult } from '../../ledger/resolve-settlements.js';
import type { PaymentPayload, PaymentRequirements, SettleResult, VerifyResult } from '../x402/types.js';

/** Verifies and settles payments. */
export interface Facilitator {
  /** "http" or "local", for logs and status. */
  readonly kind: string;
  /** Checks a payment against the requirements without moving money. */
  verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResult>;
  /** Executes the payment; on success `transaction` is the settlement hash. */
  settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResult>;
  /**
   * What became of an earlier settle of this payment, for a facilitator that can tell (absent
   * when it cannot: the journal then reports the settlement as unknown, to finish by hand).
   */
  lookup?(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettlementLookupResult>;
}

/** The journal's view of a facilitator: the lookup its resolution uses. */
export function settlementLookup(facilitator: Facilitator): SettlementLookup {
  return async (intent) => {
    if (facilitator.lookup === undefined) {
      return {
        state: 'unknown',
        reason: `the ${facilitator.kind} facilitator cannot report an earlier settle; check the chain for the authorization nonce ${intent.nonce} and finish it by hand`,
      };
    }
    return facilitator.lookup(intent.payment as PaymentPayload, intent.requirements as PaymentRequirements);
  };
}

/** Why a facilitator call failed to produce an answer. */
export type FacilitatorErrorCode = 'TIMEOUT' | 'UNAVAILABLE' | 'BAD_RESPONSE';

/** A facilitator call that produced no usable answer (as opposed to a "payment invalid" answer). */
export class FacilitatorError extends Error {
  override readonly name = 'FacilitatorError';
  constructor(
    readonly code: FacilitatorErrorCode,
    readonly operation: 'verify' | 'settle',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
