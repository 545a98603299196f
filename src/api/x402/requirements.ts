/**
 * The quote of a lease's current interval as x402 payment requirements, and the checks that decide
 * whether a lease may be paid at all right now.
 */
import type { X402Config } from '../../config.js';
import { hourlyPriceFromAgreement, quoteInterval, type IntervalQuote } from '../../ledger/pricing.js';
import type { PaymentMode, StoredLease } from '../../storage/contract/database.js';
import { isStorageError } from '../../storage/contract/errors.js';
import { ApiError } from '../errors.js';
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
      network: x402.network,
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

function termDate(lease: StoredLease, name: 'startDate' | 'endDate'): Date | null | 'invalid' {
  const terms = lease.agreement['terms'];
  if (terms === undefined || terms === null || typeof terms !== 'object' || Array.isArray(terms)) return null;
  const raw = terms[name];
  if (raw === undefined || raw === null) return null;
  const date = typeof raw === 'string' ? new Date(raw) : null;
  return date === null || Number.isNaN(date.getTime()) ? 'invalid' : date;
}

/**
 * Refuses access (403) to a lease that is not active or is outside its agreement's
 * [startDate, endDate) window. A missing date leaves that side open; an unreadable one refuses,
 * because granting paid access on a term we cannot read is the wrong way to fail.
 */
export function assertAccessible(lease: StoredLease, at: Date): void {
  if (lease.status !== 'active') {
    throw new ApiError(403, 'LEASE_NOT_ACTIVE', `lease ${lease.leaseId} is ${lease.status}; only an active lease grants access`, {
      leaseId: lease.leaseId,
      status: lease.status,
    });
  }
  const start = termDate(lease, 'startDate');
  const end = termDate(lease, 'endDate');
  if (start === 'invalid' || end === 'invalid') {
    throw new ApiError(403, 'LEASE_TERMS_INVALID', `lease ${lease.leaseId} has an unreadable terms.startDate or terms.endDate`, {
      leaseId: lease.leaseId,
    });
  }
  if ((start !== null && at < start) || (end !== null && at >= end)) {
    throw new ApiError(403, 'OUTSIDE_LEASE_WINDOW', `lease ${lease.leaseId} grants access only within its agreement's term`, {
      leaseId: lease.leaseId,
      startDate: start?.toISOString() ?? null,
      endDate: end?.toISOString() ?? null,
    });
  }
}
