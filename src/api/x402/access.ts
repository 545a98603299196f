/**
 * The paid access of DOMAIN.md's HTTP 402 flow: without a payment, 402 with the requirements;
 * with one (either x402 version), decode, check, verify, settle, record (idempotently, never
 * losing a settled payment) and grant. The payer recorded is the one the facilitator verified
 * (the local one: the signature's signer), never the header's claim.
 */
import type { Network, SettleResponse } from '@x402/core/types';
import type { FastifyBaseLogger } from 'fastify';
import type { PaymentMode, StoredLease } from '../../storage/contract/database.js';
import { checkPayment } from '../../ledger/payment-check.js';
import { isDeepStrictEqual } from 'node:util';
import { batchRefusal } from '../../ledger/batch-room.js';
import { PaymentNotRecordedError, recordSettledPayment } from '../../ledger/record-settled-payment.js';
import { paymentOf } from '../../ledger/resolve-settlements.js';
import { applyUpdate, grantFor, type ResendVerdict, type SettlementIntent } from '../../ledger/settlement-journal.js';
import { hourBucketOf } from '../../storage/core/time.js';
import { isAddress, isHash } from '../../util/hex.js';
import type { AppContext } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { FacilitatorError } from '../facilitator/facilitator.js';
import { paymentJson } from '../serialize.js';
import { networkByName, networkName } from './networks.js';
import { decodePaymentHeader, encodeJsonHeader } from './payment-header.js';
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
    headers: { 'payment-required': encodeJsonHeader(v2PaymentRequired(requirements, message)) },
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
  const response: SettleResponse = {
    success: true,
    transaction: settled.transaction,
    network: (network === undefined ? settled.network : networkName(network, payment.x402Version)) as Network,
    ...(payer === undefined ? {} : { payer }),
  };
  // What @x402/core's encodePaymentResponseHeader gives for this response (it has no
  // `extensionResponses` to leave out), faster: see encodeJsonHeader.
  const receipt = encodeJsonHeader(response);
  return { 'x-payment-response': receipt, 'payment-response': receipt };
}

// A verify that did not answer moved no money: the same header may be sent again. (A settle
// without an answer is journaled instead: see settleIntent.)
function facilitatorFailure(error: FacilitatorError): ApiError {
  return new ApiError(error.code === 'TIMEOUT' ? 504 : 502, error.code === 'TIMEOUT' ? 'FACILITATOR_TIMEOUT' : 'FACILITATOR_UNAVAILABLE', error.message, {
    operation: error.operation,
  });
}

async function ask<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof FacilitatorError) throw facilitatorFailure(error);
    throw error;
  }
}

/**
 * Handles `POST /api/leases/:leaseId/access`; 404 when the lease does not exist. With a payment,
 * the lease and its batch for the priced hour are read in one round trip (the batch is what
 * decides, before money moves, whether the ledger can take the payment).
 */
