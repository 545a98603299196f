/**
 * The checks of a payment against the requirements it answers that need no chain and no
 * signature: the amount's form, the scheme, the network, the asset, the recipient, the amount
 * and the authorization's validity window. The API runs them before it bothers a facilitator,
 * and the local facilitator runs them as part of its verification, so the two cannot disagree.
 * Each refusal has its own reason string (x402's `invalidReason`), sent back in the 402.
 */

/** Why a payment does not answer its requirements. */
export type PaymentCheckFailure =
  | 'invalid_value_not_canonical'
  | 'invalid_value_out_of_range'
  | 'invalid_valid_after_not_canonical'
  | 'invalid_valid_before_not_canonical'
  | 'unsupported_scheme'
  | 'invalid_network'
  | 'invalid_asset'
  | 'invalid_pay_to'
  | 'insufficient_amount'
  | 'amount_exceeds_required'
  | 'authorization_not_yet_valid'
  | 'authorization_expired'
  | 'authorization_window_too_long';

/** The fields of a payment the check reads (a decoded x402 payment has them). */
export interface CheckedPayment {
  scheme: string;
  network: string;
  /** The asset the payment names, when its layout names one (x402 v2's `accepted.asset`). */
  asset?: string | undefined;
  /** Decimal digits (already checked to be digits): minor units and unix seconds. */
  payload: { authorization: { to: string; value: string; validAfter: string; validBefore: string } };
}

/** The fields of the requirements the check reads. */
export interface CheckedRequirements {
  scheme: string;
  network: string;
  asset: string;
  payTo: string;
  /** Minor units, decimal digits. */
  amount: string;
  maxTimeoutSeconds: number;
}

/** The largest uint256, the type of every amount and time in an EIP-3009 authorization. */
export const MAX_UINT256 = 2n ** 256n - 1n;

/**
 * How far a client's clock may run ahead of ours: an authorization may end at most
 * `maxTimeoutSeconds` plus this many seconds from now. Official clients set
 * `validBefore = their now + maxTimeoutSeconds`, so a client clock up to this far ahead passes.
 */
export const CLOCK_SKEW_SECONDS = 5;

/**
 * Decimal digits as the contract and the ledger read them: no sign, no leading zero (except
 * "0" itself). "0001000000" is refused: a signature covers the number 1000000, so a check that
 * parsed it would pass, but the ledger stores amounts as written and could never record it.
 */
function isCanonical(digits: string): boolean {
  return /^(0|[1-9][0-9]*)$/.test(digits);
}

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The first reason `payment` does not answer `requirements` at `now`, or null when it may be valid. */
export function checkPayment(payment: CheckedPayment, requirements: CheckedRequirements, now: Date): PaymentCheckFailure | null {
  const { to, value, validAfter, validBefore } = payment.payload.authorization;
  // The value's form first: nothing else may read a number the ledger cannot store as written.
  if (!isCanonical(value)) return 'invalid_value_not_canonical';
  if (BigInt(value) > MAX_UINT256) return 'invalid_value_out_of_range';
  if (!isCanonical(validAfter)) return 'invalid_valid_after_not_canonical';
  if (!isCanonical(validBefore)) return 'invalid_valid_before_not_canonical';
  if (payment.scheme !== requirements.scheme) return 'unsupported_scheme';
  if (payment.network !== requirements.network) return 'invalid_network';
  if (payment.asset !== undefined && !sameAddress(payment.asset, requirements.asset)) return 'invalid_asset';
  // A facilitator that ignored `to` would settle money the lessor never gets.
  if (!sameAddress(to, requirements.payTo)) return 'invalid_pay_to';
  // The `exact` scheme: the value is the price, neither less nor more.
  const amount = BigInt(value);
  const required = BigInt(requirements.amount);
  if (amount < required) return 'insufficient_amount';
  if (amount > required) return 'amount_exceeds_required';
  const seconds = BigInt(Math.floor(now.getTime() / 1000));
  if (BigInt(validAfter) > seconds) return 'authorization_not_yet_valid';
  if (BigInt(validBefore) <= seconds) return 'authorization_expired';
  if (BigInt(validBefore) - seconds > BigInt(requirements.maxTimeoutSeconds + CLOCK_SKEW_SECONDS)) return 'authorization_window_too_long';
  return null;
}
