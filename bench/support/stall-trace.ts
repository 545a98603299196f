/**
 * BENCH_HTTP_TRACE=1's watch on one process's main thread: every garbage-collection pause over
 * 20 ms and every stall of the event loop over 50 ms, printed to stderr with the process's label
 * and the wall-clock time (as the benchmark's own progress lines carry it), to line a run's tail
 * latency up with what held a thread.
 * The HTTP benchmark watches both the service and its own load generator: a pause of either
 * delays the requests in flight.
 */
import { PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';
import { clock } from './report.js';

const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak callbacks' };

/** Starts watching this process's main thread; `label` names it in each line. */
export function watchMainThread(label: string): void {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
      if (entry.duration > 20) console.error(`[${label} ${clock()}] GC ${GC_KINDS[kind] ?? kind} ${entry.duration.toFixed(0)} ms`);
    }
  }).observe({ entryTypes: ['gc'] });
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last > 60) console.error(`[${label} ${clock()}] main thread stalled ${(now - last - 10).toFixed(0)} ms`);
    last = now;
  }, 10).unref();
}
