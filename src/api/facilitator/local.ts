/**
 * A facilitator for development and tests. It checks everything a real one checks except the
 * signature (no chain, no keys) and settles deterministically: the settlement hash is the SHA-256
 * of the authorization, so a replayed header settles to the same hash and the ledger records it
 * once. It moves no money, so production refuses to use it (see config.ts).
 */
import { createHash } from 'node:crypto';
import { checkPayment } from '../../ledger/payment-check.js';
import { isAddress, isHash } from '../../shared/hex.js';
import type { Authorization, PaymentPayload, PaymentRequirements, SettleResult, VerifyResult } from '../x402/types.js';
import type { SettlementLookupResult } from '../../ledger/resolve-settlements.js';
import type { Facilitator } from './facilitator.js';

const DIGITS = /^[0-9]{1,78}$/;

/** The deterministic settlement hash of an authorization. */
export function localSettlementHash(a: Authorization): string {
  const canonical = JSON.stringify([a.from.toLowerCase(), a.to.toLowerCase(), a.value, a.validAfter, a.validBefore, a.nonce.toLowerCase()]);
  return `0x${createHash('sha256').update(canonical).digest('hex')}`;
}

/** Options of {@link LocalFacilitator}. */
export interface LocalFacilitatorOptions {
  /** Clock for the validity window (default: the system clock). */
  now?: () => Date;
}

/** Signature-free, deterministic facilitator. */
export class LocalFacilitator implements Facilitator {
  readonly kind = 'local';
  private readonly now: () => Date;

  constructor(options: LocalFacilitatorOptions = {}) {
    this.now = options.now ?? (() => new Date());
  }

  async verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResult> {
    const problem = this.problem(payload, requirements);
    return problem === null ? { isValid: true, payer: payload.payload.authorization.from } : { isValid: false, invalidReason: problem };
  }

  async settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResult> {
    const problem = this.problem(payload, requirements);
    if (problem !== null) return { success: false, errorReason: problem };
    const a = payload.payload.authorization;
    return { success: true, transaction: localSettlementHash(a), network: requirements.network, payer: a.from };
  }

  /**
   * An earlier settle of this payment: settling here is deterministic and moves no money, so the
   * answer is the hash a settle gives (whatever the clock says now).
   */
  async lookup(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettlementLookupResult> {
    const a = payload.payload.authorization;
    return { state: 'settled', transaction: localSettlementHash(a), payer: a.from, network: requirements.network };
  }

  /** The first reason the payment is invalid, or null. */
  private problem(payload: PaymentPayload, requirements: PaymentRequirements): string | null {
    const a = (payload as Partial<PaymentPayload> | null)?.payload?.authorization as Partial<Authorization> | undefined;
    if (a === undefined || a === null || typeof a !== 'object') return 'invalid_payload';
    if (!isAddress(a.from)) return 'invalid_payload_from';
    if (!isAddress(a.to)) return 'invalid_payload_to';
    if (!isHash(a.nonce)) return 'invalid_payload_nonce';
    if (typeof a.value !== 'string' || !DIGITS.test(a.value)) return 'invalid_payload_value';
    if (typeof a.validAfter !== 'string' || !DIGITS.test(a.validAfter)) return 'invalid_payload_valid_after';
    if (typeof a.validBefore !== 'string' || !DIGITS.test(a.validBefore)) return 'invalid_payload_valid_before';
    // Only `exact` is supported; the rest of the scheme check is the ledger's.
    if (requirements.scheme !== 'exact') return 'unsupported_scheme';
    const mismatch = checkPayment(payload, requirements);
    if (mismatch !== null) return mismatch;
    const now = BigInt(Math.floor(this.now().getTime() / 1000));
    if (now < BigInt(a.validAfter)) return 'authorization_not_yet_valid';
    if (now >= BigInt(a.validBefore)) return 'authorization_expired';
    return null;
  }
}
