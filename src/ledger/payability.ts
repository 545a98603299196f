/**
 * Whether a lease may be paid for access at an instant: it must be active, and the instant must
 * lie within its agreement's [terms.startDate, terms.endDate) window. A missing date leaves that
 * side open; an unreadable one refuses, because granting paid access on a term we cannot read is
 * the wrong way to fail. The storage backends enforce "active" once more, as an invariant, when a
 * payment is recorded (storage/payment-rules.ts); this module is the rule the API asks first.
 */
import type { JsonObject, LeaseStatus, StoredLease } from '../storage/contract/database.js';

/** Why a lease may not be paid now. */
export type PayabilityRefusal =
  | { payable: false; reason: 'LEASE_NOT_ACTIVE'; status: LeaseStatus }
  | { payable: false; reason: 'LEASE_TERMS_INVALID' }
  | { payable: false; reason: 'OUTSIDE_LEASE_WINDOW'; startDate: Date | null; endDate: Date | null };

/** The verdict of {@link payability}. */
export type Payability = { payable: true } | PayabilityRefusal;

/** A date of an agreement's terms: null when absent, 'invalid' when present but unreadable. */
export function agreementTermDate(agreement: JsonObject, name: 'startDate' | 'endDate'): Date | null | 'invalid' {
  const terms = agreement['terms'];
  if (terms === undefined || terms === null || typeof terms !== 'object' || Array.isArray(terms)) return null;
  const raw = terms[name];
  if (raw === undefined || raw === null) return null;
  const date = typeof raw === 'string' ? new Date(raw) : null;
  return date === null || Number.isNaN(date.getTime()) ? 'invalid' : date;
}

/** Whether `lease` may be paid at `at`, or the first reason it may not. */
export function payability(lease: StoredLease, at: Date): Payability {
  if (lease.status !== 'active') return { payable: false, reason: 'LEASE_NOT_ACTIVE', status: lease.status };
  const start = agreementTermDate(lease.agreement, 'startDate');
  const end = agreementTermDate(lease.agreement, 'endDate');
  if (start === 'invalid' || end === 'invalid') return { payable: false, reason: 'LEASE_TERMS_INVALID' };
  if ((start !== null && at < start) || (end !== null && at >= end)) {
    return { payable: false, reason: 'OUTSIDE_LEASE_WINDOW', startDate: start, endDate: end };
  }
  return { payable: true };
}
