// Exact per-interval pricing: an hour of payments sums to the hourly price, in both modes.
import { describe, expect, it } from 'vitest';
import { hourlyPriceFromAgreement, intervalPrice, intervalsPerHour, quoteInterval } from '../src/ledger/pricing.js';
import { StorageError } from '../src/storage/contract/errors.js';
import type { PaymentMode } from '../src/storage/contract/database.js';

const MODES: PaymentMode[] = ['second', 'batch-5s'];

function hourSum(hourly: bigint, mode: PaymentMode): bigint {
  let sum = 0n;
  for (let k = 0; k < intervalsPerHour(mode); k++) sum += intervalPrice(hourly, mode, k);
  return sum;
}

describe('pricing', () => {
  it.each(MODES)('one full hour of %s payments sums to the hourly price exactly', (mode) => {
    for (const hourly of [0n, 1n, 719n, 3599n, 1_000_000_000n, 1_000_000_007n, 10n ** 20n - 1n]) {
      expect(hourSum(hourly, mode)).toBe(hourly);
    }
  });

  it('keeps the remainder the reference lost: 1,000 USDC/h per second', () => {
    const hourly = 1_000_000_000n;
    // The reference charged floor(P/3600) = 277,777 every second and lost 2,800 per hour; here
    // the seconds take 277,777 or 277,778 and the hour sums to P.
    const prices = new Set(Array.from({ length: 3600 }, (_, k) => intervalPrice(hourly, 'second', k)));
    expect([...prices].sort()).toEqual([277_777n, 277_778n]);
    expect(hourSum(hourly, 'second')).toBe(hourly);
  });

  it('quotes the interval containing an instant', () => {
    const q = quoteInterval(720n * 3n + 5n, 'batch-5s', new Date('2026-02-25T12:59:58.000Z'));
    expect(q.intervalIndex).toBe(719);
    expect(q.intervalStart.toISOString()).toBe('2026-02-25T12:59:55.000Z');
    expect(q.intervalSeconds).toBe(5);
    expect(q.amountMinorUnits).toBe(intervalPrice(720n * 3n + 5n, 'batch-5s', 719));
    expect(quoteInterval(3600n, 'second', new Date('2026-02-25T12:00:00.000Z')).intervalIndex).toBe(0);
  });

  it('refuses an interval outside the hour', () => {
    expect(() => intervalPrice(10n, 'second', 3600)).toThrow(StorageError);
    expect(() => intervalPrice(10n, 'batch-5s', -1)).toThrow(StorageError);
  });

  it('reads the hourly price from an agreement (18 decimals to USDC minor units)', () => {
    expect(hourlyPriceFromAgreement({ terms: { paymentAmount: '1000000000000000000000' } })).toBe(1_000_000_000n);
    expect(hourlyPriceFromAgreement({ terms: { paymentAmount: '1999999999999' } })).toBe(1n);
    for (const bad of [{}, { terms: {} }, { terms: { paymentAmount: 5 } }, { terms: { paymentAmount: '1e21' } }]) {
      expect(() => hourlyPriceFromAgreement(bad)).toThrow(StorageError);
    }
  });
});
