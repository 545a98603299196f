/**
 * The facilitator over HTTP (x402 `POST /verify` and `POST /settle`, body
 * `{ x402Version, paymentPayload, paymentRequirements }`). Each call has its own timeout through
 * `AbortSignal.timeout`; a call that produces no usable answer is a {@link FacilitatorError}.
 */
import { z } from 'zod';
import type { PaymentPayload, PaymentRequirements, SettleResult, VerifyResult } from '../x402/types.js';
import { FacilitatorError, type Facilitator } from './facilitator.js';

/** Options of {@link HttpFacilitator}. */
export interface HttpFacilitatorOptions {
  /** Base URL; `/verify` and `/settle` are appended. */
  url: string;
  verifyTimeoutMs: number;
  settleTimeoutMs: number;
  /** Sent as `Authorization: Bearer <apiKey>` when set. */
  apiKey?: string | undefined;
  /** Injectable for tests (default: global fetch). */
  fetch?: typeof fetch;
}

const optionalText = z.string().max(1000).nullish().transform((v) => v ?? undefined);
const verifySchema = z.object({ isValid: z.boolean(), invalidReason: optionalText, payer: optionalText });
const settleSchema = z.object({
  success: z.boolean(),
  errorReason: optionalText,
  transaction: optionalText,
  network: optionalText,
  payer: optionalText,
});

/** HTTP client of a remote facilitator. */
export class HttpFacilitator implements Facilitator {
  readonly kind = 'http';
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: HttpFacilitatorOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.fetch = options.fetch ?? fetch;
  }

  async verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResult> {
    return this.call('verify', verifySchema, payload, requirements, this.options.verifyTimeoutMs);
  }

  async settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResult> {
    return this.call('settle', settleSchema, payload, requirements, this.options.settleTimeoutMs);
  }

  private async call<S extends z.ZodType>(
    operation: 'verify' | 'settle',
    schema: S,
    payload: PaymentPayload,
    requirements: PaymentRequirements,
    timeoutMs: number,
  ): Promise<z.output<S>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.apiKey !== undefined) headers['authorization'] = `Bearer ${this.options.apiKey}`;
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(`${this.base}/${operation}`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ x402Version: payload.x402Version, paymentPayload: payload, paymentRequirements: requirements }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new FacilitatorError(
        timedOut ? 'TIMEOUT' : 'UNAVAILABLE',
        operation,
        timedOut ? `facilitator ${operation} timed out after ${timeoutMs} ms` : `facilitator ${operation} is unreachable`,
        { cause: error },
      );
    }
    // A 4xx may still carry a well-formed "invalid" answer (x402 facilitators answer 400 with
    // isValid:false); a 5xx or an unreadable body is no answer at all.
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const parsed = schema.safeParse(body);
    if (response.status < 500 && parsed.success) return parsed.data;
    throw new FacilitatorError('BAD_RESPONSE', operation, `facilitator ${operation} answered ${response.status} without a usable result`);
  }
}
