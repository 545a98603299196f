/**
 * The facilitator verifies and settles x402 payments on chain. The service only talks to this
 * interface: an HTTP client in production, a local one (offline, signature-checking) in
 * development and tests.
 */
import type { SettlementLookup, SettlementLookupResult } from '../../ledger/resolve-settlements.js';
import { configuredNetwork, networkName } from '../x402/networks.js';
import type { PaymentPayload, PaymentRequirements, SettleResult, SupportedKind, VerifyResult } from '../x402/types.js';

/** Verifies and settles payments. */
export interface Facilitator {
  /** "http" or "local", for logs and status. */
  readonly kind: string;
  /** Checks a payment against the requirements without moving money. */
  verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResult>;
  /** Executes the payment; on success `transaction` is the settlement hash. */
  settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResult>;
  /** The payment kinds (version, scheme, network) it handles: x402's `GET /supported`. */
  supported(): Promise<SupportedKind[]>;
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
    readonly operation: 'verify' | 'settle' | 'supported',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The x402 versions in which a facilitator takes `exact` payments on a network. */
export interface SupportCheck {
  v1: boolean;
  v2: boolean;
}

/**
 * Asks the facilitator what it supports and throws, with a message an operator can act on,
 * unless it takes `exact` payments on `network` (X402_NETWORK, either name) in at least one
 * x402 version. The service runs it before it listens.
 */
export async function checkFacilitatorSupport(facilitator: Facilitator, network: string): Promise<SupportCheck> {
  const wanted = configuredNetwork(network);
  let kinds: SupportedKind[];
  try {
    kinds = await facilitator.supported();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`the ${facilitator.kind} facilitator did not say what it supports (GET /supported): ${reason}`, { cause: error });
  }
  const has = (version: 1 | 2) =>
    kinds.some((k) => k.x402Version === version && k.scheme === 'exact' && (k.network === networkName(wanted, version) || (version === 2 && k.network === 'eip155:*')));
  const check = { v1: has(1), v2: has(2) };
  if (!check.v1 && !check.v2) {
    const offered = kinds.map((k) => `v${k.x402Version} ${k.scheme} on ${k.network}`).join(', ') || 'nothing';
    throw new Error(
      `the ${facilitator.kind} facilitator does not support the exact scheme on ${wanted.v1} (${wanted.caip2}), the configured X402_NETWORK; it supports: ${offered}`,
    );
  }
  return check;
}
