/** Latency sampling and percentiles for the benchmarks. */

/** Summary of a set of latency samples, in the unit the samples were given in. */
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

/** Nearest-rank percentile of ascending-sorted samples (`p` in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** p50, p99, mean and max of `samples`. */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((acc, v) => acc + v, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Nanoseconds of a monotonic clock, as a number (exact well beyond any benchmark's length). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/**
 * Calls `fn(i)` `iterations` times one after another (after `warmup` untimed calls) and returns
 * each call's latency in nanoseconds. When `starts` is given, each call's start (ns) is pushed to it.
 */
export async function sampleLatencies(iterations: number, fn: (i: number) => Promise<unknown>, warmup = 0, starts?: number[]): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const samples = new Array<number>(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = nowNs();
    await fn(warmup + i);
    samples[i] = nowNs() - start;
    starts?.push(start);
  }
  return samples;
}

/** Samples converted from nanoseconds to `unit` (µs or ms). */
export function convert(samples: readonly number[], unit: 'us' | 'ms'): number[] {
  const div = unit === 'us' ? 1e3 : 1e6;
  return samples.map((s) => s / div);
}
