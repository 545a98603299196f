/**
 * The x402 messages this service exchanges (the `exact` scheme over EIP-3009 authorizations, as
 * x402 v1 and v2 clients send them). DOMAIN.md, "The HTTP 402 flow".
 */
import type { PaymentMode } from '../../storage/contract/database.js';

/** What a client must pay for one interval of a lease, as advertised in a 402 and by the quote route. */
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

/** The decoded `X-PAYMENT` / `Payment-Signature` header. */
export interface PaymentPayload {
  x402Version: number;
  scheme: string;
  network: string;
  payload: { signature?: string | undefined; authorization: Authorization };
}

/** A facilitator's answer to verify. */
export interface VerifyResult {
  isValid: boolean;
  invalidReason?: string | undefined;
  /** The payer the facilitator recovered; the only payer the ledger trusts. */
  payer?: string | undefined;
}

/** A facilitator's answer to settle. */
export interface SettleResult {
  success: boolean;
  errorReason?: string | undefined;
  /** Settlement transaction hash. */
  transaction?: string | undefined;
  network?: string | undefined;
  payer?: string | undefined;
}
