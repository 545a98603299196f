/**
 * Live payment activity for the operator page: totals since the service started and the rate of
 * newly recorded payments over a sliding window. Counts live in one slot per second of the window
 * (a fixed-size ring), so recording is O(1) and memory does not grow with traffic.
 */
import type { PaymentMode } from '../storage/contract/database.js';

/** What {@link PaymentActivity.snapshot} reports. */
export interface ActivitySnapshot {
  windowSeconds: number;
  /** Newly recorded payments per second over the window. */
  paymentsPerSecond: number;
  recordedInWindow: number;
  /** When counting began (the service's start). */
  since: string;
  totals: { recorded: number; replayed: number; pending: number };
}

/** Counts paid accesses by outcome; one per app. */
export class PaymentActivity {
  private readonly slots: number[];
  private readonly slotSecond: number[];
  private readonly totals = { recorded: 0, replayed: 0, pending: 0 };
  private readonly since: Date;

  constructor(
    private readonly now: () => Date = () => new Date(),
    readonly windowSeconds = 60,
  ) {
    this.slots = new Array<number>(windowSeconds).fill(0);
    this.slotSecond = new Array<number>(windowSeconds).fill(-1);
    this.since = now();
  }

  /** Counts one paid access. */
  record(_mode: PaymentMode, outcome: 'recorded' | 'replayed' | 'pending'): void {
    this.totals[outcome] += 1;
    if (outcome !== 'recorded') return;
    const second = Math.floor(this.now().getTime() / 1000);
    const i = second % this.windowSeconds;
    if (this.slotSecond[i] !== second) {
      this.slotSecond[i] = second;
      this.slots[i] = 0;
    }
    this.slots[i] = (this.slots[i] ?? 0) + 1;
  }

  /** Totals and the rate over the last `windowSeconds` (the current second included). */
  snapshot(): ActivitySnapshot {
    const second = Math.floor(this.now().getTime() / 1000);
    let inWindow = 0;
    for (let i = 0; i < this.windowSeconds; i += 1) {
      const at = this.slotSecond[i] ?? -1;
      if (at > second - this.windowSeconds && at <= second) inWindow += this.slots[i] ?? 0;
    }
    // Right after start the window is only as wide as the time the service has run.
    const elapsed = Math.max(1, Math.min(this.windowSeconds, second - Math.floor(this.since.getTime() / 1000) + 1));
    return {
      windowSeconds: this.windowSeconds,
      paymentsPerSecond: inWindow / elapsed,
      recordedInWindow: inWindow,
      since: this.since.toISOString(),
      totals: { ...this.totals },
    };
  }
}
