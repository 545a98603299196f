/**
 * The client side of a payment, for development, tests and the benchmark: builds and signs the
 * payload a wallet sends for some requirements, in the x402 v1 layout (`X-PAYMENT`) or the v2
 * one (`PAYMENT-SIGNATURE`). It signs the EIP-3009 authorization with a private key, by default
 * a throwaway key made when this module loads (never a real wallet's). Signing is synchronous,
 * so a load generator can build payments inline. Options can forge a payment (another claimed
 * payer, another signature, a signature over other terms) to test that it is refused.
 */
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1';
import { encodePaymentSignatureHeader } from '@x402/core/http';
import { hashTypedData, serializeSignature, toHex, type Hex, type TypedDataDomain } from 'viem';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import { assetDomain, authorizationTypedData } from './authorization.js';
import { v2Requirements } from './requirements.js';
import type { Authorization, PaymentRequirements, WirePaymentPayload } from './types.js';

/** A payer: a private key and its address. */
export interface Payer {
  privateKey: Hex;
  address: string;
}

/** A payer with a fresh random key (a throwaway: it holds nothing on any chain). */
export function throwawayPayer(): Payer {
  const privateKey = generatePrivateKey();
  return { privateKey, address: privateKeyToAddress(privateKey) };
}

/** This process's throwaway payer, the default signer. */
export const THROWAWAY_PAYER: Payer = throwawayPayer();

/** Options of {@link createPaymentPayload}. */
export interface PaymentOptions {
  /** Who signs (default {@link THROWAWAY_PAYER}). */
  payer?: Payer;
  /** x402 layout: 1 (`X-PAYMENT`, the default) or 2 (`PAYMENT-SIGNATURE`, requirement under `accepted`). */
  version?: 1 | 2;
  /** The payer the authorization claims (default: the signer's address). */
  from?: string;
  /** Recipient (default: `requirements.payTo`). */
  to?: string;
  /** Minor units (default: the required amount). */
  value?: string;
  /** 0x + 64 hex (default: random, so each payment is new). */
  nonce?: string;
  /** Validity window in unix seconds (default: from a minute ago to `maxTimeoutSeconds` ahead). */
  validAfter?: string;
  validBefore?: string;
  /** Clock for the default window. */
  now?: Date;
  /** Sign other terms than the payload carries (a forgery: another amount, recipient...). */
  signedAuthorization?: Partial<Authorization>;
  /** Sign under another EIP-712 domain (a forgery: another chain or token). */
  signedDomain?: Partial<TypedDataDomain>;
  /** Send this signature instead (null: none at all). */
  signature?: string | null;
}

/** Signs `authorization` under `domain` with `privateKey`: the 65-byte r‖s‖v signature. */
export function signAuthorization(authorization: Authorization, domain: TypedDataDomain, privateKey: Hex): Hex {
  const digest = hashTypedData(authorizationTypedData(authorization, domain));
  const signature = secp256k1.sign(digest.slice(2), privateKey.slice(2));
  return serializeSignature({ r: toHex(signature.r, { size: 32 }), s: toHex(signature.s, { size: 32 }), yParity: signature.recovery });
}

/** The signature, or 65 zero bytes for terms no signature can cover (not uint256: "1e6", 2^256). */
function signOrZero(authorization: Authorization, domain: TypedDataDomain, privateKey: Hex): Hex {
  try {
    return signAuthorization(authorization, domain, privateKey);
  } catch {
    return `0x${'00'.repeat(65)}`;
  }
}

/** A signed `exact` payment for `requirements`, as a client sends it. */
export function createPaymentPayload(requirements: PaymentRequirements, options: PaymentOptions = {}): WirePaymentPayload {
  const payer = options.payer ?? THROWAWAY_PAYER;
  const seconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const authorization: Authorization = {
    from: options.from ?? payer.address,
    to: options.to ?? requirements.payTo,
    value: options.value ?? requirements.amount,
    validAfter: options.validAfter ?? String(seconds - 60),
    validBefore: options.validBefore ?? String(seconds + requirements.maxTimeoutSeconds),
    nonce: options.nonce ?? `0x${randomBytes(32).toString('hex')}`,
  };
  const domain = assetDomain(requirements);
  if (domain === undefined) throw new Error(`no chain id known for network "${requirements.network}"`);
  const signature =
    options.signature !== undefined
      ? (options.signature ?? undefined)
      : signOrZero({ ...authorization, ...options.signedAuthorization }, { ...domain, ...options.signedDomain }, payer.privateKey);
  const payload = { ...(signature === undefined ? {} : { signature }), authorization: { ...authorization } };
  if (options.version === 2) {
    return {
      x402Version: 2,
      resource: { url: requirements.resource, description: requirements.description, mimeType: requirements.mimeType },
      accepted: v2Requirements(requirements),
      payload,
    };
  }
  return { x402Version: 1, scheme: requirements.scheme, network: requirements.network, payload };
}

/** The payment header value (`X-PAYMENT`, or `PAYMENT-SIGNATURE` for version 2) for a payment. */
export function paymentHeader(requirements: PaymentRequirements, options: PaymentOptions = {}): string {
  return encodePaymentSignatureHeader(createPaymentPayload(requirements, options) as Parameters<typeof encodePaymentSignatureHeader>[0]);
}
