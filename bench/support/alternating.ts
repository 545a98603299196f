/**
 * Two workloads timed in alternation: what each costs at the same moments of the machine. On this
 * shared 2-core machine a read's p99 moves by up to 2x between minutes with the same plan and the
 * same blocks per call, so two figures measured minutes apart compare the minutes; alternating
 * compares the workloads.
 */
import { round } from './report.js';
import { convert, nowNs, summarize } from './stats.js';

/** One call of a workload; `i` numbers the calls of a series. */
export type Call = (i: number) => Promise<unknown>;

/**
 * How finely the two workloads take turns:
 * - `call`: call for call, so both see exactly the same moments, but each call runs right after
 *   one of the other workload, with what that call left in the caches it shares (a database
 *   server's shared_buffers, the CPU's caches);
 * - `series`: series for series (a few seconds each), so each series has the caches to itself, as
 *   a workload measured alone does, and both still see the same minutes.
 */
export type Grain = 'call' | 'series';

/**
 * The p99 (ms) of `samples` calls of `a` and of `b`, taking turns at `grain` (which goes first
 * switches each time, so neither always runs after the other), in `series` series; each side's
 * best series is its figure, as for a read measured alone, with every series' p99 beside it.
 */
export async function alternatingP99(a: Call, b: Call, samples: number, series: number, grain: Grain = 'call'): Promise<{ p99: [number, number]; series: [number[], number[]] }> {
  const all: [number[], number[]] = [[], []];
  const time = async (k: number, i: number, into: number[]) => {
    const t0 = nowNs();
    await (k === 0 ? a : b)(i);
    into.push(nowNs() - t0);
  };
  for (let s = 0; s < series; s++) {
    const times: [number[], number[]] = [[], []];
    if (grain === 'call') {
      for (let i = 0; i < samples; i++) for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) await time(k, i, times[k] as number[]);
    } else {
      for (const k of s % 2 === 0 ? [0, 1] : [1, 0]) for (let i = 0; i < samples; i++) await time(k, i, times[k] as number[]);
    }
    for (const k of [0, 1]) (all[k] as number[]).push(round(summarize(convert(times[k] as number[], 'ms')).p99));
  }
  return { p99: [Math.min(...all[0]), Math.min(...all[1])], series: all };
}
