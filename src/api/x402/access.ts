/**
 * The paid access of DOMAIN.md's HTTP 402 flow: without a payment, 402 with the requirements;
 * with one (either x402 version), decode, check, verify, settle, record (idempotently, never
 * losing a settled payment) and grant. The payer recorded is the one the facilitator verified
 * (the local one: the signature's signer), never the header's claim.
 */
import { encodePaymentRequiredHeader, encodePaymentResponseHeader } from '@x402/core/http';
import type { Network } from '@x402/core/types';
import type { FastifyBaseLogger } from 'fastify';
import type { PaymentMode, StoredLease } from '../../storage/contract/database.js';
import { checkPayment } from '../../ledger/payment-check.js';
import { PaymentNotRecordedError, recordSettledPayment } from '../../ledger/record-settled-payment.js';
import { isAddress, isHash } from '../../shared/hex.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../errors.js';
import { FacilitatorError } from '../facilitator/facilitator.js';
import { paymentJson } from '../serialize.js';
import { networkByName, networkName } from './networks.js';
import { decodePaymentHeader } from './payment-header.js';
import { assertAccessible, buildRequirements, v2PaymentRequired } from './requirements.js';
import type { PaymentPayload, PaymentRequirements, SettleResult } from './types.js';

/** A response to send. */
export interface AccessResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * A 402 carrying fresh requirements for both x402 versions: the v2 `PAYMENT-REQUIRED` header
 * (base64 JSON, CAIP-2 network, top-level `resource`) and the v1 body `{ x402Version: 1, error,
 * accepts }`, whose `error` is the message string v1 expects; this API's own `code` and `details`
 * sit beside it.
 */
export function paymentRequired(requirements: PaymentRequirements, code: string, message: string, details: Record<string, unknown> = {}): AccessResponse {
  return {
    status: 402,
    headers: { 'payment-required': encodePaymentRequiredHeader(v2PaymentRequired(requirements, message)) },
    body: { x402Version: 1, error: message, accepts: [requirements], code, details },
  };
}

/**
 * The receipt of a settled payment, under the name of each version (v1 `X-PAYMENT-RESPONSE`,
 * v2 `PAYMENT-RESPONSE`): base64 JSON of x402's SettleResponse, the network named the way the
 * payment named it.
 */
export function receiptHeaders(payment: PaymentPayload, settled: SettleResult, payer: string | undefined): Record<string, string> {
  const network = networkByName(settled.network) ?? networkByName(payment.network);
  const receipt = encodePaymentResponseHeader({
    success: true,
    transaction: settled.transaction,
    network: (network === undefined ? settled.network : networkName(network, payment.x402Version)) as Network,
    ...(payer === undefined ? {} : { payer }),
  });
  return { 'x-payment-response': receipt, 'payment-response': receipt };
}

function facilitatorFailure(error: FacilitatorError): ApiError {
  const settling = error.operation === 'settle';
  return new ApiError(
    error.code === 'TIMEOUT' ? 504 : 502,
    error.code === 'TIMEOUT' ? 'FACILITATOR_TIMEOUT' : 'FACILITATOR_UNAVAILABLE',
    // A settle that did not answer may still have moved money; the same header is safe to resend.
    settling ? `${error.message}; the payment may have settled, resend the same payment header` : error.message,
    { operation: error.operation },
  );
}

async function ask<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof FacilitatorError) throw facilitatorFailure(error);
    throw error;
  }
}

/** Handles `POST /api/leases/:leaseId/access` for a lease that exists. */
export async function handleAccess(
  ctx: AppContext,
  lease: StoredLease,
  mode: PaymentMode,
  header: string | undefined,
  resource: string,
  log: FastifyBaseLogger,
): Promise<AccessResponse> {
  const at = ctx.now();
  assertAccessible(lease, at);
  const { requirements } = buildRequirements(lease, mode, at, ctx.config.x402, resource);
  if (header === undefined) return paymentRequired(requirements, 'PAYMENT_REQUIRED', 'payment required');

  const payload = decodePaymentHeader(header);
  // Cheap checks done before bothering the facilitator.
  const early = checkPayment(payload, requirements, at);
  if (early !== null) return paymentRequired(requirements, 'PAYMENT_INVALID', `payment refused: ${early}`, { reason: early });

  const verified = await ask(() => ctx.facilitator.verify(payload, requirements));
  if (!verified.isValid) {
    const reason = verified.invalidReason ?? 'invalid_payment';
    return paymentRequired(requirements, 'PAYMENT_INVALID', `payment refused: ${reason}`, { reason });
  }
  const settled = await ask(() => ctx.facilitator.settle(payload, requirements));
  if (!settled.success) {
    const reason = settled.errorReason ?? 'settlement_failed';
    return paymentRequired(requirements, 'SETTLEMENT_FAILED', `payment not settled: ${reason}`, { reason });
  }
  const txHash = settled.transaction;
  if (!isHash(txHash)) {
    log.error({ settled, authorization: payload.payload.authorization }, 'facilitator settled without a usable transaction hash');
    throw new ApiError(502, 'FACILITATOR_UNAVAILABLE', 'the facilitator settled without a transaction hash', { operation: 'settle' });
  }

  const payer = verified.payer ?? settled.payer;
  if (!isAddress(payer)) log.warn({ facilitatorTxHash: txHash }, 'facilitator gave no payer; the lessee is recorded');
  const amount = payload.payload.authorization.value;
  const timestamp = ctx.now().toISOString();
  const outcome = await recordSettledPayment(
    { db: ctx.db, pending: ctx.pending, retryDelaysMs: ctx.recordRetryDelaysMs, log },
    {
      leaseId: lease.leaseId,
      amount,
      timestamp,
      mode,
      facilitatorTxHash: txHash,
      ...(isAddress(payer) ? { payer } : {}),
    },
    { network: settled.network, payer },
  ).catch((error: unknown) => {
    if (!(error instanceof PaymentNotRecordedError)) throw error;
    throw new ApiError(500, 'PAYMENT_NOT_RECORDED', error.message, { facilitatorTxHash: error.facilitatorTxHash });
  });

  const paymentResponse = receiptHeaders(payload, settled, payer);
  if (outcome.status === 'pending') {
    ctx.metrics.payment(mode, 'pending', BigInt(amount));
    // The money has moved, so access is granted; the ledger row follows on replay.
    return {
      status: 200,
      headers: paymentResponse,
      body: { access: 'granted', leaseId: lease.leaseId, mode, ledger: 'pending', facilitatorTxHash: txHash, pendingId: outcome.pending.id },
    };
  }
  const { payment, replayed } = outcome;
  ctx.metrics.payment(mode, replayed ? 'replayed' : 'recorded', payment.amountMinorUnits);
  return {
    status: 200,
    headers: paymentResponse,
    body: { access: 'granted', leaseId: lease.leaseId, mode, ledger: replayed ? 'replayed' : 'recorded', payment: paymentJson(payment) },
  };
}
