/**
 * A facilitator for development and tests. It checks what a real one checks without a chain:
 * the payment against the requirements (the ledger's payment check) and the EIP-712 signature
 * of the EIP-3009 authorization, offline with viem, against the asset's domain (name and version
 * from the requirements' `extra`, the network's chain id, the asset as verifying contract). The
 * payer it reports is the signature's signer. It does not see balances or used nonces, and it
 * recovers plain (EOA) signatures only: a smart-contract wallet's is refused.
 *
 * It settles deterministically: the settlement hash is the SHA-256 of the authorization, so a
 * replayed header settles to the same hash and the ledger records it once. It moves no money,
 * so production refuses to use it (see config.ts).
 */
import { createHash } from 'node:crypto';
import type { Hex } from 'viem';
import { checkPayment } from '../../ledger/payment-check.js';
import { isAddress, isHash } from '../../util/hex.js';
import type { SettlementLookupResult } from '../../ledger/resolve-settlements.js';
import { assetDomain } from '../x402/authorization.js';
import { recoverAuthorizationSigner } from '../x402/signer-recovery.js';
import { defaultSignatureWorkers, sharedSignatureWorkerPool, type SignatureWorkerPool } from '../x402/signature-workers.js';
import { NETWORKS, networkByName, networkName } from '../x402/networks.js';
import type { Authorization, PaymentPayload, PaymentRequirements, SettleResult, SupportedKind, VerifyResult } from '../x402/types.js';
import type { Facilitator } from './facilitator.js';

const DIGITS = /^[0-9]{1,78}$/;
/** A 65-byte r‖s‖v signature, what EIP-3009's `transferWithAuthorization(..., v, r, s)` takes. */
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
/** How many recovered signatures settle() may reuse from verify() (each recovery costs 0.3 ms of CPU natively, 3 ms in JavaScript). */
const RECOVERED_CACHE_SIZE = 4096;

/** The deterministic settlement hash of an authorization. */
export function localSettlementHash(a: Authorization): string {
  const canonical = JSON.stringify([a.from.toLowerCase(), a.to.toLowerCase(), a.value, a.validAfter, a.validBefore, a.nonce.toLowerCase()]);
  return `0x${createHash('sha256').update(canonical).digest('hex')}`;
}

/** What an authorization's signature covers besides itself: its fields and the asset's EIP-712 domain. */
function coveredTerms(a: Authorization, requirements: PaymentRequirements): readonly string[] {
  const { name, version } = requirements.extra;
  return [a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, requirements.network, requirements.asset, name, version];
}

function sameTerms(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return a.length === b.length;
}

/** Options of {@link LocalFacilitator}. */
export interface LocalFacilitatorOptions {
  /** Clock for the validity window (default: the system clock). */
  now?: () => Date;
  /**
   * Threads that recover signatures off the event loop (default: one per core beyond the main
   * thread's, at most two); 0 recovers on the calling thread.
   */
  signatureWorkers?: number;
}

/** Why a payment is refused, or who signed it. */
type Verdict = { problem: string } | { payer: string };

/** Offline, deterministic facilitator that checks signatures. */
export class LocalFacilitator implements Facilitator {
  readonly kind: string = 'local';
  private readonly now: () => Date;
  /** Recovered signers by signature, with the terms each was recovered over (see `judge`). */
  private readonly recovered = new Map<string, { terms: readonly string[]; signer: string }>();
  private readonly workers: SignatureWorkerPool | undefined;

  constructor(options: LocalFacilitatorOptions = {}) {
    this.now = options.now ?? (() => new Date());
    const threads = options.signatureWorkers ?? defaultSignatureWorkers();
    this.workers = threads > 0 ? sharedSignatureWorkerPool(threads) : undefined;
  }

  async verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResult> {
    const verdict = await this.judge(payload, requirements);
    return 'payer' in verdict ? { isValid: true, payer: verdict.payer } : { isValid: false, invalidReason: verdict.problem };
  }

  async settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResult> {
    const verdict = await this.judge(payload, requirements);
    const network = this.networkOf(payload, requirements);
    if (!('payer' in verdict)) return { success: false, errorReason: verdict.problem, transaction: '', network };
    return { success: true, transaction: localSettlementHash(payload.payload.authorization), network, payer: verdict.payer };
  }

