/**
 * A remote facilitator through @x402/core's official HTTP client (`POST /verify`, `POST /settle`,
 * `GET /supported`, body `{ x402Version, paymentPayload, paymentRequirements }`). The payload
 * goes as the client sent it, with the requirements in the same x402 version. Verify and settle
 * each have their own timeout (one official client per timeout); a call that produces no usable
 * answer is a {@link FacilitatorError}.
 */
import { HTTPFacilitatorClient, type FacilitatorConfig } from '@x402/core/http';
import { FacilitatorTimeoutError, SettleError, VerifyError, type PaymentPayload as WirePayload, type PaymentRequirements as WireRequirements } from '@x402/core/types';
import { v1Requirements, v2Requirements } from '../x402/requirements.js';
import type { PaymentPayload, PaymentRequirements, SettleResult, SupportedKind, VerifyResult } from '../x402/types.js';
import { FacilitatorError, type Facilitator } from './facilitator.js';

/** Options of {@link HttpFacilitator}. */
export interface HttpFacilitatorOptions {
  /** Base URL; `/verify`, `/settle` and `/supported` are appended. */
  url: string;
  verifyTimeoutMs: number;
  settleTimeoutMs: number;
  /** Sent as `Authorization: Bearer <apiKey>` when set. */
  apiKey?: string | undefined;
}

type Operation = FacilitatorError['operation'];

/** The official client's failure as ours: a timeout, no connection, or no usable answer. */
function failure(operation: Operation, error: unknown, timeoutMs: number): FacilitatorError {
  if (error instanceof FacilitatorTimeoutError) {
    return new FacilitatorError('TIMEOUT', operation, `facilitator ${operation} timed out after ${timeoutMs} ms`, { cause: error });
  }
  // fetch rejects with a TypeError when there is no connection at all.
  if (error instanceof TypeError) return new FacilitatorError('UNAVAILABLE', operation, `facilitator ${operation} is unreachable`, { cause: error });
  return new FacilitatorError('BAD_RESPONSE', operation, `facilitator ${operation} gave no usable answer`, { cause: error });
}

// A facilitator may answer a refusal with a 4xx and a well-formed body (the official client
// throws it as VerifyError / SettleError): that is an answer. A 5xx is not.
const isAnswer = (error: unknown): error is VerifyError | SettleError => (error instanceof VerifyError || error instanceof SettleError) && error.statusCode < 500;

/** HTTP client of a remote facilitator. */
export class HttpFacilitator implements Facilitator {
  readonly kind = 'http';
  private readonly verifier: HTTPFacilitatorClient;
  private readonly settler: HTTPFacilitatorClient;

  constructor(private readonly options: HttpFacilitatorOptions) {
    const { apiKey } = options;
    const auth: Pick<FacilitatorConfig, 'createAuthHeaders'> =
      apiKey === undefined
        ? {}
        : {
            createAuthHeaders: async () => {
              const headers = { Authorization: `Bearer ${apiKey}` };
              return { verify: headers, settle: headers, supported: headers };
            },
          };
    this.verifier = new HTTPFacilitatorClient({ url: options.url, timeoutMs: options.verifyTimeoutMs, ...auth });
    this.settler = new HTTPFacilitatorClient({ url: options.url, timeoutMs: options.settleTimeoutMs, ...auth });
  }

  async verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResult> {
    try {
      return await this.verifier.verify(...wire(payload, requirements));
    } catch (error) {
      if (isAnswer(error) && error instanceof VerifyError) {
        return { isValid: false, ...optional({ invalidReason: error.invalidReason, invalidMessage: error.invalidMessage, payer: error.payer }) };
      }
      throw failure('verify', error, this.options.verifyTimeoutMs);
    }
  }

  async settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResult> {
    try {
      return await this.settler.settle(...wire(payload, requirements));
    } catch (error) {
      if (isAnswer(error) && error instanceof SettleError) {
        const network = (typeof error.network === 'string' ? error.network : payload.network) as SettleResult['network'];
        return { success: false, transaction: '', network, ...optional({ errorReason: error.errorReason, payer: error.payer }) };
      }
      throw failure('settle', error, this.options.settleTimeoutMs);
    }
  }

  async supported(): Promise<SupportedKind[]> {
    try {
      return (await this.verifier.getSupported()).kinds;
    } catch (error) {
      throw failure('supported', error, this.options.verifyTimeoutMs);
    }
  }
}

/** The payload as the client sent it and the requirements in its x402 version. */
function wire(payload: PaymentPayload, requirements: PaymentRequirements): [WirePayload, WireRequirements] {
  // The official client types both as v2 but serializes whatever it gets: a v1 payload goes
  // with v1 requirements, as a v1 facilitator expects.
  if (payload.x402Version === 1) return [payload.wire as unknown as WirePayload, v1Requirements(requirements) as unknown as WireRequirements];
  return [payload.wire as WirePayload, v2Requirements(requirements)];
}

/**
 * The string fields of a refusal body the official client passed through unchecked (absent
 * ones left out: exactOptionalPropertyTypes), each cut to a sane length.
 */
function optional<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: string } {
  const kept = Object.entries(fields).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  return Object.fromEntries(kept.map(([k, v]) => [k, v.slice(0, 1000)])) as { [K in keyof T]?: string };
}
