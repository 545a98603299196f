/**
 * The x402 messages this service exchanges (the `exact` scheme over EIP-3009 authorizations, as
 * x402 v1 and v2 clients send them). DOMAIN.md, "The HTTP 402 flow". The wire types are
 * @x402/core's; the requirements and the decoded payment are this service's own view of them.
 */
import type { PaymentPayloadV1, PaymentPayloadV2 } from '@x402/core/schemas';
import type { SettleResponse, SupportedKind, VerifyResponse } from '@x402/core/types';
import type { PaymentMode } from '../../storage/contract/database.js';

/**
 * What a client must pay for one interval of a lease, as the quote route and the v1 402 body
 * advertise it: an x402 v1 requirement (network by its v1 name) plus `amount` (the v2 name of the
 * amount) and the interval it pays for. `requirements.ts` turns it into either version's wire form.
 */
export interface PaymentRequirements {
  scheme: 'exact';
  network: string;
  /** USDC contract address. */
  asset: string;
  /** Price of the current interval in USDC minor units, decimal digits. */
  amount: string;
  /** The same amount under its x402 v1 name, so v1 clients understand the requirements. */
  maxAmountRequired: string;
  /** Who receives the payment: the lessor (or the configured X402_PAY_TO). */
  payTo: string;
  /** The URL the payment buys access to. */
  resource: string;
  description: string;
  mimeType: string;
  maxTimeoutSeconds: number;
  mode: PaymentMode;
  intervalSeconds: number;
  /** Start of the interval being priced (ISO). */
  intervalStart: string;
  /** EIP-712 domain of the asset, which a client needs to sign the authorization. */
  extra: { name: string; version: string };
}

/** An EIP-3009 `transferWithAuthorization` as carried in a payment payload. */
export interface Authorization {
  from: string;
  to: string;
  /** Minor units, decimal digits. */
  value: string;
  /** Unix seconds, decimal digits. */
  validAfter: string;
  validBefore: string;
  /** 0x + 64 hex, unique per authorization. */
  nonce: string;
}

/** A payment payload as a client sends it, x402 v1 (`X-PAYMENT`) or v2 (`PAYMENT-SIGNATURE`), as @x402/core's schema reads it. */
export type WirePaymentPayload = PaymentPayloadV1 | PaymentPayloadV2;

/**
 * A decoded payment, the same whichever x402 version sent it; everything after decoding reads
 * this. v1 carries scheme and network at the top, v2 under `accepted` (the requirement the client
 * chose): both end up here.
 */
export interface PaymentPayload {
  x402Version: 1 | 2;
  scheme: string;
  /**
   * The network by its v1 name, as the requirements carry it (a v2 CAIP-2 id of a known network
   * is translated); a name this service does not know is kept as sent, so it fails the check.
   */
  network: string;
  /** v2 only: the asset of the accepted requirement (v1 payloads do not name the asset). */
  asset?: string | undefined;
  payload: { signature?: string | undefined; authorization: Authorization };
  /** The payload as the client sent it (checked by @x402/core's schema): what a facilitator gets. */
  wire: WirePaymentPayload;
}

/** A facilitator's answer to verify (x402's VerifyResponse). */
export type VerifyResult = VerifyResponse;

/** A facilitator's answer to settle (x402's SettleResponse; `transaction` is the settlement hash). */
export type SettleResult = SettleResponse;

/** A payment kind a facilitator supports (x402's SupportedKind). */
export type { SupportedKind };