  /**
   * An earlier settle of this payment: settling here is deterministic and moves no money, so the
   * answer is the hash a settle gives, whatever the clock says now; the payer is the signer.
   */
  async lookup(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettlementLookupResult> {
    const a = payload.payload.authorization;
    const signature = payload.payload.signature;
    const signer = signature === undefined || !/^0x[0-9a-fA-F]*$/.test(signature) ? null : await this.recoverSigner(a, signature as Hex, requirements);
    if (signer === null) return { state: 'not_settled', reason: 'invalid_signature' };
    return { state: 'settled', transaction: localSettlementHash(a), payer: signer, network: this.networkOf(payload, requirements) };
  }

  /** `exact` on every network this service knows, in both versions. */
  async supported(): Promise<SupportedKind[]> {
    return NETWORKS.flatMap((n) => [
      { x402Version: 1, scheme: 'exact', network: n.v1 as SupportedKind['network'] },
      { x402Version: 2, scheme: 'exact', network: n.caip2 },
    ]);
  }

  /**
   * The signer of the authorization, or null when the signature is not a valid one over it.
   * The benchmark overrides this to measure the service without signature checks; nothing in
   * the service's configuration can.
   */
  protected async recoverSigner(authorization: Authorization, signature: Hex, requirements: PaymentRequirements): Promise<string | null> {
    const domain = assetDomain(requirements);
    if (domain === undefined) return null;
    if (this.workers !== undefined) {
      try {
        return await this.workers.recover(authorization, domain, signature);
      } catch {
        // The thread died (it is replaced for the next call), or a field does not fit its type
        // (refused here too): recover this one here instead.
      }
    }
    try {
      return await recoverAuthorizationSigner(authorization, domain, signature);
    } catch {
      return null;
    }
  }

  private networkOf(payload: PaymentPayload, requirements: PaymentRequirements): SettleResult['network'] {
    const network = networkByName(requirements.network);
    return (network === undefined ? requirements.network : networkName(network, payload.x402Version)) as SettleResult['network'];
  }

  private async judge(payload: PaymentPayload, requirements: PaymentRequirements): Promise<Verdict> {
    const problem = this.problem(payload, requirements);
    if (problem !== null) return { problem };
    const { authorization, signature } = payload.payload;
    if (signature === undefined || signature === '' || signature === '0x') return { problem: 'missing_signature' };
    if (!SIGNATURE.test(signature)) return { problem: 'invalid_signature' };
    // Reused only for the very same signature over everything it covers: the authorization and
    // the domain (network, token, name, version), as given; a field written in another case only
    // misses the cache. Compared field by field: a JSON key of them all (the earlier cache key)
    // was 3 % of a paid request's main thread in the http bench, built once in verify and again
    // in settle.
    const covered = coveredTerms(authorization, requirements);
    const cached = this.recovered.get(signature);
    let signer = cached !== undefined && sameTerms(cached.terms, covered) ? cached.signer : null;
    if (signer === null) {
      signer = await this.recoverSigner(authorization, signature as Hex, requirements);
      if (signer === null) return { problem: 'invalid_signature' };
      // Replaced, not updated in place: the entry goes to the end, so the oldest is the first evicted.
      this.recovered.delete(signature);
      if (this.recovered.size >= RECOVERED_CACHE_SIZE) this.recovered.delete(this.recovered.keys().next().value ?? '');
      this.recovered.set(signature, { terms: covered, signer });
    }
    // Another key, or the right key over other terms (amount, recipient, chain, token), recovers
    // to an address other than the payer the authorization names.
    if (signer.toLowerCase() !== authorization.from.toLowerCase()) return { problem: 'signature_mismatch' };
    return { payer: signer };
  }

  /** The first reason the payment is invalid before its signature is looked at, or null. */
  private problem(payload: PaymentPayload, requirements: PaymentRequirements): string | null {
    const a = (payload as Partial<PaymentPayload> | null)?.payload?.authorization as Partial<Authorization> | undefined;
    if (a === undefined || a === null || typeof a !== 'object') return 'invalid_payload';
    if (!isAddress(a.from)) return 'invalid_payload_from';
    if (!isAddress(a.to)) return 'invalid_payload_to';
    if (!isHash(a.nonce)) return 'invalid_payload_nonce';
    if (typeof a.value !== 'string' || !DIGITS.test(a.value)) return 'invalid_payload_value';
    if (typeof a.validAfter !== 'string' || !DIGITS.test(a.validAfter)) return 'invalid_payload_valid_after';
    if (typeof a.validBefore !== 'string' || !DIGITS.test(a.validBefore)) return 'invalid_payload_valid_before';
    // Only `exact` is supported; the rest is the ledger's payment check.
    if (requirements.scheme !== 'exact') return 'unsupported_scheme';
    return checkPayment(payload, requirements, this.now());
  }
}
