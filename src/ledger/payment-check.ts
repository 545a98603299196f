/**
 * The checks of a payment against the requirements it answers that need no chain and no
 * signature: the scheme, the network, the recipient and the amount. The API runs them before it
 * bothers a facilitator, and the local facilitator runs them as part of its verification, so the
 * two cannot disagree. (The reasons are x402's `invalidReason` strings.)
 */
import { MAX_AMOUNT } from '../storage/core/money.js';

/** Why a payment does not answer its requirements. */
export type PaymentCheckFailure = 'unsupported_scheme' | 'invalid_network' | 'invalid_pay_to' | 'invalid_payload_value' | 'insufficient_amount';

/** The fields of a payment the check reads (an x402 payment payload has them). */
export interface CheckedPayment {
  scheme: string;
  network: string;
  /** `value`: minor units, decimal digits (already checked to be digits). */
  payload: { authorization: { to: string; value: string } };
}

/** The fields of the requirements the check reads. */
export interface CheckedRequirements {
  scheme: string;
  network: string;
  payTo: string;
  /** Minor units, decimal digits. */
  amount: string;
}

/** The first reason `payment` does not answer `requirements`, or null when it may be valid. */
export function checkPayment(payment: CheckedPayment, requirements: CheckedRequirements): PaymentCheckFailure | null {
  const { to, value } = payment.payload.authorization;
  if (payment.scheme !== requirements.scheme) return 'unsupported_scheme';
  if (payment.network !== requirements.network) return 'invalid_network';
  // A facilitator that ignored `to` would settle money the lessor never gets.
  if (to.toLowerCase() !== requirements.payTo.toLowerCase()) return 'invalid_pay_to';
  const amount = BigInt(value);
  if (amount > MAX_AMOUNT) return 'invalid_payload_value';
  if (amount < BigInt(requirements.amount)) return 'insufficient_amount';
  return null;
}
