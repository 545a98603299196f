/**
 * The quote of a lease's current interval as x402 payment requirements (and their v1 and v2
 * wire forms), and the API's answers when the ledger says a lease may not be paid at all now.
 */
import type { Network, PaymentRequired, PaymentRequirements as PaymentRequirementsV2, PaymentRequirementsV1 } from '@x402/core/types';
import type { X402Config } from '../../config.js';
import { payability } from '../../ledger/payability.js';
import { hourlyPriceFromAgreement, quoteInterval, type IntervalQuote } from '../../ledger/pricing.js';
import type { PaymentMode, StoredLease } from '../../storage/contract/database.js';
import { isStorageError } from '../../storage/contract/errors.js';
import { ApiError } from '../errors.js';
import { configuredNetwork } from './networks.js';
import type { PaymentRequirements } from './types.js';

/** The requirements for one interval and the quote they were built from. */
export interface Quote {
  requirements: PaymentRequirements;
  quote: IntervalQuote;
}

/** The lease's hourly price; a lease whose agreement has none cannot be paid (409). */
export function hourlyPrice(lease: StoredLease): bigint {
  try {
    return hourlyPriceFromAgreement(lease.agreement);
  } catch (error) {
    if (!isStorageError(error, 'VALIDATION')) throw error;
    throw new ApiError(409, 'LEASE_NOT_PAYABLE', `lease ${lease.leaseId} has no valid terms.paymentAmount in its agreement`, {
      leaseId: lease.leaseId,
      field: 'agreement.terms.paymentAmount',
    });
  }
}

/** Builds the requirements for the interval of `mode` containing `at`. */
export function buildRequirements(lease: StoredLease, mode: PaymentMode, at: Date, x402: X402Config, resource: string): Quote {
  const quote = quoteInterval(hourlyPrice(lease), mode, at);
  const amount = quote.amountMinorUnits.toString();
  return {
    quote,
    requirements: {
      scheme: 'exact',
      // X402_NETWORK may name the network either way; the requirements carry its v1 name.
      network: configuredNetwork(x402.network).v1,
      asset: x402.assetAddress,
      amount,
      maxAmountRequired: amount,
      payTo: x402.payTo ?? lease.lessor,
      resource,
      description: `Access to lease ${lease.leaseId} for ${quote.intervalSeconds} s`,
      mimeType: 'application/json',
      maxTimeoutSeconds: x402.maxTimeoutSeconds,
      mode,
      intervalSeconds: quote.intervalSeconds,
      intervalStart: quote.intervalStart.toISOString(),
      extra: { name: x402.assetName, version: x402.assetVersion },
    },
  };
}

/** The requirements as x402 v1 has them (what a facilitator gets with a v1 payment). */
export function v1Requirements(r: PaymentRequirements): PaymentRequirementsV1 {
  return {
    scheme: r.scheme,
    // @x402/core types a v1 network like a v2 one; v1 names carry no colon.
    network: r.network as Network,
    maxAmountRequired: r.maxAmountRequired,
    resource: r.resource,
    description: r.description,
    mimeType: r.mimeType,
    outputSchema: {},
    payTo: r.payTo,
    maxTimeoutSeconds: r.maxTimeoutSeconds,
    asset: r.asset,
    extra: { ...r.extra },
  };
}

/** The requirements as x402 v2 has them: `amount`, and the network by its CAIP-2 id. */
export function v2Requirements(r: PaymentRequirements): PaymentRequirementsV2 {
  return {
    scheme: r.scheme,
    network: configuredNetwork(r.network).caip2,
    amount: r.amount,
    asset: r.asset,
    payTo: r.payTo,
    maxTimeoutSeconds: r.maxTimeoutSeconds,
    extra: { ...r.extra },
  };
}

/** The x402 v2 `PAYMENT-REQUIRED` message: the resource at the top, v2 requirements in `accepts`. */
export function v2PaymentRequired(r: PaymentRequirements, error: string): PaymentRequired {
  return {
    x402Version: 2,
    error,
    resource: { url: r.resource, description: r.description, mimeType: r.mimeType },
    accepts: [v2Requirements(r)],
  };
}

/**
 * Refuses access (403) to a lease the ledger says may not be paid now (see ledger/payability.ts:
 * not active, or outside its agreement's [startDate, endDate) window, or with unreadable dates).
 */
export function assertAccessible(lease: StoredLease, at: Date): void {
  const verdict = payability(lease, at);
  if (verdict.payable) return;
  const { leaseId } = lease;
  switch (verdict.reason) {
    case 'LEASE_NOT_ACTIVE':
      throw new ApiError(403, verdict.reason, `lease ${leaseId} is ${verdict.status}; only an active lease grants access`, { leaseId, status: verdict.status });
    case 'LEASE_TERMS_INVALID':
      throw new ApiError(403, verdict.reason, `lease ${leaseId} has an unreadable terms.startDate or terms.endDate`, { leaseId });
    case 'OUTSIDE_LEASE_WINDOW':
      throw new ApiError(403, verdict.reason, `lease ${leaseId} grants access only within its agreement's term`, {
        leaseId,
        startDate: verdict.startDate?.toISOString() ?? null,
        endDate: verdict.endDate?.toISOString() ?? null,
      });
  }
}
