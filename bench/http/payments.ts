/**
 * What the paid case pays for and with: the seeded active leases, and payments signed before a run
 * (signing costs the client about 1 ms, so the load generator does not sign while it measures).
 */
import { randomUUID } from 'node:crypto';
import { paymentHeader } from '../../src/api/x402/client.js';
import type { PaymentRequirements } from '../../src/api/x402/types.js';
import type { StoredLease } from '../../src/storage/contract/database.js';
import { assetKey, hash, leaseKey, lessorAddress, lesseeAddress, CHAIN_ID } from '../support/fixtures.js';
import { LEASES } from './settings.js';

/** Lease `i`: active, its term around now, 3,600 tokens an hour (1 USDC a second). */
export function activeLease(i: number): StoredLease {
  const now = Date.now();
  const leaseId = leaseKey(i);
  const at = new Date(now - 86_400_000 + i);
  return {
    id: randomUUID(),
    leaseId,
    assetId: assetKey(i),
    chainId: CHAIN_ID,
    contractAddress: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
    lessor: lessorAddress(i),
    lessee: lesseeAddress(i),
    agreement: {
      leaseId,
      assetId: assetKey(i),
      terms: {
        startDate: new Date(now - 86_400_000).toISOString(),
        endDate: new Date(now + 86_400_000).toISOString(),
        paymentAmount: '3600000000000000000000',
        paymentSchedule: 'per-second',
        currency: 'USDC',
      },
    },
    status: 'active',
    blockNumber: 2_000_000 + i,
    transactionHash: hash('e1', i),
    createdAt: at,
    updatedAt: at,
  };
}

/** Signed payments made before a run, one per request, each a new payment to lease `i`'s lessor. */
export class PaymentPool {
  private requests: { path: string; headers: Record<string, string> }[] = [];
  private taken = 0;
  private n = 0;
  /** Payments the pool ran short of and signed while the load ran. */
  signedDuringRun = 0;

  constructor(private readonly template: PaymentRequirements) {}

  private make(): { path: string; headers: Record<string, string> } {
    const i = this.n++ % LEASES;
    return { path: `/api/leases/${leaseKey(i)}/access?mode=second`, headers: { 'x-payment': paymentHeader({ ...this.template, payTo: lessorAddress(i) }) } };
  }

  /** Drops what is left and signs `count` new payments. */
  refill(count: number): void {
    this.requests = Array.from({ length: count }, () => this.make());
    this.taken = 0;
    this.signedDuringRun = 0;
  }

  /** The next signed request; one signed now (and counted) when the pool has run out. */
  next(): { path: string; headers: Record<string, string> } {
    const request = this.requests[this.taken++];
    if (request !== undefined) return request;
    this.signedDuringRun += 1;
    return this.make();
  }
}