export async function handleAccess(
  ctx: AppContext,
  leaseId: string,
  mode: PaymentMode,
  header: string | undefined,
  resource: string,
  log: FastifyBaseLogger,
): Promise<AccessResponse> {
  // The instant the payment is priced at is also its ledger timestamp, so its hour is the hour
  // of the interval priced, however long settlement takes.
  const at = ctx.now();
  const found = header === undefined ? await leaseOnly(ctx, leaseId) : await ctx.db.getLeaseWithBatch(leaseId, hourBucketOf(at));
  if (found === null) throw notFound('lease', { leaseId });
  const { lease, batch } = found;
  assertAccessible(lease, at);
  const { requirements } = buildRequirements(lease, mode, at, ctx.config.x402, resource);
  if (header === undefined) return paymentRequired(requirements, 'PAYMENT_REQUIRED', 'payment required');

  const payload = decodePaymentHeader(header);
  // Cheap checks done before bothering the facilitator.
  const early = checkPayment(payload, requirements, at);
  if (early !== null) return paymentRequired(requirements, 'PAYMENT_INVALID', `payment refused: ${early}`, { reason: early });

  const authorization = payload.payload.authorization;
  const resent = grantFor(ctx.journal.byNonce(authorization.nonce), lease.leaseId, mode, at);
  if (resent.kind !== 'new') return answerResend(ctx, requirements, resent, payload);

  const verified = await ask(() => ctx.facilitator.verify(payload, requirements));
  if (!verified.isValid) {
    const reason = verified.invalidReason ?? 'invalid_payment';
    return paymentRequired(requirements, 'PAYMENT_INVALID', `payment refused: ${reason}`, { reason });
  }

  // Everything that can refuse the payment is checked before money moves.
  const refusal = batchRefusal(batch, at, BigInt(authorization.value));
  if (refusal !== null) {
    const message = refusal.code === 'HOUR_SETTLED' ? `the ${refusal.hourBucket} batch of this lease is settled` : `the ${refusal.hourBucket} batch of this lease is full`;
    throw new ApiError(409, refusal.code, `${message}; no payment was taken`, { hourBucket: refusal.hourBucket });
  }

  const intervalEnd = new Date(Date.parse(requirements.intervalStart) + requirements.intervalSeconds * 1000);
  const intent = await ctx.journal.begin({
    nonce: authorization.nonce,
    leaseId: lease.leaseId,
    mode,
    amount: authorization.value,
    payer: authorization.from,
    pricedAt: at.toISOString(),
    intervalEnd: intervalEnd.toISOString(),
    expiresAt: new Date(Number(authorization.validBefore) * 1000).toISOString(),
    payment: payload,
    requirements,
  });
  const settled = await settleIntent(ctx, intent.id, payload, requirements, log);
  if (!settled.success) {
    const reason = settled.errorReason ?? 'settlement_failed';
    return paymentRequired(requirements, 'SETTLEMENT_FAILED', `payment not settled: ${reason}`, { reason });
  }
  const txHash = settled.transaction as string;
  const payer = verified.payer ?? settled.payer;
  if (!isAddress(payer)) log.warn({ facilitatorTxHash: txHash }, 'facilitator gave no payer; the lessee is recorded');
  const change = { state: 'settled', transaction: txHash, settledPayer: isAddress(payer) ? payer : undefined, network: settled.network } as const;
  const paymentResponse = receiptHeaders(payload, settled, payer);

  // The settled line and the ledger write run together, not one after the other: neither needs
  // the other, and on a busy service each waits several event-loop turns. The intent, durable
  // since before the settle, is what a crash leaves in any case until the settled line is on
  // disk, and resolution finishes it (recording once); the ledger row only ever comes in addition.
  const journaled = ctx.journal.update(intent.id, change).then(
    () => true,
    (error: unknown) => {
      log.error({ intentId: intent.id, facilitatorTxHash: txHash, err: error }, 'the journal did not take the settled line; the intent stays for resolution');
      return false;
    },
  );
  const recorded = recordSettledPayment(
    { db: ctx.db, pending: ctx.pending, retryDelaysMs: ctx.recordRetryDelaysMs, log },
    paymentOf(applyUpdate(intent, change, new Date()) as SettlementIntent & { transaction: string }),
    { network: settled.network, payer },
  ).catch((error: unknown) => {
    if (!(error instanceof PaymentNotRecordedError)) throw error;
    return { status: 'journal' as const };
  });
  const [settledLine, outcome] = await Promise.all([journaled, recorded]);
  // The journal holds the settlement (or, if its line failed, the intent): resolution records it later.
  if (outcome.status === 'journal') log.error({ intentId: intent.id, facilitatorTxHash: txHash, settledLine }, 'settled payment left to the journal');

  if (outcome.status !== 'recorded') {
    if (outcome.status === 'pending') await ctx.journal.update(intent.id, { state: 'pending' });
    ctx.metrics.payment(mode, 'pending', BigInt(authorization.value));
    // The money has moved, so access is granted; the ledger row follows on replay.
    return {
      status: 200,
      headers: paymentResponse,
      body: {
        access: 'granted',
        leaseId: lease.leaseId,
        mode,
        ledger: 'pending',
        facilitatorTxHash: txHash,
        intentId: intent.id,
        ...(outcome.status === 'pending' ? { pendingId: outcome.pending.id } : {}),
      },
    };
  }
  const { payment, replayed } = outcome;
  // The answer does not wait for this line to be durable. The ledger holds the payment and the
  // journal its settlement: if the process dies before the line is on disk, the intent is still
  // `settled`, and resolution records it again, once (the ledger takes a settlement hash once).
  // Awaiting it cost each paid request a third of its journal time (docs/performance.md).
  ctx.journal.update(intent.id, { state: 'recorded', paymentId: payment.id }).catch((error: unknown) => {
    log.error({ intentId: intent.id, facilitatorTxHash: txHash, err: error }, 'the journal did not take the recorded line; resolution records it again');
  });
  ctx.metrics.payment(mode, replayed ? 'replayed' : 'recorded', payment.amountMinorUnits);
  return {
    status: 200,
    headers: paymentResponse,
    body: { access: 'granted', leaseId: lease.leaseId, mode, ledger: replayed ? 'replayed' : 'recorded', payment: paymentJson(payment) },
  };
}

