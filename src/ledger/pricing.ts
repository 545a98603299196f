/**
 * Per-interval pricing of x402 streaming payments, exact to the minor unit.
 *
 * A lease has an hourly price P in USDC minor units. An hour has N intervals (3600 in `second`
 * mode, 720 in `batch-5s`). Interval k of the hour (0-based, from the top of the UTC hour) costs
 *
 *     floor(P * (k + 1) / N) - floor(P * k / N)
 *
 * Each interval costs floor(P / N) or one unit more, and the N intervals of an hour telescope to
 * exactly P. The reference service charged floor(P / N) for every interval and silently lost
 * P mod N each hour (1,000 USDC/h lost 2,800 minor units per hour per second-mode lease).
 */
import type { JsonObject, PaymentMode } from '../storage/contract/database.js';
import { INTERVAL_SECONDS } from '../storage/contract/database.js';
import { validationError } from '../storage/contract/errors.js';
import { HOUR_MS } from '../storage/core/time.js';

/** Decimals of the agreement's `terms.paymentAmount` (the protocol's 18-decimal token amounts). */
export const AGREEMENT_DECIMALS = 18;
/** Decimals of USDC, the unit payments are made in. */
export const USDC_DECIMALS = 6;

/** The quote for one interval. */
export interface IntervalQuote {
  mode: PaymentMode;
  intervalSeconds: number;
  intervalsPerHour: number;
  /** 0-based index of the interval within its UTC hour. */
  intervalIndex: number;
  /** Start of the interval. */
  intervalStart: Date;
  /** Price of this interval in minor units. */
  amountMinorUnits: bigint;
  /** The hourly price the quote is derived from. */
  hourlyPriceMinorUnits: bigint;
}

/** Number of intervals of `mode` in one hour. */
export function intervalsPerHour(mode: PaymentMode): number {
  return 3600 / INTERVAL_SECONDS[mode];
}

/** Price of interval `k` of an hour priced `hourly`, by the exact rule above. */
export function intervalPrice(hourly: bigint, mode: PaymentMode, k: number): bigint {
  const n = BigInt(intervalsPerHour(mode));
  if (!Number.isInteger(k) || k < 0 || BigInt(k) >= n) throw validationError('intervalIndex', `must be 0..${n - 1n}`);
  const i = BigInt(k);
  return (hourly * (i + 1n)) / n - (hourly * i) / n;
}

/** The quote for the interval containing `at`. */
export function quoteInterval(hourly: bigint, mode: PaymentMode, at: Date): IntervalQuote {
  const seconds = INTERVAL_SECONDS[mode];
  const intoHour = ((at.getTime() % HOUR_MS) + HOUR_MS) % HOUR_MS;
  const k = Math.floor(intoHour / (seconds * 1000));
  return {
    mode,
    intervalSeconds: seconds,
    intervalsPerHour: intervalsPerHour(mode),
    intervalIndex: k,
    intervalStart: new Date(at.getTime() - intoHour + k * seconds * 1000),
    amountMinorUnits: intervalPrice(hourly, mode, k),
    hourlyPriceMinorUnits: hourly,
  };
}

/**
 * The hourly price in USDC minor units from a lease agreement's `terms.paymentAmount` (a decimal
 * string with 18 decimals). Digits below the sixth decimal are dropped (they are below one minor
 * unit and cannot be paid).
 */
export function hourlyPriceFromAgreement(agreement: JsonObject): bigint {
  const terms = agreement['terms'];
  const raw = terms && typeof terms === 'object' && !Array.isArray(terms) ? terms['paymentAmount'] : undefined;
  if (typeof raw !== 'string' || !/^[0-9]{1,78}$/.test(raw)) {
    throw validationError('agreement.terms.paymentAmount', 'must be a decimal string of the hourly price (18 decimals)');
  }
  return BigInt(raw) / 10n ** BigInt(AGREEMENT_DECIMALS - USDC_DECIMALS);
}
