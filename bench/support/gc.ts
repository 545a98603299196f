/**
 * Garbage-collection pauses of this process, to tell a slow call caused by the database from one
 * that merely overlapped a Node GC pause (which a tail percentile often is).
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';

/** Records GC pauses from construction until {@link stop}. */
export class GcWatch {
  private readonly pauses: { startNs: number; endNs: number }[] = [];
  private readonly observer: PerformanceObserver;
  // performance.now() is ms since timeOrigin; hrtime is ns since an arbitrary point: align them.
  private readonly offsetNs = Number(process.hrtime.bigint()) - performance.now() * 1e6;

  constructor() {
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const startNs = e.startTime * 1e6 + this.offsetNs;
        this.pauses.push({ startNs, endNs: startNs + e.duration * 1e6 });
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Stops recording. */
  stop(): void {
    this.observer.disconnect();
  }

  /**
   * Of the slowest 1% of calls (`starts` and `durations` in ns, same order), how many overlapped a
   * GC pause, e.g. "16/20".
   */
  slowestOverlapping(starts: readonly number[], durations: readonly number[]): string {
    const order = durations.map((d, i) => i).sort((a, b) => (durations[b] as number) - (durations[a] as number));
    const slowest = order.slice(0, Math.max(1, Math.floor(durations.length / 100)));
    const hit = slowest.filter((i) => {
      const start = starts[i] as number;
      const end = start + (durations[i] as number);
      return this.pauses.some((p) => p.startNs < end && p.endNs > start);
    });
    return `${hit.length}/${slowest.length}`;
  }
}