async function leaseOnly(ctx: AppContext, leaseId: string): Promise<{ lease: StoredLease; batch: null } | null> {
  const lease = await ctx.db.getLease(leaseId);
  return lease === null ? null : { lease, batch: null };
}

/**
 * Asks the facilitator to settle a journaled intent and journals what it said. A settle with no
 * usable answer (timeout, outage, no hash) leaves the intent unknown: money may have moved, so the
 * client is told not to pay again, and the journal's resolution finishes it.
 */
async function settleIntent(
  ctx: AppContext,
  intentId: string,
  payload: PaymentPayload,
  requirements: PaymentRequirements,
  log: FastifyBaseLogger,
): Promise<SettleResult> {
  const unknown = async (reason: string, status: number, code: string): Promise<never> => {
    await ctx.journal.update(intentId, { state: 'unknown', reason });
    throw new ApiError(status, code, `the settlement outcome is unknown (${reason}); do not pay again: it is resolved from the journal`, {
      operation: 'settle',
      intentId,
    });
  };
  let settled: SettleResult;
  try {
    settled = await ctx.facilitator.settle(payload, requirements);
  } catch (error) {
    if (!(error instanceof FacilitatorError)) throw error;
    return unknown(error.message, error.code === 'TIMEOUT' ? 504 : 502, error.code === 'TIMEOUT' ? 'FACILITATOR_TIMEOUT' : 'FACILITATOR_UNAVAILABLE');
  }
  if (!settled.success) {
    await ctx.journal.update(intentId, { state: 'not_settled', reason: settled.errorReason ?? 'settlement_failed' });
    return settled;
  }
  if (!isHash(settled.transaction)) {
    log.error({ settled, intentId }, 'facilitator settled without a usable transaction hash');
    return unknown('the facilitator settled without a transaction hash', 502, 'FACILITATOR_UNAVAILABLE');
  }
  return settled;
}

/** Answers a payment whose authorization the journal has seen before (see `grantFor`). */
async function answerResend(ctx: AppContext, requirements: PaymentRequirements, verdict: Exclude<ResendVerdict, { kind: 'new' }>, payload: PaymentPayload): Promise<AccessResponse> {
  const { entry } = verdict;
  if (verdict.kind === 'in_progress') {
    throw new ApiError(409, 'SETTLEMENT_IN_PROGRESS', 'this payment is being settled; do not pay again', { intentId: entry.id });
  }
  // Only the very same signed payment is granted again; anything else reusing its nonce is refused.
  const same = isDeepStrictEqual((entry.payment as PaymentPayload).payload, payload.payload);
  if (verdict.kind === 'used' || !same) {
    return paymentRequired(requirements, 'PAYMENT_ALREADY_USED', 'payment refused: payment_already_used', { reason: 'payment_already_used' });
  }
  ctx.metrics.payment(entry.mode, 'replayed', BigInt(entry.amount));
  const transaction = entry.transaction as string;
  const network = (entry.network ?? requirements.network) as Network;
  const headers = receiptHeaders(entry.payment as PaymentPayload, { success: true, transaction, network }, entry.settledPayer);
  const payment = await ctx.db.getPaymentByFacilitatorTxHash(transaction);
  const body = payment
    ? { access: 'granted', leaseId: entry.leaseId, mode: entry.mode, ledger: 'replayed', payment: paymentJson(payment) }
    : { access: 'granted', leaseId: entry.leaseId, mode: entry.mode, ledger: 'pending', facilitatorTxHash: transaction, intentId: entry.id };
  return { status: 200, headers, body };
}
