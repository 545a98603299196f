/**
 * Concurrent callers for a fixed time: what the write benchmarks drive the store with.
 */
import { info } from './report.js';
import { convert, nowNs } from './stats.js';

/** What {@link runCallers} measured. */
export interface CallersRun {
  /** The latency of every call that succeeded, in ms, in the order they ended. */
  latenciesMs: number[];
  /** Calls that failed (the first one's error is printed). */
  errors: number;
  /** Wall time from the first call to the last one's end. */
  seconds: number;
}

/**
 * `concurrency` callers, each making `call(next())` back to back until `seconds` have passed; each
 * call is timed (not the making of its input), and a failed one is counted (not timed) and the
 * caller goes on.
 */
export async function runCallers<I>(label: string, concurrency: number, seconds: number, next: () => I, call: (input: I) => Promise<unknown>): Promise<CallersRun> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const start = nowNs();
  const deadline = start + seconds * 1e9;
  const caller = async () => {
    while (nowNs() < deadline) {
      const input = next();
      const t0 = nowNs();
      try {
        await call(input);
        latencies.push(nowNs() - t0);
      } catch (error) {
        errors += 1;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsed = (nowNs() - start) / 1e9;
  if (firstError !== undefined) info(`${label}: ${errors} errors, first: ${String(firstError)}`);
  return { latenciesMs: convert(latencies, 'ms'), errors, seconds: elapsed };
}
