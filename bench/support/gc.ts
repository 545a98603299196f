/**
 * Garbage-collection pauses of this process, to tell a slow call caused by the database from one
 * that merely overlapped a Node GC pause (which a tail percentile often is).
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

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
  async slowestOverlapping(starts: readonly number[], durations: readonly number[]): Promise<string> {
    const overlapped = await this.overlapping(starts, durations);
    const order = durations.map((d, i) => i).sort((a, b) => (durations[b] as number) - (durations[a] as number));
    const slowest = order.slice(0, Math.max(1, Math.floor(durations.length / 100)));
    return `${slowest.filter((i) => overlapped[i]).length}/${slowest.length}`;
  }

  /** For each call (`starts` and `durations` in ns, same order), whether it overlapped a GC pause. */
  async overlapping(starts: readonly number[], durations: readonly number[]): Promise<boolean[]> {
    // Observer entries arrive on a later turn of the event loop; a loop of calls that never
    // yields to it (PGlite answers in-process) would otherwise see none of them yet.
    await sleep(20);
    const pauses = this.pauses;
    return durations.map((d, i) => {
      const start = starts[i] as number;
      const end = start + d;
      return pauses.some((p) => p.startNs < end && p.endNs > start);
    });
  }

  /** How many GC pauses were recorded, and their total and longest duration in ms. */
  pauseStats(): { count: number; totalMs: number; maxMs: number } {
    let total = 0;
    let max = 0;
    for (const p of this.pauses) {
      const ms = (p.endNs - p.startNs) / 1e6;
      total += ms;
      max = Math.max(max, ms);
    }
    return { count: this.pauses.length, totalMs: Math.round(total * 1000) / 1000, maxMs: Math.round(max * 1000) / 1000 };
  }
}

/**
 * Runs a full garbage collection, so the garbage of a bulk load is not collected in the middle
 * of the latency samples that follow (a service in steady state carries no such backlog). Uses
 * `global.gc` when the process runs with --expose-gc, else enables it for a fresh context.
 */
export function collectGarbage(): void {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  gc();
}
